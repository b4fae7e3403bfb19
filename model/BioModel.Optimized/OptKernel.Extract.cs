using System.Runtime.InteropServices;
using BioModel.Core;

namespace BioModel.Optimized;

public sealed partial class OptKernel<W, TBvec, TPtr>
{
    public const int IterAllowP2pdma = 0x01;

    /// <summary>want_pages_array with a caller-supplied array.</summary>
    private uint WantPagesArray(ulong size, ulong start, uint maxPages)
    {
        // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
        ulong count = (size + start + _ps - 1) >> _pshift;
        // Stryker disable once equality : count == maxPages assigns the value it already has
        if (count > maxPages) count = maxPages;
        if (count == 0) _log.Warn(Diag.WantPagesZero);
        return (uint)count;
    }

    /// <summary>pin_user_pages_fast into <paramref name="pages"/>: the count pinned, or the first page's error.</summary>
    private long PinUserPagesFast(ulong addr, uint n, bool write, bool p2pdma, Span<TPtr> pages)
    {
        if (addr + (ulong)n * _ps < addr) return -Errno.EOVERFLOW;
        if (addr + (ulong)n * _ps > _m.TaskSizeMax) return -Errno.EFAULT;
        var user = _w.User.Pages.Items;
        ulong ubase = _w.User.Base;
        int shift = _m.PageShift;
        uint i = 0;
        // No addr >= ubase test: below the base, addr - ubase wraps to at least 2^64 - ubase, and the user range
        // ends below TASK_SIZE_MAX, so the index test alone refuses it.
        // Stryker disable once arithmetic,bitwise,logical : only the fast path's guard: + ubase makes it false (the per-page loop below does every page), << and >>> on an unsigned offset below TASK_SIZE_MAX (< 2^52) keep it true only where the run start of the next line is right, and on 32 bits (W.Is64 || ...) PinUserRun returns 0 before it writes (narrow arena)
        if (W.Is64 && ((addr - ubase) >> shift) < (ulong)user.Length)
        {
            // The plain pages in one go (MemmapArena.PinUserRun); the loop below takes what it stops at.
            int from = (int)((addr - ubase) >> shift);
            var ptes = user.AsSpan(from, (int)Math.Min(n, (ulong)(user.Length - from)));
            i = (uint)_a.PinUserRun(ptes, write, MemoryMarshal.Cast<TPtr, ulong>(pages));
        }
        for (; i < n; i++)
        {
            ulong va = addr + i * _ps;
            ulong idx = (va - ubase) >> shift;
            var vp = va >= ubase && idx < (ulong)user.Length ? user[(int)idx] : VirtPage.Hole;
            long err = 0; // every path below assigns it (initialised so that mutants compile: scripts/mutation.sh)
            if (vp.Kind is MappingKind.Unmapped or MappingKind.NoPin) err = -Errno.EFAULT;
            else if (vp.Kind == MappingKind.ReadOnly && write) err = -Errno.EFAULT;
            else
            {
                ulong page = _a.PfnToPageInline(vp.Pfn);
                if (!_a.TryPinUser(page, p2pdma)) err = -Errno.EREMOTEIO;
                else
                {
                    pages[(int)i] = W.ToPtr(page);
                    continue;
                }
            }
            return i > 0 ? i : err;
        }
        return n;
    }

