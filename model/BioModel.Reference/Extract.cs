using BioModel.Core;

namespace BioModel.Reference;

/// <summary>The result of iov_iter_extract_pages: bytes (or 0 / −errno), the page list, offset0 and the iterator after.</summary>
public sealed record ExtractResult(long Ret, IReadOnlyList<ulong> Pages, ulong? Offset0, IterDesc Iter);

/// <summary>
/// iov_iter_extract_pages and its per-type extractors, get_contig_folio_len and iov_iter_extract_bvecs.
/// lib/iov_iter.c at b0d8d56b7c93ed767eb4f2be9988e7b9dc023566 (KERNEL-SPEC §3.2–§3.6); GUP behaviour from
/// mm/gup.c (checked against the ≈6.15 text 00c010e1: the first failing page gives its error, a later one
/// a short count). Pages are struct-page addresses.
/// </summary>
public sealed class Extract(MemoryModelRules mm, Effects fx, KernelVariants? variants = null)
{
    private readonly BvecLayout _layout = (variants ?? KernelVariants.Mainline).Bvec;

    private readonly MachineConfig _m = mm.World.Machine;
    private readonly World _w = mm.World;

    /// <summary>ITER_ALLOW_P2PDMA.</summary>
    public const int IterAllowP2pdma = 0x01;

    /// <summary>
    /// want_pages_array(size, start, maxpages): min(⌈(size + start) / PAGE_SIZE⌉, maxpages), with a
    /// warning when that is 0 ("caller should have prevented that"). The callers here always pass an array,
    /// so there is no allocation to fail.
    /// </summary>
    public uint WantPagesArray(ulong size, ulong start, uint maxPages)
    {
        ulong count = IovIter.DivRoundUp(size + start, _m.PageSize);
        if (count > maxPages) count = maxPages;
        if (count == 0) fx.Warn(Diag.WantPagesZero);
        return (uint)count;
    }

    /// <summary>
    /// pin_user_pages_fast(addr, n, gup_flags): pins page after page of the user mapping and stops at the
    /// first page it cannot pin: unmapped or VM_IO/PFNMAP (-EFAULT), read-only with FOLL_WRITE (-EFAULT), a
    /// PCI P2PDMA page without FOLL_PCI_P2PDMA (-EREMOTEIO). The first page's error is returned; after
    /// progress the count pinned so far. Before anything is pinned a range that wraps gives -EOVERFLOW
    /// (check_add_overflow) and one ending above TASK_SIZE_MAX -EFAULT.
    /// </summary>
    public long PinUserPagesFast(ulong addr, uint n, bool write, bool p2pdma, List<ulong> pages)
    {
        ulong ps = _m.PageSize;
        if (addr + (ulong)n * ps < addr) return -Errno.EOVERFLOW;
        if (addr + (ulong)n * ps > _m.TaskSizeMax) return -Errno.EFAULT;
        for (uint i = 0; i < n; i++)
        {
            var vp = _w.User.At(addr + i * ps, _m.PageShift);
            long err = 0;
            if (vp.Kind is MappingKind.Unmapped or MappingKind.NoPin) err = -Errno.EFAULT;
            else if (vp.Kind == MappingKind.ReadOnly && write) err = -Errno.EFAULT;
            else
            {
                ulong page = mm.PfnToPage(vp.Pfn);
                if (!p2pdma && mm.IsPciP2pdmaPage(page)) err = -Errno.EREMOTEIO;
                else
                {
                    pages.Add(page);
                    fx.Pin(vp.Pfn);
                    continue;
                }
            }
            return i > 0 ? i : err;
        }
        return n;
    }

    /// <summary>
    /// iov_iter_extract_pages(it, pages, maxsize, maxpages, flags, &amp;offset0): maxsize is clipped to count
    /// and MAX_RW_COUNT; 0 returns 0 without writing offset0; otherwise dispatch on the iterator type.
    /// </summary>
    public ExtractResult ExtractPages(IterDesc it, ulong maxSize, uint maxPages, int flags)
    {
        maxSize = Math.Min(Math.Min(maxSize, it.Count), _m.MaxRwCount);
        if (maxSize == 0) return new ExtractResult(0, [], null, it);
        return it.Type switch
        {
            IterType.Ubuf or IterType.Iovec => ExtractUserPages(it, maxSize, maxPages, flags),
            IterType.Kvec => ExtractKvecPages(it, maxSize, maxPages),
            _ => ExtractBvecPages(it, maxSize, maxPages),
        };
    }

