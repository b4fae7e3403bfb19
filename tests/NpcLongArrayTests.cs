using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Tests;

/// <summary>
/// num_pages_contiguous on arrays longer than the generators make: the optimized implementation compares page
/// pointers a vector at a time, checks the section of a run by the last record of each 32-record block and
/// interleaves the two tests 256 pages at a time (OptKernel.NumPagesContiguous, MemmapArena.SectionRun). Here
/// the run ends just before, at and just after each of those edges, by a pointer break or by a section
/// boundary, on the real x86-64 and x86-32 sections (32768 and 16384 pages, classic SPARSEMEM, node-buffer
/// memmaps adjacent across sections so only the section number stops a run), and the answer is worked out
/// independently: min(array length, first broken pointer, pages left in the first section).
/// </summary>
public sealed class NpcLongArrayTests
{
    private static World Classic(string preset, ulong[] sections)
    {
        var m = ArchPresets.Get(preset) with { Model = MemoryModel.Sparsemem };
        var w = World.Create(m, sections, MemmapPlacement.NodeBuffer());
        Assert.True(w.Problems().Count == 0, string.Join("; ", w.Problems()));
        return w;
    }

    // Edges of the vector (4 or 8 pointers), the block (32 records) and the chunk (256 pages).
    private static readonly int[] Edges = [1, 2, 3, 4, 5, 8, 9, 31, 32, 33, 34, 63, 64, 65, 255, 256, 257, 258, 511, 512, 513, 1000];

    public static TheoryData<string, int, int> Cases()
    {
        var d = new TheoryData<string, int, int>();
        foreach (var preset in new[] { "x86-64", "x86-32" })
        {
            foreach (int e in Edges)
            {
                d.Add(preset, e, -1);      // the section boundary e pages in, no pointer break
                d.Add(preset, 100_000, e); // a pointer break at index e, far from the boundary
                d.Add(preset, e, e + 1);   // both, the boundary first
                d.Add(preset, e + 1, e);   // both, the break first
            }
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Optimized_and_reference_stop_where_the_section_or_the_pointers_do(string preset, int toSectionEnd, int breakAt)
    {
        var w = Classic(preset, [0, 1, 2]);
        ulong pps = w.Machine.PagesPerSection;
        int len = 1100;
        // Start toSectionEnd pages before the end of section 0 (or at PFN 0 when the section is shorter than that).
        ulong start = toSectionEnd <= (int)pps ? pps - (ulong)toSectionEnd : 0;
        int expectSection = (int)(pps - start);
        var pfns = Enumerable.Range(0, len).Select(i => start + (ulong)i).ToArray();
        if (breakAt >= 0 && breakAt < len) pfns[breakAt] = 2 * pps + (ulong)breakAt; // present, not the next page
        int expect = Math.Min(len, Math.Min(expectSection, breakAt >= 0 ? breakAt : int.MaxValue));

        var op = new NumPagesContiguousOp(pfns.ToEqArray());
        var reference = ReferenceModel.Instance.Run(w, op);
        var optimized = OptimizedModel.Instance.Run(w, op);
        Assert.Equal([expect], reference.Returns.ToArray());
        Assert.Equal(reference, optimized);
    }

    [Fact]
    public void A_run_into_a_hole_stops_at_the_section_even_where_the_memmaps_touch()
    {
        // Sections 0 and 2 present, 1 a hole: node-buffer memmaps put section 2's right after section 0's, so
        // the pointers stay consecutive from the end of 0 into 2 and only the section number ends the run.
        var w = Classic("x86-64", [0, 2]);
        ulong pps = w.Machine.PagesPerSection;
        foreach (int tail in new[] { 1, 7, 31, 32, 33, 300 })
        {
            var pfns = Enumerable.Range(0, tail).Select(i => pps - (ulong)tail + (ulong)i)
                .Concat(Enumerable.Range(0, 600).Select(i => 2 * pps + (ulong)i)).ToArray();
            var op = new NumPagesContiguousOp(pfns.ToEqArray());
            var reference = ReferenceModel.Instance.Run(w, op);
            Assert.Equal([tail], reference.Returns.ToArray());
            Assert.Equal(reference, OptimizedModel.Instance.Run(w, op));
        }
    }
}
