using BioModel.Core;

namespace BioModel.Properties;

/// <summary>NPC — num_pages_contiguous(pages, n), n ≥ 1 (INVARIANTS.md).</summary>
public static class NpcProps
{
    private static Case Gen(Draw d)
    {
        // Classic SPARSEMEM with node-buffer placement and holes is where false positives live: weight it.
        var w = d.Chance(0.45) ? WorldGen.HoleyNodeBuffer(d)
            : WorldGen.Any(d, d.Weighted((40, (MemoryModel?)MemoryModel.Sparsemem), (60, null)), pgmapChance: 0.2);
        return new Case(w, OpGen.Npc(d, w));
    }

    /// <summary>The generator in one memory model (classic SPARSEMEM keeps the weight on holey node-buffer worlds).</summary>
    private static Case GenIn(Draw d, MemoryModel model)
    {
        var w = model == MemoryModel.Sparsemem && d.Chance(0.5) ? WorldGen.HoleyNodeBuffer(d) : WorldGen.Any(d, model, pgmapChance: 0.2);
        return new Case(w, OpGen.Npc(d, w));
    }

    private static EqArray<ulong> Pfns(Case c) => ((NumPagesContiguousOp)c.Op!).Pfns;

    /// <summary>Length of the PFN-consecutive prefix, cut at the first section boundary in classic SPARSEMEM.</summary>
    public static int ExpectedPrefix(World w, IReadOnlyList<ulong> pfns, out int pfnPrefix)
    {
        int i = 1;
        while (i < pfns.Count && pfns[i] == pfns[0] + (ulong)i) i++;
        pfnPrefix = i;
        if (w.Machine.Model != MemoryModel.Sparsemem) return i;
        int j = 1;
        while (j < i && w.Facts.SectionNr(pfns[j]) == w.Facts.SectionNr(pfns[0])) j++;
        return j;
    }

    private static IEnumerable<string> Classes(Case c)
    {
        var w = c.World;
        var p = Pfns(c);
        var f = w.Facts;
        yield return Ref.ModelName(w);
        ExpectedPrefix(w, p.Items, out int prefix);
        if (prefix > 1 && f.SectionNr(p[0]) != f.SectionNr(p[prefix - 1])) yield return "PFN run crosses a section";
        ulong sz = (ulong)w.Machine.StructPageSize;
        for (int i = 1; i < p.Length; i++)
            if (p[i] != p[i - 1] + 1 && f.MemmapAddress(p[i]) == f.MemmapAddress(p[i - 1]) + sz)
            {
                yield return "struct pages adjacent, PFNs not";
                break;
            }
        yield return p.Length == 1 ? "nr_pages == 1" : "nr_pages > 1";
        if (IntoHoleReported(Ref.Run(c))) yield return "nth_page into a hole (reported)";
    }

    /// <summary>
    /// Runs the call. r is null when the model reported that nth_page stepped to a PFN without a memmap
    /// (npc/nth-page in classic SPARSEMEM): the properties speak only where pfn_to_page is defined, and that
    /// case must be reported, which it was.
    /// </summary>
    private static (int? R, Verdict V) RunNpc(Case c)
    {
        var o = Ref.Run(c);
        if (IntoHoleReported(o)) return (null, Verdict.Pass);
        var v = Ref.NoViolation(o);
        if (!v.Ok) return (0, v);
        return ((int)o.Returns[0], Verdict.Pass);
    }

    private static bool IntoHoleReported(Outcome o)
        => o.Violations.Length > 0 && o.Violations.All(v => v.StartsWith(Diag.NthPageIntoHolePrefix, StringComparison.Ordinal));

    private static readonly (string, double)[] Reach = [("PFN run crosses a section", 0.05), ("struct pages adjacent, PFNs not", 0.03)];

