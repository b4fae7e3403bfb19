using System.Diagnostics;
using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// Exhaustive small-scope checking (issue 7): every world up to a bound, not a sample of them.
///
/// The bound: 4 KiB pages and 2-page sections (SECTION_SIZE_BITS 13, MAX_PAGE_ORDER 1), PFNs 0–7 (sections
/// 0–3); every non-empty set of present sections; FLATMEM, SPARSEMEM_VMEMMAP and classic SPARSEMEM with each
/// memmap placement (node-buffer: adjacent across holes; padded; independent, laid out in reverse order so the
/// last struct page of a section is followed by the first of the section before it); every tiling of the
/// present PFNs by naturally aligned folios of order 0, 1 and 2; and every assignment of present sections to
/// no pgmap, a MEMORY_DEVICE_GENERIC pgmap or a PCI_P2PDMA pgmap, each pgmap one run of sections. A
/// combination the world validator refuses (an order-2 folio across a section where MAX_FOLIO_ORDER forbids
/// it, a FLATMEM memmap over a hole, ...) is counted as refused and not run.
///
/// num_pages_contiguous: in every world, every array of 1 to 4 present PFNs (repeats allowed); the reference and the optimized
/// implementation must agree and NPC-1..NPC-4 must hold. bio_add_page: every sequence of 1 or 2 adds (a
/// whole page, or the first or the second half of a page, of any present PFN) into an empty bio of 1 or 2
/// vecs; both implementations must give the same returns and bvec tables, and BIO-1, BIO-2 and BIO-5 must
/// hold. bio_add_page reads pages, their pgmaps and their physical addresses, never their folio, so its
/// worlds leave the folio tiling out (every page its own folio).
/// </summary>
public static class Exhaustive
{
    public const int Pfns = 8;
    private const int Sections = 4;
    /// <summary>num_pages_contiguous arrays are every sequence of 1 to MaxArray present PFNs.</summary>
    public const int MaxArray = 4;
    private const ulong Ps = 4096;

    public sealed class Report
    {
        public string Operation = "";
        public long Worlds, Refused, Checks, Failures;
        public double Seconds;
        public string? FirstFailure;
        /// <summary>Failing cases per property id (the first property that failed on each case).</summary>
        public SortedDictionary<string, long> ByProperty { get; } = new(StringComparer.Ordinal);

        public void Fail(string why, Func<string> scenario)
        {
            Failures++;
            string id = why.IndexOf(':') is > 0 and var colon ? why[..colon] : why;
            ByProperty[id] = ByProperty.GetValueOrDefault(id) + 1;
            FirstFailure ??= why + "\n" + scenario();
        }
        public double WorldsPerSecond => Seconds > 0 ? Worlds / Seconds : 0;
    }

    private static MachineConfig Machine(MemoryModel model)
        => ArchPresets.Get(model switch
        {
            MemoryModel.Flatmem => "tiny-flatmem",
            MemoryModel.Sparsemem => "tiny-sparsemem",
            _ => "tiny-vmemmap",
        }) with { SectionSizeBits = 13, MaxPageOrder = 1, Name = "exhaustive" };

    /// <summary>Every (machine, present sections, placement) of the bound.</summary>
    private static IEnumerable<World> Memories(MemoryModel? only = null)
    {
        foreach (var model in new[] { MemoryModel.Flatmem, MemoryModel.SparsememVmemmap, MemoryModel.Sparsemem })
        {
            if (only is not null && model != only) continue;
            var m = Machine(model);
            for (int mask = 1; mask < 1 << Sections; mask++)
            {
                var secs = Enumerable.Range(0, Sections).Where(s => (mask & (1 << s)) != 0).Select(s => (ulong)s).ToArray();
                if (model != MemoryModel.Sparsemem)
                {
                    yield return World.Create(m, secs);
                    continue;
                }
                ulong bytes = (ulong)m.StructPageSize * m.PagesPerSection;
                yield return World.Create(m, secs, MemmapPlacement.NodeBuffer());
                yield return World.Create(m, secs, MemmapPlacement.Padded());
                yield return World.Create(m, secs, MemmapPlacement.Independent(
                    secs.Select((_, k) => MemmapPlacement.Origin + (ulong)(secs.Length - 1 - k) * bytes).ToArray()));
            }
        }
    }

