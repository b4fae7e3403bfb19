using BioModel.Core;

namespace BioModel.Optimized;

public sealed partial class OptKernel<W, TBvec, TPtr>
{
    /// <summary>The pages a bvec spans, reached by struct-page increments from bv_page + off / PAGE_SIZE (pinned one by one).</summary>
    public void PinBvecPages(in TBvec bv)
    {
        uint len = W.LenOf(bv), off = W.OffsetOf(bv);
        if (len == 0) return;
        ulong first = off / _ps, last = ((ulong)off + len - 1) / _ps;
        ulong page = _a.Add(W.PageOf(bv), (long)first);
        for (ulong k = first; k <= last; k++, page = _a.Add(page, 1))
        {
            // Stryker disable once statement : _a.Pin(page) reads the record through MemmapArena.Rec, whose RecChecked throws the same WildPage fatal for this page
            if (!_a.IsStructPage(page)) throw _log.Fatal(Diag.WildPage(_a.AddrOf(page)));
            _a.Pin(page);
        }
    }

    /// <summary>__bio_release_pages(bio, false): per folio piece, (offset + length − 1)/PS − offset/PS + 1 pages (size_t arithmetic).</summary>
    private void ReleasePages(BioState bio)
    {
        var vecs = BioVecs(bio);
        for (int v = 0; v < bio.Vcnt; v++)
        {
            ref readonly TBvec bv = ref vecs[v];
            ulong page = W.PageOf(bv);
            ulong folio = _a.PageFolio(page);
            ulong offset = W.OffsetOf(bv) + _ps * (ulong)_a.Diff(page, folio);
            ulong remaining = W.LenOf(bv);
            ulong length = Math.Min(_a.FolioSize(folio) - offset, remaining);
            while (true)
            {
                ulong n = unchecked((offset + length - 1) / _ps - offset / _ps + 1);
                if (offset >= _a.FolioSize(folio))
                    throw _log.Fatal(Diag.ReleasePastFolio(ToDesc(bv), offset, _a.PageToPfn(folio), n));
                if (n > (1UL << _a.FolioOrder(folio)))
                    throw _log.Fatal(Diag.ReleaseCountWraps(ToDesc(bv), n, _a.PageToPfn(folio)));
                ulong p = _a.Add(folio, (long)(offset / _ps));
                for (ulong k = 0; k < n; k++, p = _a.Add(p, 1)) _a.Unpin(p);
                remaining -= length;
                if (remaining == 0) break;
                ulong next = _a.Add(folio, 1L << _a.FolioOrder(folio)); // folio_next
                // Stryker disable once statement : the next folio head is a page the bvec spans, and PINNED entry bvecs were pinned page by page on entry, where a wild page is already fatal
                if (!_a.IsStructPage(next)) throw _log.Fatal(Diag.WildPage(_a.AddrOf(next)));
                folio = next;
                offset = 0;
                length = Math.Min(_a.FolioSize(folio), remaining);
            }
        }
    }

    /// <summary>bio_iov_bvec_set: borrow the iterator's bvec array from its current entry.</summary>
    private void BvecSet(BioState bio, IterState it)
    {
        if (bio.MaxVecs != 0) _log.Warn(Diag.BvecSetHasVecs);
        bio.BorrowedFrom = it.Index;
        bio.Idx = 0;
        bio.Done = (uint)it.IovOffset;
        bio.Size = (uint)it.Count;
        // Stryker disable once assignment : GetPages returns before bio_iov_bvec_set when BIO_CLONED is set, so |= and ^= both set it
        bio.Flags |= BioFlags.Cloned;
        // Stryker disable once boolean : BIO_CLONED was clear (GetPages returned otherwise), so bi_flags differs from the entry and ToDesc rebuilds whatever Untouched says
        bio.Untouched = false;
    }