    /// <summary>
    /// iov_iter_extract_user_pages: GUP flags from the direction (FOLL_WRITE for a destination), P2PDMA
    /// permission and nofault; the first byte's address (UBUF: ubuf + iov_offset; IOVEC: the first segment
    /// with bytes left, maxsize clipped to it — one iovec per call); offset0 = addr % PAGE_SIZE; pin
    /// want_pages_array pages; size = min(maxsize, pinned·PAGE_SIZE − offset0); advance by size.
    /// </summary>
    private ExtractResult ExtractUserPages(IterDesc it, ulong maxSize, uint maxPages, int flags)
    {
        bool write = !it.Source;
        bool p2p = (flags & IterAllowP2pdma) != 0;
        // One initializer, not an assignment in each arm of an if: a mutant of the loop below (while (false))
        // left addr unassigned (CS0165), and Stryker's safe mode then dropped every mutant of this method.
        ulong addr = it.Type == IterType.Ubuf ? it.Ubuf + it.IovOffset : FirstIovecSegment(it, ref maxSize);
        ulong offset = addr & ~_m.PageMask;
        uint n = WantPagesArray(maxSize, offset, maxPages);
        if (n == 0) return new ExtractResult(-Errno.ENOMEM, [], offset, it);
        var pages = new List<ulong>();
        long res = PinUserPagesFast(addr & _m.PageMask, n, write, p2p, pages);
        if (res <= 0) return new ExtractResult(res, [], offset, it);
        ulong size = Math.Min(maxSize, (ulong)res * _m.PageSize - offset);
        return new ExtractResult((long)size, pages, offset, IovIter.Advance(it, size));
    }

    /// <summary>
    /// first_iovec_segment: the address of the first iovec byte not yet consumed (segments with nothing left are
    /// skipped), with maxsize clipped to what is left of that segment. Running off the end is a kernel bug
    /// (the iterator's count promised bytes that no segment has).
    /// </summary>
    private ulong FirstIovecSegment(IterDesc it, ref ulong maxSize)
    {
        ulong skip = it.IovOffset;
        int idx = it.Index;
        while (idx < it.SegmentCount && it.Iov[idx].Len - skip == 0)
        {
            skip = 0;
            idx++;
        }
        if (idx >= it.SegmentCount) throw fx.Fatal(Diag.FirstIovecBug);
        ulong len = it.Iov[idx].Len - skip;
        if (maxSize > len) maxSize = len;
        return it.Iov[idx].Base + skip;
    }

    /// <summary>
    /// The page behind a kernel virtual address: vmalloc_to_page inside the vmalloc mapping, virt_to_page in
    /// the direct map. Anything else (or an unmapped vmalloc page, which gives NULL) is a contract violation.
    /// </summary>
    public ulong KernelAddressToPage(ulong kaddr)
    {
        ulong ps = _m.PageSize;
        var k = _w.Kernel;
        if (kaddr >= k.Base && kaddr < k.End(ps))
        {
            var vp = k.At(kaddr, _m.PageShift);
            if (!vp.HasPfn) throw fx.Fatal(Diag.KvecVmallocNull(kaddr));
            return mm.PfnToPage(vp.Pfn);
        }
        if (kaddr >= AddressSpace.PageOffset && kaddr - AddressSpace.PageOffset < (1UL << Math.Min(_m.MaxPhysmemBits, 63)))
        {
            ulong pfn = (kaddr - AddressSpace.PageOffset) >> _m.PageShift;
            if (!mm.World.Facts.HasMemmap(pfn)) throw fx.Fatal(Diag.KvecNoPage(kaddr, pfn));
            return mm.PfnToPage(pfn);
        }
        throw fx.Fatal(Diag.KvecUnmapped(kaddr));
    }

    /// <summary>
    /// iov_iter_extract_kvec_pages: skips segments with nothing left (changing the iterator even if it then
    /// returns 0 or -ENOMEM); one segment per call; fills exactly n entries page by page from the
    /// page-aligned address; size = min(size, n·PAGE_SIZE − offset0); advance. No pins.
    /// </summary>
    private ExtractResult ExtractKvecPages(IterDesc it, ulong maxSize, uint maxPages)
    {
        ulong skip = it.IovOffset, size = 0; // = 0: a mutant with while (false) must still compile (CS0165)
        while (true)
        {
            if (it.NrSegs == 0) return new ExtractResult(0, [], null, it);
            size = Math.Min(maxSize, it.Iov[it.Index].Len - skip);
            if (size > 0) break;
            it = it with { IovOffset = 0, Index = it.Index + 1 };
            skip = 0;
        }
        ulong kaddr = it.Iov[it.Index].Base + skip;
        ulong offset = kaddr & ~_m.PageMask;
        uint n = WantPagesArray(size, offset, maxPages);
        if (n == 0) return new ExtractResult(-Errno.ENOMEM, [], offset, it);
        var pages = new List<ulong>();
        kaddr -= offset;
        for (uint k = 0; k < n; k++) pages.Add(KernelAddressToPage(kaddr + k * _m.PageSize));
        size = Math.Min(size, (ulong)n * _m.PageSize - offset);
        return new ExtractResult((long)size, pages, offset, IovIter.Advance(it, size));
    }

