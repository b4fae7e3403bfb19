using System.Collections.Concurrent;
using System.Text;
using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>What a matrix cell is expected to say, and on whose word.</summary>
public enum CellExpectation { Holds, Fails }

/// <summary>
/// One cell the matrix runs: a property of <see cref="Campaign"/> and what it should do for the row's variant.
/// <see cref="FromVariants"/> is true when VARIANTS.md states the verdict; otherwise it is derived from the code
/// (and <see cref="Note"/> says why, where the derivation is not obvious).
/// </summary>
public sealed record CellSpec(string Property, CellExpectation Expect, bool FromVariants, string? Note = null)
{
    /// <summary>Classes this cell must reach instead of the row's (a property with its own classification).</summary>
    public (string Class, double MinFraction)[]? Reach { get; init; }
}

/// <summary>
/// One row: a variant, the memory model it is run under (null: whatever the generators produce), and its cells.
/// <see cref="Reach"/> are classes every cell of the row must reach (so a "holds" is about the cases that matter).
/// </summary>
public sealed record MatrixRow(Variant Variant, MemoryModel? Model, IReadOnlyList<CellSpec> Cells)
{
    public (string Class, double MinFraction)[] Reach { get; init; } = [];
    public string Scope => Model switch
    {
        MemoryModel.Flatmem => "FLATMEM",
        MemoryModel.Sparsemem => "SPARSEMEM",
        MemoryModel.SparsememVmemmap => "VMEMMAP",
        _ => "any",
    };
    /// <summary>"npc/pointer-only@SPARSEMEM": how the row is named on the command line.</summary>
    public string Key => Model is null ? Variant.Id : $"{Variant.Id}@{Scope}";
    public CellSpec? Cell(string property) => Cells.FirstOrDefault(c => c.Property == property);
}

/// <summary>A table of the matrix: one function's variants against the properties about it.</summary>
public sealed record MatrixGroup(string Title, string About, IReadOnlyList<string> Columns, IReadOnlyList<MatrixRow> Rows);

/// <summary>A run cell: its row, what was expected, what happened.</summary>
public sealed record CellResult(MatrixRow Row, CellSpec Spec, PropertyRun Run)
{
    /// <summary>The property held for every generated case and reached the row's classes.</summary>
    public bool Holds => Run.Counterexample is null && Run.Problem is null;
    public bool Fails => Run.Counterexample is not null;
    /// <summary>Largest counterexample allowed for an expected failure: 2 pages for num_pages_contiguous, 3 otherwise.</summary>
    public int PageLimit => Row.Variant.Function == "num_pages_contiguous" ? 2 : 3;
    public bool AsExpected => Spec.Expect == CellExpectation.Holds
        ? Holds
        : Fails && Run.Counterexample!.Pages <= PageLimit;
    public string Glyph => Holds ? "✓" : Fails ? "✗" : "?";
}

/// <summary>The whole matrix after a run.</summary>
public sealed record MatrixResult(Profile Profile, IReadOnlyList<(MatrixGroup Group, IReadOnlyList<CellResult> Cells)> Groups)
{
    public IEnumerable<CellResult> Cells => Groups.SelectMany(g => g.Cells);
    public bool AllAsExpected => Cells.All(c => c.AsExpected);
    public int CaseCount => Cells.Sum(c => c.Run.Cases);
    public CellResult Cell(string rowKey, string property)
        => Cells.First(c => c.Row.Key == rowKey && c.Spec.Property == property);
}