    /// <summary>
    /// iov_iter_extract_pages into <paramref name="pages"/>. Returns bytes or −errno; <paramref name="written"/>
    /// is how many entries were filled, <paramref name="offset0"/> null when not written.
    /// </summary>
    public long ExtractPages(IterState it, Span<TPtr> pages, ulong maxSize, uint maxPages, int flags, out ulong? offset0, out int written)
    {
        offset0 = null;
        written = 0;
        maxSize = Math.Min(Math.Min(maxSize, it.Count), _m.MaxRwCount);
        if (maxSize == 0) return 0;
        switch (it.Type)
        {
            case IterType.Ubuf:
            case IterType.Iovec:
            {
                ulong addr = 0; // assigned on both paths below (initialised so that mutants compile)
                if (it.Type == IterType.Ubuf) addr = it.Ubuf + it.IovOffset;
                else
                {
                    ulong skip = it.IovOffset;
                    int idx = it.Index;
                    while (true)
                    {
                        if (idx >= it.SegmentCount) throw _log.Fatal(Diag.FirstIovecBug);
                        ulong len = it.Iov[idx].Len - skip;
                        if (len > 0)
                        {
                            // Stryker disable once equality : maxSize == len assigns the value it already has
                            if (maxSize > len) maxSize = len;
                            addr = it.Iov[idx].Base + skip;
                            break;
                        }
                        skip = 0;
                        idx++;
                    }
                }
                ulong offset = addr & ~_m.PageMask;
                offset0 = offset;
                uint n = WantPagesArray(maxSize, offset, maxPages);
                if (n == 0) return -Errno.ENOMEM;
                long res = PinUserPagesFast(addr & _m.PageMask, n, !it.Source, (flags & IterAllowP2pdma) != 0, pages);
                // Stryker disable once equality : PinUserPagesFast never returns 0 for n > 0 (a count of at least 1 or a negative errno), so < 0 is the same test
                if (res <= 0) return res;
                written = (int)res;
                ulong size = Math.Min(maxSize, (ulong)res * _ps - offset);
                Advance(it, size);
                return (long)size;
            }
            case IterType.Kvec:
            {
                ulong skip = it.IovOffset, size = 0; // size: assigned in the loop (initialised so that mutants compile)
                while (true)
                {
                    if (it.NrSegs == 0) return 0;
                    size = Math.Min(maxSize, it.Iov[it.Index].Len - skip);
                    if (size > 0) break;
                    it.IovOffset = 0;
                    it.Index++;
                    skip = 0;
                }
                ulong kaddr = it.Iov[it.Index].Base + skip;
                ulong offset = kaddr & ~_m.PageMask;
                offset0 = offset;
                uint n = WantPagesArray(size, offset, maxPages);
                if (n == 0) return -Errno.ENOMEM;
                kaddr -= offset;
                for (uint k = 0; k < n; k++)
                {
                    pages[(int)k] = W.ToPtr(KernelAddressToPage(kaddr + k * _ps));
                    written++;
                }
                size = Math.Min(size, (ulong)n * _ps - offset);
                Advance(it, size);
                return (long)size;
            }
            default:
                return ExtractBvecPages(it, pages, maxSize, maxPages, ref offset0, ref written);
        }
    }

    /// <summary>vmalloc_to_page inside the vmalloc mapping, virt_to_page in the direct map.</summary>
    private ulong KernelAddressToPage(ulong kaddr)
    {
        var k = _w.Kernel;
        if (kaddr >= k.Base && kaddr < k.End(_ps))
        {
            var vp = k.At(kaddr, _m.PageShift);
            if (!vp.HasPfn) throw _log.Fatal(Diag.KvecVmallocNull(kaddr));
            return _a.PfnToPage(vp.Pfn);
        }
        if (kaddr >= AddressSpace.PageOffset && kaddr - AddressSpace.PageOffset < (1UL << Math.Min(_m.MaxPhysmemBits, 63)))
        {
            // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
            ulong pfn = (kaddr - AddressSpace.PageOffset) >> _m.PageShift;
            if (!_f.HasMemmap(pfn)) throw _log.Fatal(Diag.KvecNoPage(kaddr, pfn));
            return _a.PfnToPage(pfn);
        }
        throw _log.Fatal(Diag.KvecUnmapped(kaddr));
    }

    /// <summary>iov_iter_extract_bvec_pages: single-page pieces while they butt together at page boundaries.</summary>
    private long ExtractBvecPages(IterState it, Span<TPtr> pages, ulong maxSize, uint maxPages, ref ulong? offset0, ref int written)
    {
        if (it.NrSegs == 0) return 0;
        var bvecs = IterBvecs;
        ulong skip = it.IovOffset;
        if (it.IovOffset == W.LenOf(bvecs[it.Index]))
        {
            it.IovOffset = 0;
            it.Index++;
            skip = 0;
        }
        uint n = WantPagesArray(maxSize, skip, maxPages);
        if (n == 0) return -Errno.ENOMEM;
        ulong size = 0, biSize = maxSize, done = skip;
        int bi = 0, k = 0;
        // Stryker disable once equality : biSize <= count <= the bytes left in the segments (IterDesc.Problems), so biSize is 0 when bi reaches nr_segs
        while (biSize > 0 && bi < it.NrSegs)
        {
            ref readonly TBvec bv = ref bvecs[it.Index + bi];
            ulong mpLen = Math.Min(biSize, W.LenOf(bv) - done);
            ulong mpOff = W.OffsetOf(bv) + done;
            // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
            ulong page = _a.Add(W.PageOf(bv), (long)(mpOff >> _pshift));
            ulong off = mpOff & (_ps - 1);
            ulong len = Math.Min(mpLen, _ps - off);
            if (k > 0)
            {
                if (off != 0) break;
            }
            else offset0 = off;
            if (!_a.IsStructPage(page)) throw _log.Fatal(Diag.WildPage(_a.AddrOf(page)));
            pages[k++] = W.ToPtr(page);
            written = k;
            size += len;
            if (k >= n) break;
            if (off + len != _ps) break;
            done += len;
            biSize -= len;
            if (done == W.LenOf(bv)) { bi++; done = 0; }
        }
        Advance(it, size);
        return (long)size;
    }

