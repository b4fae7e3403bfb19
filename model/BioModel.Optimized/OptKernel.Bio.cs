using BioModel.Core;

namespace BioModel.Optimized;

public sealed partial class OptKernel<W, TBvec, TPtr>
{
    private TrapBuffer? _bioVecs;

    /// <summary>The bio's bi_io_vec: its own trap-padded array, or the BVEC iterator's array it borrows.</summary>
    // Stryker disable once conditional : every BioState is made by LoadBio, which sets _bioVecs first: the null arm is never taken
    public Span<TBvec> BioVecs(BioState bio)
        => bio.BorrowedFrom >= 0 ? IterBvecs[bio.BorrowedFrom..] : _bioVecs is null ? default : _bioVecs.As<TBvec>();

    /// <summary>A bio state from its description: bi_io_vec as a native array of max(bi_max_vecs, listed) entries.</summary>
    public BioState LoadBio(Bio d)
    {
        int cap = Math.Max(d.MaxVecs, d.Vecs.Length);
        _bioVecs = NewBuffer("bio bvec array", Math.Max(1, cap) * System.Runtime.InteropServices.Marshal.SizeOf<TBvec>());
        var span = _bioVecs.As<TBvec>();
        for (int i = 0; i < d.Vecs.Length; i++)
            span[i] = W.Make(_a.PfnToPage(d.Vecs[i].Pfn), d.Vecs[i].Len, d.Vecs[i].Offset);
        return new BioState
        {
            MaxVecs = d.MaxVecs, Vcnt = d.Vcnt, Size = d.Size, Idx = d.Idx, Done = d.Done,
            Flags = d.Flags, Opf = d.Opf, Queue = d.Queue,
        };
    }

    /// <summary>The description of a bio: the entry one when nothing changed, else the bvecs in use (or the borrowed table).</summary>
    public Bio ToDesc(BioState bio, Bio entry, IterDesc? iterEntry)
    {
        // Stryker disable once logical : the clauses only matter with Untouched still set, and every path that changes a scalar clears Untouched: then all of them are equal at once
        bool same = bio.MaxVecs == entry.MaxVecs && bio.Vcnt == entry.Vcnt && bio.Size == entry.Size && bio.Idx == entry.Idx &&
                    bio.Done == entry.Done && bio.Flags == entry.Flags && bio.Opf == entry.Opf;
        // Stryker disable once logical : a touched bio whose scalars all equal the entry's has the entry's bvecs in use (no path rewrites bvecs without changing bi_vcnt or bi_size, and a cloned entry is never touched), so the rebuilt description equals the entry
        if (bio.Untouched && same) return entry;
        EqArray<BvecDesc> vecs;
        if (bio.BorrowedFrom >= 0) vecs = iterEntry!.Bvecs.Skip(bio.BorrowedFrom);
        else
        {
            var span = BioVecs(bio);
            var list = new BvecDesc[bio.Vcnt];
            for (int i = 0; i < bio.Vcnt; i++) list[i] = ToDesc(span[i]);
            vecs = list;
        }
        return entry with
        {
            MaxVecs = bio.MaxVecs, Vcnt = bio.Vcnt, Size = bio.Size, Idx = bio.Idx, Done = bio.Done,
            Flags = bio.Flags, Opf = bio.Opf, Vecs = vecs,
        };
    }

    /// <summary>bio_full(bio, len).</summary>
    public static bool BioFull(BioState bio, uint len) => bio.Vcnt >= bio.MaxVecs || bio.Size > BioLimits.BioMaxSize - len;

    /// <summary>xen_biovec_phys_mergeable: bus frame of bv's page + PFN_DOWN(bv_offset + bv_len) (u32 sum) == bus frame of page.</summary>
    private bool XenMergeable(ulong bvPage, uint bvLen, uint bvOff, ulong page)
    {
        if (!_m.XenPageSizeMatches) return false;
        ulong bfn1 = _f.Bfn(_a.PageToPfn(bvPage));
        ulong bfn2 = _f.Bfn(_a.PageToPfn(page));
        // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
        return bfn1 + (unchecked(bvOff + bvLen) >> _m.PageShift) == bfn2;
    }