/// <summary>
/// The verdict matrix of VARIANTS.md: every variant (rows) against the INVARIANTS.md properties that apply to it
/// (columns), each run by FsCheck on the reference model with the variant's code, "holds" or "fails" with a shrunk
/// counterexample. A cell uses the campaign's property with the same id, its generator, shrinker and check, with
/// the row's restrictions added to its domain (memory model; memmap placement; folio size rule; calls without
/// room) and the row's reach classes instead of the campaign's. Every cell of one property uses the same seed, so
/// the variants of a function see the same generated cases. Where a campaign property is a known finding of
/// mainline for reasons the row is not about, the cell uses the campaign's twin that excludes those reasons
/// (BIO-1/below-2g, BIO-5/page-offsets, BIO-9/same-pgmap, GP-1/single-page, GP-4/no-align-down,
/// EX-1/no-empty-bvec, EX-2/no-empty-bvec, EX-8/iovec-kvec).
/// </summary>
public static class VerdictMatrix
{
    private static CellSpec H(string p, bool v = false, string? note = null) => new(p, CellExpectation.Holds, v, note);
    private static CellSpec F(string p, bool v = false, string? note = null) => new(p, CellExpectation.Fails, v, note);

    private static readonly MemoryModel[] Models = [MemoryModel.Flatmem, MemoryModel.Sparsemem, MemoryModel.SparsememVmemmap];

    private static readonly string[] NpcColumns = ["NPC-1", "NPC-2", "NPC-3", "NPC-4", "NPC-5"];

    private static IEnumerable<MatrixRow> NpcRows()
    {
        foreach (var v in new[] { Variants.NpcNthPage, Variants.NpcPointerOnly, Variants.NpcDraftSectionMask, Variants.NpcSectionCompare })
            foreach (var m in Models)
            {
                CellSpec[] cells;
                if (m != MemoryModel.Sparsemem || v == Variants.NpcSectionCompare)
                {
                    // Outside classic SPARSEMEM every version is pointer arithmetic on one memmap array; the mainline
                    // version is the one VARIANTS.md says holds everywhere.
                    bool stated = v == Variants.NpcSectionCompare || v == Variants.NpcPointerOnly;
                    cells = [.. NpcColumns.Select(p => H(p, stated))];
                }
                else if (v == Variants.NpcNthPage)
                    cells = [H("NPC-1"), H("NPC-2", true), F("NPC-3", note: "exact across a section boundary, so the run is not cut there"), H("NPC-4"), H("NPC-5")];
                else if (v == Variants.NpcPointerOnly)
                    cells = [H("NPC-1"), F("NPC-2", true), F("NPC-3"), H("NPC-4"), F("NPC-5")];
                else
                    cells = [H("NPC-1"), F("NPC-2", true, "from an even section the cap is the whole section, so the walk passes the section end"),
                             F("NPC-3"), F("NPC-4", true, "in an odd section the cap is 0 and the result always 1"), F("NPC-5")];
                (string, double)[] reach = m == MemoryModel.Sparsemem
                    ? [("PFN run crosses a section", 0.05), ("struct pages adjacent, PFNs not", 0.03)]
                    : [("nr_pages > 1", 0.5)];
                if (m == MemoryModel.Sparsemem && v == Variants.NpcNthPage)
                    reach = [.. reach, ("nth_page into a hole (reported)", 0.02)];
                yield return new MatrixRow(v, m, cells) { Reach = reach };
            }
    }

    private static IEnumerable<MatrixRow> MemmapRows()
    {
        (string, double)[] adjacent = [("struct pages adjacent, PFNs not", 0.03), ("PFN run crosses a section", 0.03)];
        (string, double)[] mm2 = [("section memmaps adjacent (classic)", 0.05), ("hole between sections", 0.1)];
        yield return new MatrixRow(Variants.MemmapNodeBuffer, MemoryModel.Sparsemem,
            [H("MM-2", note: "MM-2 holds by its own placement clause: across a hole the node buffer puts the memmaps next to each other, which is \"accidentally true\" adjacency and the source of pointer-only false positives") with { Reach = mm2 },
             F("NPC-2", true), F("NPC-3"), H("NPC-4"), F("NPC-5")]) { Reach = adjacent };
        yield return new MatrixRow(Variants.MemmapIndependent, MemoryModel.Sparsemem,
            [H("MM-2") with { Reach = mm2 }, F("NPC-2", true), F("NPC-3"), H("NPC-4"), F("NPC-5")]) { Reach = adjacent };
        yield return new MatrixRow(Variants.MemmapPadded, MemoryModel.Sparsemem,
            [H("MM-2") with { Reach = [("hole between sections", 0.1)] }, H("NPC-2", true), H("NPC-3"), H("NPC-4"), H("NPC-5")]) { Reach = [("PFN run crosses a section", 0.03)] };
    }

