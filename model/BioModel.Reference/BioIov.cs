using BioModel.Core;

namespace BioModel.Reference;

/// <summary>The result of bio_iov_iter_get_pages: 0 or −errno, the bio and the iterator after.</summary>
public sealed record GetPagesResult(long Ret, Bio Bio, IterDesc Iter);

/// <summary>
/// The direct-I/O path: bio_iov_iter_get_pages, bio_iov_bvec_set, the BVEC alignment check,
/// bio_iov_iter_align_down and __bio_release_pages. block/bio.c at
/// b539aeacf8cc5e9d8e5d94625d2d9c697a167add (KERNEL-SPEC §1.10, §3.8), including the newest
/// align-down that unpins only the first page of a dropped bvec (VARIANTS.md aligndown/first-page). The pending
/// all-pages align-down and the ≈6.16–6.18 add-folio extraction loop are selected with <paramref name="variants"/>.
/// </summary>
public sealed class BioIov(MemoryModelRules mm, Effects fx, KernelVariants? variants = null)
{
    private readonly MachineConfig _m = mm.World.Machine;
    private readonly KernelVariants _v = variants ?? KernelVariants.Mainline;
    private readonly Extract _ex = new(mm, fx, variants);

    /// <summary>
    /// __bio_release_pages(bio, mark_dirty): walks the bio per folio piece (bio_for_each_folio_all: the
    /// first piece starts at bv_offset inside bv_page's folio, later pieces at offset 0 of folio_next) and
    /// unpins, in each piece, (offset + length − 1)/PAGE_SIZE − offset/PAGE_SIZE + 1 pages of the folio, in
    /// size_t arithmetic. The model counts pins per page: it unpins exactly those pages. A zero-length
    /// bvec unpins 1 page at a non-zero in-page offset, 0 at a later page start, and wraps at offset 0.
    /// </summary>
    public void ReleasePages(Bio bio)
    {
        ulong ps = _m.PageSize;
        foreach (var bv in bio.InUse)
        {
            ulong page = mm.PfnToPage(bv.Pfn);
            ulong folio = mm.PageFolio(page);
            ulong offset = bv.Offset + ps * (ulong)mm.FolioPageIdx(folio, page);
            ulong remaining = bv.Len;
            ulong length = Math.Min(mm.FolioSize(folio) - offset, remaining);
            while (true)
            {
                ulong n = unchecked((offset + length - 1) / ps - offset / ps + 1);
                ulong head = mm.PageToPfn(folio);
                if (offset >= mm.FolioSize(folio))
                    throw fx.Fatal(Diag.ReleasePastFolio(bv, offset, head, n));
                if (n > (1UL << mm.FolioOrder(folio)))
                    throw fx.Fatal(Diag.ReleaseCountWraps(bv, n, head));
                for (ulong k = 0; k < n; k++) fx.Unpin(head + offset / ps + k);
                remaining -= length;
                if (remaining == 0) break;
                folio = mm.PageAdd(folio, 1L << mm.FolioOrder(folio)); // folio_next
                if (!mm.IsStructPage(folio))
                    throw fx.Fatal(Diag.WildPage(folio));
                offset = 0;
                length = Math.Min(mm.FolioSize(folio), remaining);
            }
        }
    }

    /// <summary>The PFNs of the pages a bvec spans, reached as bvec_advance does: bv_page + offset/PAGE_SIZE, then +1 per page.</summary>
    public IEnumerable<ulong> BvecPages(BvecDesc bv)
    {
        if (bv.Len == 0) yield break;
        ulong ps = _m.PageSize;
        ulong first = bv.Offset / ps, last = ((ulong)bv.Offset + bv.Len - 1) / ps;
        ulong page = mm.PageAdd(mm.PfnToPage(bv.Pfn), (long)first);
        for (ulong k = first; k <= last; k++, page = mm.PageAdd(page, 1))
        {
            if (!mm.IsStructPage(page))
                throw fx.Fatal(Diag.WildPage(page));
            yield return mm.PageToPfn(page);
        }
    }

