using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// Adding pages to a bio: bio_full, bvec_try_merge_page, bvec_try_merge_hw_page, biovec_phys_mergeable,
/// __bio_add_page, bio_add_page, bio_add_folio. block/bio.c and block/blk.h at
/// b539aeacf8cc5e9d8e5d94625d2d9c697a167add ("block: rename bi_bvec_done"), KERNEL-SPEC §1.
/// Pages are struct-page addresses; bvecs are stored with their page as a PFN (a bv_page always names a
/// real struct page; a computed pointer that does not is reported as a contract violation).
/// The historical pgmap policies of bio_add_page and biovec_phys_mergeable (VARIANTS.md add/*, mergeable/*) are
/// selected with <paramref name="variants"/>.
/// </summary>
public sealed class BioAdd(MemoryModelRules mm, Effects fx, KernelVariants? variants = null)
{
    private readonly MachineConfig _m = mm.World.Machine;
    private readonly KernelVariants _v = variants ?? KernelVariants.Mainline;

    /// <summary>
    /// bio_full(bio, len): the bvec array is used up, or adding len would overflow the u32 bi_size
    /// (bi_size &gt; BIO_MAX_SIZE − len). bio_full(bio, 0) is only true through the vector count.
    /// </summary>
    public static bool BioFull(Bio bio, uint len)
    {
        if (bio.Vcnt >= bio.MaxVecs) return true;
        if (bio.Size > BioLimits.BioMaxSize - len) return true;
        return false;
    }

    /// <summary>
    /// xen_biovec_phys_mergeable (drivers/xen/biomerge.c, 2019+ form): with XEN_PAGE_SIZE == PAGE_SIZE the
    /// bus frame of bv's page plus PFN_DOWN(bv_offset + bv_len) must be the bus frame of <paramref name="page"/>
    /// (the page passed in, not page + off / PAGE_SIZE); otherwise never mergeable.
    /// </summary>
    public bool XenBiovecPhysMergeable(BvecDesc bv, ulong page)
    {
        if (!_m.XenPageSizeMatches) return false;
        ulong bfn1 = mm.PfnToBfn(bv.Pfn);
        ulong bfn2 = mm.PfnToBfn(mm.PageToPfn(page));
        return bfn1 + (unchecked(bv.Offset + bv.Len) >> _m.PageShift) == bfn2; // unsigned int sum, as in C
    }

    /// <summary>
    /// bvec_try_merge_page(bv, page, len, off): extend bv when the new bytes start exactly after bv's last
    /// byte physically; a Xen guest adds the bus-frame test; a join that crosses a page boundary is refused
    /// under KMSAN and needs the struct page holding the first new byte to be exactly the one after the
    /// struct page holding bv's last byte (pointer arithmetic from bv_page). Returns the grown bvec or null.
    /// </summary>
    public BvecDesc? TryMergePage(BvecDesc bv, ulong page, uint len, uint off)
    {
        ulong bvPage = mm.PfnToPage(bv.Pfn);
        uint bvEnd = unchecked(bv.Offset + bv.Len); // unsigned int arithmetic in the kernel
        ulong vecEndAddr = unchecked(mm.PageToPhys(bvPage) + bvEnd - 1);
        ulong pageAddr = mm.PageToPhys(page);
        if (unchecked(vecEndAddr + 1) != unchecked(pageAddr + off)) return null;
        if (_m.XenGuest && !XenBiovecPhysMergeable(bv, page)) return null;
        if ((vecEndAddr & _m.PageMask) != (unchecked(pageAddr + off) & _m.PageMask))
        {
            if (_m.Kmsan) return null;
            if (mm.PageAdd(bvPage, bvEnd / (long)_m.PageSize) != mm.PageAdd(page, off / (long)_m.PageSize)) return null;
        }
        return bv with { Len = unchecked(bv.Len + len) };
    }

    /// <summary>
    /// bvec_try_merge_hw_page (integrity metadata only): the bvec start and the new data's last byte must lie
    /// in one segment-boundary window, and len must fit max_segment_size − bv_len; then bvec_try_merge_page.
    /// </summary>
    public BvecDesc? TryMergeHwPage(QueueLimits q, BvecDesc bv, ulong page, uint len, uint off)
    {
        ulong mask = q.SegBoundaryMask;
        ulong bvPhys = mm.PageToPhys(mm.PfnToPage(bv.Pfn)) + bv.Offset;
        ulong last = unchecked(mm.PageToPhys(page) + off + len - 1);
        if ((bvPhys | mask) != (last | mask)) return null;
        if (len > unchecked(q.MaxSegmentSize - bv.Len)) return null; // unsigned: wraps when bv_len > max, as in C
        return TryMergePage(bv, page, len, off);
    }

