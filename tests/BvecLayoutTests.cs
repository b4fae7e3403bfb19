using BioModel.Core;
using BioModel.Properties;
using BioModel.Reference;

namespace BioModel.Tests;

/// <summary>
/// The page-less bio_vec (VARIANTS.md bvec/phys): PAGE_PTRS_PER_BVEC per layout and word size, the contract violation
/// iov_iter_extract_bvecs reports when the tail page array cannot fit, and the per-bio P2P record bio_add_page decides
/// against when the last bvec names no page.
/// </summary>
public sealed class BvecLayoutTests
{
    [Theory]
    [InlineData("x86-64", BvecLayout.Page, 16, 2)]
    [InlineData("x86-32", BvecLayout.Page, 12, 3)]
    [InlineData("x86-32-pae", BvecLayout.Page, 12, 3)]
    [InlineData("x86-64", BvecLayout.Phys, 12, 1)]
    [InlineData("arm64-64k", BvecLayout.Phys, 12, 1)]
    [InlineData("x86-32-pae", BvecLayout.Phys, 12, 3)]
    [InlineData("x86-32", BvecLayout.Phys, 8, 2)]
    public void PAGE_PTRS_PER_BVEC_per_layout(string preset, BvecLayout layout, int bytes, int perBvec)
    {
        var m = ArchPresets.Get(preset);
        Assert.Equal(bytes, m.BvecSizeIn(layout));
        Assert.Equal(perBvec, m.PagePtrsPerBvecIn(layout));
        Assert.Contains($"PAGE_PTRS_PER_BVEC {bytes}/{m.PointerSize} = {perBvec}", m.DescribeBvec(layout));
        Assert.Equal(m.PagePtrsPerBvec, m.PagePtrsPerBvecIn(BvecLayout.Page));
    }

    private static World Machine(string preset, string pages)
        => ScenarioFile.Parse($$"""
            { "name": "t", "machine": { "preset": "{{preset}}" }, "memory": { "sections": [0] },
              "user": { "base": "0x10000000", "pages": ["{{pages}}"] }, "operations": [] }
            """).World;

    private static Outcome Extract(ReferenceModel model, World w)
        => model.Run(w, new ExtractBvecsOp(IterDesc.ForUbuf(0x10000000, 0x2000, source: true), [], 4, 0x2000, 0, false));

    [Fact]
    public void A_12_byte_bio_vec_on_a_64_bit_kernel_cannot_host_the_tail_page_array()
    {
        var w = Machine("x86-64", "0x10..0x11");
        var phys = Extract(ReferenceModel.For(Variants.BvecPhys), w);
        var v = Assert.Single(phys.Violations);
        Assert.StartsWith(BvecPhysProps.TailArrayViolation, v);
        Assert.Contains("PAGE_PTRS_PER_BVEC 12/8 = 1", v);
        Assert.Empty(phys.Returns);
        Assert.Empty(phys.Pins);

        var mainline = Extract(ReferenceModel.Instance, w);
        Assert.Empty(mainline.Violations);
        Assert.Equal(new long[] { 0x2000 }, mainline.Returns.Items.ToArray());
    }

    [Fact]
    public void On_32_bit_kernels_the_page_less_bio_vec_still_hosts_it()
    {
        foreach (var preset in new[] { "x86-32", "x86-32-pae" })
        {
            var w = Machine(preset, "0x10..0x11");
            var o = Extract(ReferenceModel.For(Variants.BvecPhys), w);
            Assert.Empty(o.Violations);
            Assert.Equal(Extract(ReferenceModel.Instance, w), o);
        }
    }

    private static World P2pWorld() => ScenarioFile.Parse("""
        { "name": "t", "machine": { "preset": "tiny-vmemmap" }, "memory": { "sections": [0, 1, 2, 3] },
          "pgmaps": [ { "id": 1, "type": "pci-p2pdma", "start": "0x20", "pages": 8, "provider": "nvme0" },
                      { "id": 2, "type": "pci-p2pdma", "start": "0x28", "pages": 8, "provider": "nvme1" },
                      { "id": 3, "type": "generic", "start": "0x30", "pages": 8 } ],
          "operations": [] }
        """).World;

    private static Outcome Adds(KernelVariants k, params ulong[] pfns)
        => new ReferenceModel(k).Run(P2pWorld(), new BioAddOp(Bio.Empty(8),
            pfns.Select(p => new AddCall(AddFn.BioAddPage, p, 0x1000, 0)).ToEqArray()));

    [Fact]
    public void The_bio_records_its_P2P_state_and_bio_add_page_decides_against_it()
    {
        var phys = Variants.BvecPhys.Kernel;
        // P2P of one provider: accepted (merged), recorded as P2P #1.
        var one = Adds(phys, 0x20, 0x21);
        Assert.Equal(new long[] { 0x1000, 0x1000 }, one.Returns.Items.ToArray());
        Assert.Equal(1, one.Bio!.P2pPgmap);
        Assert.Contains("p2p-record P2P #1", LayoutRenderer.RenderBioHeader(one.Bio));
        // A second provider, or RAM after P2P, is refused: the record says P2P #1.
        Assert.Equal(new long[] { 0x1000, 0, 0 }, Adds(phys, 0x20, 0x28, 0x10).Returns.Items.ToArray());
        // Non-P2P memory of any kind (RAM, a GENERIC pgmap) shares one bio: recorded as non-P2P; P2P is refused.
        var ram = Adds(phys, 0x10, 0x30, 0x20);
        Assert.Equal(new long[] { 0x1000, 0x1000, 0 }, ram.Returns.Items.ToArray());
        Assert.Equal(0, ram.Bio!.P2pPgmap);
        Assert.Contains("p2p-record non-P2P", LayoutRenderer.RenderBioHeader(ram.Bio));
        // Page-based bio_vecs decide against the last bvec's page and keep no record; the decisions are the same.
        var page = Adds(KernelVariants.Mainline, 0x10, 0x30, 0x20);
        Assert.Equal(ram.Returns, page.Returns);
        Assert.Null(page.Bio!.P2pPgmap);
        Assert.Equal(ram.Bio.Vecs, page.Bio.Vecs);
    }

    [Fact]
    public void The_P2P_record_round_trips_through_the_scenario_format()
    {
        var w = P2pWorld();
        var op = new BioAddOp(Bio.Empty(4) with { P2pPgmap = 2 }, [new AddCall(AddFn.BioAddPage, 0x28, 0x1000, 0)]);
        var text = ScenarioFile.Write(new Scenario("r", null, w, [op]));
        Assert.Contains("\"p2p_pgmap\": 2", text);
        var back = ScenarioFile.Parse(text);
        Assert.Equal(op, back.Operations[0]);
    }
}