    private static IEnumerable<MatrixRow> FolioRows()
    {
        yield return new MatrixRow(Variants.FolioCrossSection, MemoryModel.Sparsemem, [F("MM-4", true)]) { Reach = [("folio crosses a section", 0.05)] };
        yield return new MatrixRow(Variants.FolioCrossSection, MemoryModel.SparsememVmemmap, [H("MM-4")]) { Reach = [("folio crosses a section", 0.05)] };
        yield return new MatrixRow(Variants.FolioMaxFolioOrder, MemoryModel.Sparsemem, [H("MM-4", true)]) { Reach = [("rule-breaking world", 0.05)] };
        yield return new MatrixRow(Variants.FolioMaxFolioOrder, MemoryModel.SparsememVmemmap, [H("MM-4")]) { Reach = [("folio crosses a section", 0.05)] };
    }

    private static readonly string[] AddColumns = ["BIO-1/below-2g", "BIO-2", "BIO-3", "BIO-4", "BIO-5/page-offsets", "BIO-6", "BIO-7", "BIO-8", "BIO-9/same-pgmap"];

    private static IEnumerable<MatrixRow> AddRows()
    {
        (string, double)[] reach = [("pgmap change", 0.03)];
        const string zeroLength = "a zero-length add is accepted before 643893647cac (Qu Wenruo, 7.1): it appends an empty bvec or merges as a no-op and returns 0, which the caller cannot tell from a refusal (the btrfs double free)";
        MatrixRow Row(Variant v, string? fails5, string? fails6, bool stated5, bool stated6) => new(v, null,
            [.. AddColumns.Select(p => p switch
            {
                "BIO-1/below-2g" when !v.Kernel.RefuseZeroLength => F(p, note: zeroLength),
                "BIO-5/page-offsets" => fails5 is null ? H(p, stated5) : F(p, stated5, fails5),
                "BIO-6" => fails6 is null ? H(p, stated6) : F(p, stated6, fails6),
                _ => H(p, v == Variants.AddCompatible),
            })]) { Reach = reach };
        yield return Row(Variants.AddMergeGuard, "RAM and P2PDMA end up in one bio (a rule of the later design: this era mapped DMA per segment)", null, true, false);
        yield return Row(Variants.AddRejectAnyPgmap, null, "a page compatible with the last bvec is refused: RAM next to MEMORY_DEVICE_GENERIC, or two GENERIC chunks (the MSHV VTL case)", true, true);
        yield return Row(Variants.AddSeparateAnyPgmap, "the review concern: P2PDMA and RAM as separate bvecs of one bio", null, true, true);
        yield return Row(Variants.AddCompatible, null, null, true, true);
        yield return new MatrixRow(Variants.MergeableNoPgmap, null, [F("BIO-3/segments", true, "two physically adjacent bvecs of different pgmaps become one hardware segment")]) { Reach = [("adjacent, pgmaps differ", 0.1)] };
        yield return new MatrixRow(Variants.MergeablePgmap, null, [H("BIO-3/segments", true)]) { Reach = [("adjacent, pgmaps differ", 0.1)] };
    }

