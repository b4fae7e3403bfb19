using BioModel.Core;
using BioModel.Reference;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// The kernel variants of VARIANTS.md on small hand-made worlds, each expectation worked out by hand from the
/// variant's description (not by running the model), next to what mainline does with the same input.
/// Worlds: tiny-sparsemem, 4 KiB pages, 16 pages per section.
/// </summary>
public sealed class VariantTests
{
    private static Outcome RunV(Variant v, World w, Operation op) => ReferenceModel.For(v).Run(w, op);

    private static long Npc(Variant v, World w, params ulong[] pfns)
    {
        var o = RunV(v, w, new NumPagesContiguousOp([.. pfns]));
        Assert.True(o.Violations.Length == 0, string.Join("; ", o.Violations));
        return o.Returns[0];
    }

    [Fact]
    public void Every_variant_of_VARIANTS_md_is_named_with_its_provenance()
    {
        string[] ids =
        [
            "npc/nth-page", "npc/pointer-only", "npc/draft-section-mask", "npc/section-compare",
            "memmap/node-buffer", "memmap/independent", "memmap/padded",
            "folio/cross-section", "folio/max-folio-order",
            "add/merge-guard", "add/reject-any-pgmap", "add/separate-any-pgmap", "add/compatible",
            "mergeable/no-pgmap", "mergeable/pgmap",
            "extract/add-folio", "extract/bvecs", "extract/no-room",
            "aligndown/first-page", "aligndown/all-pages",
            "bounce/none", "bounce/copy-v3", "bounce/copy",
            "bvec/phys",
        ];
        Assert.Equal(ids, Variants.All.Select(v => v.Id));
        foreach (var v in Variants.All) Assert.False(string.IsNullOrWhiteSpace(v.Provenance), v.Id);
        Assert.Equal(KernelVariants.Mainline, Variants.NpcSectionCompare.Kernel);
    }

    // ---------------------------------------------------------------- num_pages_contiguous

    [Fact]
    public void Draft_section_mask_is_always_1_in_an_odd_section()
    {
        var w = Tiny(); // sections 0-3, node-buffer
        Assert.Equal(1, Npc(Variants.NpcDraftSectionMask, w, 0x12, 0x13)); // section 1: cap 16 - 16 = 0
        Assert.Equal(2, Npc(Variants.NpcSectionCompare, w, 0x12, 0x13));
        Assert.Equal(2, Npc(Variants.NpcDraftSectionMask, w, 0x22, 0x23)); // section 2: cap 16
    }

    [Fact]
    public void Draft_section_mask_walks_past_the_end_of_an_even_section_into_an_adjacent_memmap()
    {
        var w = Tiny(sections: [0, 2]); // node buffer: section 2's memmap right after section 0's
        Assert.Equal(2, Npc(Variants.NpcDraftSectionMask, w, 0x0f, 0x20)); // false positive: PFNs 0xf, 0x20
        Assert.Equal(2, Npc(Variants.NpcPointerOnly, w, 0x0f, 0x20));
        Assert.Equal(1, Npc(Variants.NpcSectionCompare, w, 0x0f, 0x20));
    }

    [Fact]
    public void Nth_page_into_a_hole_section_is_reported()
    {
        var w = Tiny(sections: [0, 2]);
        var o = RunV(Variants.NpcNthPage, w, new NumPagesContiguousOp([0x0f, 0x20]));
        var v = Assert.Single(o.Violations);
        Assert.StartsWith(Diag.NthPageIntoHolePrefix, v);
        Assert.Contains("pfn_to_page(0x10)", v);
    }

    [Fact]
    public void Nth_page_is_exact_across_sections_whatever_the_placement_pointer_compare_is_not()
    {
        var w = Tiny(sections: [0, 1], placement: MemmapPlacement.Padded());
        Assert.Equal(2, Npc(Variants.NpcNthPage, w, 0x0f, 0x10));
        Assert.Equal(1, Npc(Variants.NpcPointerOnly, w, 0x0f, 0x10));
        Assert.Equal(1, Npc(Variants.NpcSectionCompare, w, 0x0f, 0x10));
        var vm = Tiny(model: MemoryModel.SparsememVmemmap, sections: [0, 1]);
        Assert.Equal(2, Npc(Variants.NpcDraftSectionMask, vm, 0x0f, 0x10)); // no cap outside classic SPARSEMEM
    }

    // ---------------------------------------------------------------- bio_add_page pgmap policies

