using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// Cases the last mutation run showed the optimized kernel's tests did not decide: caller-contract paths
/// (ranges that are not one memmap stretch, pgmap boundaries inside a bvec), iterator boundaries (revert to
/// exactly the start, past it, MAX_RW_COUNT), probes of used-up iterators and the trap-buffer bookkeeping.
/// Every operation runs in both models; the outcomes must be equal and the values are worked out by hand.
/// </summary>
public sealed class MutationKernelTests
{
    private static BioAddOp Calls(Bio bio, params AddCall[] calls) => new(bio, calls.ToEqArray());

    /// <summary>The run ended at a fatal wild struct page pointer: one violation, and no return reported.</summary>
    private static void AssertFatalAtWildPage(Outcome o)
    {
        Assert.Empty(o.Returns);
        Assert.StartsWith("wild struct page pointer", Assert.Single(o.Violations));
    }

    private static AddCall Add(ulong pfn, ulong off, ulong len) => new(AddFn.BioAddPage, pfn, len, off);

    private static AddCall Raw(ulong pfn, ulong off, ulong len) => new(AddFn.RawBioAddPage, pfn, len, off);

    // ---------------------------------------------------------------- caller range: one memmap stretch

    [Fact]
    public void A_range_into_a_padded_next_section_is_reported_by_bio_add_page()
    {
        // Page 0xf is the last of section 0; with padded placement section 1's memmap does not follow it.
        var w = Tiny(placement: MemmapPlacement.Padded());
        var o = RunBoth(w, Adds(Bio.Empty(2), (0xf, 0x800, 0x1000)));
        Assert.Equal([0x1000L], o.Returns);
        Assert.Equal([new BvecDesc(0xf, 0x1000, 0x800)], o.Bio!.Vecs);
        Assert.Equal([Diag.RangeNotContiguous("bio_add_page", 0xf, 0x1000, 0x800)], o.Violations);
    }