    /// <summary>bvec_try_merge_page: grows <paramref name="bv"/> in place when the merge rules allow.</summary>
    public bool TryMergePage(ref TBvec bv, ulong page, uint len, uint off)
    {
        ulong bvPage = W.PageOf(bv);
        uint bvLen = W.LenOf(bv), bvOff = W.OffsetOf(bv);
        uint bvEnd = unchecked(bvOff + bvLen);
        ulong vecEndAddr = unchecked(_a.PageToPhys(bvPage) + bvEnd - 1);
        ulong pageAddr = _a.PageToPhys(page);
        if (unchecked(vecEndAddr + 1) != unchecked(pageAddr + off)) return false;
        if (_xen && !XenMergeable(bvPage, bvLen, bvOff, page)) return false;
        if ((vecEndAddr & _pageMask) != (unchecked(pageAddr + off) & _pageMask))
        {
            if (_kmsan) return false;
            // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
            if (_a.Add(bvPage, bvEnd >> _pshift) != _a.Add(page, off >> _pshift)) return false;
        }
        W.SetLen(ref bv, unchecked(bvLen + len));
        return true;
    }

    /// <summary>bvec_try_merge_hw_page: one segment-boundary window, max_segment_size, then bvec_try_merge_page.</summary>
    public bool TryMergeHwPage(QueueLimits q, ref TBvec bv, ulong page, uint len, uint off)
    {
        ulong mask = q.SegBoundaryMask;
        ulong bvPhys = _a.PageToPhys(W.PageOf(bv)) + W.OffsetOf(bv);
        ulong last = unchecked(_a.PageToPhys(page) + off + len - 1);
        if ((bvPhys | mask) != (last | mask)) return false;
        if (len > unchecked(q.MaxSegmentSize - W.LenOf(bv))) return false;
        return TryMergePage(ref bv, page, len, off);
    }

    /// <summary>biovec_phys_mergeable (block/blk.h with the pgmap test of 13920e4b7b78).</summary>
    public bool BiovecPhysMergeable(QueueLimits q, in TBvec v1, in TBvec v2)
    {
        if (_kmsan) return false;
        ulong p1 = W.PageOf(v1), p2 = W.PageOf(v2);
        ulong a1 = _a.PageToPhys(p1) + W.OffsetOf(v1), a2 = _a.PageToPhys(p2) + W.OffsetOf(v2);
        if (a1 + W.LenOf(v1) != a2) return false;
        if (!_a.SamePgmap(p1, p2)) return false;
        if (_xen && !XenMergeable(p1, W.LenOf(v1), W.OffsetOf(v1), p2)) return false;
        return (a1 | q.SegBoundaryMask) == (unchecked(a2 + W.LenOf(v2) - 1) | q.SegBoundaryMask);
    }

    /// <summary>Struct pages page + first .. page + last are those of pfn(page) + first .. + last (checked at the ends and at section starts).</summary>
    private bool RangeContiguous(ulong page, ulong first, ulong last)
    {
        ulong pfn0 = _a.PageToPfn(page);
        bool Ok(ulong k) => _f.HasMemmap(pfn0 + k) && _a.PfnToPage(pfn0 + k) == _a.Add(page, (long)k);
        if (!Ok(first) || !Ok(last)) return false;
        ulong pps = _m.PagesPerSection;
        // Stryker disable once equality : a section starting exactly at pfn0 + last: Ok(last) was checked above and Ok(start − 1) lies in a section whose own start (or first) was checked, and a section's memmap is one array
        for (ulong start = (pfn0 + first) / pps * pps + pps; start <= pfn0 + last; start += pps)
            // Stryker disable once arithmetic : start + 1 is in the same section as start (one memmap array), so Ok(start + 1) == Ok(start); Ok(start − 1) is implied by the previous section's check
            if (!Ok(start - pfn0) || !Ok(start - pfn0 - 1)) return false;
        return true;
    }

    private bool PgmapBoundaryInside(ulong first, ulong last)
    {
        if (!_m.ZoneDevice) return false;
        foreach (var pg in _w.Pgmaps)
            if ((pg.Start > first && pg.Start <= last) || (pg.End > first && pg.End <= last)) return true;
        return false;
    }

