using BioModel.Core;
using BioModel.Reference;
using static BioModel.Tests.MutationKernelTests;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// Cases the first mutation run over the reference model's bounce part (scripts/mutation.sh --part bounce) showed no
/// test decided: the dirty marking of a zero-copy read (variant bounce/none), a zero-length user bvec of a bounced
/// read completed with mark_dirty, and the bvec table the device walks for a bio that bio_iov_bvec_set turned into a
/// clone; and the one test that names iov_iter_extract_bvecs' no-room breach (nr_vecs == max_vecs). Mainline cases
/// run in both models (the outcomes must be equal); the bounce/none ones exist in the reference model only (the
/// optimized implementation is mainline). Values worked out by hand.
/// </summary>
public sealed class MutationReferenceTests
{
    private static Outcome RunVariant(Variant v, World w, Operation op) => new ReferenceModel(v.Kernel, v.Id).Run(w, op);

    private static DirectIoOp Read(Bio bio, IterDesc it, bool ioError, bool markDirty)
        => Io(bio, it) with { IoError = ioError, MarkDirty = markDirty };

    [Fact]
    public void A_zero_copy_read_with_mark_dirty_dirties_the_folio_of_every_user_page_it_filled()
    {
        // bounce/none: bio_iov_iter_get_pages pins PFNs 0x20 and 0x21 (0x1800 bytes from offset 0x400); the device
        // fills them, and the zero-copy completion of a successful read asked to dirty marks both folios dirty,
        // then releases the pins.
        var o = RunVariant(Variants.BounceNone, Bouncing(), Read(Bio.Empty(4), Ubuf(0x400, 0x1800, source: false), false, true));
        Assert.Equal([0L], o.Returns);
        Assert.Equal([0x20UL, 0x21UL], o.Dirty);
        Assert.Empty(o.Pins);
        Assert.Empty(o.Violations);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void A_zero_copy_read_dirties_nothing_when_the_I_O_fails_or_mark_dirty_is_off(bool ioError, bool markDirty)
    {
        var o = RunVariant(Variants.BounceNone, Bouncing(), Read(Bio.Empty(4), Ubuf(0x400, 0x1800, source: false), ioError, markDirty));
        Assert.Equal([0L], o.Returns);
        Assert.Empty(o.Dirty);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_zero_length_user_bvec_of_a_PINNED_bounce_read_completed_with_mark_dirty_dirties_only_the_filled_page()
    {
        // As A_zero_length_user_bvec_of_a_PINNED_bounce_read_is_skipped_at_completion, with mark_dirty: user bvec
        // (0x11, len 0) spans no page, so it has no first page whose folio could be marked; the extracted (0x20,
        // 0x200) is marked and unpinned.
        var bio = new Bio { MaxVecs = 3, Vecs = [new BvecDesc(0x10, 0, 0), new BvecDesc(0x11, 0, 0)], Vcnt = 1, Flags = BioFlags.Cloned };
        var o = RunBoth(Bouncing(), Read(bio, Ubuf(0, 0x200, source: false), false, true));
        Assert.Equal([0L], o.Returns);
        Assert.Equal([0x20UL], o.Dirty);
        Assert.Empty(o.Violations);
        Assert.Empty(o.Pins);
    }

    [Fact]
    public void A_zero_copy_write_of_a_BVEC_iterator_into_a_bio_with_a_bvec_in_use_sends_the_whole_shared_table()
    {
        // bounce/none, a BVEC source of two 0x200-byte bvecs, an entry bio with bi_max_vecs 4 and one bvec in use:
        // bio_iov_bvec_set WARNs (bi_max_vecs != 0), shares the iterator's table, sets bi_size 0x400 and the CLONED
        // flag, and leaves bi_vcnt at 1 (the newest block/bio.c no longer sets it, KERNEL-SPEC §3.8). The device walks
        // bi_io_vec by bi_iter alone, so it reads all 0x400 bytes of both bvecs, not just the first bi_vcnt.
        var it = IterDesc.ForBvec([new BvecDesc(0x10, 0x200, 0), new BvecDesc(0x11, 0x200, 0)]);
        var bio = Bio.With(4, new BvecDesc(0x12, 0x200, 0));
        var o = RunVariant(Variants.BounceNone, Bouncing(), Io(bio, it));
        Assert.Equal([0L], o.Returns);
        Assert.Equal([Diag.BvecSetHasVecs], o.Warnings);
        Assert.Equal(1, o.Bio!.Vcnt);
        Assert.True(o.Bio.Has(BioFlags.Cloned));
        Assert.Equal(0x400, o.Device.Length);
        Assert.Equal(o.Submitted, o.Device);
    }

    [Fact]
    public void Extracting_bvecs_with_no_room_on_entry_is_reported_as_no_room_not_as_a_wrapped_count()
    {
        // nr_vecs == max_vecs == 1: entries_left is 0 without wrapping, so the breach is "no room", not "nr_vecs above
        // max_vecs". want_pages_array then asks for 0 pages (WARN) and the UBUF extraction gives -ENOMEM; the entry's
        // bvec is left as it was and nothing is pinned.
        var entry = new BvecDesc(0x30, 0x200, 0);
        var o = RunBoth(Tiny(user: [0x20]), new ExtractBvecsOp(Ubuf(0, 0x200), [entry], 1, 0x200, 0, false));
        Assert.Equal([Diag.ExtractNoRoom(1)], o.Violations);
        Assert.Equal([Diag.WantPagesZero], o.Warnings);
        Assert.Equal([-Errno.ENOMEM], o.Returns);
        Assert.Equal([entry], o.Bvecs);
        Assert.Empty(o.Pins);
    }
}