    /// <summary>
    /// bio_iov_bvec_set: the bio borrows the iterator's bvec array from its current entry (bi_idx 0,
    /// bi_offset = iov_offset, bi_size = count) and becomes BIO_CLONED; bi_vcnt is not set. Warns if the bio
    /// had its own vectors.
    /// </summary>
    public Bio BvecSet(Bio bio, IterDesc it)
    {
        if (bio.MaxVecs != 0) fx.Warn(Diag.BvecSetHasVecs);
        return bio with
        {
            Vecs = it.Bvecs.Skip(it.Index),
            Idx = 0,
            Done = (uint)it.IovOffset,
            Size = (uint)it.Count,
            Flags = bio.Flags | BioFlags.Cloned,
        };
    }

    /// <summary>
    /// bio_iov_bvec_aligned: with CONFIG_DEBUG_KERNEL every multi-page segment reached by the bio's
    /// iterator must have (offset | len) aligned; otherwise only the first segment's offset is checked
    /// (an io_uring registered buffer is the only unchecked user offset, and only in its first segment).
    /// </summary>
    public bool BvecAligned(Bio bio, uint mask)
    {
        var vecs = bio.Vecs;
        if (!_m.DebugKernel)
        {
            if (bio.Idx >= vecs.Length)
            {
                fx.Breach(Diag.BvecAlignedPastEnd);
                if (mask != 0) throw fx.Fatal(Diag.BvecAlignedDecides);
                return true;
            }
            return ((vecs[bio.Idx].Offset + (ulong)bio.Done) & mask) == 0;
        }
        // for_each_mp_bvec: multi-page views while bi_size > 0, advancing by the produced length.
        ulong size = bio.Size, done = bio.Done;
        int idx = bio.Idx;
        while (size > 0)
        {
            if (idx >= vecs.Length) throw fx.Fatal(Diag.BvecAlignedWalksPast);
            var bv = vecs[idx];
            ulong len = Math.Min(size, bv.Len - done);
            ulong off = bv.Offset + done;
            if (((off | len) & mask) != 0) return false;
            size -= len;
            done += len;
            if (done == bv.Len) { idx++; done = 0; }
        }
        return true;
    }

    /// <summary>
    /// bio_iov_iter_align_down(bio, it, &amp;bi_io_vec[bi_vcnt − 1], mask): trims bi_size to a multiple of
    /// mask + 1, reverting the iterator by the excess; drops whole bvecs from the end while the excess
    /// covers them; -EFAULT when no bvec is left. What a PINNED bio unpins depends on the variant:
    /// mainline (aligndown/first-page) unpins ONLY the first page (bv_page) of each dropped bvec and none of the
    /// pages cut off a partly trimmed bvec (the leak of KERNEL-SPEC §3.8); aligndown/all-pages (Tal Zussman,
    /// "[PATCH v6 8/9] block: unpin all pages of a bvec in bio_iov_iter_align_down()") unpins every page a dropped
    /// bvec spans and every page the trim cuts off the last one.
    /// </summary>
    public GetPagesResult AlignDown(Bio bio, IterDesc it, uint mask)
    {
        var r = AlignDownVecs(bio.Vecs.Take(bio.Vcnt), bio.Size, bio.Has(BioFlags.PagePinned), it, mask);
        bio = bio with { Vecs = r.Vecs, Vcnt = (ushort)r.Vecs.Length, Size = r.Size };
        return new GetPagesResult(r.Ret, bio, r.Iter);
    }

