using System.Text;
using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// Prints a shrunk counterexample for review: why it fails, the case as a scenario file (the golden/
/// format, so it can be saved and replayed), the layout the model produced, and the replay line.
/// </summary>
public static class Counterexamples
{
    /// <summary>"ID: message", without repeating the id when the message already starts with it (CF-2, EX-10 messages do).</summary>
    public static string Titled(string id, string message)
        => message.StartsWith(id + ":", StringComparison.Ordinal) ? message : $"{id}: {message}";

    public static string Format(PropertyDef def, Counterexample cx)
    {
        var sb = new StringBuilder();
        var c = cx.Shrunk;
        sb.Append($"       counterexample (case {cx.TestNumber}, shrunk {cx.Shrinks} times, {cx.Pages} page(s)): {cx.Message}\n");
        if (cx.File is not null) sb.Append($"       (a saved regression: {cx.File})\n");
        sb.Append(cx.SavedAs is not null
            ? $"       --- scenario (saved as {cx.SavedAs}; later runs check it first) ---\n"
            : "       --- scenario (save under golden/regressions/ to keep it) ---\n");
        var scenario = c.ToScenario($"{def.Id}-counterexample", Counterexamples.Titled(def.Id, cx.Message));
        sb.Append(Indent(ScenarioFile.Write(scenario)));
        if (def.Explain is { } explain)
            sb.Append(Indent(explain(c)));
        else
        {
            sb.Append("       --- layout (reference model) ---\n");
            sb.Append(Indent(Layout(c)));
        }
        if (cx.File is not null)
            sb.Append($"       replay: dotnet run --project properties -- case {def.Id} {cx.File}\n");
        else
        {
            sb.Append($"       replay: BIOMODEL_REPLAY=\"{def.Id}:{cx.Replay}\" dotnet test --filter \"FullyQualifiedName=BioModel.Tests.PropertyTests.{def.TestName}\"\n");
            sb.Append($"           or: dotnet run --project properties -- check {def.Id} --replay {cx.Replay}\n");
        }
        return sb.ToString();
    }

    /// <summary>The page count of a counterexample: the pages its failure names, or else the pages its operation names.</summary>
    public static int PagesOf(Case c, Verdict v) => v.Pfns?.Distinct().Count() ?? PagesNamed(c).Count;

    /// <summary>
    /// The pages a counterexample is about: every PFN its operation names (page lists, calls, the first page
    /// of each bvec it holds or is given) and every page the iterator's remaining bytes lie in.
    /// </summary>
    public static SortedSet<ulong> PagesNamed(Case c)
    {
        var w = c.World;
        ulong ps = w.Machine.PageSize;
        var set = new SortedSet<ulong>();
        void Vecs(IEnumerable<BvecDesc> vs) { foreach (var v in vs) set.Add(v.Pfn + v.Offset / ps); }
        void Iter(IterDesc it)
        {
            foreach (var k in Oracle.Stream(w, it, Math.Min(it.Count, 256 * ps)))
                if (k.Pfn is { } p) set.Add(p);
        }
        switch (c.Op)
        {
            case NumPagesContiguousOp n: foreach (var p in n.Pfns) set.Add(p); break;
            case BioAddOp a: Vecs(a.Bio.InUse); foreach (var x in a.Calls) set.Add(x.Pfn + x.Off / ps); break;
            case ExtractPagesOp e: Iter(e.Iter); break;
            case ExtractBvecsOp x: Vecs(x.Entry); Iter(x.Iter); break;
            case GetPagesOp g: Vecs(g.Bio.InUse); Iter(g.Iter); break;
            case IterOp io: Iter(io.Iter); break;
            case MergeableOp mo: foreach (var p in mo.Pairs) { Vecs([p.A, p.B]); } break;
            case HwMergeOp hm: Vecs([hm.Bvec]); foreach (var x in hm.Calls) set.Add(x.Pfn + x.Off / ps); break;
            case DirectIoOp dio: Iter(dio.Iter); break;
            case BounceNrVecsOp nv: Iter(nv.Iter); break;
        }
        return set;
    }

    /// <summary>
    /// Two texts in two columns, aligned line by line by DiffPlex's side-by-side builder (a row missing on one side
    /// stays blank there instead of shifting everything after it), a mark on every row that differs.
    /// </summary>
    public static string SideBySide(string leftTitle, string left, string rightTitle, string right)
    {
        var model = new DiffPlex.DiffBuilder.SideBySideDiffBuilder(new DiffPlex.Differ())
            .BuildDiffModel(left.TrimEnd('\n'), right.TrimEnd('\n'));
        var l = model.OldText.Lines;
        var r = model.NewText.Lines;
        static string Text(DiffPlex.DiffBuilder.Model.DiffPiece p) => p.Type == DiffPlex.DiffBuilder.Model.ChangeType.Imaginary ? "" : p.Text ?? "";
        int width = Math.Min(72, Math.Max(leftTitle.Length, l.Count == 0 ? 0 : l.Max(x => Text(x).Length)));
        var sb = new StringBuilder();
        sb.Append("  ").Append(leftTitle.PadRight(width)).Append(" | ").Append(rightTitle).Append('\n');
        for (int i = 0; i < Math.Max(l.Count, r.Count); i++)
        {
            string a = i < l.Count ? Text(l[i]) : "", b = i < r.Count ? Text(r[i]) : "";
            sb.Append(a == b ? "  " : "≠ ").Append(a.Length > width ? a[..width] : a.PadRight(width)).Append(" | ").Append(b).Append('\n');
        }
        return sb.ToString();
    }

    public static string Layout(Case c)
    {
        if (c.Op is null) return "== world ==\n" + LayoutRenderer.RenderWorld(c.World);
        try
        {
            var o = Ref.Run(c);
            return LayoutRenderer.RenderScenario(c.World, [c.Op], [o]);
        }
        catch (Exception e)
        {
            return LayoutRenderer.RenderScenario(c.World, [c.Op], []) + $"(the model threw {e.GetType().Name}: {e.Message})\n";
        }
    }

    /// <summary>Every line of <paramref name="text"/> indented by <paramref name="width"/> spaces (the report's 7 by default).</summary>
    public static string Indent(string text, int width = 7)
    {
        var pad = new string(' ', width);
        var sb = new StringBuilder();
        foreach (var line in text.TrimEnd('\n').Split('\n')) sb.Append(pad).Append(line).Append('\n');
        return sb.ToString();
    }
}