    [Fact]
    public void The_same_range_in_node_buffer_placement_is_contiguous()
    {
        var w = Tiny(placement: MemmapPlacement.NodeBuffer());
        var o = RunBoth(w, Adds(Bio.Empty(2), (0xf, 0x800, 0x1000)));
        Assert.Equal([0x1000L], o.Returns);
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void A_merge_whose_range_leaves_the_memmap_stretch_is_reported_by_bio_add_page()
    {
        // The bvec ends at the end of page 0xe; page 0xf follows it physically and in the memmap, so the
        // add merges; its own range (0xf .. 0x10) crosses into the padded section 1.
        var w = Tiny(placement: MemmapPlacement.Padded());
        var o = RunBoth(w, Adds(Bio.With(1, new BvecDesc(0xe, 0x1000, 0)), (0xf, 0, 0x2000)));
        Assert.Equal([0x2000L], o.Returns);
        Assert.Equal([new BvecDesc(0xe, 0x3000, 0)], o.Bio!.Vecs);
        Assert.Equal([Diag.RangeNotContiguous("bio_add_page", 0xf, 0x2000, 0)], o.Violations);
    }

    [Fact]
    public void A_raw_add_whose_range_leaves_the_memmap_stretch_is_reported_by___bio_add_page()
    {
        var w = Tiny(placement: MemmapPlacement.Padded());
        var o = RunBoth(w, Calls(Bio.Empty(2), Raw(0xf, 0, 0x2000)));
        Assert.Equal([0x2000L], o.Returns);
        Assert.Equal([Diag.RangeNotContiguous("__bio_add_page", 0xf, 0x2000, 0)], o.Violations);
    }

    [Fact]
    public void A_range_whose_ends_are_in_place_but_whose_middle_section_is_elsewhere_is_reported()
    {
        // Independent placement: sections 0, 2 and 3 laid out as one stretch, section 1 elsewhere. From page
        // 0xf to page 0x20 both ends are where page + k puts them; the start of section 1 is not.
        ulong sz = (ulong)new MemmapArena(Tiny(), new RunLog(), true).StructPageSize;
        ulong b = MemmapPlacement.Origin;
        var w = Tiny(placement: MemmapPlacement.Independent(b, b + 0x100 * sz, b + 0x20 * sz, b + 0x30 * sz));
        var o = RunBoth(w, Calls(Bio.Empty(2), Raw(0xf, 0, 0x12000)));
        Assert.Equal([Diag.RangeNotContiguous("__bio_add_page", 0xf, 0x12000, 0)], o.Violations);
        // Sections 2 and 3 alone are one stretch: no report.
        var o2 = RunBoth(w, Calls(Bio.Empty(2), Raw(0x2f, 0, 0x2000)));
        Assert.Empty(o2.Violations);
    }

    [Fact]
    public void A_zero_length_raw_add_at_offset_zero_checks_nothing()
    {
        // len == 0: the range is the page of the offset alone (not off + len − 1, which would wrap).
        var w = Tiny(placement: MemmapPlacement.Padded());
        var o = RunBoth(w, Calls(Bio.Empty(2), Raw(0xf, 0, 0)));
        Assert.Equal([new BvecDesc(0xf, 0, 0)], o.Bio!.Vecs);
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void A_zero_length_raw_add_one_page_in_checks_that_page()
    {
        // off 0x1000 from the last page of section 0 names page 0x10, in the padded next section.
        var w = Tiny(placement: MemmapPlacement.Padded());
        var o = RunBoth(w, Calls(Bio.Empty(2), Raw(0xf, 0x1000, 0)));
        Assert.Equal([Diag.RangeNotContiguous("__bio_add_page", 0xf, 0, 0x1000)], o.Violations);
    }

    // ---------------------------------------------------------------- caller range: pgmap boundaries

    private static World Pgmapped()
        => Tiny(pgmaps: [new Pgmap(1, MemoryType.FsDax, 0x20, 4, null)]);

    [Fact]
    public void A_range_into_the_first_page_of_a_pgmap_crosses_its_start()
    {
        var o = RunBoth(Pgmapped(), Calls(Bio.Empty(2), Raw(0x1f, 0, 0x2000)));
        Assert.Equal([Diag.RangeCrossesPgmap("__bio_add_page", 0x1f, 0x2000, 0)], o.Violations);
    }

    [Fact]
    public void A_range_from_the_last_page_of_a_pgmap_crosses_its_end()
    {
        var o = RunBoth(Pgmapped(), Calls(Bio.Empty(2), Raw(0x23, 0, 0x2000)));
        Assert.Equal([Diag.RangeCrossesPgmap("__bio_add_page", 0x23, 0x2000, 0)], o.Violations);
    }

    [Fact]
    public void A_range_inside_a_pgmap_or_ending_at_its_last_page_crosses_nothing()
    {
        var o = RunBoth(Pgmapped(), Calls(Bio.Empty(4), Raw(0x20, 0, 0x4000), Raw(0x1e, 0, 0x2000)));
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void A_bio_add_page_append_across_a_pgmap_start_is_reported_by_bio_add_page()
    {
        var o = RunBoth(Pgmapped(), Adds(Bio.Empty(2), (0x1f, 0, 0x2000)));
        Assert.Equal([0x2000L], o.Returns);
        Assert.Equal([Diag.RangeCrossesPgmap("bio_add_page", 0x1f, 0x2000, 0)], o.Violations);
    }

    // ---------------------------------------------------------------- iov_iter_revert / advance boundaries

    private static IterOp Steps(IterDesc it, params (IterStepKind K, ulong N)[] steps)
        => new(it, steps.Select(s => new IterStep(s.K, s.N)).ToEqArray());

    [Fact]
    public void Revert_of_exactly_MAX_RW_COUNT_is_done()
    {
        var w = Tiny();
        ulong max = w.Machine.MaxRwCount;
        var o = RunBoth(w, Steps(Ubuf(0, max), (IterStepKind.Advance, max), (IterStepKind.Revert, max)));
        Assert.Equal([0L, (long)max], o.Returns);
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void Revert_of_one_byte_more_than_MAX_RW_COUNT_warns_and_changes_nothing()
    {
        var w = Tiny();
        ulong max = w.Machine.MaxRwCount;
        var o = RunBoth(w, Steps(Ubuf(0, max + 0x1000), (IterStepKind.Advance, max + 0x1000), (IterStepKind.Revert, max + 1)));
        Assert.Equal([0L, 0L], o.Returns);
        Assert.Equal([Diag.RevertTooFar], o.Warnings);
        Assert.Equal(max + 0x1000, o.Iter!.IovOffset);
    }

    [Fact]
    public void Revert_of_zero_changes_nothing()
    {
        var o = RunBoth(Tiny(), Steps(Ubuf(0, 0x100), (IterStepKind.Advance, 0x10), (IterStepKind.Revert, 0)));
        Assert.Equal([0xf0L, 0xf0L], o.Returns);
        Assert.Equal(0x10UL, o.Iter!.IovOffset);
    }

    [Fact]
    public void Reverting_a_ubuf_to_exactly_its_start_is_fine_one_byte_further_is_a_bug()
    {
        var ok = RunBoth(Tiny(), Steps(Ubuf(0, 0x100), (IterStepKind.Advance, 0x10), (IterStepKind.Revert, 0x10)));
        Assert.Equal([0xf0L, 0x100L], ok.Returns);
        Assert.Empty(ok.Violations);
        var bad = RunBoth(Tiny(), Steps(Ubuf(0, 0x100), (IterStepKind.Advance, 0x10), (IterStepKind.Revert, 0x11)));
        Assert.Equal([0xf0L], bad.Returns);
        Assert.Equal([Diag.RevertUbufBeforeStart(1)], bad.Violations);
    }

    [Fact]
    public void Reverting_an_iovec_into_the_previous_segment_and_before_the_first_one()
    {
        var it = IterDesc.ForIovec([new IoVec(UserBase, 0x100), new IoVec(UserBase + 0x1000, 0x100)]);
        var ok = RunBoth(Tiny(), Steps(it, (IterStepKind.Advance, 0x110), (IterStepKind.Revert, 0x110)));
        Assert.Equal([0xf0L, 0x200L], ok.Returns);
        Assert.Equal(0, ok.Iter!.Index);
        Assert.Equal(0UL, ok.Iter.IovOffset);
        var bad = RunBoth(Tiny(), Steps(it, (IterStepKind.Advance, 0x110), (IterStepKind.Revert, 0x111)));
        Assert.Equal([0xf0L], bad.Returns);
        Assert.Equal([Diag.RevertBeforeFirst(false, 1)], bad.Violations);
    }

    [Fact]
    public void Reverting_a_bvec_iterator_before_its_first_bvec_is_a_bug()
    {
        var it = IterDesc.ForBvec([new BvecDesc(0x10, 0x200, 0x100)]);
        var bad = RunBoth(Tiny(), Steps(it, (IterStepKind.Advance, 0x20), (IterStepKind.Revert, 0x21)));
        Assert.Equal([0x1e0L], bad.Returns);
        Assert.Equal([Diag.RevertBeforeFirst(true, 1)], bad.Violations);
    }

    [Fact]
    public void Alignment_of_a_truncated_iovec_stops_at_the_count()
    {
        // Count 0x1800 of 0x2010 bytes: the second segment counts 0x800 bytes, the third (odd base) not at all.
        var it = IterDesc.ForIovec([new IoVec(UserBase, 0x1000), new IoVec(UserBase + 0x4000, 0x1000), new IoVec(UserBase + 0x8003, 0x10)])
            with { Count = 0x1800 };
        var o = RunBoth(Tiny(), Steps(it, (IterStepKind.Alignment, 0)));
        Assert.Equal([(long)(UserBase | 0x1000 | (UserBase + 0x4000) | 0x800)], o.Returns);
    }

    [Fact]
    public void Alignment_of_a_truncated_bvec_iterator_stops_at_the_count()
    {
        var it = IterDesc.ForBvec([new BvecDesc(0x10, 0x1000, 0), new BvecDesc(0x20, 0x1000, 0), new BvecDesc(0x30, 0x10, 3)])
            with { Count = 0x1800 };
        var o = RunBoth(Tiny(), Steps(it, (IterStepKind.Alignment, 0)));
        Assert.Equal([(long)(0x1000 | 0x800)], o.Returns);
    }

    // ---------------------------------------------------------------- the bio description

    [Fact]
    public void A_cloned_bio_refusing_an_add_is_reported_exactly_as_it_came_in()
    {
        // bio_iov_bvec_set's shape: the table is listed, bi_vcnt stays 0. Nothing changes, so the outcome is the
        // entry bio, table included (rebuilding it from bi_vcnt would drop the table).
        var bio = new Bio { MaxVecs = 0, Vecs = [new BvecDesc(0x10, 0x200, 0)], Vcnt = 0, Size = 0x200, Flags = BioFlags.Cloned };
        var o = RunBoth(Tiny(), Adds(bio, (0x20, 0, 0x200)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(bio, o.Bio);
        Assert.Equal([new BvecDesc(0x10, 0x200, 0)], o.Bio!.Vecs);
    }

    private static World Big() => World.Create(new MachineConfig
    {
        Name = "custom", PageShift = 12, SectionSizeBits = 32, Model = MemoryModel.SparsememVmemmap, MaxPageOrder = 10,
    }, [0UL]);

    [Fact]
    public void Bio_add_folio_of_exactly_BIO_MAX_SIZE_reaches_bio_add_page_one_byte_more_does_not()
    {
        // len == UINT_MAX passes bio_add_folio's test and is appended (bio_add_page returns it as int: −1, so
        // bio_add_folio says not added); len == UINT_MAX + 1 is refused before anything is looked at.
        var at = RunBoth(Big(), new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddFolio, 0, uint.MaxValue, 0)]));
        Assert.Equal([0L], at.Returns);
        Assert.Equal([new BvecDesc(0, uint.MaxValue, 0)], at.Bio!.Vecs);
        var past = RunBoth(Big(), new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddFolio, 0, (ulong)uint.MaxValue + 1, 0)]));
        Assert.Equal([0L], past.Returns);
        Assert.Empty(past.Bio!.Vecs);
        Assert.Empty(past.Violations);
    }

