using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// iov_iter bookkeeping for UBUF, IOVEC, KVEC and BVEC: advance, revert, npages, alignment and the
/// current-segment accessors. lib/iov_iter.c at b0d8d56b7c93ed767eb4f2be9988e7b9dc023566, KERNEL-SPEC
/// §3.1 and §3.7. Iterators are immutable: every function returns the iterator after.
/// </summary>
public static class IovIter
{
    /// <summary>
    /// iov_iter_advance(it, n): n is clamped to count. UBUF: iov_offset and count move. IOVEC/KVEC/BVEC:
    /// nothing if count is 0; else count −= n and, from the current segment with n + iov_offset, every
    /// segment whose length is ≤ the remainder is stepped over (so a segment consumed exactly and any
    /// zero-length segments reached are skipped); the remainder becomes iov_offset.
    /// </summary>
    public static IterDesc Advance(IterDesc it, ulong n)
    {
        if (n > it.Count) n = it.Count;
        if (it.Type == IterType.Ubuf)
            return it with { IovOffset = it.IovOffset + n, Count = it.Count - n };
        if (it.Count == 0) return it;
        ulong size = n + it.IovOffset;
        int idx = it.Index;
        while (idx < it.SegmentCount)
        {
            ulong len = it.SegLen(idx);
            if (size < len) break;
            size -= len;
            idx++;
        }
        return it with { Count = it.Count - n, IovOffset = size, Index = idx };
    }

    /// <summary>
    /// iov_iter_revert(it, n): 0 → nothing; n &gt; MAX_RW_COUNT → warning, nothing. Otherwise count += n;
    /// within the current segment only iov_offset moves; beyond it UBUF hits BUG() (it must never go before
    /// the start) and the array types step back one segment at a time until the remainder fits, landing at
    /// offset len − remainder. Stepping back before the first segment is a contract violation.
    /// </summary>
    public static IterDesc Revert(IterDesc it, ulong n, MachineConfig m, Effects fx)
    {
        if (n == 0) return it;
        if (n > m.MaxRwCount)
        {
            fx.Warn(Diag.RevertTooFar);
            return it;
        }
        var r = it with { Count = it.Count + n };
        if (n <= it.IovOffset) return r with { IovOffset = it.IovOffset - n };
        ulong unroll = n - it.IovOffset;
        if (it.Type == IterType.Ubuf)
            throw fx.Fatal(Diag.RevertUbufBeforeStart(unroll));
        int idx = it.Index;
        while (true)
        {
            if (--idx < 0)
                throw fx.Fatal(Diag.RevertBeforeFirst(it.Type == IterType.Bvec, unroll));
            ulong len = it.SegLen(idx);
            if (unroll <= len) return r with { Index = idx, IovOffset = len - unroll };
            unroll -= len;
        }
    }

    /// <summary>
    /// iov_iter_npages(it, maxpages): pages the remaining data touches, capped at maxpages. UBUF from the
    /// in-page offset and count; IOVEC/KVEC per non-empty (count-clipped) segment; BVEC per visited bvec
    /// using (bv_offset + skip) % PAGE_SIZE, so a zero-length bvec with a non-zero in-page offset counts 1.
    /// </summary>
    public static ulong Npages(IterDesc it, ulong maxPages, MachineConfig m)
    {
        if (it.Count == 0) return 0;
        ulong ps = m.PageSize;
        if (it.Type == IterType.Ubuf)
        {
            ulong off = (it.Ubuf + it.IovOffset) & (ps - 1);
            return Math.Min(DivRoundUp(off + it.Count, ps), maxPages);
        }
        ulong npages = 0, size = it.Count, skip = it.IovOffset;
        for (int idx = it.Index; size > 0 && idx < it.SegmentCount; idx++, skip = 0)
        {
            ulong len = Math.Min(it.SegLen(idx) - skip, size);
            ulong inPage;
            if (it.Type == IterType.Bvec)
                inPage = (it.Bvecs[idx].Offset + skip) & (ps - 1);
            else
            {
                if (len == 0) continue;
                inPage = (it.Iov[idx].Base + skip) & (ps - 1);
            }
            size -= len;
            npages += DivRoundUp(inPage + len, ps);
            if (npages > maxPages) return maxPages;
        }
        return npages;
    }

    /// <summary>
    /// iov_iter_alignment: OR of every start address and length still to be consumed. UBUF: (ubuf +
    /// iov_offset) | count, 0 when count is 0. IOVEC/KVEC: each non-empty segment's start and count-clipped
    /// length. BVEC: each bvec's bv_offset + skip and clipped length (zero-length ones included; the
    /// accumulator is 32 bits). The array loops run at least once, even with count 0: on a used-up array
    /// iterator the first read is past the end of the array, and the result is null (unknown).
    /// </summary>
    public static ulong? Alignment(IterDesc it)
    {
        if (it.Type == IterType.Ubuf)
            return it.Count == 0 ? 0 : (it.Ubuf + it.IovOffset) | it.Count;
        if (it.Index >= it.SegmentCount) return null;
        ulong size = it.Count, skip = it.IovOffset;
        if (it.Type == IterType.Bvec)
        {
            uint res = 0;
            int idx = it.Index;
            do
            {
                if (idx >= it.SegmentCount) break;
                var bv = it.Bvecs[idx];
                ulong len = bv.Len - skip;
                res |= (uint)(bv.Offset + skip);
                if (len > size) len = size;
                res |= (uint)len;
                size -= len;
                idx++;
                skip = 0;
            } while (size > 0);
            return res;
        }
        ulong r = 0;
        int i = it.Index;
        do
        {
            if (i >= it.SegmentCount) break;
            ulong len = it.Iov[i].Len - skip;
            if (len > 0)
            {
                r |= it.Iov[i].Base + skip;
                if (len > size) len = size;
                r |= len;
                size -= len;
            }
            i++;
            skip = 0;
        } while (size > 0);
        return r;
    }

    /// <summary>
    /// iter_iov_addr / iter_iov_len for UBUF, IOVEC and KVEC: the current segment's base + iov_offset and its
    /// length − iov_offset. For UBUF the "segment" is the iovec overlaid on {ubuf, count}, so the length is
    /// count − iov_offset: after an advance it under-counts and can wrap (the quirk of KERNEL-SPEC §3.1).
    /// Returns null when there is no current segment (the array is used up).
    /// </summary>
    public static (ulong Addr, ulong Len)? CurrentSegment(IterDesc it)
    {
        if (it.Type == IterType.Ubuf) return (it.Ubuf + it.IovOffset, unchecked(it.Count - it.IovOffset));
        if (it.Type == IterType.Bvec || it.Index >= it.SegmentCount) return null;
        var s = it.Iov[it.Index];
        return (s.Base + it.IovOffset, unchecked(s.Len - it.IovOffset));
    }

    public static ulong DivRoundUp(ulong a, ulong b) => (a + b - 1) / b;
}