    private static World TwoPgmaps(MemoryType a, MemoryType b)
        => Tiny(pgmaps: [new Pgmap(1, a, 0x20, 4, a == MemoryType.PciP2pdma ? "nvme0" : null), new Pgmap(2, b, 0x24, 4, b == MemoryType.PciP2pdma ? "nvme1" : null)]);

    [Theory]
    [InlineData("add/compatible", 0x1000L, 2)]
    [InlineData("add/merge-guard", 0x1000L, 2)]
    [InlineData("add/separate-any-pgmap", 0x1000L, 2)]
    [InlineData("add/reject-any-pgmap", 0L, 1)]
    public void Two_generic_pgmaps_back_to_back(string variant, long secondReturn, int vcnt)
    {
        var w = TwoPgmaps(MemoryType.Generic, MemoryType.Generic);
        var o = RunV(Variants.Get(variant), w, Adds(Bio.Empty(4), (0x23, 0, PS), (0x24, 0, PS)));
        Assert.Equal([0x1000L, secondReturn], o.Returns);
        Assert.Equal(vcnt, o.Bio!.Vcnt); // never merged across the pgmaps, though physically adjacent
    }

    [Theory]
    [InlineData("add/compatible", 0L, false)]
    [InlineData("add/reject-any-pgmap", 0L, false)]
    [InlineData("add/merge-guard", 0x1000L, false)] // accepted, and this era set no REQ_NOMERGE
    [InlineData("add/separate-any-pgmap", 0x1000L, true)]
    public void P2pdma_after_ram(string variant, long secondReturn, bool nomerge)
    {
        var w = TwoPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        var o = RunV(Variants.Get(variant), w, Adds(Bio.Empty(4), (0x1f, 0, PS), (0x20, 0, PS)));
        Assert.Equal([0x1000L, secondReturn], o.Returns);
        Assert.Equal(nomerge, o.Bio!.Opf.HasFlag(BioOpf.NoMerge));
    }

    [Theory]
    [InlineData("add/merge-guard", false)]
    [InlineData("add/reject-any-pgmap", false)]
    [InlineData("add/compatible", true)]
    public void Zero_length_add_before_and_after_643893647cac(string variant, bool refused)
    {
        var w = Tiny();
        var o = RunV(Variants.Get(variant), w, Adds(Bio.Empty(4), (0x10, 0, 0)));
        Assert.Equal([0L], o.Returns);                                     // 0 either way
        Assert.Equal(refused ? 0 : 1, o.Bio!.Vcnt);                        // before: an empty bvec was appended
        Assert.Equal(refused, o.Warnings.Contains(Diag.BioAddPageZeroLen));
    }

    [Fact]
    public void Biovec_phys_mergeable_without_the_pgmap_test_joins_two_generic_pgmaps()
    {
        var w = TwoPgmaps(MemoryType.Generic, MemoryType.Generic);
        var op = new MergeableOp(new QueueLimits(), [new BvecPair(new BvecDesc(0x23, 0x1000, 0), new BvecDesc(0x24, 0x100, 0))]);
        Assert.Equal([0L], RunV(Variants.MergeablePgmap, w, op).Returns);
        Assert.Equal([1L], RunV(Variants.MergeableNoPgmap, w, op).Returns);
    }

    // ---------------------------------------------------------------- extraction

    private static readonly QueueLimits P2pQueue = new() { PciP2pdma = true };

    [Fact]
    public void Add_folio_extraction_skips_the_bytes_it_could_not_add_mainline_gives_them_back()
    {
        // User pages: RAM 0x1f, then P2PDMA 0x20 (pgmap #1). The queue takes P2PDMA.
        var w = TwoPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        w = w with { User = new AddressSpace(UserBase, [VirtPage.Map(0x1f), VirtPage.Map(0x20)]) };
        var op = new GetPagesOp(Bio.Empty(4) with { Queue = P2pQueue }, Ubuf(0, 0x2000), 0, 0);

        var old = RunV(Variants.ExtractAddFolio, w, op);
        Assert.Equal([0L], old.Returns);                               // no error reaches the caller
        Assert.Equal([new BvecDesc(0x1f, 0x1000, 0)], old.Bio!.InUse);
        Assert.Equal(0UL, old.Iter!.Count);                            // advanced 0x2000 for a 0x1000-byte bio
        Assert.Equal([new PinCount(0x1f, 1)], old.Pins);               // the P2PDMA page was released
        Assert.Contains(Diag.AddFolioRoundRefused, old.Warnings);

        var now = ReferenceModel.Instance.Run(w, op);
        Assert.Equal([0L], now.Returns);
        Assert.Equal([new BvecDesc(0x1f, 0x1000, 0)], now.Bio!.InUse);
        Assert.Equal(0x1000UL, now.Iter!.Count);                       // the P2PDMA page is left for the next bio
        Assert.Empty(now.Warnings);
    }