    /// <summary>
    /// The body of bio_iov_iter_align_down on the bvecs in use (<paramref name="vecs"/>, the last one being the one
    /// it starts from) and bi_size: returns 0 or -EFAULT, the bvecs left, bi_size and the iterator after. The bounce
    /// read path calls it on the user bvecs that follow bvec 0.
    /// </summary>
    public (long Ret, EqArray<BvecDesc> Vecs, uint Size, IterDesc Iter) AlignDownVecs(EqArray<BvecDesc> vecs, uint size, bool pinned, IterDesc it, uint mask)
    {
        ulong nbytes = size & mask;
        if (nbytes == 0) return (0, vecs, size, it);
        bool all = _v.AlignDown == AlignDownVariant.AllPages;
        it = IovIter.Revert(it, nbytes, _m, fx);
        size -= (uint)nbytes;
        int j = vecs.Length - 1;
        while (nbytes >= vecs[j].Len)
        {
            if (pinned)
            {
                if (all) foreach (var pfn in BvecPages(vecs[j]).ToList()) fx.Unpin(pfn);
                else fx.Unpin(vecs[j].Pfn);
            }
            if (j == 0) return (-Errno.EFAULT, [], size, it);
            nbytes -= vecs[j].Len;
            j--;
        }
        var trimmed = vecs[j] with { Len = vecs[j].Len - (uint)nbytes };
        if (all && pinned)
        {
            var kept = BvecPages(trimmed).ToList();
            foreach (var pfn in BvecPages(vecs[j]).Skip(kept.Count).ToList()) fx.Unpin(pfn);
        }
        return (0, vecs.Take(j + 1).SetItem(j, trimmed), size, it);
    }

    /// <summary>
    /// bio_iov_iter_get_pages(bio, it, mem_align_mask, len_align_mask), newest (KERNEL-SPEC §3.8): a cloned
    /// bio → -EIO with a warning; a BVEC iterator is borrowed as-is (alignment checked, then advanced by
    /// bi_size); otherwise PINNED for user-backed iterators, P2PDMA allowed when the queue takes it, and
    /// iov_iter_extract_bvecs is called until the iterator is empty or the bvec array is full. -EINVAL
    /// releases everything (bi_size and the iterator are left as they are); any other failure keeps what
    /// was added, or returns the error if nothing was. REQ_NOMERGE when the first page is P2PDMA; then
    /// align-down.
    /// </summary>
    public GetPagesResult GetPages(Bio bio, IterDesc it, uint memAlignMask, uint lenAlignMask)
    {
        if (bio.Has(BioFlags.Cloned))
        {
            fx.Warn(Diag.GetPagesCloned);
            return new GetPagesResult(-Errno.EIO, bio, it);
        }
        if (it.Type == IterType.Bvec)
        {
            bio = BvecSet(bio, it);
            if (!BvecAligned(bio, memAlignMask)) return new GetPagesResult(-Errno.EINVAL, bio, it);
            return new GetPagesResult(0, bio, IovIter.Advance(it, bio.Size));
        }
        if (it.UserBacked) bio = bio with { Flags = bio.Flags | BioFlags.PagePinned };
        int flags = bio.Queue.HasBdev && bio.Queue.PciP2pdma ? Extract.IterAllowP2pdma : 0;
        if (_v.Extraction == ExtractionVariant.AddFolio) return GetPagesAddFolio(bio, it, flags, lenAlignMask);
        do
        {
            var r = _ex.ExtractBvecs(it, bio.Vecs.Take(bio.Vcnt), BioLimits.BioMaxSize - bio.Size, bio.MaxVecs, memAlignMask, flags);
            it = r.Iter;
            bio = bio with { Vecs = r.Bvecs, Vcnt = (ushort)r.Bvecs.Length };
            if (r.Ret <= 0)
            {
                if (r.Ret == -Errno.EINVAL)
                {
                    if (bio.Has(BioFlags.PagePinned)) ReleasePages(bio);
                    bio = bio with { Flags = bio.Flags & ~BioFlags.PagePinned, Vcnt = 0, Vecs = [] };
                }
                if (bio.Vcnt == 0) return new GetPagesResult(r.Ret, bio, it);
                break;
            }
            bio = bio with { Size = bio.Size + (uint)r.Ret };
        } while (it.Count > 0 && !BioAdd.BioFull(bio, 0));
        if (mm.IsPciP2pdmaPage(mm.PfnToPage(bio.Vecs[0].Pfn))) bio = bio with { Opf = bio.Opf | BioOpf.NoMerge };
        return AlignDown(bio, it, lenAlignMask);
    }

