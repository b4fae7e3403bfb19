using BioModel.Core;

namespace BioModel.Optimized;

public sealed partial class OptKernel<W, TBvec, TPtr>
{
    /// <summary>iov_iter_advance.</summary>
    public void Advance(IterState it, ulong n)
    {
        // Stryker disable once equality : n == count assigns the value it already has
        if (n > it.Count) n = it.Count;
        if (it.Type == IterType.Ubuf)
        {
            it.IovOffset += n;
            it.Count -= n;
            return;
        }
        if (it.Count == 0) return;
        ulong size = n + it.IovOffset;
        int idx = it.Index;
        int nseg = it.SegmentCount;
        while (idx < nseg)
        {
            ulong len = SegLen(it, idx);
            if (size < len) break;
            size -= len;
            idx++;
        }
        it.Count -= n;
        it.IovOffset = size;
        it.Index = idx;
    }

    /// <summary>iov_iter_revert (nothing changes until the revert is known to succeed).</summary>
    public void Revert(IterState it, ulong n)
    {
        // Stryker disable once statement : revert of 0: 0 <= iov_offset always, and that path adds and subtracts 0
        if (n == 0) return;
        if (n > _m.MaxRwCount)
        {
            _log.Warn(Diag.RevertTooFar);
            return;
        }
        if (n <= it.IovOffset)
        {
            it.Count += n;
            it.IovOffset -= n;
            return;
        }
        ulong unroll = n - it.IovOffset;
        if (it.Type == IterType.Ubuf) throw _log.Fatal(Diag.RevertUbufBeforeStart(unroll));
        int idx = it.Index;
        while (true)
        {
            if (--idx < 0) throw _log.Fatal(Diag.RevertBeforeFirst(it.Type == IterType.Bvec, unroll));
            ulong len = SegLen(it, idx);
            if (unroll <= len)
            {
                it.Count += n;
                it.Index = idx;
                it.IovOffset = len - unroll;
                return;
            }
            unroll -= len;
        }
    }

    /// <summary>iov_iter_npages.</summary>
    public ulong Npages(IterState it, ulong maxPages)
    {
        if (it.Count == 0) return 0;
        ulong ps = _ps;
        if (it.Type == IterType.Ubuf)
            return Math.Min(((it.Ubuf + it.IovOffset) % ps + it.Count + ps - 1) / ps, maxPages);
        ulong npages = 0, size = it.Count, skip = it.IovOffset;
        var bvecs = IterBvecs;
        // Stryker disable once equality : on a valid iterator size (count) is used up by the last segment (IterDesc.Problems), so idx never reaches the segment count with size > 0
        for (int idx = it.Index; size > 0 && idx < it.SegmentCount; idx++, skip = 0)
        {
            ulong len = Math.Min(SegLen(it, idx) - skip, size);
            ulong inPage;
            if (it.Type == IterType.Bvec) inPage = (W.OffsetOf(bvecs[idx]) + skip) % ps;
            else
            {
                if (len == 0) continue;
                inPage = (it.Iov[idx].Base + skip) % ps;
            }
            size -= len;
            npages += (inPage + len + ps - 1) / ps;
            // Stryker disable once equality : npages only grows and the end result is capped at maxPages: returning it at npages == maxPages is the same answer
            if (npages > maxPages) return maxPages;
        }
        return npages;
    }

    /// <summary>iov_iter_alignment; null when the first read is past the end of a used-up array.</summary>
    public ulong? Alignment(IterState it)
    {
        if (it.Type == IterType.Ubuf) return it.Count == 0 ? 0 : (it.Ubuf + it.IovOffset) | it.Count;
        if (it.Index >= it.SegmentCount) return null;
        ulong size = it.Count, skip = it.IovOffset;
        int idx = it.Index;
        if (it.Type == IterType.Bvec)
        {
            var bvecs = IterBvecs;
            uint res = 0;
            do
            {
                // Stryker disable once equality,statement : the first pass has Index < SegmentCount (checked above), and on a valid iterator size reaches 0 by the last segment: no later pass starts past the array
                if (idx >= it.SegmentCount) break;
                ulong len = W.LenOf(bvecs[idx]) - skip;
                res |= (uint)(W.OffsetOf(bvecs[idx]) + skip);
                // Stryker disable once equality : len == size assigns the value it already has
                if (len > size) len = size;
                res |= (uint)len;
                size -= len;
                idx++;
                skip = 0;
            } while (size > 0);
            return res;
        }
        ulong r = 0;
        do
        {
            // Stryker disable once equality,statement : the first pass has Index < SegmentCount (checked above), and on a valid iterator size reaches 0 by the last segment: no later pass starts past the array
            if (idx >= it.SegmentCount) break;
            ulong len = it.Iov[idx].Len - skip;
            if (len > 0)
            {
                r |= it.Iov[idx].Base + skip;
                // Stryker disable once equality : len == size assigns the value it already has
                if (len > size) len = size;
                r |= len;
                size -= len;
            }
            idx++;
            skip = 0;
        } while (size > 0);
        return r;
    }

    /// <summary>iter_iov_addr | iter_iov_len for UBUF/IOVEC/KVEC (the UBUF length quirk included); null past the array.</summary>
    private ulong? CurrentSegmentProbe(IterState it)
    {
        if (it.Type == IterType.Ubuf) return (it.Ubuf + it.IovOffset) | unchecked(it.Count - it.IovOffset);
        if (it.Index >= it.SegmentCount) return null;
        var s = it.Iov[it.Index];
        return (s.Base + it.IovOffset) | unchecked(s.Len - it.IovOffset);
    }
}