    /// <summary>
    /// How extract/add-folio breaks GP-1: the refused add ends the round with -EINVAL (and WARN_ON_ONCE) without
    /// reverting the bytes it did not add; the outer loop returns align-down's result, which is an error only when
    /// the bio holds less than one logical block, i.e. when the pgmap change lies inside the first block.
    /// </summary>
    public const string AddFolioGp1Note =
        "a pgmap change inside the first logical block: the round refuses the second page (WARN_ON_ONCE, -EINVAL) and skips the revert, align-down drops the short bio and returns -EFAULT, and the iterator stays advanced over the refused bytes (an error with the iterator moved)";

    public const string AddFolioGp2Note =
        "past the first block the call succeeds, but the refused add skipped the revert: the iterator stays advanced over the bytes not added, so the caller's next bio starts past them and the data lands at the wrong offset; WARN_ON_ONCE fires";

    private static readonly string[] ExColumns = ["EX-1/no-empty-bvec", "EX-2/no-empty-bvec", "EX-3", "EX-4", "EX-5", "EX-6", "EX-7", "EX-8/iovec-kvec", "EX-9"];

    private static IEnumerable<MatrixRow> ExtractBvecsRows()
    {
        yield return new MatrixRow(Variants.ExtractBvecs, null,
            [.. ExColumns.Select(p => H(p, true, p == "EX-7" ? "VARIANTS.md says \"EX holds\": every EX column is a campaign property, a twin where mainline breaks one for reasons outside the pgmap question (empty bvecs)" : null))]);
        yield return new MatrixRow(Variants.ExtractNoRoom, null, [H("EX-9", true, "the contract violation is reported, nothing is written at or past bv[max_vecs]")]) { Reach = [("no room on entry", 0.9)] };
    }

    private static IEnumerable<MatrixRow> GetPagesRows()
    {
        yield return new MatrixRow(Variants.ExtractAddFolio, null,
            [F("GP-1/single-page", true, AddFolioGp1Note), F("GP-2", note: AddFolioGp2Note), H("GP-4/no-align-down"), H("GP-5")]) { Reach = [("P2PDMA bio", 0.01)] };
        yield return new MatrixRow(Variants.ExtractBvecs, null,
            [H("GP-1/single-page", true, "mainline stops at the pgmap change; align-down then drops the short bio, unpins its single pages and reverts the iterator to where it was: -EFAULT with nothing held"), H("GP-2"), H("GP-4/no-align-down"), H("GP-5")]);
        yield return new MatrixRow(Variants.AlignDownFirstPage, null, [H("GP-2"), H("GP-3"), F("GP-4", true)]) { Reach = [("align-down trimmed", 0.03)] };
        yield return new MatrixRow(Variants.AlignDownAllPages, null, [H("GP-2"), H("GP-3"), H("GP-4", true)]) { Reach = [("align-down trimmed", 0.03)] };
    }

    private static readonly string[] BounceColumns = ["BNC-1", "BNC-2", "BNC-3/aligned", "BNC-4"];

    private static IEnumerable<MatrixRow> BounceRows()
    {
        (string, double)[] reach = [("store hits the I/O", 0.05), ("built", 0.4)];
        yield return new MatrixRow(Variants.BounceNone, null,
            [F("BNC-1", true, "the device reads the user's pages at DMA time, after the store"), H("BNC-2"),
             F("BNC-3/aligned", note: "the zero-copy path is bio_iov_iter_get_pages, whose align-down keeps the pins of a dropped multi-page bvec (GP-4, aligndown/first-page)"), H("BNC-4")]) { Reach = reach };
        yield return new MatrixRow(Variants.BounceCopyV3, null,
            [H("BNC-1"), H("BNC-2"), F("BNC-3/aligned", note: "v3 returned -EFAULT after a short copy without reverting the iterator (fixed by b68d4979c88e, Jun 2026)"), H("BNC-4")]) { Reach = reach };
        yield return new MatrixRow(Variants.BounceCopy, null,
            [H("BNC-1", true), H("BNC-2", true), H("BNC-3/aligned", true), H("BNC-4")]) { Reach = reach };
    }

    private static readonly string[] BvecPhysColumns = ["BVP-1", "BIO-5/page-offsets", "BIO-6"];