    /// <summary>
    /// iov_iter_extract_bvec_pages: 0 when no bvec is left; steps once over a fully consumed current bvec;
    /// page cap n = want_pages_array(maxsize, iov_offset) (the raw iov_offset, not the in-page offset);
    /// -ENOMEM when n is 0. Then walks single-page pieces: a piece after the first must start at offset 0;
    /// the first gives offset0; each piece's page is listed and its bytes counted; stop after n pages or
    /// when a piece does not end at the page end (it would leave a hole). Advance by size. No pins.
    /// </summary>
    private ExtractResult ExtractBvecPages(IterDesc it, ulong maxSize, uint maxPages)
    {
        ulong ps = _m.PageSize;
        if (it.NrSegs == 0) return new ExtractResult(0, [], null, it);
        ulong skip = it.IovOffset;
        if (it.IovOffset == it.Bvecs[it.Index].Len)
        {
            it = it with { IovOffset = 0, Index = it.Index + 1 };
            skip = 0;
        }
        uint n = WantPagesArray(maxSize, skip, maxPages);
        if (n == 0) return new ExtractResult(-Errno.ENOMEM, [], null, it);
        var pages = new List<ulong>();
        ulong? offset0 = null;
        ulong size = 0;
        // bvec_iter over it.Bvecs[it.Index..] with bi_size = maxsize, bi_offset = skip.
        int bi = 0;
        ulong biSize = maxSize, done = skip;
        while (biSize > 0 && bi < it.NrSegs)
        {
            var bv = it.Bvecs[it.Index + bi];
            // single-page view of the multi-page view at (bi, done)
            ulong mpLen = Math.Min(biSize, bv.Len - done);
            ulong mpOff = bv.Offset + done;
            ulong page = mm.PageAdd(mm.PfnToPage(bv.Pfn), (long)(mpOff / ps));
            ulong off = mpOff % ps;
            ulong len = Math.Min(mpLen, ps - off);
            if (pages.Count > 0)
            {
                if (off != 0) break;
            }
            else offset0 = off;
            if (!mm.IsStructPage(page))
                throw fx.Fatal(Diag.WildPage(page));
            pages.Add(page);
            size += len;
            if (pages.Count >= n) break;
            if (off + len != ps) break;
            // bvec_iter_advance_single(len)
            done += len;
            biSize -= len;
            if (done == bv.Len) { bi++; done = 0; }
        }
        return new ExtractResult((long)size, pages, offset0, IovIter.Advance(it, size));
    }

    /// <summary>
    /// get_contig_folio_len(pages, &amp;nr, left, offset): bytes of one run inside a single folio, starting at
    /// byte <paramref name="offset"/> of pages[0]; never past the folio's end; stops at the first page of
    /// another folio (a COW'd page in a large folio) or whose struct page is not the previous one + 1.
    /// Two different folios are never combined. Returns (length, pages consumed ≥ 1).
    /// </summary>
    public (ulong Len, int Nr) GetContigFolioLen(IReadOnlyList<ulong> pages, int start, ulong left, ulong offset)
    {
        ulong ps = _m.PageSize;
        ulong folio = mm.PageFolio(pages[start]);
        ulong contig = Math.Min(ps - offset, left);
        ulong folioOffset = ps * (ulong)mm.FolioPageIdx(folio, pages[start]) + offset;
        ulong len = Math.Min(mm.FolioSize(folio) - folioOffset, left);
        left -= contig;
        ulong maxPages = IovIter.DivRoundUp(offset + len, ps);
        int i;
        for (i = 1; (ulong)i < maxPages; i++)
        {
            ulong next = Math.Min(ps, left);
            if (start + i >= pages.Count)
                throw fx.Fatal(Diag.ContigPastPages(start + i, pages.Count));
            if (mm.PageFolio(pages[start + i]) != folio || pages[start + i] != mm.PageAdd(pages[start + i - 1], 1))
                break;
            contig += next;
            left -= next;
        }
        return ((uint)contig, i);
    }