    /// <summary>Every tiling of the present PFNs by aligned folios of order 0–2 (order-0 folios are not listed).</summary>
    private static IEnumerable<Folio[]> Tilings(World w)
    {
        var present = new bool[Pfns];
        foreach (var s in w.Memory.PresentSections) { present[2 * s] = true; present[2 * s + 1] = true; }
        // Per aligned block of 4 PFNs, the ways to tile it; the world's tilings are the products.
        var perBlock = new List<List<Folio[]>>();
        for (ulong b = 0; b < Pfns; b += 4)
        {
            var ways = new List<Folio[]>();
            var halves = new List<List<Folio[]>>();
            for (ulong h = b; h < b + 4; h += 2)
                halves.Add(present[h] ? [[], [new Folio(h, 1)]] : [[]]);
            foreach (var x in halves[0])
                foreach (var y in halves[1])
                    ways.Add([.. x, .. y]);
            if (present[b] && present[b + 2]) ways.Add([new Folio(b, 2)]);
            perBlock.Add(ways);
        }
        foreach (var a in perBlock[0])
            foreach (var c in perBlock[1])
                yield return [.. a, .. c];
    }

    /// <summary>Every labelling of present sections: 0 none, 1 GENERIC pgmap, 2 PCI_P2PDMA pgmap, each pgmap one run of sections.</summary>
    private static IEnumerable<Pgmap[]> PgmapSets(World w)
    {
        var secs = w.Memory.PresentSections.ToArray();
        int n = secs.Length, total = (int)Math.Pow(3, n);
        for (int code = 0; code < total; code++)
        {
            var label = new int[n];
            for (int i = 0, c = code; i < n; i++, c /= 3) label[i] = c % 3;
            var maps = new List<Pgmap>();
            bool ok = true;
            foreach (var (id, type) in new[] { (1, MemoryType.Generic), (2, MemoryType.PciP2pdma) })
            {
                var idx = Enumerable.Range(0, n).Where(i => label[i] == id).ToArray();
                if (idx.Length == 0) continue;
                // one run of consecutive present sections with no hole between them
                if (idx[^1] - idx[0] + 1 != idx.Length || secs[idx[^1]] - secs[idx[0]] != (ulong)(idx.Length - 1)) { ok = false; break; }
                maps.Add(new Pgmap(id, type, secs[idx[0]] * 2, (ulong)idx.Length * 2, type == MemoryType.PciP2pdma ? "p2p0" : null));
            }
            if (ok) yield return [.. maps];
        }
    }

    private static IEnumerable<World> Worlds(bool folios, MemoryModel? only = null)
    {
        foreach (var mem in Memories(only))
            foreach (var tiling in folios ? Tilings(mem) : [[]])
            {
                var wf = mem with { Folios = tiling.ToEqArray() };
                foreach (var maps in PgmapSets(wf))
                    yield return maps.Length == 0 ? wf : wf with { Pgmaps = maps.ToEqArray() };
            }
    }

    // ------------------------------------------------------------------ num_pages_contiguous