    /// <summary>
    /// The page array at slot <paramref name="p0"/> of the bvec array, made the way C makes it: pointer
    /// arithmetic, no bounds. A placement that reaches into the trap padding around the array is left to
    /// CF-2 to report; one that would reach past the padding is stopped here, so a wrong placement can
    /// never write outside the run's own buffers (the bounds-checked mode of the design).
    /// </summary>
    private Span<TPtr> TailArray(Span<TPtr> slots, int p0, int count)
    {
        // Stryker disable once arithmetic : p0 >= 0 and p0 + count = max_vecs * k <= slots.Length on every call (ExtractBvecs takes the wrapped path when nr_vecs > max_vecs), so the guard never fires whatever the pad width
        int padSlots = TrapBuffer.Pad / System.Runtime.CompilerServices.Unsafe.SizeOf<TPtr>();
        // Stryker disable once all : p0 >= 0 and p0 + count = max_vecs * k <= slots.Length on every call, so neither test can be true, nor any mutated form of it
        if (p0 < -padSlots || p0 + count > slots.Length + padSlots)
            // Stryker disable once statement : unreachable: see the guard above
            throw _log.Fatal(Diag.ExtractPagesPastArray(count, (ulong)p0, slots.Length / PagePtrsPerBvec));
        ref TPtr start = ref System.Runtime.CompilerServices.Unsafe.Add(ref MemoryMarshal.GetReference(slots), p0);
        return MemoryMarshal.CreateSpan(ref start, count);
    }

    /// <summary>get_contig_folio_len over pages[start..]; <paramref name="nr"/> is how many entries the run used.</summary>
    private ulong GetContigFolioLen(ReadOnlySpan<TPtr> pages, int start, int count, ulong left, ulong offset, out int nr)
    {
        ulong first = W.FromPtr(pages[start]);
        ulong folio = _a.FolioAndOrder(first, out int order);
        ulong contig = Math.Min(_ps - offset, left);
        // Stryker disable once arithmetic,bitwise : the mutants only make len larger; len is capped by left, and the folio bound only cuts where the page-membership test (pointer and compound_head) stops the run anyway
        ulong folioOffset = ((ulong)_a.Diff(first, folio) << _pshift) + offset;
        // Stryker disable once arithmetic : a larger folio bound is cut by left, and the membership test stops the run at the folio end anyway
        ulong len = Math.Min((_ps << order) - folioOffset, left);
        left -= contig;
        // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
        ulong maxPages = (offset + len + _ps - 1) >> _pshift;
        nr = 1;
        // Stryker disable once equality : with maxPages == 1 the loop adds nothing (want = 0, or i < 1 false) and nr stays 1: a shortcut only
        if (maxPages <= 1) return (uint)contig; // an order-0 folio, a folio's last page: the loop would not run
        int i;
        if (W.Is64)
        {
            // The same loop in MemmapArena.FolioRun; each page after the first adds min(PAGE_SIZE, what is left),
            // so k of them add min(k·PAGE_SIZE, left).
            // Stryker disable once conditional,equality : maxPages >= 2 here (the line above returned otherwise)
            ulong more = maxPages > 0 ? maxPages - 1 : 0;
            // Stryker disable once arithmetic,linq : the pages array covers every byte extracted, so more <= avail and want == more; a larger bound only lets FolioRun look further, and it stops at the folio end that len already respects
            int avail = count - start - 1, want = (int)Math.Min(more, (ulong)avail);
            int k = _a.FolioRun(MemoryMarshal.Cast<TPtr, ulong>(pages).Slice(start + 1, want), first, folio);
            // Stryker disable once all : want == more always (see above), so the test is false in every mutated form and the throw is unreachable
            if (k == want && (ulong)want < more) throw _log.Fatal(Diag.ContigPastPages(count, count));
            contig += Math.Min((ulong)k << _pshift, left);
            nr = k + 1;
            return (uint)contig;
        }
        ulong sz = _a.StructPageSize, prev = first;
        for (i = 1; (ulong)i < maxPages; i++)
        {
            ulong next = Math.Min(_ps, left);
            // Stryker disable once all : i < maxPages <= count − start (the array covers every byte extracted), so start + i < count: unreachable
            if (start + i >= count) throw _log.Fatal(Diag.ContigPastPages(start + i, count));
            ulong p = W.FromPtr(pages[start + i]);
            // The pointer test first (no memory), then the page's compound_head.
            // Stryker disable once conditional : this loop runs only with !W.Is64; the uncast sum differs only past 4 GiB, where no 32-bit page pointer can be equal to it, and the wrapped sum is 0, never a struct page
            if (p != (W.Is64 ? prev + sz : (uint)(prev + sz)) || _a.PageFolio(p) != folio) break;
            prev = p;
            contig += next;
            left -= next;
        }
        nr = i;
        return (uint)contig;
    }

