using System.Text;
using DiffPlex;

namespace BioModel.Properties;

/// <summary>A unified line diff (the `diff -u` shape, 3 lines of context) built on DiffPlex's line differ.</summary>
public static class UnifiedDiff
{
    public static string Format(string oldText, string newText, string oldName, string newName, int context = 3)
    {
        var diff = new Differ().CreateLineDiffs(oldText, newText, ignoreWhitespace: false);
        var a = diff.PiecesOld;
        var b = diff.PiecesNew;
        var sb = new StringBuilder();
        sb.Append("--- ").Append(oldName).Append('\n');
        sb.Append("+++ ").Append(newName).Append('\n');
        var blocks = diff.DiffBlocks;
        int i = 0;
        while (i < blocks.Count)
        {
            // Merge blocks whose context would overlap into one hunk.
            int j = i;
            while (j + 1 < blocks.Count && blocks[j + 1].DeleteStartA - (blocks[j].DeleteStartA + blocks[j].DeleteCountA) <= 2 * context) j++;
            int startA = Math.Max(0, blocks[i].DeleteStartA - context);
            int startB = Math.Max(0, blocks[i].InsertStartB - context);
            int endA = Math.Min(a.Length, blocks[j].DeleteStartA + blocks[j].DeleteCountA + context);
            int endB = Math.Min(b.Length, blocks[j].InsertStartB + blocks[j].InsertCountB + context);
            sb.Append($"@@ -{startA + 1},{endA - startA} +{startB + 1},{endB - startB} @@\n");
            int pa = startA;
            for (int k = i; k <= j; k++)
            {
                var blk = blocks[k];
                for (; pa < blk.DeleteStartA; pa++) sb.Append(' ').Append(a[pa]).Append('\n');
                for (int d = 0; d < blk.DeleteCountA; d++) sb.Append('-').Append(a[blk.DeleteStartA + d]).Append('\n');
                for (int n = 0; n < blk.InsertCountB; n++) sb.Append('+').Append(b[blk.InsertStartB + n]).Append('\n');
                pa = blk.DeleteStartA + blk.DeleteCountA;
            }
            for (; pa < endA; pa++) sb.Append(' ').Append(a[pa]).Append('\n');
            i = j + 1;
        }
        return sb.ToString();
    }
}
