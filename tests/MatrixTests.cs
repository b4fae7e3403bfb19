using BioModel.Core;
using BioModel.Properties;
using BioModel.Reference;
using Xunit.Abstractions;

namespace BioModel.Tests;

/// <summary>
/// The verdict matrix (VARIANTS.md rows × INVARIANTS.md columns), always at the ci profile and its fixed seed
/// whatever BIOMODEL_PROFILE says: every cell must give its expected verdict (an expected failure with a shrunk
/// counterexample of at most 3 pages, 2 for num_pages_contiguous), the verdicts VARIANTS.md states are asserted
/// from a table written here independently of the matrix's own, and the rendered matrix is a golden file.
/// The matrix is computed once per test process and shared by these tests and the main job's.
/// </summary>
public sealed class MatrixTests(ITestOutputHelper output)
{
    private static MatrixResult Matrix => VerdictMatrix.Run(Profile.Ci);

    public static TheoryData<string, string> Cells()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in VerdictMatrix.Rows)
            foreach (var c in row.Cells) data.Add(row.Key, c.Property);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Cell_gives_its_expected_verdict(string row, string property)
    {
        var c = Matrix.Cell(row, property);
        output.WriteLine(VerdictMatrix.FormatCell(c));
        if (c.Spec.Expect == CellExpectation.Holds)
        {
            Assert.True(c.Holds, $"{row} × {property} should hold:\n{VerdictMatrix.FormatCell(c)}");
            Assert.True(c.Run.Cases >= Profile.Ci.CasesFor(Campaign.Get(property)), $"{row} × {property}: only {c.Run.Cases} cases");
        }
        else
        {
            Assert.True(c.Fails, $"{row} × {property} should fail:\n{VerdictMatrix.FormatCell(c)}");
            Assert.True(c.Run.Counterexample!.Pages <= c.PageLimit, $"{row} × {property}: counterexample of {c.Run.Counterexample.Pages} pages, limit {c.PageLimit}");
        }
    }

    /// <summary>The verdicts VARIANTS.md states, copied from its "expected" column (row key, property, fails?).</summary>
    public static TheoryData<string, string, bool> StatedVerdicts() => new()
    {
        { "npc/nth-page@SPARSEMEM", "NPC-2", false },
        { "npc/pointer-only@SPARSEMEM", "NPC-2", true },
        { "npc/pointer-only@FLATMEM", "NPC-2", false },
        { "npc/pointer-only@VMEMMAP", "NPC-2", false },
        { "npc/draft-section-mask@SPARSEMEM", "NPC-2", true },
        { "npc/draft-section-mask@SPARSEMEM", "NPC-4", true },
        { "npc/section-compare@FLATMEM", "NPC-1", false }, { "npc/section-compare@FLATMEM", "NPC-2", false },
        { "npc/section-compare@FLATMEM", "NPC-3", false }, { "npc/section-compare@FLATMEM", "NPC-4", false },
        { "npc/section-compare@FLATMEM", "NPC-5", false },
        { "npc/section-compare@SPARSEMEM", "NPC-1", false }, { "npc/section-compare@SPARSEMEM", "NPC-2", false },
        { "npc/section-compare@SPARSEMEM", "NPC-3", false }, { "npc/section-compare@SPARSEMEM", "NPC-4", false },
        { "npc/section-compare@SPARSEMEM", "NPC-5", false },
        { "npc/section-compare@VMEMMAP", "NPC-1", false }, { "npc/section-compare@VMEMMAP", "NPC-2", false },
        { "npc/section-compare@VMEMMAP", "NPC-3", false }, { "npc/section-compare@VMEMMAP", "NPC-4", false },
        { "npc/section-compare@VMEMMAP", "NPC-5", false },
        { "memmap/node-buffer@SPARSEMEM", "NPC-2", true },
        { "memmap/independent@SPARSEMEM", "NPC-2", true },
        { "memmap/padded@SPARSEMEM", "NPC-2", false },
        { "folio/cross-section@SPARSEMEM", "MM-4", true },
        { "folio/max-folio-order@SPARSEMEM", "MM-4", false },
        { "add/merge-guard", "BIO-5/page-offsets", true },
        { "add/reject-any-pgmap", "BIO-5/page-offsets", false },
        { "add/reject-any-pgmap", "BIO-6", true },
        { "add/separate-any-pgmap", "BIO-6", false },
        { "add/separate-any-pgmap", "BIO-5/page-offsets", true },
        { "add/compatible", "BIO-1/below-2g", false }, { "add/compatible", "BIO-2", false }, { "add/compatible", "BIO-3", false },
        { "add/compatible", "BIO-4", false }, { "add/compatible", "BIO-5/page-offsets", false }, { "add/compatible", "BIO-6", false },
        { "add/compatible", "BIO-7", false }, { "add/compatible", "BIO-8", false }, { "add/compatible", "BIO-9/same-pgmap", false },
        { "mergeable/no-pgmap", "BIO-3/segments", true },
        { "mergeable/pgmap", "BIO-3/segments", false },
        { "extract/bvecs", "EX-1/no-empty-bvec", false }, { "extract/bvecs", "EX-2/no-empty-bvec", false },
        { "extract/bvecs", "EX-3", false }, { "extract/bvecs", "EX-4", false }, { "extract/bvecs", "EX-5", false },
        { "extract/bvecs", "EX-6", false }, { "extract/bvecs", "EX-7", false }, { "extract/bvecs", "EX-8/iovec-kvec", false },
        { "extract/bvecs", "EX-9", false },
        { "extract/bvecs", "GP-1/single-page", false },
        { "extract/add-folio", "GP-1/single-page", true },
        { "extract/no-room", "EX-9", false },
        { "aligndown/first-page", "GP-4", true },
        { "aligndown/all-pages", "GP-4", false },
        { "bounce/none", "BNC-1", true },
        { "bounce/copy", "BNC-1", false },
        { "bounce/copy", "BNC-2", false },
        { "bounce/copy", "BNC-3/aligned", false },
        { "bvec/phys", "BVP-1", true },
    };

    [Theory]
    [MemberData(nameof(StatedVerdicts))]
    public void VARIANTS_md_verdict_is_reproduced(string row, string property, bool fails)
    {
        var c = Matrix.Cell(row, property);
        Assert.True(c.Spec.FromVariants, $"{row} × {property} is stated by VARIANTS.md but the matrix calls it derived");
        Assert.Equal(fails ? CellExpectation.Fails : CellExpectation.Holds, c.Spec.Expect);
        Assert.True(fails ? c.Fails : c.Holds, VerdictMatrix.FormatCell(c));
    }

    [Fact]
    public void Every_VARIANTS_md_variant_has_a_row()
    {
        var ids = VerdictMatrix.Rows.Select(r => r.Variant.Id).ToHashSet();
        foreach (var v in Variants.All) Assert.Contains(v.Id, ids);
    }

    /// <summary>
    /// extract/add-folio breaks GP-1 as VARIANTS.md says, but only when the pgmap change lies inside the first logical
    /// block (align-down then turns the short bio into -EFAULT, with the iterator left over the refused bytes); past
    /// the first block the call succeeds and breaks GP-2 instead (the iterator is advanced over bytes the bio does not
    /// hold). Both with the WARN_ON_ONCE of the refused add; mainline holds both.
    /// </summary>
    [Fact]
    public void Extract_add_folio_fails_the_io_inside_the_first_block_and_misplaces_bytes_after_it()
    {
        var model = ReferenceModel.For(Variants.ExtractAddFolio);
        var gp1 = Matrix.Cell("extract/add-folio", "GP-1/single-page").Run.Counterexample!;
        var o1 = model.Run(gp1.Shrunk.World, gp1.Shrunk.Op!);
        Assert.Equal([-Errno.EFAULT], o1.Returns);
        Assert.Contains(Diag.AddFolioRoundRefused, o1.Warnings);
        Assert.NotEqual(((GetPagesOp)gp1.Shrunk.Op!).Iter.Count, o1.Iter!.Count);

        var gp2 = Matrix.Cell("extract/add-folio", "GP-2").Run.Counterexample!;
        var o2 = model.Run(gp2.Shrunk.World, gp2.Shrunk.Op!);
        Assert.Equal([0L], o2.Returns);
        Assert.Contains(Diag.AddFolioRoundRefused, o2.Warnings);

        Assert.True(Matrix.Cell("extract/bvecs", "GP-1/single-page").Holds);
        Assert.True(Matrix.Cell("extract/bvecs", "GP-2").Holds);
    }

    /// <summary>The acceptance: draft-section-mask's false positive starts in an even section, its under-count is in an odd one, two pages each.</summary>
    [Fact]
    public void Draft_section_mask_counterexamples_are_two_pages_from_an_even_and_an_odd_section()
    {
        var fp = Matrix.Cell("npc/draft-section-mask@SPARSEMEM", "NPC-2").Run.Counterexample!;
        var uc = Matrix.Cell("npc/draft-section-mask@SPARSEMEM", "NPC-4").Run.Counterexample!;
        foreach (var (cx, parity) in new[] { (fp, 0UL), (uc, 1UL) })
        {
            var pfns = ((NumPagesContiguousOp)cx.Shrunk.Op!).Pfns;
            Assert.Equal(2, pfns.Length);
            Assert.Equal(2, cx.Pages);
            Assert.Equal(parity, cx.Shrunk.World.Facts.SectionNr(pfns[0]) % 2);
        }
        var fpPfns = ((NumPagesContiguousOp)fp.Shrunk.Op!).Pfns;
        Assert.NotEqual(fpPfns[0] + 1, fpPfns[1]);     // a false positive: the PFNs are not consecutive
        var ucPfns = ((NumPagesContiguousOp)uc.Shrunk.Op!).Pfns;
        Assert.Equal(ucPfns[0] + 1, ucPfns[1]);        // an under-count: they are, in one section
        var text = VerdictMatrix.Render(Matrix);
        Assert.Contains("-- npc/draft-section-mask@SPARSEMEM × NPC-2: FAILS", text);
        Assert.Contains("-- npc/draft-section-mask@SPARSEMEM × NPC-4: FAILS", text);
    }

    [Fact]
    public void The_matrix_is_a_golden_file()
    {
        var golden = GoldenFiles.OfCheckout() ?? throw new InvalidOperationException("golden/ not found");
        var r = golden.Verify("verdict-matrix", VerdictMatrix.Render(Matrix));
        Assert.True(r.Ok, r.Diff);
    }

    [Fact]
    public void The_main_job_prints_the_matrix_and_matrix_alone_prints_only_it()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Cli.Run(["matrix"], o, e, Profile.Ci); // the verdicts are those of the default profile, whatever the environment
        Assert.True(code == 0, o.ToString() + e);
        Assert.StartsWith("BioModel verdict matrix", o.ToString());
        Assert.Contains($"matrix: all {Matrix.Cells.Count()} cells as expected", o.ToString());
    }

    [Fact]
    public void A_cell_replays_from_its_replay_line()
    {
        var c = Matrix.Cell("npc/pointer-only@SPARSEMEM", "NPC-2");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Cli.Run(["cell", "npc/pointer-only@SPARSEMEM", "NPC-2", "--replay", c.Run.Counterexample!.Replay], o, e, Profile.Ci);
        Assert.True(code == 0, o.ToString() + e);
        Assert.Contains("FAILS (expected to fail, VARIANTS.md)", o.ToString());
        Assert.Equal(2, Cli.Run(["cell", "npc/no-such-variant", "NPC-2"], o, e));
    }

    /// <summary>The matrix rows the README quotes are the rows the matrix prints (the README cannot drift from the suite).</summary>
    [Fact]
    public void The_README_quotes_the_matrix_as_it_is()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BioModel.sln"))) dir = dir.Parent;
        var readme = File.ReadAllText(Path.Combine(dir!.FullName, "README.md"));
        int start = readme.IndexOf("## What the suite says about the threads", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no section 'What the suite says about the threads'");
        var quoted = readme[start..].Split('\n')
            .Where(l => l.StartsWith("  ", StringComparison.Ordinal) && VerdictMatrix.Rows.Any(r => l.TrimStart().StartsWith(r.Variant.Id + " ", StringComparison.Ordinal)))
            .ToList();
        Assert.True(quoted.Count >= 15, $"only {quoted.Count} matrix rows quoted");
        var rendered = VerdictMatrix.Render(Matrix).Split('\n').ToHashSet();
        foreach (var line in quoted) Assert.Contains(line, rendered);
        foreach (var id in new[] { "npc/pointer-only", "npc/draft-section-mask", "add/separate-any-pgmap", "add/reject-any-pgmap", "extract/add-folio", "aligndown/first-page" })
            Assert.Contains($"* **{id}**", readme[start..]);
    }
}