    // ---------------------------------------------------------------- KVEC: vmalloc and the direct map

    private static World WithVmalloc(params VirtPage[] pages)
        => Tiny() with { Kernel = new AddressSpace(AddressSpace.DefaultVmallocBase, pages.ToEqArray()) };

    private static ExtractPagesOp KvecAt(ulong kaddr, ulong len)
        => new(IterDesc.ForIovec([new IoVec(kaddr, len)], type: IterType.Kvec), len, 4, false);

    [Fact]
    public void A_kvec_in_the_direct_map_names_the_page_of_its_PFN()
    {
        var o = RunBoth(Tiny(), KvecAt(AddressSpace.PageOffset + 0x21 * PS + 0x10, 0x100));
        Assert.Equal([0x100L], o.Returns);
        Assert.Equal([0x21UL], o.Pages);
        Assert.Equal(0x10UL, o.Offset0);
    }

    [Fact]
    public void A_kvec_in_the_direct_map_on_a_PFN_without_memmap_is_fatal()
    {
        var w = Tiny(sections: [0, 2]);
        var o = RunBoth(w, KvecAt(AddressSpace.PageOffset + 0x10 * PS, 0x100));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.KvecNoPage(AddressSpace.PageOffset + 0x10 * PS, 0x10)], o.Violations);
    }

    [Fact]
    public void A_kvec_just_past_the_direct_map_is_unmapped()
    {
        ulong at = AddressSpace.PageOffset + (1UL << Tiny().Machine.MaxPhysmemBits);
        var o = RunBoth(Tiny(), KvecAt(at, 0x100));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.KvecUnmapped(at)], o.Violations);
        ulong below = AddressSpace.PageOffset - PS;
        var o2 = RunBoth(Tiny(), KvecAt(below, 0x100));
        Assert.Equal([Diag.KvecUnmapped(below)], o2.Violations);
    }

    [Fact]
    public void A_kvec_over_a_vmalloc_hole_is_fatal_and_one_at_the_end_of_vmalloc_is_unmapped()
    {
        var w = WithVmalloc(VirtPage.Map(0x20), VirtPage.Hole);
        ulong b = AddressSpace.DefaultVmallocBase;
        var ok = RunBoth(w, KvecAt(b + 0x80, 0x80));
        Assert.Equal([0x80L], ok.Returns);
        Assert.Equal([0x20UL], ok.Pages);
        var hole = RunBoth(w, KvecAt(b + PS, 0x80));
        Assert.Equal([Diag.KvecVmallocNull(b + PS)], hole.Violations);
        var end = RunBoth(w, KvecAt(b + 2 * PS, 0x80));
        Assert.Equal([Diag.KvecUnmapped(b + 2 * PS)], end.Violations);
    }

    // ---------------------------------------------------------------- iov_iter_extract_bvecs: the alignment probe

    [Fact]
    public void The_ubuf_probe_subtracts_the_offset_from_the_count_again()
    {
        // iter_iov_addr = ubuf + iov_offset (0x...800), iter_iov_len = count − iov_offset = 0x1000: aligned to
        // 0x800. Adding instead, or ubuf − iov_offset, would be off by 0x400.
        var w = Tiny(user: [0x20, 0x21, 0x22]);
        var it = IterDesc.ForUbuf(UserBase + 0x600, 0x1400) with { IovOffset = 0x200, Count = 0x1200 };
        var o = RunBoth(w, new ExtractBvecsOp(it, [], 4, 0x800, 0x7ff, false));
        Assert.Equal([0x800L], o.Returns);
        Assert.Equal([new BvecDesc(0x20, 0x800, 0x800)], o.Bvecs);
    }

    [Fact]
    public void The_probe_of_a_used_up_iovec_reads_past_the_array()
    {
        var w = Tiny(user: [0x20]);
        var it = IterDesc.ForIovec([new IoVec(UserBase, 0x100)]) with { Index = 1, Count = 0 };
        var o = RunBoth(w, new ExtractBvecsOp(it, [], 4, 0x100, 0, false));
        Assert.Equal([Diag.ExtractProbePastEnd], o.Violations);
        var fatal = RunBoth(w, new ExtractBvecsOp(it, [], 4, 0x100, 0x1ff, false));
        Assert.Empty(fatal.Returns);
        Assert.Equal([Diag.ExtractProbePastEnd, Diag.ExtractProbeDecides], fatal.Violations);
    }

    [Fact]
    public void A_wrapped_entries_left_extracts_into_a_scratch_array_of_that_many_pointers()
    {
        // nr_vecs = max_vecs + 1: entries_left wraps to 65535, and the extraction of 1100 pages runs in full
        // before the write past bv[max_vecs] is stopped.
        var w = Tiny(user: Enumerable.Repeat(0x20UL, 1100).ToArray());
        var o = RunBoth(w, new ExtractBvecsOp(Ubuf(0, 1100 * PS), [new BvecDesc(0x30, 1, 0), new BvecDesc(0x31, 1, 0)], 1, 1100 * PS, 0, false));
        Assert.Empty(o.Returns);
        Assert.Contains(o.Violations, x => x.Contains("nr_vecs 2 > max_vecs 1"));
        Assert.Equal(2, o.Violations.Length);
    }

    // ---------------------------------------------------------------- bio_iov_iter_get_pages: release on -EINVAL

    private static GetPagesOp Misaligned(Bio bio) => new(bio, Ubuf(0x4, 0x200), 0x1ff, 0);

    private static Bio Pinned(params BvecDesc[] vecs) => Bio.With(4, vecs) with { Flags = BioFlags.PagePinned };

    [Fact]
    public void A_pinned_bvec_over_three_order0_folios_is_released_folio_by_folio()
    {
        var o = RunBoth(Tiny(user: [0x20]), Misaligned(Pinned(new BvecDesc(0x10, 0x3000, 0))));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Empty(o.Pins);
        Assert.Empty(o.Violations);
        Assert.Equal(0, o.Bio!.Vcnt);
        Assert.False(o.Bio.Has(BioFlags.PagePinned));
    }

    [Fact]
    public void A_pinned_bvec_from_mid_folio_into_the_next_folio_releases_one_page_of_each()
    {
        var o = RunBoth(Tiny(user: [0x20]), Misaligned(Pinned(new BvecDesc(0x10, 0x1000, 0x800))));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Empty(o.Pins);
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void A_pinned_bvec_starting_past_its_order0_folio_is_a_fatal_release()
    {
        var o = RunBoth(Tiny(user: [0x20]), Misaligned(Pinned(new BvecDesc(0x10, 0x100, 0x1000))));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.ReleasePastFolio(new BvecDesc(0x10, 0x100, 0x1000), 0x1000, 0x10, 0)], o.Violations);
    }

    [Fact]
    public void A_pinned_zero_length_bvec_at_offset_0_pins_nothing_and_its_release_count_wraps()
    {
        var o = RunBoth(Tiny(user: [0x20]), Misaligned(Pinned(new BvecDesc(0x10, 0, 0))));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.ReleaseCountWraps(new BvecDesc(0x10, 0, 0), ulong.MaxValue / PS + 1, 0x10)], o.Violations);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_pinned_bvec_running_past_the_memmap_end_is_a_wild_page_when_pinned()
    {
        // The pin on entry is fatal before bio_iov_iter_get_pages runs (aligned iterator: nothing else would fail).
        var aligned = RunBoth(Tiny(user: [0x20]), new GetPagesOp(Pinned(new BvecDesc(0x3f, 0x2000, 0)), Ubuf(0, 0x200), 0, 0));
        AssertFatalAtWildPage(aligned);
        var o = RunBoth(Tiny(user: [0x20]), Misaligned(Pinned(new BvecDesc(0x3f, 0x2000, 0))));
        AssertFatalAtWildPage(o);
    }

    // ---------------------------------------------------------------- bio_iov_iter_get_pages: BVEC iterators

    [Fact]
    public void A_used_up_bvec_iterator_has_its_alignment_read_past_the_array()
    {
        var it = IterDesc.ForBvec([new BvecDesc(0x10, 0x200, 0)]) with { Index = 1, Count = 0 };
        var o = RunBoth(Tiny(), new GetPagesOp(Bio.Empty(0), it, 0, 0));
        Assert.Equal([0L], o.Returns);
        Assert.Equal([Diag.BvecAlignedPastEnd], o.Violations);
        var fatal = RunBoth(Tiny(), new GetPagesOp(Bio.Empty(0), it, 0x1ff, 0));
        Assert.Empty(fatal.Returns);
        Assert.Equal([Diag.BvecAlignedPastEnd, Diag.BvecAlignedDecides], fatal.Violations);
    }

    [Fact]
    public void The_first_bvec_offset_is_taken_with_the_iterator_offset()
    {
        // bv_offset 0x300 + iov_offset 0x100 = 0x400: aligned to 0x400 (0x300 − 0x100 would not be).
        var it = IterDesc.ForBvec([new BvecDesc(0x10, 0x800, 0x300)]) with { IovOffset = 0x100, Count = 0x700 };
        var o = RunBoth(Tiny(), new GetPagesOp(Bio.Empty(0), it, 0x3ff, 0));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(0x700u, o.Bio!.Size);
        var bad = RunBoth(Tiny(), new GetPagesOp(Bio.Empty(0), it with { IovOffset = 0x200, Count = 0x600 }, 0x3ff, 0));
        Assert.Equal([-Errno.EINVAL], bad.Returns);
    }

    [Fact]
    public void A_debug_kernel_checks_every_segment_from_the_iterator_offset()
    {
        // CONFIG_DEBUG_KERNEL: the first segment is 0xc00 + 0x400 = 0x1000 for 0x1000 bytes, then 0x1000 at 0:
        // aligned to 4 KiB. Lengths taken as bv_len + done, or offsets as bv_offset − done, are not.
        var w = Tiny(config: m => m with { DebugKernel = true });
        var it = IterDesc.ForBvec([new BvecDesc(0x10, 0x1400, 0xc00), new BvecDesc(0x20, 0x1000, 0)]) with { IovOffset = 0x400, Count = 0x2000 };
        var o = RunBoth(w, new GetPagesOp(Bio.Empty(0), it, 0xfff, 0));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(0x2000u, o.Bio!.Size);
        Assert.Equal(0UL, o.Iter!.Count);
        var bad = RunBoth(w, new GetPagesOp(Bio.Empty(0), it with { IovOffset = 0x200, Count = 0x2200 }, 0xfff, 0));
        Assert.Equal([-Errno.EINVAL], bad.Returns);
        // The second segment at 0x800 is misaligned: the walk must move on to it once the first is used up.
        var it2 = IterDesc.ForBvec([new BvecDesc(0x10, 0x1400, 0xc00), new BvecDesc(0x20, 0x1000, 0x800)]) with { IovOffset = 0x400, Count = 0x2000 };
        var second = RunBoth(w, new GetPagesOp(Bio.Empty(0), it2, 0xfff, 0));
        Assert.Equal([-Errno.EINVAL], second.Returns);
    }

    [Fact]
    public void A_bio_already_NOMERGE_stays_NOMERGE_when_its_first_page_is_P2PDMA()
    {
        var w = Tiny(pgmaps: [new Pgmap(1, MemoryType.PciP2pdma, 0x20, 4, "nvme0")], user: [0x10]);
        var bio = Bio.With(4, new BvecDesc(0x20, 0x200, 0)) with { Opf = BioOpf.NoMerge };
        var o = RunBoth(w, new GetPagesOp(bio, Ubuf(0, 0x200), 0, 0));
        Assert.True(o.Bio!.Opf.HasFlag(BioOpf.NoMerge));
    }

    [Fact]
    public void A_pinned_bvec_over_an_order1_folio_and_the_next_is_released_by_folio_next()
    {
        var w = Tiny(folios: [new Folio(0x10, 1)], user: [0x20]);
        var o = RunBoth(w, Misaligned(Pinned(new BvecDesc(0x10, 0x3000, 0))));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Empty(o.Pins);
        Assert.Empty(o.Violations);
    }

    [Fact]
    public void Bio_add_folio_past_the_memmap_end_names_a_wild_page()
    {
        // folio_page(folio 0x3f, 1) is one struct page past the last present section.
        var o = RunBoth(Tiny(), new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddFolio, 0x3f, 0x100, 0x1000)]));
        Assert.Single(o.Violations);
        Assert.StartsWith("wild struct page pointer", o.Violations[0]);
    }

    // ---------------------------------------------------------------- num_pages_contiguous, the model itself

    [Fact]
    public void Num_pages_contiguous_of_no_pages_is_a_contract_violation()
    {
        var o = RunBoth(Tiny(), new NumPagesContiguousOp([]));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.NpcEmpty], o.Violations);
    }

    [Fact]
    public void Without_the_section_in_the_page_flags_a_run_continues_across_sections()
    {
        var o = RunBoth(Tiny(MemoryModel.SparsememVmemmap), new NumPagesContiguousOp([0xe, 0xf, 0x10, 0x11]));
        Assert.Equal([4L], o.Returns);
        var s = RunBoth(Tiny(MemoryModel.Sparsemem, placement: MemmapPlacement.NodeBuffer()), new NumPagesContiguousOp([0xe, 0xf, 0x10, 0x11]));
        Assert.Equal([2L], s.Returns);
    }

    [Fact]
    public void The_optimized_model_is_named_optimized()
        => Assert.Equal("optimized", OptimizedModel.Instance.Name);

    [Fact]
    public void On_32_bit_a_folio_run_is_one_bvec()
    {
        const ulong ub = 0x1000_0000;
        var w = World.Create(ArchPresets.Get("x86-32"), [0]);
        w = w with
        {
            Folios = [new Folio(0x10, 2)],
            User = new AddressSpace(ub, new ulong[] { 0x10, 0x11, 0x12, 0x13, 0x30 }.Select(VirtPage.Map).ToEqArray()),
        };
        Assert.Empty(w.Problems());
        var o = RunBoth(w, new ExtractBvecsOp(IterDesc.ForUbuf(ub + 0x200, 0x4400), [], 8, 0x4400, 0, false));
        Assert.Equal([0x4400L], o.Returns);
        Assert.Equal([new BvecDesc(0x10, 0x3e00, 0x200), new BvecDesc(0x30, 0x600, 0)], o.Bvecs);
    }

    // ---------------------------------------------------------------- direct I/O through bounce buffers

    /// <summary>A tiny world with one free order-2 block (tiny machines have MAX_PAGE_ORDER 4), checked by the validator.</summary>
    internal static World Bouncing()
        => Valid(Tiny(user: [0x20, 0x21]) with { Allocator = new PageAllocator([new Folio(0x30, 2)], 2, 4) });

    internal static DirectIoOp Io(Bio bio, IterDesc it, params UserWrite[] stores)
        => new(bio, it, 0x1000, 0x200, stores.ToEqArray(), false, false);

    [Fact]
    public void A_bounce_read_keeps_the_entry_bios_other_opf_bits()
    {
        var bio = Bio.Empty(4) with { Opf = BioOpf.NoMerge };
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200, source: false)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(BioOpf.NoMerge, o.Bio!.Opf & ~BioOpf.Write);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_bounce_read_into_a_bio_already_PINNED_unpins_its_user_pages_at_completion()
    {
        var bio = Bio.Empty(4) with { Flags = BioFlags.PagePinned };
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200, source: false)));
        Assert.Equal([0L], o.Returns);
        Assert.True(o.Bio!.Has(BioFlags.PagePinned));
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_bounce_write_into_a_cloned_bio_warns_and_returns_EINVAL_without_allocating()
    {
        var bio = Bio.Empty(4) with { Flags = BioFlags.Cloned };
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200)));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Equal([Diag.BounceCloned], o.Warnings);
        Assert.Empty(o.Taken);
        Assert.Empty(o.Device);
    }

    [Fact]
    public void A_bounce_write_into_a_bio_that_already_has_bytes_warns_and_returns_EINVAL()
    {
        var bio = Bio.With(4, new BvecDesc(0x10, 0x200, 0));
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200)));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Equal([Diag.BounceNotEmpty], o.Warnings);
        Assert.Equal([new BvecDesc(0x10, 0x200, 0)], o.Bio!.Vecs);
        Assert.Empty(o.Taken);
    }

    [Fact]
    public void A_bounce_write_into_a_bio_with_no_bvec_left_warns_and_returns_EINVAL()
    {
        // bi_max_vecs 0: the bio is empty (bi_size 0) and already full (bi_vcnt >= bi_max_vecs).
        var o = RunBoth(Bouncing(), Io(Bio.Empty(0), Ubuf(0, 0x200)));
        Assert.Equal([-Errno.EINVAL], o.Returns);
        Assert.Equal([Diag.BounceNoRoom], o.Warnings);
        Assert.Empty(o.Taken);
    }

    [Fact]
    public void Extracting_from_below_the_user_mapping_or_past_its_end_faults_on_the_first_page()
    {
        // SPARSEMEM_VMEMMAP on 64 bits: the whole-run fast path of pin_user_pages_fast is on; it must not take
        // an address outside the user pages (below the base, or a page after the end).
        var w = Tiny(MemoryModel.SparsememVmemmap, user: [0x20, 0x21]);
        foreach (var it in new[] { IterDesc.ForUbuf(UserBase - 0x1000, 0x1000), Ubuf(0x3000, 0x1000), Ubuf(0x2000, 0x1000) })
        {
            var o = RunBoth(w, new ExtractPagesOp(it, 0x1000, 1, false));
            Assert.Equal([-Errno.EFAULT], o.Returns);
            Assert.Empty(o.Pages);
            Assert.Empty(o.Pins);
        }
        // In range the same call pins the page.
        var ok = RunBoth(w, new ExtractPagesOp(Ubuf(0x1000, 0x1000), 0x1000, 1, false));
        Assert.Equal([0x1000L], ok.Returns);
        Assert.Equal([0x21UL], ok.Pages);
    }

    [Fact]
    public void A_store_in_flight_to_an_unmapped_user_page_is_fatal()
    {
        var o = RunBoth(Bouncing(), Io(Bio.Empty(4), Ubuf(0, 0x200), new UserWrite(UserBase + 0x5000, 0x10, 7)));
        Assert.Empty(o.Returns); // the run ends at the fatal store: no return is reported
        Assert.Equal([Diag.UserStoreUnmapped(UserBase + 0x5000)], o.Violations);
    }

    [Fact]
    public void Extracting_a_bvec_that_runs_past_the_memmap_end_stops_at_the_wild_page()
    {
        // bv_page 0x3f + 1 is past the last present section: the second page is a wild pointer.
        var it = IterDesc.ForBvec([new BvecDesc(0x3f, 0x2000, 0)]);
        var o = RunBoth(Tiny(), new ExtractPagesOp(it, 0x2000, 4, false));
        AssertFatalAtWildPage(o);
    }


    // ---------------------------------------------------------------- survivors of the run at 1960247: bounce, extraction, bio_add

    [Fact]
    public void A_raw_add_to_a_cloned_bio_warns_and_still_appends()
    {
        // __bio_add_page: WARN_ON_ONCE(bio_flagged(bio, BIO_CLONED)), then the append goes on (bio_add_page refuses).
        var bio = Bio.Empty(2) with { Flags = BioFlags.Cloned };
        var o = RunBoth(Tiny(), Calls(bio, Raw(0x10, 0, 0x200)));
        Assert.Equal([0x200L], o.Returns);
        Assert.Equal([Diag.RawAddCloned], o.Warnings);
        Assert.Equal([new BvecDesc(0x10, 0x200, 0)], o.Bio!.Vecs);
    }

    [Fact]
    public void Completing_a_bounce_write_puts_the_entry_bios_zero_length_bvec_too_which_nobody_holds()
    {
        // bi_size 0 passes the not-empty check with one zero-length bvec on PFN 0x10; unbounce puts the folio of every
        // bvec, PFN 0x10 (never allocated) included: a put of someone else's folio.
        var bio = Bio.With(4, new BvecDesc(0x10, 0, 0));
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal([new Folio(0x30, 0)], o.Taken);
        Assert.Equal([Diag.FolioPutNotHeld(0x10)], o.Violations);
        Assert.Empty(o.Allocated);
    }

    [Fact]
    public void A_write_bio_entering_with_bi_bvec_done_sends_the_device_only_the_bytes_after_it()
    {
        // bi_iter.bi_bvec_done 0x100 on entry; the one bounce bvec holds 0x200 bytes and bi_size is 0x200: the
        // device's walk from (0, 0x100) runs out of bvecs with 0x100 bytes still counted and stops there.
        var bio = Bio.Empty(4) with { Done = 0x100 };
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal(0x100, o.Device.Length);
        Assert.Equal(o.Submitted.Skip(0x100), o.Device);
    }

    [Fact]
    public void A_bounce_write_from_a_bvec_that_starts_mid_page_and_runs_past_the_memmap_end_is_fatal_at_the_wild_page()
    {
        // bv_page 0x3f, offset 0x800, 0x1000 bytes: the copy's second piece is on bv_page + 1, past the last present
        // section. The folio was taken before the copy.
        var it = IterDesc.ForBvec([new BvecDesc(0x3f, 0x1000, 0x800)]);
        var o = RunBoth(Bouncing(), Io(Bio.Empty(4), it));
        AssertFatalAtWildPage(o);
        Assert.Equal([new Folio(0x30, 0)], o.Taken);
    }

    [Fact]
    public void A_bounce_read_into_a_cloned_bio_with_bytes_already_counted_copies_back_short_and_warns()
    {
        // A cloned bio is not held to bi_size == sum of bv_len. Its bi_size 0x200 goes into bvec 0's length: 0x400
        // bytes in the bounce folio for 0x200 bytes of user bvecs, so copy_to_iter comes back short.
        var bio = new Bio { MaxVecs = 4, Size = 0x200, Flags = BioFlags.Cloned };
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200, source: false)));
        Assert.Equal([0L], o.Returns);
        Assert.Equal([Diag.UnbounceShortCopy], o.Warnings);
        Assert.Equal([new BvecDesc(0x30, 0x400, 0), new BvecDesc(0x20, 0x200, 0)], o.Bio!.Vecs);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_zero_length_user_bvec_of_a_PINNED_bounce_read_is_skipped_at_completion()
    {
        // A cloned table with bi_vcnt 1: bvec 0 is the bounce slot, bvec 1 a zero-length user bvec the extraction
        // appends after. It spans no page, so nothing is checked, dirtied or unpinned for it.
        var bio = new Bio { MaxVecs = 3, Vecs = [new BvecDesc(0x10, 0, 0), new BvecDesc(0x11, 0, 0)], Vcnt = 1, Flags = BioFlags.Cloned };
        var o = RunBoth(Bouncing(), Io(bio, Ubuf(0, 0x200, source: false)));
        Assert.Equal([0L], o.Returns);
        Assert.Empty(o.Violations);
        Assert.Equal([new BvecDesc(0x30, 0x200, 0), new BvecDesc(0x11, 0, 0), new BvecDesc(0x20, 0x200, 0)], o.Bio!.Vecs);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void Releasing_a_PINNED_bounce_reads_user_bvec_that_runs_past_the_memmap_end_is_fatal_before_any_unpin()
    {
        // User bvec (0x3f, offset 0x800, 0x1000 bytes) spans bv_page and bv_page + 1, past the last present section.
        // The I/O fails, so nothing is copied back: the release checks every page of the bvec before it unpins one,
        // and the extracted page 0x20 is still pinned when the run ends.
        var bio = new Bio { MaxVecs = 3, Vecs = [new BvecDesc(0x10, 0, 0), new BvecDesc(0x3f, 0x1000, 0x800)], Vcnt = 1, Flags = BioFlags.Cloned };
        var op = new DirectIoOp(bio, Ubuf(0, 0x200, source: false), 0x1000, 0x200, [], true, false);
        var o = RunBoth(Bouncing(), op);
        AssertFatalAtWildPage(o);
        Assert.Equal([new PinCount(0x20, 1)], o.Pins);
    }

    [Fact]
    public void A_store_in_flight_from_a_mapped_page_into_an_unmapped_one_is_fatal_at_the_first_unmapped_byte()
    {
        // The store's first 0x800 bytes land on page 0x21 (user offset 0x1000); the fault is at UserBase + 0x2000.
        var o = RunBoth(Bouncing(), Io(Bio.Empty(4), Ubuf(0, 0x200), new UserWrite(UserBase + 0x1800, 0x1000, 7)));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.UserStoreUnmapped(UserBase + 0x2000)], o.Violations);
    }

    [Fact]
    public void Pinning_the_last_page_of_the_address_space_is_EOVERFLOW()
    {
        // start + nr_pages * PAGE_SIZE wraps to 0: check_add_overflow gives -EOVERFLOW before TASK_SIZE_MAX is looked at.
        var it = IterDesc.ForUbuf(0xffff_ffff_ffff_f000, 0xfff);
        var o = RunBoth(Tiny(user: [0x20]), new ExtractPagesOp(it, 0xfff, 1, false));
        Assert.Equal([-Errno.EOVERFLOW], o.Returns);
        Assert.Empty(o.Pages);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_user_mapping_that_ends_at_TASK_SIZE_MAX_pins_its_last_page_and_nothing_past_it()
    {
        ulong top = Tiny().Machine.TaskSizeMax;
        var w = Valid(Tiny() with { User = new AddressSpace(top - PS, [VirtPage.Map(0x20)]) });
        // [top - PAGE_SIZE, top): the end is exactly TASK_SIZE_MAX, which is not above it.
        var o = RunBoth(w, new ExtractPagesOp(IterDesc.ForUbuf(top - PS, PS), PS, 1, false));
        Assert.Equal([0x1000L], o.Returns);
        Assert.Equal([0x20UL], o.Pages);
        // Two pages from there end above TASK_SIZE_MAX: -EFAULT before the first page is pinned.
        var past = RunBoth(w, new ExtractPagesOp(IterDesc.ForUbuf(top - PS, 2 * PS), 2 * PS, 2, false));
        Assert.Equal([-Errno.EFAULT], past.Returns);
        Assert.Empty(past.Pages);
        Assert.Empty(past.Pins);
    }

    [Fact]
    public void A_user_mapping_at_the_bottom_of_the_address_space_pins_from_its_first_page()
    {
        // addr - nr_pages * PAGE_SIZE would wrap here; the end, 0x3000, is far below TASK_SIZE_MAX.
        var w = Valid(Tiny() with { User = new AddressSpace(PS, [VirtPage.Map(0x20)]) });
        var o = RunBoth(w, new ExtractPagesOp(IterDesc.ForUbuf(PS, 2 * PS), 2 * PS, 2, false));
        Assert.Equal([0x1000L], o.Returns);
        Assert.Equal([0x20UL], o.Pages);
    }

    [Fact]
    public void An_iovec_iterator_counting_bytes_its_segments_do_not_have_hits_the_first_iovec_segment_BUG()
    {
        var it = new IterDesc { Type = IterType.Iovec, Iov = [new IoVec(UserBase, 0)], Count = 0x100 };
        var o = RunBoth(Tiny(user: [0x20]), new ExtractPagesOp(it, 0x100, 1, false));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.FirstIovecBug], o.Violations);
    }

    [Fact]
    public void Extracting_bvecs_across_a_pgmap_start_and_past_the_memmap_end_is_fatal_at_extraction()
    {
        // Pages 0x3e (plain), 0x3f (FS_DAX pgmap), 0x40 (past the last present section). The page extraction stops at
        // the wild pointer before any bvec is built (without that check the pgmap test would end the first bvec at
        // 0x3f, revert, and never look at the wild pointer).
        var w = Tiny(pgmaps: [new Pgmap(1, MemoryType.FsDax, 0x3f, 1, null)]);
        var it = IterDesc.ForBvec([new BvecDesc(0x3e, 0x3000, 0)]);
        var o = RunBoth(w, new ExtractBvecsOp(it, [], 4, 0x3000, 0, false));
        AssertFatalAtWildPage(o);
    }

    private sealed record NoSuchOp : Operation
    {
        public override string Kind => "no_such_op";
    }

    [Fact]
    public void An_operation_neither_model_knows_is_a_contract_violation_in_both()
    {
        var o = RunBoth(Tiny(), new NoSuchOp());
        Assert.Equal([Diag.UnknownOperation(nameof(NoSuchOp))], o.Violations);
        Assert.Empty(o.Returns);
    }

    /// <summary>
    /// Two-page sections (SECTION_SIZE_BITS 13) of 40-byte struct pages, section 1 alone at 0x100040 (the lowest base that is
    /// a multiple of the 80-byte memmap): sparse_encode_mem_map biases it by 2 · 40 to 0xffff0, whose bit 4 is
    /// SECTION_TAINT_ZONE_DEVICE with ZONE_DEVICE (SECTION_MAP_LAST_BIT 5) and an address bit without it (4).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_biased_memmap_with_bit_4_set_collides_with_the_flags_only_under_ZONE_DEVICE(bool zoneDevice)
    {
        var m = ArchPresets.Get("tiny-sparsemem") with
        {
            SectionSizeBits = 13, MaxPageOrder = 1, StructPageSize = 40, ZoneDevice = zoneDevice, PciP2pdma = zoneDevice,
        };
        var w = Valid(World.Create(m, [1], MemmapPlacement.NodeBuffer(0x100040)));
        var o = RunBoth(w, Adds(Bio.Empty(4), (2, 0, 0x100)));
        if (zoneDevice)
        {
            Assert.Empty(o.Returns); // pfn_to_page(2) is fatal before bio_add_page returns
            Assert.Equal([Diag.SectionMapFlags(1, 0xffff0)], o.Violations);
        }
        else
        {
            Assert.Equal([0x100L], o.Returns);
            Assert.Equal([new BvecDesc(2, 0x100, 0)], o.Bio!.Vecs);
            Assert.Empty(o.Violations);
        }
    }

    /// <summary>VMEMMAP sections 2^20 apart get no dense present-section table: pfn_to_page finds them through _sparse.</summary>
    [Fact]
    public void Vmemmap_sections_far_apart_are_present_through_the_sparse_lookup()
    {
        var w = Tiny(MemoryModel.SparsememVmemmap, sections: [0, 1UL << 20]); // 1 GiB of (untouched) memmap
        ulong far = (1UL << 20) * 16 + 5;
        var o = RunBoth(w, Adds(Bio.Empty(4), (3, 0, 0x100), (far, 0, 0x100)));
        Assert.Equal([0x100L, 0x100L], o.Returns);
        Assert.Equal([new BvecDesc(3, 0x100, 0), new BvecDesc(far, 0x100, 0)], o.Bio!.Vecs);
        Assert.Empty(o.Violations);
    }

    /// <summary>
    /// One-page sections (SECTION_SIZE_BITS = PAGE_SHIFT) of 40-byte struct pages, section 2 alone at 0x100018 (a
    /// multiple of its 40-byte memmap, not of a page): sparse_encode_mem_map biases it by 2 · 40 to 0xfffc8, whose
    /// bit 3 is a section_mem_map flag bit, so the kernel BUG()s. The check must see the memmap's real low bits.
    /// </summary>
    [Fact]
    public void A_memmap_base_that_is_not_page_aligned_keeps_its_low_bits_for_the_section_map_check()
    {
        var m = ArchPresets.Get("tiny-sparsemem") with { SectionSizeBits = 12, MaxPageOrder = 0, StructPageSize = 40 };
        var w = Valid(World.Create(m, [2], MemmapPlacement.NodeBuffer(0x100018)));
        var o = RunBoth(w, Adds(Bio.Empty(4), (2, 0, 0x100)));
        Assert.Empty(o.Returns);
        Assert.Equal([Diag.SectionMapFlags(2, 0xfffc8)], o.Violations);
    }

    [Fact]
    public void A_bounce_read_into_a_bio_with_bvecs_in_use_is_refused_by_the_validator()
    {
        // The kernel would read bi_io_vec[bi_vcnt], which this bio does not describe; a cloned table with a bvec
        // past bi_vcnt describes it and is accepted.
        var w = Bouncing();
        var owned = new DirectIoOp(Bio.With(2, new BvecDesc(0x10, 0x200, 0)), Ubuf(0, 0x200, source: false), 0x1000, 0x200, [], false, false);
        var e = Assert.Single(OperationValidator.Validate(w, owned, "$.op"));
        Assert.Equal("$.op.bio.vcnt", e.Path);
        Assert.Contains("bi_io_vec[1 .. bi_vcnt]", e.Reason);
        var write = owned with { Iter = Ubuf(0, 0x200) };
        Assert.Empty(OperationValidator.Validate(w, write, "$.op"));
        var cloned = owned with { Bio = new Bio { MaxVecs = 3, Vecs = [new BvecDesc(0x10, 0, 0), new BvecDesc(0x11, 0, 0)], Vcnt = 1, Flags = BioFlags.Cloned } };
        Assert.Empty(OperationValidator.Validate(w, cloned, "$.op"));
    }

    // ---------------------------------------------------------------- trap buffers (CF-2)

    private static (OptKernel<Wide, BioVec64, ulong> K, RunLog Log, MemmapArena A) Kernel(World w)
    {
        var log = new RunLog();
        var a = new MemmapArena(w, log, true);
        return (new OptKernel<Wide, BioVec64, ulong>(w, log, a), log, a);
    }

    private static void Smash(Span<byte> usable, int at)
        => Unsafe.Add(ref MemoryMarshal.GetReference(usable), at) = 0;

    [Fact]
    public void A_byte_written_before_a_buffer_is_reported_with_its_name()
    {
        var (k, log, a) = Kernel(Tiny());
        using var _ = a;
        var b = k.NewBuffer("test buffer", 32);
        Smash(b.Bytes, -1);
        k.CheckAndFree();
        Assert.Equal([Diag.TrapTouched("test buffer", -1)], log.Violations);
    }

    [Fact]
    public void A_byte_written_after_a_buffer_is_reported_and_every_buffer_is_checked()
    {
        var (k, log, a) = Kernel(Tiny());
        using var _ = a;
        var clean = k.NewBuffer("clean", 8);
        var b = k.NewBuffer("second", 8);
        Smash(b.Bytes, 8 + 3);
        k.CheckAndFree();
        Assert.Equal([Diag.TrapTouched("second", 11)], log.Violations);
    }

    [Fact]
    public void The_bio_and_iterator_bvec_arrays_are_trap_buffers_named_in_the_report()
    {
        var (k, log, a) = Kernel(Tiny());
        using var _ = a;
        var bio = k.LoadBio(Bio.Empty(2));
        Smash(MemoryMarshal.AsBytes(k.BioVecs(bio)), -2);
        k.LoadIterBvecs(IterDesc.ForBvec([new BvecDesc(0x10, 0x100, 0)]));
        var borrowed = new BioState { BorrowedFrom = 0 };
        Smash(MemoryMarshal.AsBytes(k.BioVecs(borrowed)), 16);
        k.CheckAndFree();
        Assert.Equal([Diag.TrapTouched("bio bvec array", -2), Diag.TrapTouched("iterator bvec array", 16)], log.Violations);
    }
}