    public static Report Npc(NpcVariant variant = NpcVariant.SectionCompare, MemoryModel? only = null)
    {
        var rep = new Report { Operation = "num_pages_contiguous" };
        long t0 = Stopwatch.GetTimestamp();
        Span<ulong> opt = stackalloc ulong[MaxArray];
        var refPages = new ulong[MaxArray];
        foreach (var w in Worlds(folios: true, only))
        {
            if (w.Problems().Count > 0) { rep.Refused++; continue; }
            rep.Worlds++;
            var pfns = Enumerable.Range(0, Pfns).Select(p => (ulong)p).Where(w.Facts.IsPresent).ToArray();
            var mm = new MemoryModelRules(w);
            var fx = new Effects();
            var log = new RunLog();
            using var arena = new MemmapArena(w, log, wide: true);
            var k = new OptKernel<Wide, BioVec64, ulong>(w, log, arena);
            var refOf = pfns.ToDictionary(p => p, mm.PfnToPage);
            var optOf = pfns.ToDictionary(p => p, arena.PfnToPage);
            var arr = new ulong[MaxArray];
            for (int n = 1; n <= MaxArray; n++)
            {
                int combos = (int)Math.Pow(pfns.Length, n);
                for (int code = 0; code < combos; code++)
                {
                    for (int i = 0, c = code; i < n; i++, c /= pfns.Length) arr[i] = pfns[c % pfns.Length];
                    for (int i = 0; i < n; i++) { refPages[i] = refOf[arr[i]]; opt[i] = optOf[arr[i]]; }
                    int r = NumPagesContiguous.Run(mm, new ArraySegment<ulong>(refPages, 0, n), fx, variant);
                    int o = k.NumPagesContiguous(opt[..n]);
                    rep.Checks++;
                    string? why = NpcProblem(w, arr.AsSpan(0, n), r, o);
                    if (why is not null)
                        rep.Fail(why, () => ScenarioFile.Write(new Scenario("exhaustive-npc", why, w, [new NumPagesContiguousOp(arr.Take(n).ToEqArray())])));
                }
            }
            k.CheckAndFree();
            if (log.Violations.Count > 0) rep.Fail("optimized: " + log.Violations[0], () => ScenarioFile.Write(new Scenario("exhaustive", null, w, [])));
        }
        rep.Seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return rep;
    }

    /// <summary>NPC-1..NPC-4 on the reference's answer, then conformance, for one array; null when all hold.</summary>
    private static string? NpcProblem(World w, ReadOnlySpan<ulong> pfns, int r, int o)
    {
        int n = pfns.Length;
        if (r < 1 || r > n) return $"NPC-1: r = {r} for n = {n}";
        for (int i = 1; i < r; i++)
            if (pfns[i] != pfns[0] + (ulong)i) return $"NPC-2: pages[{i}] is PFN 0x{pfns[i]:x}, not 0x{pfns[0] + (ulong)i:x}, inside a run of {r}";
        bool classic = w.Machine.Model == MemoryModel.Sparsemem;
        var f = w.Facts;
        if (classic)
            for (int i = 1; i < r; i++)
                if (f.SectionNr(pfns[i]) != f.SectionNr(pfns[0])) return $"NPC-3: the run of {r} leaves section {f.SectionNr(pfns[0])}";
        int prefix = 1;
        while (prefix < n && pfns[prefix] == pfns[0] + (ulong)prefix && (!classic || f.SectionNr(pfns[prefix]) == f.SectionNr(pfns[0]))) prefix++;
        if (classic ? r < prefix : r != prefix) return $"NPC-4: r = {r}, the PFN-consecutive prefix is {prefix}";
        if (r != o) return $"CF-1: reference {r}, optimized {o} for [{string.Join(", ", pfns.ToArray().Select(p => $"0x{p:x}"))}]";
        return null;
    }

    // ------------------------------------------------------------------ bio_add_page sequences