    [Fact]
    public void Add_folio_extraction_fails_with_the_iterator_moved_when_the_pgmap_changes_inside_the_first_block()
    {
        // 0x100 bytes at the end of RAM page 0x1f, then 0x100 bytes of P2PDMA page 0x20; 4 KiB logical blocks.
        var w = TwoPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        w = w with { User = new AddressSpace(UserBase, [VirtPage.Map(0x1f), VirtPage.Map(0x20)]) };
        var op = new GetPagesOp(Bio.Empty(4) with { Queue = P2pQueue }, Ubuf(0xf00, 0x200), 0, 0xfff);

        var old = RunV(Variants.ExtractAddFolio, w, op);
        Assert.Equal([-Errno.EFAULT], old.Returns);
        Assert.Equal(0x100UL, old.Iter!.Count);     // the refused 0x100 bytes stay consumed
        Assert.Empty(old.Pins);
        Assert.Contains(Diag.AddFolioRoundRefused, old.Warnings);

        var now = ReferenceModel.Instance.Run(w, op);
        Assert.Equal([-Errno.EFAULT], now.Returns);
        Assert.Equal(0x200UL, now.Iter!.Count);     // nothing consumed
        Assert.Empty(now.Pins);
        Assert.Empty(now.Warnings);
    }

    [Fact]
    public void Add_folio_extraction_merges_a_second_fragment_of_a_page_and_drops_its_duplicate_pin()
    {
        var w = Tiny(user: [0x10]);
        var it = IterDesc.ForIovec([new IoVec(UserBase, 0x100), new IoVec(UserBase + 0x100, 0x100)]);
        var op = new GetPagesOp(Bio.Empty(4), it, 0, 0);

        var old = RunV(Variants.ExtractAddFolio, w, op);
        Assert.Equal([new BvecDesc(0x10, 0x200, 0)], old.Bio!.InUse);
        Assert.Equal([new PinCount(0x10, 1)], old.Pins);

        var now = ReferenceModel.Instance.Run(w, op); // mainline never merges: two bvecs, two pins
        Assert.Equal([new BvecDesc(0x10, 0x100, 0), new BvecDesc(0x10, 0x100, 0x100)], now.Bio!.InUse);
        Assert.Equal([new PinCount(0x10, 2)], now.Pins);
    }

    // ---------------------------------------------------------------- align-down

    [Fact]
    public void All_pages_align_down_unpins_the_pages_cut_off_a_trimmed_bvec_first_page_keeps_them()
    {
        // One order-2 folio at 0x10, fully mapped; 0x3800 bytes with an 8 KiB length unit: 0x1800 trimmed off
        // one 4-page bvec, which keeps 0x2000 bytes (pages 0x10-0x11).
        var w = Tiny(folios: [new Folio(0x10, 2)], user: [0x10, 0x11, 0x12, 0x13]);
        var op = new GetPagesOp(Bio.Empty(4), Ubuf(0, 0x3800), 0, 0x1fff);

        var first = ReferenceModel.Instance.Run(w, op);
        Assert.Equal([new BvecDesc(0x10, 0x2000, 0)], first.Bio!.InUse);
        Assert.Equal([new PinCount(0x10, 1), new PinCount(0x11, 1), new PinCount(0x12, 1), new PinCount(0x13, 1)], first.Pins);

        var all = RunV(Variants.AlignDownAllPages, w, op);
        Assert.Equal([new BvecDesc(0x10, 0x2000, 0)], all.Bio!.InUse);
        Assert.Equal([new PinCount(0x10, 1), new PinCount(0x11, 1)], all.Pins);
    }

    [Fact]
    public void All_pages_align_down_unpins_every_page_of_a_dropped_bvec()
    {
        // 0x1800 bytes from one order-1 folio, 8 KiB unit: the only bvec (2 pages) is dropped, -EFAULT.
        var w = Tiny(folios: [new Folio(0x10, 1)], user: [0x10, 0x11]);
        var op = new GetPagesOp(Bio.Empty(4), Ubuf(0, 0x1800), 0, 0x1fff);
        var first = ReferenceModel.Instance.Run(w, op);
        Assert.Equal([-Errno.EFAULT], first.Returns);
        Assert.Equal([new PinCount(0x11, 1)], first.Pins); // the leak: only bv_page was unpinned
        var all = RunV(Variants.AlignDownAllPages, w, op);
        Assert.Equal([-Errno.EFAULT], all.Returns);
        Assert.Empty(all.Pins);
    }
}