    /// <summary>bio_iov_bvec_aligned (CONFIG_DEBUG_KERNEL: every multi-page segment; otherwise the first offset only).</summary>
    private bool BvecAligned(BioState bio, IterState it, uint mask)
    {
        var vecs = BioVecs(bio);
        int n = it.SegmentCount - bio.BorrowedFrom;
        if (!_m.DebugKernel)
        {
            if (bio.Idx >= n)
            {
                _log.Breach(Diag.BvecAlignedPastEnd);
                if (mask != 0) throw _log.Fatal(Diag.BvecAlignedDecides);
                return true;
            }
            return ((W.OffsetOf(vecs[bio.Idx]) + (ulong)bio.Done) & mask) == 0;
        }
        ulong size = bio.Size, done = bio.Done;
        int idx = bio.Idx;
        while (size > 0)
        {
            // Stryker disable once equality,statement : on a valid iterator bi_size (= count) is used up by the last bvec (IterDesc.Problems: count <= bytes left), so idx never reaches n while size > 0
            if (idx >= n) throw _log.Fatal(Diag.BvecAlignedWalksPast);
            ref readonly TBvec bv = ref vecs[idx];
            ulong len = Math.Min(size, W.LenOf(bv) - done);
            ulong off = W.OffsetOf(bv) + done;
            if (((off | len) & mask) != 0) return false;
            size -= len;
            done += len;
            if (done == W.LenOf(bv)) { idx++; done = 0; }
        }
        return true;
    }

    /// <summary>bio_iov_iter_align_down: trims bi_size, dropping whole bvecs and unpinning only their first page.</summary>
    private long AlignDown(BioState bio, IterState it, uint mask)
    {
        // Stryker disable once bitwise : AlignDownSpan repeats the test (size & mask == 0 returns 0 and changes nothing); only the rebuild of an equal description differs
        if ((bio.Size & mask) == 0) return 0;
        int vcnt = bio.Vcnt;
        uint size = bio.Size;
        long r = AlignDownSpan(BioVecs(bio), ref vcnt, ref size, bio.Has(BioFlags.PagePinned), it, mask);
        bio.Vcnt = (ushort)vcnt;
        bio.Size = size;
        // Stryker disable once boolean : AlignDownSpan either lowers bi_size (seen by ToDesc's comparison) or changes nothing
        bio.Untouched = false;
        return r;
    }

    /// <summary>bio_iov_iter_get_pages, newest (KERNEL-SPEC §3.8).</summary>
    public long GetPages(BioState bio, IterState it, uint memAlignMask, uint lenAlignMask)
    {
        if (bio.Has(BioFlags.Cloned))
        {
            _log.Warn(Diag.GetPagesCloned);
            return -Errno.EIO;
        }
        if (it.Type == IterType.Bvec)
        {
            BvecSet(bio, it);
            if (!BvecAligned(bio, it, memAlignMask)) return -Errno.EINVAL;
            Advance(it, bio.Size);
            return 0;
        }
        if (it.UserBacked)
        {
            bio.Flags |= BioFlags.PagePinned;
            // Stryker disable once boolean : setting BIO_PAGE_PINNED changes bi_flags unless it was set already, when nothing changed: ToDesc sees either
            bio.Untouched = false;
        }
        int flags = bio.Queue.HasBdev && bio.Queue.PciP2pdma ? IterAllowP2pdma : 0;
        var vecs = BioVecs(bio);
        do
        {
            int nr = bio.Vcnt;
            long ret = ExtractBvecs(it, vecs[..bio.MaxVecs], ref nr, bio.MaxVecs, BioLimits.BioMaxSize - bio.Size, memAlignMask, flags);
            // Stryker disable once equality,boolean : a changed bi_vcnt is seen by ToDesc's comparison, so Untouched matters only when nothing changed
            if (nr != bio.Vcnt) bio.Untouched = false;
            bio.Vcnt = (ushort)nr;
            if (ret <= 0)
            {
                if (ret == -Errno.EINVAL)
                {
                    if (bio.Has(BioFlags.PagePinned)) ReleasePages(bio);
                    bio.Flags &= ~BioFlags.PagePinned;
                    bio.Vcnt = 0;
                    // Stryker disable once boolean : the bio is back to bi_vcnt 0 with the entry's flags only when it was an empty unpinned bio, whose rebuilt description equals the entry
                    bio.Untouched = false;
                }
                if (bio.Vcnt == 0) return ret;
                break;
            }
            bio.Size += (uint)ret;
            // Stryker disable once boolean : ret > 0 here, so bi_size differs from the entry and ToDesc rebuilds whatever Untouched says
            bio.Untouched = false;
        } while (it.Count > 0 && !BioFull(bio, 0));
        if (_a.IsP2pdma(W.PageOf(vecs[0])))
        {
            bio.Opf |= BioOpf.NoMerge;
            // Stryker disable once boolean : REQ_NOMERGE set now changes bi_opf (seen by ToDesc), or it was set already and nothing changed
            bio.Untouched = false;
        }
        return AlignDown(bio, it, lenAlignMask);
    }
}
