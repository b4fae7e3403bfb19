using BioModel.Core;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// The edge cases KERNEL-SPEC §8 asks for, each with the outcome worked out by hand from the spec (not by
/// running the model), so a change in the model shows up as a failing expectation.
/// </summary>
public sealed class EdgeCaseTests
{
    private static readonly BvecDesc[] NoVecs = [];

    // ---------------------------------------------------------------- bio_add_page

    [Fact]
    public void Zero_length_add_is_refused_with_a_warning_and_changes_nothing()
    {
        var w = Tiny();
        var bio = Bio.Empty(4);
        var o = Run(w, Adds(bio, (0x10, 0, 0)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(bio, o.Bio);
        Assert.Contains(o.Warnings, x => x.Contains("len == 0"));
    }

    [Fact]
    public void Raw_add_of_zero_length_appends_an_empty_bvec()
    {
        var w = Tiny();
        var o = Run(w, new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.RawBioAddPage, 0x10, 0, 0x20)]));
        Assert.Equal([new BvecDesc(0x10, 0, 0x20)], o.Bio!.Vecs);
        Assert.Equal(1, o.Bio.Vcnt);
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void Offset_beyond_the_page_is_stored_verbatim_and_merges_by_physical_address()
    {
        var w = Tiny();
        // 0x100 bytes at page 0x10 + 0x1800 (that is page 0x11 at 0x800), then the next bytes named from page 0x11.
        var o = Run(w, Adds(Bio.Empty(4), (0x10, 0x1800, 0x100), (0x11, 0x900, 0x200)));
        Assert.Equal([0x100L, 0x200L], o.Returns);
        Assert.Equal([new BvecDesc(0x10, 0x300, 0x1800)], o.Bio!.Vecs);
        Assert.Equal(0x300u, o.Bio.Size);
    }