    /// <summary>
    /// biovec_phys_mergeable(q, v1, v2) (block/blk.h, with the pgmap test of 13920e4b7b78): may two existing
    /// bvecs form one hardware segment? KMSAN never; physically adjacent; same pgmap; the Xen test; one
    /// segment-boundary window. No struct-page contiguity test and no length limit.
    /// </summary>
    public bool BiovecPhysMergeable(QueueLimits q, BvecDesc v1, BvecDesc v2)
    {
        if (_m.Kmsan) return false;
        ulong p1 = mm.PfnToPage(v1.Pfn), p2 = mm.PfnToPage(v2.Pfn);
        ulong a1 = mm.PageToPhys(p1) + v1.Offset, a2 = mm.PageToPhys(p2) + v2.Offset;
        if (a1 + v1.Len != a2) return false;
        if (_v.Mergeable == MergeablePolicy.Pgmap && !mm.ZoneDevicePagesHaveSamePgmap(p1, p2)) return false;
        if (_m.XenGuest && !XenBiovecPhysMergeable(v1, p2)) return false;
        if ((a1 | q.SegBoundaryMask) != (unchecked(a2 + v2.Len - 1) | q.SegBoundaryMask)) return false;
        return true;
    }

    /// <summary>
    /// The caller's side of the bvec contract: the bytes [off, off + len) counted from <paramref name="page"/>
    /// must sit in struct pages reached by incrementing the page pointer (page + off / PAGE_SIZE onward),
    /// all of one pgmap (the merge helpers only guard the join, mmzone.h explains why a segment must not mix).
    /// The kernel cannot check it; the model reports a caller that breaks it (the add still happens).
    /// </summary>
    private void CheckCallerRange(string fn, ulong page, uint len, uint off)
    {
        ulong ps = _m.PageSize;
        ulong first = off / ps, last = len == 0 ? first : ((ulong)off + len - 1) / ps;
        if (!mm.RangeContiguous(page, first, last))
            fx.Breach(Diag.RangeNotContiguous(fn, mm.PageToPfn(page), len, off));
        else if (mm.PgmapBoundaryInside(mm.PageToPfn(page) + first, mm.PageToPfn(page) + last))
            fx.Breach(Diag.RangeCrossesPgmap(fn, mm.PageToPfn(page), len, off));
    }

    /// <summary>
    /// __bio_add_page: append a bvec, never merge. A cloned bio warns and goes on; a full bio warns and, in
    /// C, writes past the array or wraps bi_size: modelled as a fatal contract violation. A P2PDMA page
    /// sets REQ_NOMERGE. The bvec is stored verbatim (off may be ≥ PAGE_SIZE, len may be 0).
    /// </summary>
    public Bio RawAddPage(Bio bio, ulong page, uint len, uint off)
    {
        if (bio.Has(BioFlags.Cloned)) fx.Warn(Diag.RawAddCloned);
        if (BioFull(bio, len))
        {
            fx.Warn(Diag.RawAddFull);
            if (bio.Vcnt >= bio.MaxVecs)
                throw fx.Fatal(Diag.RawAddPastArray(bio.Vcnt, bio.MaxVecs));
            fx.Breach(Diag.RawAddWrapsSize(len, bio.Size));
        }
        CheckCallerRange("__bio_add_page", page, len, off);
        return Append(bio, page, len, off);
    }

    /// <summary>
    /// The body of __bio_add_page once its warnings are past: store the bvec verbatim, REQ_NOMERGE for P2PDMA
    /// (since 38446014648c; the add/merge-guard era did not set it).
    /// </summary>
    private Bio Append(Bio bio, ulong page, uint len, uint off)
    {
        bool nomerge = mm.IsPciP2pdmaPage(page) && _v.AddPolicy != AddPgmapPolicy.MergeGuard;
        var opf = nomerge ? bio.Opf | BioOpf.NoMerge : bio.Opf;
        var bv = new BvecDesc(mm.PageToPfn(page), len, off);
        return bio with
        {
            Vecs = bio.Vecs.Take(bio.Vcnt).Add(bv),
            Vcnt = (ushort)(bio.Vcnt + 1),
            Size = unchecked(bio.Size + len),
            Opf = opf,
            P2pPgmap = _v.Bvec == BvecLayout.Phys ? P2pRecord(bio) ?? P2pClass(page) : bio.P2pPgmap,
        };
    }