    /// <summary>
    /// iov_iter_extract_bvecs with the page-pointer array parked in the unused tail of <paramref name="bv"/>
    /// (MemoryMarshal.Cast to page-pointer slots, P0 = nr_vecs·k + E·(k−1), k = PAGE_PTRS_PER_BVEC), and
    /// EX-10 checked on every bvec written: its slots never reach a page pointer still to be read.
    /// </summary>
    public long ExtractBvecs(IterState it, Span<TBvec> bv, ref int nrVecs, ushort maxVecs, ulong maxSize, uint memAlignMask, int flags)
    {
        int n0 = nrVecs;
        ushort entriesLeft = unchecked((ushort)(maxVecs - nrVecs));
        if (nrVecs > maxVecs) _log.Breach(Diag.ExtractNrVecsAboveMax(nrVecs, maxVecs, entriesLeft));
        else if (nrVecs == maxVecs) _log.Breach(Diag.ExtractNoRoom(maxVecs));

        ulong? probe = it.Type is IterType.Ubuf or IterType.Iovec or IterType.Kvec ? CurrentSegmentProbe(it) : Alignment(it);
        if (probe is null)
        {
            _log.Breach(Diag.ExtractProbePastEnd);
            if (memAlignMask != 0) throw _log.Fatal(Diag.ExtractProbeDecides);
        }
        else if ((probe.Value & memAlignMask) != 0) return -Errno.EINVAL;

        int k = PagePtrsPerBvec;
        Span<TPtr> slots = MemoryMarshal.Cast<TBvec, TPtr>(bv);
        int p0 = n0 * k + entriesLeft * (k - 1);
        Span<TPtr> pages;
        // Stryker disable once equality : nr_vecs == max_vecs: entries_left is 0 either way and the extraction fails (-ENOMEM / 0 -> -EFAULT) before either array is touched
        if (nrVecs > maxVecs)
        {
            // entries_left wrapped: the page array would start past bv[max_vecs]. Extract into a scratch
            // array to learn what the kernel would have done, and stop before it is written.
            // Stryker disable once string : the name is printed only when a trap byte is overwritten, and this array is written only through its exact-length span
            pages = NewBuffer("wrapped page array", entriesLeft * System.Runtime.CompilerServices.Unsafe.SizeOf<TPtr>()).As<TPtr>();
        }
        else pages = TailArray(slots, p0, entriesLeft);

        long size = ExtractPages(it, pages, maxSize, entriesLeft, flags, out ulong? offset0, out int written);
        if (size <= 0) return size == 0 ? -Errno.EFAULT : size;
        // Stryker disable once equality : reached only with size > 0, impossible with nr_vecs == max_vecs (entries_left 0)
        if (nrVecs > maxVecs)
            throw _log.Fatal(Diag.ExtractPagesPastArray(written, (ulong)n0 * (ulong)k + (ulong)entriesLeft * (ulong)(k - 1), maxVecs));

        ulong offset = offset0!.Value;
        // Stryker disable once bitwise : >> and >>> are the same shift on an unsigned operand
        int nrPages = (int)((offset + (ulong)size + _ps - 1) >> _pshift);
        int i = 0;
        ulong left = (ulong)size;
        while (left > 0)
        {
            if (nrVecs > 0 && !_a.SamePgmap(W.PageOf(bv[nrVecs - 1]), W.FromPtr(pages[i]))) break;
            ulong len = GetContigFolioLen(pages, i, written, left, offset, out int nr);
            ulong page = W.FromPtr(pages[i]);
            // EX-10: bvec nrVecs occupies slots [nrVecs·k, nrVecs·k + k); the pointers still to be read are
            // pages[i + nr .. nr_pages), at slots p0 + i + nr .. p0 + nr_pages.
            // Stryker disable once arithmetic : ns − we = (k−1)(entries_left − j − 1) + (i + nr − j − 1) >= 0 for bvec j of the call (each bvec takes >= 1 pointer, at most entries_left bvecs), so ns < we is never true; every mutant here only lowers we or ne
            int ws = nrVecs * k, we = ws + k, ns = p0 + i + nr, ne = p0 + nrPages;
            // Stryker disable once equality,logical : ns >= we always (see the line above): the conjunction keeps ns < we (or ns <= we, equal only for the last pointer, where ns == ne) in every mutated form, so it is never true
            if (ns < ne && ws < ne && ns < we) _log.Breach(Diag.TailOverwritten(nrVecs - n0, (ulong)Math.Max(ws, ns)));
            bv[nrVecs] = W.Make(page, (uint)len, (uint)offset);
            i += nr;
            nrVecs++;
            left -= len;
            offset = 0;
        }
        Revert(it, left);
        if (it.UserBacked)
            for (; i < nrPages; i++) _a.Unpin(W.FromPtr(pages[i]));
        return size - (long)left;
    }
}