    /// <summary>
    /// extract/add-folio: the user-page loop of ≈6.16–6.18 (block/bio.c at 20a0e6276edb "block: align the bio after
    /// building it", v6.18, and as quoted by 12da89e8844a on 19 Jan 2026). Rounds of <see cref="AddFolioRound"/> run
    /// while they return 0, the iterator has bytes and the bvec array has room; then, with any bvec in the bio,
    /// align-down's result is returned, otherwise the last round's error. No REQ_NOMERGE here: __bio_add_page sets
    /// it per P2PDMA page in this era.
    /// </summary>
    private GetPagesResult GetPagesAddFolio(Bio bio, IterDesc it, int flags, uint lenAlignMask)
    {
        long ret;
        do
        {
            (ret, bio, it) = AddFolioRound(bio, it, flags);
        } while (ret == 0 && it.Count > 0 && !BioAdd.BioFull(bio, 0));
        if (bio.Vcnt > 0) return AlignDown(bio, it, lenAlignMask);
        return new GetPagesResult(ret, bio, it);
    }

    /// <summary>
    /// One __bio_iov_iter_get_pages round of extract/add-folio: extract up to bi_max_vecs − bi_vcnt pages (at most
    /// UINT_MAX − bi_size bytes; nothing → -EFAULT), then per get_contig_folio_len run call bio_add_page with the
    /// bio_add_page of the time (add/reject-any-pgmap). A refused add raises WARN_ON_ONCE, makes the round return
    /// -EINVAL and skips the revert of the bytes not added: the iterator stays advanced past them. A run that
    /// starts inside a page (in-page offset ≠ 0) and merged into the last bvec drops the pin it duplicated. Pages
    /// not added are released (unpinned when the bio is PINNED).
    /// </summary>
    private (long Ret, Bio Bio, IterDesc It) AddFolioRound(Bio bio, IterDesc it, int flags)
    {
        var add = new BioAdd(mm, fx, _v);
        uint entries = (uint)(bio.MaxVecs - bio.Vcnt);
        var ex = _ex.ExtractPages(it, uint.MaxValue - (ulong)bio.Size, entries, flags);
        if (ex.Ret < 0) return (ex.Ret, bio, ex.Iter);
        if (ex.Ret == 0) return (-Errno.EFAULT, bio, ex.Iter);
        it = ex.Iter;
        var pages = ex.Pages;
        ulong size = (ulong)ex.Ret, offset = ex.Offset0!.Value, left = size;
        int nrPages = (int)IovIter.DivRoundUp(offset + size, _m.PageSize);
        int i = 0;
        long ret = 0;
        bool failed = false;
        while (left > 0)
        {
            var (len, nr) = _ex.GetContigFolioLen(pages, i, left, offset);
            ushort oldVcnt = bio.Vcnt;
            var (b, added) = add.AddPage(bio, pages[i], (uint)len, (uint)offset);
            if (added == 0)
            {
                fx.Warn(Diag.AddFolioRoundRefused);
                ret = -Errno.EINVAL;
                failed = true;
                break;
            }
            bio = b;
            if (bio.Has(BioFlags.PagePinned) && offset != 0 && bio.Vcnt == oldVcnt)
                fx.Unpin(mm.PageToPfn(pages[i]));
            offset = 0;
            left -= len;
            i += nr;
        }
        if (!failed) it = IovIter.Revert(it, left, _m, fx);
        if (bio.Has(BioFlags.PagePinned))
            for (; i < nrPages; i++) fx.Unpin(mm.PageToPfn(pages[i]));
        return (ret, bio, it);
    }
}