    /// <summary>bvec/phys: what the bio's P2P record says about a page: 0 for non-P2P memory, else its PCI_P2PDMA pgmap id.</summary>
    private int P2pClass(ulong page) => mm.IsPciP2pdmaPage(page) ? mm.PagePgmap(page)!.Value.Id : 0;

    /// <summary>bvec/phys: the bio's P2P record; a bio handed in with bvecs but no record gets the one its first bvec would have set.</summary>
    private int? P2pRecord(Bio bio)
        => bio.P2pPgmap ?? (bio.Vcnt > 0 ? P2pClass(mm.PfnToPage(bio.Vecs[0].Pfn)) : null);

    /// <summary>
    /// bio_add_page, newest order of checks (KERNEL-SPEC §1.6): cloned → 0 with a warning; len 0 → 0 with a
    /// warning (643893647cac); bi_size would pass BIO_MAX_SIZE → 0; with a last bvec: P2PDMA-incompatible
    /// pages → 0 (reject even with room), same pgmap and a successful merge → merged; then a full array → 0;
    /// else a new bvec. Merge before capacity: a full bio still accepts a merge. The return type is int: a
    /// length of 2 GiB or more that was added comes back negative.
    /// The pgmap step follows the selected <see cref="AddPgmapPolicy"/>: mainline refuses P2PDMA-incompatible
    /// pages and merges only within one pgmap; add/reject-any-pgmap refuses every pgmap change; add/merge-guard and
    /// add/separate-any-pgmap refuse none and only keep the merge within one pgmap. Before 643893647cac
    /// (<see cref="KernelVariants.RefuseZeroLength"/> false) a zero-length add goes on: a no-op merge or an empty
    /// bvec, and the return is 0 either way. With a page-less bio_vec (bvec/phys) the last bvec has no page to compare:
    /// the refusal asks the bio's P2P record instead (non-P2P, or P2P of one pgmap); the merge rules are kept as they are.
    /// </summary>
    public (Bio Bio, int Added) AddPage(Bio bio, ulong page, uint len, uint off)
    {
        if (bio.Has(BioFlags.Cloned))
        {
            fx.Warn(Diag.BioAddPageCloned);
            return (bio, 0);
        }
        if (len == 0 && _v.RefuseZeroLength)
        {
            fx.Warn(Diag.BioAddPageZeroLen);
            return (bio, 0);
        }
        if (bio.Size > BioLimits.BioMaxSize - len) return (bio, 0);
        if (bio.Vcnt > 0)
        {
            var last = bio.Vecs[bio.Vcnt - 1];
            ulong lastPage = mm.PfnToPage(last.Pfn);
            bool refuse = _v.Bvec == BvecLayout.Phys ? P2pRecord(bio) != P2pClass(page) : _v.AddPolicy switch
            {
                AddPgmapPolicy.Compatible => !mm.ZoneDevicePagesCompatible(lastPage, page),
                AddPgmapPolicy.RejectAnyPgmap => !mm.ZoneDevicePagesHaveSamePgmap(lastPage, page),
                _ => false,
            };
            if (refuse) return (bio, 0);
            if (mm.ZoneDevicePagesHaveSamePgmap(lastPage, page) && TryMergePage(last, page, len, off) is { } merged)
            {
                CheckCallerRange("bio_add_page", page, len, off);
                return (bio with { Vecs = bio.Vecs.SetItem(bio.Vcnt - 1, merged), Size = bio.Size + len }, unchecked((int)len));
            }
        }
        if (bio.Vcnt >= bio.MaxVecs) return (bio, 0);
        CheckCallerRange("bio_add_page", page, len, off);
        return (Append(bio, page, len, off), unchecked((int)len));
    }

    /// <summary>
    /// bio_add_folio(bio, folio, len, off): false when len &gt; BIO_MAX_SIZE; otherwise bio_add_page on
    /// folio_page(folio, off / PAGE_SIZE) at off % PAGE_SIZE, "added" when that returned more than 0. No
    /// check that off or off + len lie inside the folio (26064d3e2b4d); a page pointer past the folio is
    /// only a problem where bio_add_page dereferences it. Because bio_add_page returns an int, a 2–4 GiB
    /// range that was added reports false.
    /// </summary>
    public (Bio Bio, bool Added) AddFolio(Bio bio, ulong folio, ulong len, ulong off)
    {
        if (len > BioLimits.BioMaxSize) return (bio, false);
        ulong page = mm.FolioPage(folio, off >> _m.PageShift);
        var (b, added) = AddPage(bio, page, (uint)len, (uint)(off & ~_m.PageMask));
        return (b, added > 0);
    }
}