    private static IEnumerable<MatrixRow> BvecPhysRows()
    {
        yield return new MatrixRow(Variants.ExtractBvecs, null, [H("BVP-1", note: "{page *, u32, u32}: 16/8 = 2 on 64-bit, 12/4 = 3 on 32-bit")]) { Reach = [("64-bit", 0.5)] };
        yield return new MatrixRow(Variants.BvecPhys, null,
            [F("BVP-1", true, "the packed {phys_addr_t, u32} bio_vec is 12 bytes: 12/8 = 1 page pointer per bvec on a 64-bit kernel (3 on 32-bit PAE, 2 on 32-bit), so the tail page array does not fit and the model reports a contract violation at the first extraction"),
             H("BIO-5/page-offsets", note: "the last bvec names no page: bio_add_page decides against the bio's P2P record (non-P2P, or P2P of one pgmap), which keeps every bio homogeneous"),
             H("BIO-6")]) { Reach = [("pgmap change", 0.03)] };
    }

    /// <summary>The tables of the matrix, in the order of VARIANTS.md.</summary>
    public static IReadOnlyList<MatrixGroup> Groups { get; } =
    [
        new("num_pages_contiguous", "NPC-2 soundness, NPC-4 completeness; classic SPARSEMEM worlds mix every placement, with and without holes",
            NpcColumns, [.. NpcRows()]),
        new("memmap placement (classic SPARSEMEM), run with npc/pointer-only", "does the placement make the pointer-only loop sound?",
            ["MM-2", .. NpcColumns.Skip(1)], [.. MemmapRows()]),
        new("folio size rule", "folio_page by pointer arithmetic over a folio that crosses sections",
            ["MM-4"], [.. FolioRows()]),
        new("bio_add_page and biovec_phys_mergeable, pgmap policies", "BIO-5 P2P homogeneity against BIO-6 compatible acceptance",
            [.. AddColumns, "BIO-3/segments"], [.. AddRows()]),
        new("iov_iter_extract_bvecs", "stop at a pgmap change; the nr_vecs contract",
            ExColumns, [.. ExtractBvecsRows()]),
        new("bio_iov_iter_get_pages and bio_iov_iter_align_down", "what the caller sees when the pgmap changes; what align-down unpins",
            ["GP-1/single-page", "GP-2", "GP-3", "GP-4", "GP-4/no-align-down", "GP-5"], [.. GetPagesRows()]),
        new("bounce buffering on a stable-pages device", "what the device sees, what the user gets back, what is left behind",
            BounceColumns, [.. BounceRows()]),
        new("page-less bio_vec", "does the tail page array still fit; what a bio must record to keep P2P decisions per bio",
            BvecPhysColumns, [.. BvecPhysRows()]),
    ];

    public static IEnumerable<MatrixRow> Rows => Groups.SelectMany(g => g.Rows);

    /// <summary>The row <paramref name="key"/> that has a cell for <paramref name="property"/> (a variant can have a row in two tables).</summary>
    public static MatrixRow Row(string key, string property)
    {
        var rows = Rows.Where(r => r.Key == key).ToList();
        if (rows.Count == 0)
            throw new ArgumentException($"no matrix row '{key}' (known: {string.Join(", ", Rows.Select(r => r.Key).Distinct())})");
        return rows.FirstOrDefault(r => r.Cell(property) is not null)
            ?? throw new ArgumentException($"row {key} has no cell {property} (it has {string.Join(", ", rows.SelectMany(r => r.Cells).Select(c => c.Property))})");
    }

    // ------------------------------------------------------------------ running