    [Fact]
    public void Bio_add_page_accepts_a_range_that_runs_past_the_folio_end()
    {
        var w = Tiny(folios: [new Folio(0x10, 2)]);
        var o = Run(w, Adds(Bio.Empty(2), (0x13, 0x800, 0x1000)));
        Assert.Equal([0x1000L], o.Returns);
        Assert.Equal([new BvecDesc(0x13, 0x1000, 0x800)], o.Bio!.Vecs);
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void Bio_add_folio_normalises_to_the_page_holding_the_offset()
    {
        var w = Tiny(folios: [new Folio(0x10, 2)]);
        var o = Run(w, new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddFolio, 0x10, 0x1000, 0x2400)]));
        Assert.Equal([1L], o.Returns);
        Assert.Equal([new BvecDesc(0x12, 0x1000, 0x400)], o.Bio!.Vecs);
    }

    [Fact]
    public void Two_physically_adjacent_order0_folios_merge_in_bio_add_page()
    {
        var w = Tiny();
        var o = Run(w, Adds(Bio.Empty(4), (0x20, 0, PS), (0x21, 0, PS)));
        Assert.Equal([new BvecDesc(0x20, 0x2000, 0)], o.Bio!.Vecs);
        Assert.Equal(1, o.Bio.Vcnt);
    }

    [Fact]
    public void A_full_bvec_array_still_accepts_a_merge()
    {
        var w = Tiny();
        var bio = Bio.With(1, new BvecDesc(0x20, 0x800, 0));
        var o = Run(w, Adds(bio, (0x20, 0x800, 0x800)));
        Assert.Equal([0x800L], o.Returns);
        Assert.Equal([new BvecDesc(0x20, 0x1000, 0)], o.Bio!.Vecs);
        Assert.Equal(1, o.Bio.Vcnt);
    }

    [Fact]
    public void A_full_bvec_array_refuses_a_non_mergeable_add()
    {
        var w = Tiny();
        var bio = Bio.With(1, new BvecDesc(0x20, 0x800, 0));
        var o = Run(w, Adds(bio, (0x30, 0, 0x800)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(bio, o.Bio);
    }

    [Fact]
    public void Max_vecs_zero_refuses_everything()
    {
        var o = Run(Tiny(), Adds(Bio.Empty(0), (0x20, 0, 0x200)));
        Assert.Equal([0L], o.Returns);
    }

    [Fact]
    public void A_cloned_bio_refuses_adds_with_a_warning()
    {
        var bio = Bio.Empty(4) with { Flags = BioFlags.Cloned };
        var o = Run(Tiny(), Adds(bio, (0x20, 0, 0x200)));
        Assert.Equal([0L], o.Returns);
        Assert.Contains(o.Warnings, x => x.Contains("BIO_CLONED"));
    }

    private static World Big() => World.Create(new MachineConfig
    {
        Name = "custom", PageShift = 12, SectionSizeBits = 32, Model = MemoryModel.SparsememVmemmap, MaxPageOrder = 10,
    }, [0UL]);

    [Fact]
    public void Bi_size_may_reach_exactly_BIO_MAX_SIZE()
    {
        // One bvec of UINT_MAX − 0x1000 bytes from PFN 0; the next 0x1000 bytes merge and bi_size becomes UINT_MAX.
        const uint first = uint.MaxValue - 0x1000;
        var bio = Bio.With(2, new BvecDesc(0, first, 0));
        var o = Run(Big(), Adds(bio, (first / 0x1000, first % 0x1000, 0x1000)));
        Assert.Equal([0x1000L], o.Returns);
        Assert.Equal(uint.MaxValue, o.Bio!.Size);
        Assert.Equal(1, o.Bio.Vcnt);
    }

    [Fact]
    public void One_byte_past_BIO_MAX_SIZE_is_refused_even_as_a_new_bvec()
    {
        const uint first = uint.MaxValue - 0x1000;
        var bio = Bio.With(2, new BvecDesc(0, first, 0));
        var o = Run(Big(), Adds(bio, (first / 0x1000, first % 0x1000, 0x1001), (0x10, 0, 0x1001)));
        Assert.Equal([0L, 0L], o.Returns);
        Assert.Equal(bio, o.Bio);
    }

    // ---------------------------------------------------------------- pgmaps

    private static World WithPgmaps(MemoryType a, MemoryType b)
        => Tiny(pgmaps: [new Pgmap(1, a, 0x20, 4, a == MemoryType.PciP2pdma ? "nvme0" : null), new Pgmap(2, b, 0x24, 4, b == MemoryType.PciP2pdma ? "nvme1" : null)],
                user: [0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25]);

    [Fact]
    public void P2PDMA_after_RAM_is_rejected_not_added_as_a_new_bvec()
    {
        var w = WithPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        var o = Run(w, Adds(Bio.Empty(4), (0x1f, 0, PS), (0x20, 0, PS)));
        Assert.Equal([(long)PS, 0L], o.Returns);
        Assert.Single(o.Bio!.Vecs.Items);
    }

    [Fact]
    public void RAM_after_P2PDMA_is_rejected_and_the_P2PDMA_bvec_sets_REQ_NOMERGE()
    {
        var w = WithPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        var o = Run(w, Adds(Bio.Empty(4), (0x23, 0, PS), (0x10, 0, PS)));
        Assert.Equal([(long)PS, 0L], o.Returns);
        Assert.Equal(BioOpf.NoMerge, o.Bio!.Opf);
    }

    [Fact]
    public void Two_P2PDMA_providers_never_share_a_bio()
    {
        var w = WithPgmaps(MemoryType.PciP2pdma, MemoryType.PciP2pdma);
        var o = Run(w, Adds(Bio.Empty(4), (0x23, 0, PS), (0x24, 0, PS)));
        Assert.Equal([(long)PS, 0L], o.Returns);
    }

    [Fact]
    public void GENERIC_pages_of_two_pgmaps_become_two_bvecs_never_one()
    {
        // 0x23 and 0x24 are physically and pointer-adjacent but belong to different GENERIC pgmaps (the MSHV VTL case).
        var w = WithPgmaps(MemoryType.Generic, MemoryType.Generic);
        var o = Run(w, Adds(Bio.Empty(4), (0x23, 0, PS), (0x24, 0, PS)));
        Assert.Equal([(long)PS, (long)PS], o.Returns);
        Assert.Equal([new BvecDesc(0x23, 0x1000, 0), new BvecDesc(0x24, 0x1000, 0)], o.Bio!.Vecs);
        Assert.Equal(BioOpf.None, o.Bio.Opf);
    }

    [Fact]
    public void Extraction_stops_at_a_pgmap_change_and_a_second_call_returns_zero()
    {
        // User buffer 0x1e..0x25: RAM, RAM, then pgmap 1 (P2PDMA). The queue allows P2PDMA.
        var w = WithPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        var it = Ubuf(0, 4 * PS);
        var o = Run(w, new ExtractBvecsOp(it, [], 8, 4 * PS, 0, AllowP2p: true));
        Assert.Equal([(long)(2 * PS)], o.Returns);
        Assert.Equal([new BvecDesc(0x1e, 0x1000, 0), new BvecDesc(0x1f, 0x1000, 0)], o.Bvecs); // two order-0 folios
        Assert.Equal(2 * PS, o.Iter!.Count);
        Assert.Equal([new PinCount(0x1e, 1), new PinCount(0x1f, 1)], o.Pins); // 0x20, 0x21 unpinned again
        var o2 = Run(w, new ExtractBvecsOp(o.Iter, o.Bvecs, 8, 2 * PS, 0, AllowP2p: true));
        Assert.Equal([0L], o2.Returns);
        Assert.Equal(2 * PS, o2.Iter!.Count);
        Assert.Empty(o2.Pins);
    }

    [Fact]
    public void GUP_refuses_a_P2PDMA_page_without_ITER_ALLOW_P2PDMA()
    {
        var w = WithPgmaps(MemoryType.PciP2pdma, MemoryType.Generic);
        var first = Run(w, new ExtractPagesOp(Ubuf(2 * PS, PS), PS, 4, AllowP2p: false));
        Assert.Equal([-Errno.EREMOTEIO], first.Returns);
        var later = Run(w, new ExtractPagesOp(Ubuf(0, 4 * PS), 4 * PS, 4, AllowP2p: false));
        Assert.Equal([(long)(2 * PS)], later.Returns); // short count: the pages before the P2PDMA page
    }

    // ---------------------------------------------------------------- extraction

    [Fact]
    public void Two_adjacent_order0_folios_stay_separate_bvecs_in_extraction()
    {
        var w = Tiny(user: [0x20, 0x21]);
        var o = Run(w, new ExtractBvecsOp(Ubuf(0, 2 * PS), [], 4, 2 * PS, 0, false));
        Assert.Equal([new BvecDesc(0x20, 0x1000, 0), new BvecDesc(0x21, 0x1000, 0)], o.Bvecs);
    }

    [Fact]
    public void A_COWd_page_in_a_large_folio_ends_the_run()
    {
        var w = Tiny(folios: [new Folio(0x10, 2)], user: [0x10, 0x11, 0x2f, 0x13]);
        var o = Run(w, new ExtractBvecsOp(Ubuf(0, 4 * PS), [], 8, 4 * PS, 0, false));
        Assert.Equal([new BvecDesc(0x10, 0x2000, 0), new BvecDesc(0x2f, 0x1000, 0), new BvecDesc(0x13, 0x1000, 0)], o.Bvecs);
    }

    [Fact]
    public void Extraction_splits_at_the_folio_end()
    {
        var w = Tiny(folios: [new Folio(0x10, 2)], user: [0x12, 0x13, 0x14]);
        var o = Run(w, new ExtractBvecsOp(Ubuf(0x800, 0x2000), [], 8, 0x2000, 0, false));
        Assert.Equal([new BvecDesc(0x12, 0x1800, 0x800), new BvecDesc(0x14, 0x800, 0)], o.Bvecs);
    }

    [Fact]
    public void No_room_on_entry_warns_and_returns_ENOMEM_and_is_reported()
    {
        var w = Tiny(user: [0x20]);
        var entry = new BvecDesc(0x30, 0x200, 0);
        var o = Run(w, new ExtractBvecsOp(Ubuf(0, PS), [entry], 1, PS, 0, false));
        Assert.Equal([-Errno.ENOMEM], o.Returns);
        Assert.Contains(o.Warnings, x => x.Contains("want_pages_array"));
        Assert.Contains(o.Violations, x => x.Contains("no room on entry"));
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void More_vecs_than_room_on_entry_is_a_fatal_contract_violation()
    {
        var w = Tiny(user: [0x20]);
        var o = Run(w, new ExtractBvecsOp(Ubuf(0, PS), [new BvecDesc(0x30, 1, 0), new BvecDesc(0x31, 1, 0)], 1, PS, 0, false));
        Assert.Empty(o.Returns);
        Assert.Contains(o.Violations, x => x.Contains("nr_vecs 2 > max_vecs 1"));
    }

    [Fact]
    public void A_misaligned_user_address_fails_with_EINVAL_before_anything_is_pinned()
    {
        var w = Tiny(user: [0x20, 0x21]);
        var it = Ubuf(0x100, 0x1000);
        var o = Run(w, new ExtractBvecsOp(it, [], 4, 0x1000, 0x1ff, false));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Equal(it, o.Iter);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_misaligned_later_iovec_fails_the_whole_bio_and_releases_every_pin()
    {
        var w = Tiny(user: [0x20, 0x21, 0x22]);
        var it = IterDesc.ForIovec([new IoVec(UserBase, 0x1000), new IoVec(UserBase + 0x1004, 0x200)]);
        var o = Run(w, new GetPagesOp(Bio.Empty(4), it, 0x1ff, 0));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Equal(0, o.Bio!.Vcnt);
        Assert.False(o.Bio.Has(BioFlags.PagePinned));
        Assert.Empty(o.Pins);
        // The known finding (GP-1): neither bi_size nor the iterator is rolled back for the first round.
        Assert.Equal(0x1000u, o.Bio.Size);
        Assert.Equal(0x200UL, o.Iter!.Count);
    }

    [Fact]
    public void GUP_stops_at_an_unmapped_page_first_EFAULT_later_short()
    {
        var w = Tiny(user: [0x20, 0x21]);
        var beyond = Run(w, new ExtractPagesOp(Ubuf(2 * PS, PS), PS, 4, false));
        Assert.Equal([-Errno.EFAULT], beyond.Returns);
        var across = Run(w, new ExtractPagesOp(Ubuf(PS + 0x800, PS), PS, 4, false));
        Assert.Equal([0x800L], across.Returns);
        Assert.Equal([0x21UL], across.Pages);
        Assert.Equal([new PinCount(0x21, 1)], across.Pins);
    }

    [Fact]
    public void Reading_into_a_read_only_page_fails_to_pin_it()
    {
        var w = Tiny(user: [0x20]);
        w = w with { User = w.User with { Pages = [new VirtPage(MappingKind.ReadOnly, 0x20)] } };
        Assert.Equal([-Errno.EFAULT], Run(w, new ExtractPagesOp(Ubuf(0, PS, source: false), PS, 1, false)).Returns);
        Assert.Equal([(long)PS], Run(w, new ExtractPagesOp(Ubuf(0, PS, source: true), PS, 1, false)).Returns);
    }

    [Fact]
    public void Align_down_drops_a_multi_page_bvec_but_unpins_only_its_first_page()
    {
        // One bvec [0x800, 0x1800) over pages 0x10 and 0x11 of an order-1 folio; len_align_mask 0x1fff drops it all.
        var w = Tiny(folios: [new Folio(0x10, 1)], user: [0x10, 0x11]);
        var o = Run(w, new GetPagesOp(Bio.Empty(4), Ubuf(0x800, 0x1000), 0, 0x1fff));
        Assert.Equal([-Errno.EFAULT], o.Returns);
        Assert.Equal(0, o.Bio!.Vcnt);
        Assert.Equal(0x1000UL, o.Iter!.Count);
        Assert.Equal([new PinCount(0x11, 1)], o.Pins); // the leak of KERNEL-SPEC §3.8
    }

    [Fact]
    public void Align_down_trims_to_the_logical_block_size_and_gives_the_rest_back()
    {
        var w = Tiny(user: [0x20, 0x21]);
        var o = Run(w, new GetPagesOp(Bio.Empty(4), Ubuf(0, 0x1300), 0, 0x1ff));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(0x1200u, o.Bio!.Size);
        Assert.Equal([new BvecDesc(0x20, 0x1000, 0), new BvecDesc(0x21, 0x200, 0)], o.Bio.Vecs);
        Assert.Equal(0x100UL, o.Iter!.Count);
    }

    [Fact]
    public void A_BVEC_iterator_is_borrowed_not_copied()
    {
        var w = Tiny();
        var it = IterDesc.ForBvec([new BvecDesc(0x20, 0x1000, 0), new BvecDesc(0x30, 0x200, 0x200)]);
        var o = Run(w, new GetPagesOp(Bio.Empty(0), it, 0, 0));
        Assert.Equal([0L], o.Returns);
        Assert.True(o.Bio!.Has(BioFlags.Cloned));
        Assert.Equal(0, o.Bio.Vcnt);
        Assert.Equal(0x1200u, o.Bio.Size);
        Assert.Equal(0UL, o.Iter!.Count);
        Assert.Empty(o.Pins);
    }

    // ---------------------------------------------------------------- sections and num_pages_contiguous

    [Fact]
    public void Classic_sparsemem_merges_across_a_section_only_when_the_memmaps_are_adjacent()
    {
        var adjacent = Tiny(placement: MemmapPlacement.NodeBuffer());
        var padded = Tiny(placement: MemmapPlacement.Padded());
        var op = Adds(Bio.Empty(4), (0xf, 0, PS), (0x10, 0, PS));
        Assert.Single(Run(adjacent, op).Bio!.Vecs.Items);
        Assert.Equal(2, Run(padded, op).Bio!.Vcnt);
    }

    [Fact]
    public void Memmaps_adjacent_across_a_hole_do_not_make_pages_mergeable()
    {
        // Sections 0 and 2 present, node-buffer: struct page of 0xf is followed by that of 0x20.
        var w = Tiny(sections: [0, 2], placement: MemmapPlacement.NodeBuffer());
        var o = Run(w, Adds(Bio.Empty(4), (0xf, 0, PS), (0x20, 0, PS)));
        Assert.Equal(2, o.Bio!.Vcnt);
        Assert.Equal([1L], Run(w, new NumPagesContiguousOp([0xf, 0x20])).Returns);
    }

    [Theory]
    [InlineData(MemoryModel.Flatmem, 2)]
    [InlineData(MemoryModel.SparsememVmemmap, 2)]
    [InlineData(MemoryModel.Sparsemem, 1)] // stops at the section boundary even though PFNs continue
    public void Num_pages_contiguous_across_a_section_boundary(MemoryModel model, int expected)
        => Assert.Equal([(long)expected], Run(Tiny(model), new NumPagesContiguousOp([0xf, 0x10])).Returns);

    [Fact]
    public void Num_pages_contiguous_of_one_page_is_one()
        => Assert.Equal([1L], Run(Tiny(), new NumPagesContiguousOp([0x23])).Returns);

    [Fact]
    public void Num_pages_contiguous_of_no_page_is_a_contract_violation()
    {
        var o = Run(Tiny(), new NumPagesContiguousOp([]));
        Assert.Empty(o.Returns);
        Assert.Contains(o.Violations, x => x.Contains("nr_pages is 0"));
    }

    [Fact]
    public void A_caller_range_that_is_not_pointer_contiguous_is_reported()
    {
        // Padded classic memmaps: page 0xf + 1 is not the struct page of 0x10.
        var w = Tiny(placement: MemmapPlacement.Padded());
        var o = Run(w, Adds(Bio.Empty(2), (0xf, 0x800, 0x1000)));
        Assert.Contains(o.Violations, x => x.Contains("not reached by incrementing the page pointer"));
    }

    // ---------------------------------------------------------------- iterators

    [Fact]
    public void Revert_of_a_UBUF_before_its_start_is_a_BUG()
    {
        var o = Run(Tiny(), new IterOp(Ubuf(0, 0x100), [new IterStep(IterStepKind.Advance, 0x10), new IterStep(IterStepKind.Revert, 0x11)]));
        Assert.Contains(o.Violations, x => x.Contains("BUG()"));
    }

    [Fact]
    public void Advance_steps_over_exhausted_and_empty_iovecs_and_revert_comes_back()
    {
        var it = IterDesc.ForIovec([new IoVec(UserBase, 0x10), new IoVec(UserBase + 0x100, 0), new IoVec(UserBase + 0x200, 0x10)]);
        var o = Run(Tiny(), new IterOp(it, [new IterStep(IterStepKind.Advance, 0x10)]));
        Assert.Equal(2, o.Iter!.Index);
        Assert.Equal(0UL, o.Iter.IovOffset);
        var back = Run(Tiny(), new IterOp(o.Iter, [new IterStep(IterStepKind.Revert, 0x10)]));
        Assert.Equal(0, back.Iter!.Index);
        Assert.Equal(0x20UL, back.Iter.Count);
    }

    [Fact]
    public void Npages_counts_each_segment_and_caps_at_maxpages()
    {
        var it = IterDesc.ForIovec([new IoVec(UserBase + 0xff0, 0x20), new IoVec(UserBase + 0x5000, 0)]);
        var o = Run(Tiny(), new IterOp(it, [new IterStep(IterStepKind.Npages, 16), new IterStep(IterStepKind.Npages, 1)]));
        Assert.Equal([2L, 1L], o.Returns);
    }

    [Fact]
    public void Alignment_ORs_every_start_and_length()
    {
        var it = IterDesc.ForIovec([new IoVec(UserBase + 0x200, 0x400), new IoVec(UserBase + 0x3000, 0x8)]);
        var o = Run(Tiny(), new IterOp(it, [new IterStep(IterStepKind.Alignment, 0)]));
        Assert.Equal((long)((UserBase + 0x200) | 0x400 | (UserBase + 0x3000) | 0x8), o.Returns[0]);
    }

    // ---------------------------------------------------------------- hardware segments, integrity merges

    private static MergeableOp Pair(BvecDesc a, BvecDesc b, QueueLimits? q = null) => new(q ?? new QueueLimits(), [new BvecPair(a, b)]);

    [Fact]
    public void Physically_adjacent_bvecs_form_one_hardware_segment()
        => Assert.Equal([1L], Run(Tiny(), Pair(new(0x20, 0x1000, 0), new(0x21, 0x200, 0))).Returns);

    [Fact]
    public void Hardware_segments_ignore_struct_page_contiguity()
    {
        // Padded classic memmaps: 0xf and 0x10 are not pointer-adjacent, but segments are built from physical addresses.
        var w = Tiny(placement: MemmapPlacement.Padded());
        Assert.Equal([1L], Run(w, Pair(new(0xf, 0x1000, 0), new(0x10, 0x200, 0))).Returns);
    }

    [Fact]
    public void Two_GENERIC_pgmaps_never_form_one_hardware_segment()
    {
        var w = WithPgmaps(MemoryType.Generic, MemoryType.Generic);
        Assert.Equal([0L], Run(w, Pair(new(0x23, 0x1000, 0), new(0x24, 0x1000, 0))).Returns); // 13920e4b7b78
    }

    [Fact]
    public void KMSAN_and_segment_boundaries_stop_hardware_merges()
    {
        var kmsan = Tiny(config: m => m with { Kmsan = true });
        Assert.Equal([0L], Run(kmsan, Pair(new(0x20, 0x800, 0), new(0x20, 0x100, 0x800))).Returns);
        var q = new QueueLimits { SegBoundaryMask = 0xfff };
        Assert.Equal([0L, 1L], Run(Tiny(), new MergeableOp(q, [new BvecPair(new(0x20, 0x1000, 0), new(0x21, 0x10, 0)), new BvecPair(new(0x20, 0x800, 0), new(0x20, 0x800, 0x800))])).Returns);
    }

    [Fact]
    public void A_Xen_guest_merges_only_consecutive_bus_frames()
    {
        var w = Tiny(config: m => m with { XenGuest = true });
        w = w with { Xen = [new XenRange(0x21, 1, 0x90)] };
        Assert.Equal([0L], Run(w, Pair(new(0x20, 0x1000, 0), new(0x21, 0x10, 0))).Returns);
        Assert.Equal([1L], Run(w, Pair(new(0x22, 0x1000, 0), new(0x23, 0x10, 0))).Returns);
    }

    [Fact]
    public void Hw_merges_respect_max_segment_size_and_the_boundary_window()
    {
        var q = new QueueLimits { MaxSegmentSize = 0x1800, SegBoundaryMask = 0x1fff };
        var o = Run(Tiny(), new HwMergeOp(q, new BvecDesc(0x20, 0x1000, 0),
            [new AddCall(AddFn.BioAddPage, 0x21, 0x800, 0), new AddCall(AddFn.BioAddPage, 0x21, 0x10, 0x800), new AddCall(AddFn.BioAddPage, 0x22, 0x10, 0)]));
        // 0x800 fits (0x1800 total); the next 0x10 would exceed max_segment_size; 0x22 is outside the 8 KiB window.
        Assert.Equal([1L, 0L, 0L], o.Returns);
        Assert.Equal([new BvecDesc(0x20, 0x1800, 0)], o.Bvecs);
    }

    // ---------------------------------------------------------------- integer widths

    [Fact]
    public void Bio_add_page_returns_an_int_and_bio_add_folio_reports_a_2GiB_add_as_failure()
    {
        var w = Big() with { Folios = [new Folio(0, 19)] };
        var page = Run(w, Adds(Bio.Empty(2), (0, 0, 0x8000_0000)));
        Assert.Equal([(long)int.MinValue], page.Returns); // 0x80000000 as an int
        Assert.Equal(0x8000_0000u, page.Bio!.Size);
        var folio = Run(w, new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddFolio, 0, 0x8000_0000, 0)]));
        Assert.Equal([0L], folio.Returns);           // false ...
        Assert.Equal(0x8000_0000u, folio.Bio!.Size); // ... but the bytes are in the bio
    }

    [Theory]
    [InlineData(0x10u)]  // bi_size + len == BIO_MAX_SIZE exactly: bio_full says no
    [InlineData(0x0u)]   // bio_full(bio, 0) on a bio at UINT_MAX: still not full by size
    public void Raw_add_to_exactly_BIO_MAX_SIZE_is_not_full(uint len)
    {
        // bio_full(bio, len) is bi_size > BIO_MAX_SIZE − len: reaching UINT_MAX exactly is allowed.
        var bio = Bio.With(4, new BvecDesc(0, uint.MaxValue - len, 0));
        var o = Run(Big(), new BioAddOp(bio, [new AddCall(AddFn.RawBioAddPage, 0x10, len, 0)]));
        Assert.Equal(2, o.Bio!.Vcnt);
        Assert.Equal(uint.MaxValue, o.Bio.Size);
        Assert.Empty(o.Warnings);
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void Raw_add_past_BIO_MAX_SIZE_warns_wraps_and_is_reported()
    {
        var bio = Bio.With(4, new BvecDesc(0, uint.MaxValue, 0));
        var o = Run(Big(), new BioAddOp(bio, [new AddCall(AddFn.RawBioAddPage, 0x10, 0x10, 0)]));
        Assert.Equal(2, o.Bio!.Vcnt);
        Assert.Equal(0xfu, o.Bio.Size); // bi_size wrapped
        Assert.Contains(o.Warnings, x => x.Contains("bio_full"));
        Assert.Contains(o.Violations, x => x.Contains("wraps bi_size"));
    }

    [Fact]
    public void GUP_refuses_ranges_that_wrap_or_leave_user_space()
    {
        var w = Tiny(user: [0x20]);
        Assert.Equal([-Errno.EOVERFLOW], Run(w, new ExtractPagesOp(IterDesc.ForUbuf(0xffff_ffff_ffff_f800, 0x100), 0x100, 1, false)).Returns);
        Assert.Equal([-Errno.EFAULT], Run(w, new ExtractPagesOp(IterDesc.ForUbuf(0x8000_0000_0000, 0x100), 0x100, 1, false)).Returns);
    }

    [Fact]
    public void Releasing_a_zero_length_pinned_bvec_drops_a_pin_nobody_took()
    {
        // A PINNED bio holding an empty bvec at in-page offset 0x200; a misaligned vector makes get_pages release it.
        var w = Tiny(user: [0x20]);
        var bio = Bio.With(4, new BvecDesc(0x30, 0, 0x200)) with { Flags = BioFlags.PagePinned };
        var o = Run(w, new GetPagesOp(bio, Ubuf(0x4, 0x200), 0x1ff, 0));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Contains(o.Violations, x => x.Contains("unpin of PFN 0x30, which holds no pin"));
    }
}