    /// <summary>The caller's side of the bvec contract (reported, not enforced, as in the reference).</summary>
    private void CheckCallerRange(string fn, ulong page, uint len, uint off)
    {
        // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
        ulong first = (ulong)off >> _pshift, last = len == 0 ? first : ((ulong)off + len - 1) >> _pshift;
        // Within the page itself there is nothing to check: it is its own range and no pgmap starts inside it.
        // Stryker disable once statement : without it RangeContiguous(page, 0, 0) is Ok(0), true for any struct page, and no pgmap boundary lies strictly inside [pfn, pfn]: no report either way (a shortcut only)
        if (last == 0) return;
        if (!RangeContiguous(page, first, last))
            _log.Breach(Diag.RangeNotContiguous(fn, _a.PageToPfn(page), len, off));
        else if (PgmapBoundaryInside(_a.PageToPfn(page) + first, _a.PageToPfn(page) + last))
            _log.Breach(Diag.RangeCrossesPgmap(fn, _a.PageToPfn(page), len, off));
    }

    /// <summary>__bio_add_page.</summary>
    public void RawAddPage(BioState bio, ulong page, uint len, uint off)
    {
        if (bio.Has(BioFlags.Cloned)) _log.Warn(Diag.RawAddCloned);
        if (BioFull(bio, len))
        {
            _log.Warn(Diag.RawAddFull);
            if (bio.Vcnt >= bio.MaxVecs) throw _log.Fatal(Diag.RawAddPastArray(bio.Vcnt, bio.MaxVecs));
            _log.Breach(Diag.RawAddWrapsSize(len, bio.Size));
        }
        CheckCallerRange("__bio_add_page", page, len, off);
        Append(bio, page, len, off);
    }

    private void Append(BioState bio, ulong page, uint len, uint off)
    {
        if (_a.IsP2pdma(page)) bio.Opf |= BioOpf.NoMerge;
        _a.PageToPfn(page); // the reference names the page by PFN here: same dereference
        BioVecs(bio)[bio.Vcnt] = W.Make(page, len, off);
        bio.Vcnt++;
        bio.Size = unchecked(bio.Size + len);
        // Stryker disable once boolean : Append always increments bi_vcnt, so ToDesc rebuilds the description whatever Untouched says
        bio.Untouched = false;
    }

    /// <summary>bio_add_page (returns int: a length of 2 GiB or more comes back negative).</summary>
    public int AddPage(BioState bio, ulong page, uint len, uint off)
    {
        if (bio.Has(BioFlags.Cloned))
        {
            _log.Warn(Diag.BioAddPageCloned);
            return 0;
        }
        if (len == 0)
        {
            _log.Warn(Diag.BioAddPageZeroLen);
            return 0;
        }
        if (bio.Size > BioLimits.BioMaxSize - len) return 0;
        if (bio.Vcnt > 0)
        {
            ref TBvec last = ref BioVecs(bio)[bio.Vcnt - 1];
            ulong lastPage = W.PageOf(last);
            var (compatible, samePgmap) = _a.PgmapRelation(lastPage, page);
            if (!compatible) return 0;
            if (samePgmap)
            {
                var copy = last;
                if (TryMergePage(ref copy, page, len, off))
                {
                    CheckCallerRange("bio_add_page", page, len, off);
                    last = copy;
                    bio.Size += len;
                    // Stryker disable once boolean : a merge adds len > 0 to bi_size, so ToDesc rebuilds the description whatever Untouched says
                    bio.Untouched = false;
                    return unchecked((int)len);
                }
            }
        }
        if (bio.Vcnt >= bio.MaxVecs) return 0;
        CheckCallerRange("bio_add_page", page, len, off);
        Append(bio, page, len, off);
        return unchecked((int)len);
    }

    /// <summary>bio_add_folio: bio_add_page on folio_page(folio, off / PAGE_SIZE) at off % PAGE_SIZE, "added" when that returned more than 0.</summary>
    public bool AddFolio(BioState bio, ulong folio, ulong len, ulong off)
    {
        if (len > BioLimits.BioMaxSize) return false;
        // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
        ulong page = _a.Add(folio, (long)(off >> _m.PageShift));
        return AddPage(bio, page, (uint)len, (uint)(off & ~_m.PageMask)) > 0;
    }
}