    public static Report BioAdd()
    {
        var rep = new Report { Operation = "bio_add_page" };
        long t0 = Stopwatch.GetTimestamp();
        foreach (var w in Worlds(folios: false))
        {
            if (w.Problems().Count > 0) { rep.Refused++; continue; }
            rep.Worlds++;
            var pfns = Enumerable.Range(0, Pfns).Select(p => (ulong)p).Where(w.Facts.IsPresent).ToArray();
            var adds = pfns.SelectMany(p => new (ulong Pfn, uint Off, uint Len)[] { (p, 0u, (uint)Ps), (p, 0u, (uint)Ps / 2), (p, (uint)Ps / 2, (uint)Ps / 2) }).ToArray();
            var mm = new MemoryModelRules(w);
            var log = new RunLog();
            using var arena = new MemmapArena(w, log, wide: true);
            var k = new OptKernel<Wide, BioVec64, ulong>(w, log, arena);
            foreach (ushort maxVecs in new ushort[] { 1, 2 })
            {
                var entry = Bio.Empty(maxVecs);
                var state = k.LoadBio(entry);
                for (int a = 0; a < adds.Length; a++)
                    for (int b = -1; b < adds.Length; b++)
                    {
                        var calls = b < 0 ? new[] { adds[a] } : new[] { adds[a], adds[b] };
                        rep.Checks++;
                        string? why = BioProblem(w, mm, k, state, entry, calls);
                        if (why is not null)
                            rep.Fail(why, () => ScenarioFile.Write(new Scenario("exhaustive-bio-add", why, w,
                                [new BioAddOp(entry, calls.Select(c => new AddCall(AddFn.BioAddPage, c.Pfn, c.Len, c.Off)).ToEqArray())])));
                    }
            }
            k.CheckAndFree();
            if (log.Violations.Count > 0) rep.Fail("optimized: " + log.Violations[0], () => ScenarioFile.Write(new Scenario("exhaustive", null, w, [])));
        }
        rep.Seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return rep;
    }

    private static string? BioProblem(World w, MemoryModelRules mm, OptKernel<Wide, BioVec64, ulong> k, BioState state, Bio entry,
                                      (ulong Pfn, uint Off, uint Len)[] calls)
    {
        var add = new Reference.BioAdd(mm, new Effects());
        var bio = entry;
        state.Vcnt = 0;
        state.Size = 0;
        state.Opf = entry.Opf;
        state.Untouched = true;
        foreach (var c in calls)
        {
            var before = bio;
            (bio, int r) = add.AddPage(bio, mm.PfnToPage(c.Pfn), c.Len, c.Off);
            int o = k.AddPage(state, k.Arena.PfnToPage(c.Pfn), c.Len, c.Off);
            if (r != o) return $"CF-1: bio_add_page(PFN 0x{c.Pfn:x}, len {c.Len}, off {c.Off}) returned {r} on the reference, {o} optimized";
            if (r != 0 && r != (int)c.Len) return $"BIO-1: bio_add_page returned {r} for len {c.Len}";
            if (r == 0 && bio != before) return "BIO-1: a refused add changed the bio";
        }
        var opt = k.ToDesc(state, entry, null);
        if (opt.Vcnt != bio.Vcnt || opt.Size != bio.Size || !opt.InUse.SequenceEqual(bio.InUse))
            return $"CF-1: bvec tables differ: reference [{string.Join(" ", bio.InUse)}], optimized [{string.Join(" ", opt.InUse)}]";
        ulong sum = 0;
        foreach (var bv in bio.InUse) sum += bv.Len;
        if (sum != bio.Size || bio.Vcnt > bio.MaxVecs) return $"BIO-2: bi_size {bio.Size}, Σ bv_len {sum}, vcnt {bio.Vcnt} of {bio.MaxVecs}";
        var classes = bio.InUse.Select(bv => mm.IsPciP2pdmaPage(mm.PfnToPage(bv.Pfn)) ? mm.PagePgmap(mm.PfnToPage(bv.Pfn))!.Value.Id : 0).Distinct().Count();
        if (classes > 1) return "BIO-5: the bio mixes P2PDMA and other memory, or two P2PDMA pgmaps";
        return null;
    }

    public static void Print(Report r, TextWriter o)
    {
        o.WriteLine($"{r.Operation}: {r.Worlds} worlds checked ({r.Refused} combinations refused by the world validator), {r.Checks} cases, " +
                    $"{r.Failures} failing, {r.Seconds:F1} s, {r.WorldsPerSecond:F0} worlds/s");
        if (r.ByProperty.Count > 0) o.WriteLine("  failing cases by property: " + string.Join(", ", r.ByProperty.Select(kv => $"{kv.Key} {kv.Value}")));
        if (r.FirstFailure is not null) o.WriteLine("first failure:\n" + r.FirstFailure);
    }
}
