using BioModel.Core;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>The one text form: kernel vocabulary, stable, LF, no trailing blanks.</summary>
public sealed class LayoutRendererTests
{
    private static string Render()
    {
        var w = Tiny(sections: [0, 2], placement: MemmapPlacement.NodeBuffer(),
            folios: [new Folio(0x20, 2)],
            pgmaps: [new Pgmap(1, MemoryType.PciP2pdma, 0x24, 4, "nvme0")],
            user: [0x20, 0x21, 0x2f]);
        var op = new ExtractBvecsOp(Ubuf(0x800, 0x2000), [], 4, 0x2000, 0, false);
        return LayoutRenderer.RenderScenario(w, [op], [Run(w, op)]);
    }

    [Fact]
    public void Names_sections_holes_memmaps_folios_and_pgmaps()
    {
        var text = Render();
        Assert.Contains("SPARSEMEM, SECTION_SIZE_BITS 16 (16 pages/section)", text);
        Assert.Contains("section 0x1  hole", text);
        Assert.Contains("section 0x2  pfn 0x20-0x2f  memmap +0x400..+0x7ff", text);
        Assert.Contains("0x20 order 2  pfn 0x20-0x23", text);
        Assert.Contains("#1 pci-p2pdma (nvme0)  pfn 0x24-0x27", text);
    }

    [Fact]
    public void Prints_the_bvec_table_with_pfns_sections_and_memmap_addresses_in_hex()
    {
        var text = Render();
        Assert.Contains("#  pfn   sect  memmap  folio    pgmap  off    len     phys pfns", text);
        Assert.Contains("0  0x20  0x2   +0x400  0x20/o2  -      0x800  0x1800  0x20-0x21", text);
        Assert.Contains("1  0x2f  0x2   +0x7c0  o0       -      0x0    0x800   0x2f", text);
        Assert.Contains("pins      0x20x1 0x21x1 0x2fx1", text);
    }

    [Fact]
    public void Output_is_stable_LF_without_trailing_blanks()
    {
        var a = Render();
        Assert.Equal(a, Render());
        Assert.DoesNotContain('\r', a);
        Assert.DoesNotContain(a.Split('\n'), l => l.EndsWith(' '));
    }

    [Fact]
    public void Errno_values_print_by_name()
    {
        Assert.Equal("-EFAULT", LayoutRenderer.Ret(-Errno.EFAULT));
        Assert.Equal("-EREMOTEIO", LayoutRenderer.Ret(-121));
        Assert.Equal("0x1000", LayoutRenderer.Ret(0x1000));
    }
}