    /// <summary>A property judged on the return value r of one num_pages_contiguous call.</summary>
    private static PropertyDef Def(string id, string title, Func<Case, int, Verdict> check) => new()
    {
        Id = id,
        Title = title,
        Generate = Gen,
        GenerateIn = GenIn,
        Classify = Classes,
        Required = Reach,
        Check = c =>
        {
            var (r, v) = RunNpc(c);
            return v.Ok && r is { } n ? check(c, n) : v;
        },
    };

    public static IEnumerable<PropertyDef> All()
    {
        yield return Def("NPC-1", "1 ≤ r ≤ n", (c, r) =>
        {
            int n = Pfns(c).Length;
            return Verdict.Require(r >= 1 && r <= n, () => $"returned {r} for nr_pages {n}");
        });
        yield return Def("NPC-2", "Soundness: for 0 < i < r, pfn(pages[i]) == pfn(pages[0]) + i, whatever the memmap placement", (c, r) =>
        {
            var p = Pfns(c);
            for (int i = 1; i < r; i++)
                if (p[i] != p[0] + (ulong)i)
                    return Verdict.Fail($"returned {r}, but pages[{i}] is PFN 0x{p[i]:x}, not 0x{p[0] + (ulong)i:x} (a false positive: the struct pages are adjacent, the PFNs are not)");
            return Verdict.Pass;
        });
        yield return Def("NPC-3", "In classic SPARSEMEM, pages[0..r) lie in one section", (c, r) =>
        {
            if (c.World.Machine.Model != MemoryModel.Sparsemem) return Verdict.Pass;
            var p = Pfns(c);
            var f = c.World.Facts;
            for (int i = 1; i < r; i++)
                if (f.SectionNr(p[i]) != f.SectionNr(p[0]))
                    return Verdict.Fail($"returned {r}, but pages[{i}] (PFN 0x{p[i]:x}) is in section 0x{f.SectionNr(p[i]):x}, pages[0] (PFN 0x{p[0]:x}) in section 0x{f.SectionNr(p[0]):x}");
            return Verdict.Pass;
        });
        yield return Def("NPC-4", "Completeness: r ≥ the PFN-consecutive prefix (cut at the first section boundary in classic SPARSEMEM); equal to it in FLATMEM and VMEMMAP", (c, r) =>
        {
            var w = c.World;
            int expected = ExpectedPrefix(w, Pfns(c).Items, out int pfnPrefix);
            if (r < expected)
                return Verdict.Fail($"returned {r}, but the first {expected} pages are PFN-consecutive{(w.Machine.Model == MemoryModel.Sparsemem ? " within one section" : "")} (an under-count)");
            if (w.Machine.Model != MemoryModel.Sparsemem && r != pfnPrefix)
                return Verdict.Fail($"returned {r} in {Ref.ModelName(w)}, the PFN-consecutive prefix is {pfnPrefix}");
            return Verdict.Pass;
        });
        yield return new PropertyDef
        {
            Id = "NPC-5",
            Title = "Calling it again on the rest of the array partitions the array into sound runs",
            Generate = Gen,
            GenerateIn = GenIn,
            Classify = Classes,
            Required = Reach,
            Weight = 0.75,
            Check = c =>
            {
                var p = Pfns(c);
                int start = 0, runs = 0;
                while (start < p.Length)
                {
                    var rest = p.Skip(start);
                    var o = Ref.Run(c.World, new NumPagesContiguousOp(rest));
                    if (IntoHoleReported(o)) return Verdict.Pass;
                    if (o.Violations.Length > 0) return Verdict.Fail("contract violation on the rest of the array: " + o.Violations[0]);
                    int r = (int)o.Returns[0];
                    if (r < 1 || start + r > p.Length) return Verdict.Fail($"run {runs} from index {start}: returned {r}");
                    for (int i = 1; i < r; i++)
                        if (rest[i] != rest[0] + (ulong)i) return Verdict.Fail($"run {runs} from index {start} claims {r} pages but PFN 0x{rest[i]:x} breaks it");
                    start += r;
                    runs++;
                }
                return Verdict.Pass;
            },
        };
    }
}