    /// <summary>Does the case belong to the row (memory model, placement, calls the variant can take)?</summary>
    public static bool InRow(MatrixRow row, Case c)
    {
        var w = c.World;
        if (row.Model is { } m && w.Machine.Model != m) return false;
        var v = row.Variant;
        if (v.Placement is { } p && w.Memory.Placement.Policy != p) return false;
        if (v.FolioRule is { } r && w.Machine.FolioRule != r) return false;
        if (v.NoRoomOnEntry && c.Op is ExtractBvecsOp x && x.Entry.Length < x.MaxVecs) return false;
        if (v.Kernel.Bvec == BvecLayout.Phys && c.Op is BioAddOp add)
        {
            // A bio of this variant is built by its own bio_add_page, which keeps it homogeneous: an entry bio mixing
            // RAM and P2PDMA (or two providers) could not exist, and its P2P record would be undefined.
            var classes = add.Bio.InUse.Select(b => Oracle.IsP2p(w, b.Pfn) ? Oracle.PgmapId(w, b.Pfn) : 0).Distinct().Count();
            if (classes > 1) return false;
        }
        if (v.Kernel.Extraction == ExtractionVariant.AddFolio && c.Op is GetPagesOp g)
        {
            // mem_align_mask did not exist; and a bio this era built carries REQ_NOMERGE exactly when its first
            // page is P2PDMA, because __bio_add_page set it (nothing later does).
            if (g.MemAlignMask != 0) return false;
            if (g.Bio.Vcnt > 0 && g.Bio.Opf.HasFlag(BioOpf.NoMerge) != Oracle.IsP2p(w, g.Bio.Vecs[0].Pfn)) return false;
        }
        return true;
    }

    /// <summary>Shapes a generated case for the row: the variant's placement, folio rule, no-room entry, no mem_align_mask.</summary>
    public static Case Reshape(MatrixRow row, Case c, Draw d)
    {
        var v = row.Variant;
        var w = c.World;
        if (v.Placement is { } p && w.Machine.Model == MemoryModel.Sparsemem && w.Memory.Placement.Policy != p)
        {
            var moved = w with { Memory = w.Memory with { Placement = WorldGen.Placement(d, w.Machine, w.Memory.PresentSections.Length, p) } };
            if (moved.Problems().Count == 0) c = c with { World = moved };
        }
        if (v.FolioRule is { } r && w.Machine.FolioRule != r)
            c = c with { World = c.World with { Machine = c.World.Machine with { FolioRule = r } } };
        if (v.NoRoomOnEntry && c.Op is ExtractBvecsOp x && x.Entry.Length < x.MaxVecs)
            c = c with { Op = x with { MaxVecs = (ushort)Math.Max(0, x.Entry.Length - d.Int(0, Math.Min(2, x.Entry.Length))) } };
        if (v.Kernel.Extraction == ExtractionVariant.AddFolio && c.Op is GetPagesOp g && g.MemAlignMask != 0)
            c = c with { Op = g with { MemAlignMask = 0 } };
        return c;
    }

    /// <summary>The campaign property <paramref name="id"/> as a matrix cell of <paramref name="row"/>.</summary>
    public static PropertyDef CellDef(MatrixRow row, string id)
    {
        var def = Campaign.Get(id);
        var reach = row.Cell(id)?.Reach ?? row.Reach;
        Func<Draw, Case> gen = row.Model is { } m && def.GenerateIn is { } gin ? d => gin(d, m) : def.Generate;
        return new PropertyDef
        {
            Id = def.Id,
            Title = def.Title,
            Generate = d => Reshape(row, gen(d), d),
            Domain = c => def.Domain(c) && InRow(row, c),
            Check = def.Check,
            Classify = def.Classify,
            Required = reach,
            Expect = Expectation.Holds,
            Weight = def.Weight,
            Explain = def.Explain,
        };
    }

    /// <summary>Runs one cell (or replays one case of it) against the row's variant.</summary>
    public static PropertyRun RunCell(MatrixRow row, string id, Profile profile, string? replay = null)
    {
        using var _ = Ref.Use(ReferenceModel.For(row.Variant));
        // A cell's verdict includes the size of its counterexample: cells always shrink, whatever the profile.
        return PropertyChecker.Run(CellDef(row, id), profile with { Shrinks = true }, replay);
    }