    /// <summary>The result of iov_iter_extract_bvecs: bytes or −errno, the whole bvec array up to nr_vecs, the iterator after.</summary>
    public sealed record BvecsResult(long Ret, EqArray<BvecDesc> Bvecs, IterDesc Iter);

    /// <summary>
    /// iov_iter_extract_bvecs(it, bv, max_size, &amp;nr_vecs, max_vecs, mem_align_mask, flags), KERNEL-SPEC §3.5:
    /// alignment probe (-EINVAL); extract pages into the page array parked in the tail of bv (0 → -EFAULT);
    /// then per run: stop where the pgmap differs from the previous bvec (including one present on entry),
    /// else one bvec per get_contig_folio_len run; revert what was not turned into bvecs and unpin the pages
    /// not used. Returns bytes added; 0 only when nr_vecs &gt; 0 on entry and the very first page breaks.
    /// nr_vecs &gt; max_vecs on entry wraps the u16 entry count: a contract violation.
    /// </summary>
    public BvecsResult ExtractBvecs(IterDesc it, EqArray<BvecDesc> bv, ulong maxSize, ushort maxVecs, uint memAlignMask, int flags)
    {
        // The tail page array needs PAGE_PTRS_PER_BVEC >= 2 (a build-time assertion): a page-less bio_vec of 12 bytes on a
        // 64-bit kernel gives 1, so this function as written cannot exist there (VARIANTS.md bvec/phys).
        if (_m.PagePtrsPerBvecIn(_layout) < 2) throw fx.Fatal(Diag.TailArrayDoesNotFit(_m.DescribeBvec(_layout)));
        int nrVecs = bv.Length;
        ushort entriesLeft = unchecked((ushort)(maxVecs - nrVecs)); // unsigned short, wraps
        if (nrVecs > maxVecs)
            fx.Breach(Diag.ExtractNrVecsAboveMax(nrVecs, maxVecs, entriesLeft));
        else if (nrVecs == maxVecs)
            fx.Breach(Diag.ExtractNoRoom(maxVecs));

        // 1. Alignment probe (b0d8d56b), unconditional: the current segment for UBUF/IOVEC/KVEC, every
        //    segment otherwise. With a used-up array iterator it reads past the end of the array; the value
        //    only matters when the mask is non-zero.
        ulong? probe = it.Type is IterType.Ubuf or IterType.Iovec or IterType.Kvec
            ? IovIter.CurrentSegment(it) is { } cur ? cur.Addr | cur.Len : null
            : IovIter.Alignment(it);
        if (probe is null)
        {
            fx.Breach(Diag.ExtractProbePastEnd);
            if (memAlignMask != 0) throw fx.Fatal(Diag.ExtractProbeDecides);
        }
        else if ((probe.Value & memAlignMask) != 0) return new BvecsResult(-Errno.EINVAL, bv, it);

        // 2–3. Extract into the tail-parked page array (at most entries_left pages).
        var ex = ExtractPages(it, maxSize, entriesLeft, flags);
        if (ex.Ret <= 0) return new BvecsResult(ex.Ret == 0 ? -Errno.EFAULT : ex.Ret, bv, ex.Iter);
        if (nrVecs > maxVecs)
            throw fx.Fatal(Diag.ExtractPagesPastArray(ex.Pages.Count, (ulong)nrVecs * (ulong)_m.PagePtrsPerBvec + (ulong)entriesLeft * (ulong)(_m.PagePtrsPerBvec - 1), maxVecs));
        it = ex.Iter;
        ulong size = (ulong)ex.Ret, offset = ex.Offset0!.Value;
        var pages = ex.Pages;
        int nrPages = (int)IovIter.DivRoundUp(offset + size, _m.PageSize);

        // 4. One bvec per run inside a folio; stop at a pgmap change.
        var vecs = bv;
        int i = 0;
        ulong left = size;
        while (left > 0)
        {
            if (vecs.Length > 0 && !mm.ZoneDevicePagesHaveSamePgmap(mm.PfnToPage(vecs[^1].Pfn), pages[i]))
                break;
            var (len, nr) = GetContigFolioLen(pages, i, left, offset);
            vecs = vecs.Add(new BvecDesc(mm.PageToPfn(pages[i]), (uint)len, (uint)offset));
            i += nr;
            left -= len;
            offset = 0;
        }

        // 5. Give back what was not turned into bvecs.
        it = IovIter.Revert(it, left, _m, fx);
        if (it.UserBacked)
            for (; i < nrPages; i++) fx.Unpin(mm.PageToPfn(pages[i]));
        return new BvecsResult((long)(size - left), vecs, it);
    }
}