    private static readonly ConcurrentDictionary<Profile, Lazy<MatrixResult>> Cache = new();

    /// <summary>
    /// Runs every cell with <paramref name="profile"/>. The result depends only on the profile (seeds included), so
    /// it is computed once per process and shared (the main job and the tests ask for the same matrix).
    /// </summary>
    public static MatrixResult Run(Profile profile)
        => Cache.GetOrAdd(profile, p => new Lazy<MatrixResult>(() => Compute(p))).Value;

    /// <summary>
    /// Every cell, in parallel (each cell has its own seed and its own model, and runs on its own flow, so the
    /// result does not depend on the order or the number of threads).
    /// </summary>
    private static MatrixResult Compute(Profile profile)
    {
        var work = Groups.SelectMany((g, gi) => g.Rows.SelectMany(row => row.Cells.Select(spec => (gi, row, spec)))).ToList();
        var done = new CellResult[work.Count];
        Parallel.For(0, work.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (_, row, spec) = work[i];
            done[i] = new CellResult(row, spec, RunCell(row, spec.Property, profile));
        });
        var groups = Groups.Select((g, gi) => (g, (IReadOnlyList<CellResult>)[.. done.Where((_, i) => work[i].gi == gi)])).ToList();
        return new MatrixResult(profile, groups);
    }

    // ------------------------------------------------------------------ rendering

    /// <summary>
    /// The matrix as text: one table per function (variants as rows, properties as columns), the variants with
    /// their provenance, then every failing cell's counterexample (and any cell that did not do what was
    /// expected). No timings: the same profile gives the same bytes.
    /// </summary>
    public static string Render(MatrixResult r)
    {
        var sb = new StringBuilder();
        sb.Append($"BioModel verdict matrix — profile {r.Profile.Name}, seed 0x{r.Profile.Seed:x}, {r.Cells.Count()} cells, {r.CaseCount} generated cases\n");
        sb.Append("Rows are the kernel versions of VARIANTS.md, run on the reference model; columns are INVARIANTS.md properties.\n");
        sb.Append("✓ holds for every generated case   ✗ fails (shrunk counterexample below)   · does not apply\n");
        sb.Append("A mark after the glyph: V = the verdict VARIANTS.md states, d = derived from the code where it is silent,\n");
        sb.Append("! = NOT the expected verdict (see below).\n");
        sb.Append("Cells of one property share their seed: every variant sees the same cases. A column ID/restriction is the\n");
        sb.Append("campaign's twin that leaves out inputs where mainline breaks the property for reasons the row is not about.\n");
        foreach (var (g, cells) in r.Groups)
        {
            sb.Append($"\n== {g.Title} ==\n   {g.About}\n");
            int w0 = Math.Max(24, g.Rows.Max(x => x.Variant.Id.Length) + 1);
            var colW = g.Columns.Select(c => Math.Max(c.Length, 3) + 2).ToList();
            sb.Append("  ").Append("variant".PadRight(w0)).Append("scope".PadRight(11));
            for (int i = 0; i < g.Columns.Count; i++) sb.Append(g.Columns[i].PadRight(colW[i]));
            sb.Append("cases\n");
            foreach (var row in g.Rows)
            {
                sb.Append("  ").Append(row.Variant.Id.PadRight(w0)).Append(row.Scope.PadRight(11));
                int total = 0;
                for (int i = 0; i < g.Columns.Count; i++)
                {
                    var cell = cells.FirstOrDefault(c => c.Row == row && c.Spec.Property == g.Columns[i]);
                    string mark = cell is null ? "·" : cell.Glyph + (!cell.AsExpected ? "!" : cell.Spec.FromVariants ? "V" : "d");
                    total += cell?.Run.Cases ?? 0;
                    sb.Append(mark.PadRight(colW[i]));
                }
                sb.Append(total).Append('\n');
            }
        }

        sb.Append("\n== variants ==\n");
        foreach (var v in Variants.All)
            sb.Append($"  {v.Id,-24} {v.What}\n  {"",-24} {v.Provenance}{(v.IsMainline ? " (mainline)" : "")}\n");

        sb.Append("\n== notes on the verdicts ==\n");
        foreach (var c in r.Cells.Where(c => c.Spec.Note is not null))
            sb.Append($"  {c.Row.Key} × {c.Spec.Property}: {c.Spec.Note}\n");

        sb.Append("\n== counterexamples ==\n");
        foreach (var c in r.Cells.Where(c => c.Fails || !c.AsExpected))
            sb.Append(FormatCell(c)).Append('\n');
        var bad = r.Cells.Where(c => !c.AsExpected).ToList();
        sb.Append(bad.Count == 0
            ? $"matrix: all {r.Cells.Count()} cells as expected\n"
            : $"matrix: {bad.Count} cell(s) NOT as expected: {string.Join(", ", bad.Select(c => $"{c.Row.Key} × {c.Spec.Property}"))}\n");
        return sb.ToString();
    }

    /// <summary>One cell's counterexample: verdict, message, the pages with their sections, the layout under the variant, replay.</summary>
    public static string FormatCell(CellResult c)
    {
        var sb = new StringBuilder();
        string expected = c.Spec.Expect == CellExpectation.Fails ? "expected to fail" : "expected to hold";
        string source = c.Spec.FromVariants ? "VARIANTS.md" : "derived";
        sb.Append($"-- {c.Row.Key} × {c.Spec.Property}: {(c.Fails ? "FAILS" : c.Holds ? "HOLDS" : "PROBLEM")} ({expected}, {source}{(c.AsExpected ? "" : "; NOT AS EXPECTED")})\n");
        if (c.Run.Counterexample is not { } cx)
        {
            sb.Append($"   {c.Run.Problem ?? $"no counterexample in {c.Run.Cases} cases"}\n");
            return sb.ToString();
        }
        sb.Append($"   {cx.Pages} page(s), case {cx.TestNumber} of {c.Run.Cases}, shrunk {cx.Shrinks} times{(cx.Pages > c.PageLimit ? $" — LARGER than the {c.PageLimit}-page limit" : "")}\n");
        sb.Append($"   {cx.Message}\n");
        using (Ref.Use(ReferenceModel.For(c.Row.Variant)))
        {
            if (cx.Shrunk.Op is NumPagesContiguousOp n) sb.Append(Indent(NpcPages(cx.Shrunk.World, n)));
            sb.Append(Indent(Counterexamples.Layout(cx.Shrunk)));
        }
        sb.Append($"   replay: dotnet run --project properties -- cell {c.Row.Key} {c.Spec.Property} --replay {cx.Replay}\n");
        return sb.ToString();
    }

    /// <summary>The pages of a num_pages_contiguous counterexample with their section (and its parity, which the draft mask reads) and struct page.</summary>
    private static string NpcPages(World w, NumPagesContiguousOp n)
    {
        var sb = new StringBuilder("pages of the call:\n");
        var f = w.Facts;
        for (int i = 0; i < n.Pfns.Length; i++)
        {
            ulong pfn = n.Pfns[i], s = f.SectionNr(pfn);
            ulong inSection = pfn % w.Machine.PagesPerSection;
            sb.Append($"  pages[{i}]  PFN {Ref.Hex(pfn)}  section {Ref.Hex(s)} ({(s % 2 == 0 ? "even" : "odd")}), page {inSection} of {w.Machine.PagesPerSection}  struct page {LayoutRenderer.MemmapRel(f.MemmapAddress(pfn) ?? 0)}\n");
        }
        return sb.ToString();
    }

    private static string Indent(string text) => Counterexamples.Indent(text, 3);
}
