using System.Numerics;
using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// Bounce-buffered direct I/O against memory: folio_alloc_greedy on the native buddy free lists
/// (<see cref="FreeArea"/>), folios prepared in the struct pages of the arena (compound head, order, reference count,
/// PG_dirty), bytes in a native <see cref="PhysStore"/>, bvecs in the bio's trap-padded array. Newest mainline
/// (bounce/copy) as KERNEL-SPEC §3.9 describes block/bio.c and include/linux/bio.h after the series "bounce buffer
/// direct I/O when stable pages are required" (Christoph Hellwig, v3 Jan 2026, 8dd5e7c75d7b for 7.0) with maxlen and
/// minsize (7.1) and the short-copy revert (b68d4979c88e, 7.2). Conformance-checked against the reference's Bounce.
/// </summary>
public sealed partial class OptKernel<W, TBvec, TPtr>
{
    /// <summary>SZ_1M: the most one bounce folio (write) or one read bio carries.</summary>
    public const ulong OneMiB = 1UL << 20;

    /// <summary>BIO_MAX_VECS.</summary>
    public const int BioMaxVecs = 256;

    private FreeArea? _free;
    private PhysStore? _mem;
    private readonly List<Folio> _taken = [];
    private readonly List<Piece> _pieces = new(64);

    /// <summary>One byte run of an iterator inside one page: its physical address, or unmapped (a copy faults there).</summary>
    private readonly record struct Piece(ulong Phys, ulong Len, bool Mapped);

    /// <summary>The world's free memory as buddy free lists, and physical memory as native pages.</summary>
    public void LoadAllocatorAndMemory()
    {
        // Stryker disable once assignment : LoadAllocatorAndMemory is called once per kernel (DirectIo), so _free is always null here
        _free ??= new FreeArea(_w.Allocator);
        // Stryker disable once assignment : LoadAllocatorAndMemory is called once per kernel (DirectIo), so _mem is always null here
        _mem ??= new PhysStore(_m.PageShift);
    }

    /// <summary>Every folio this run allocated, in order.</summary>
    public EqArray<Folio> TakenTable() => _taken.ToEqArray();

    private void DisposeBounce()
    {
        // Stryker disable once statement : only frees native memory early at the end of the run; nothing in the outcome depends on it
        _free?.Dispose();
        // Stryker disable once statement : only frees native memory early at the end of the run; nothing in the outcome depends on it
        _mem?.Dispose();
        _free = null;
        _mem = null;
    }

    /// <summary>get_order(size): fls((size − 1) &gt;&gt; PAGE_SHIFT), 0 for size ≤ PAGE_SIZE (include/asm-generic/getorder.h).</summary>
    private int GetOrder(ulong size)
        // Stryker disable once equality,bitwise : at size == PAGE_SIZE the other arm is 64 − lzcnt(0) = 0 as well; >> and >>> are the same shift on an unsigned operand
        => size <= _ps ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((size - 1) >> _pshift);

    private static ulong RoundDownPow2(ulong n) => n == 0 ? 0 : 1UL << (63 - BitOperations.LeadingZeroCount(n));

    /// <summary>folio_alloc_greedy: __GFP_NORETRY attempts while size &gt; minsize, halving to a power of two below; then one normal attempt. The head page, or null.</summary>
    public ulong? FolioAllocGreedy(ref ulong size, ulong minsize)
    {
        while (size > minsize)
        {
            int order = GetOrder(size);
            if (_free!.Alloc(order, noRetry: true, _m.MaxPageOrder) is { } pfn) return Took(pfn, order);
            size = RoundDownPow2(size - 1);
        }
        int last = GetOrder(size);
        return _free!.Alloc(last, noRetry: false, _m.MaxPageOrder) is { } p ? Took(p, last) : null;
    }

    private ulong Took(ulong pfn, int order)
    {
        _taken.Add(new Folio(pfn, order));
        return _a.PrepFolio(pfn, order);
    }

    /// <summary>folio_put of the last reference: the block goes back to the free lists; a folio nobody holds is a double free.</summary>
    private void FolioPut(ulong head)
    {
        switch (_a.FolioPut(head))
        {
            case null: _log.Breach(Diag.FolioPutNotHeld(_a.PageToPfn(head))); break;
            // Stryker disable once equality,statement : the free lists are not part of the outcome (Taken and Allocated are), and no allocation follows a folio_put within one run (a put ends BounceWrite / BounceRead or comes from the completion), so whether the block is returned cannot be observed; -1 (references left) never comes back, each bounce folio holding the one reference its allocation gave
            case int order and >= 0: _free!.Free(_a.PageToPfn(head), order); break;
        }
    }

    // ---------------------------------------------------------------- bytes

    /// <summary>The pieces of <paramref name="n"/> bytes of a user range, through the user mapping.</summary>
    private void UserPieces(ulong addr, ulong n)
    {
        while (n > 0)
        {
            ulong inPage = addr & (_ps - 1), len = Math.Min(n, _ps - inPage);
            var vp = _w.User.At(addr, _m.PageShift);
            // Stryker disable once conditional : Phys of an unmapped piece is never read: every reader of _pieces stops or faults at !Mapped first
            _pieces.Add(new Piece(vp.HasPfn ? (vp.Pfn << _m.PageShift) + inPage : 0, len, vp.HasPfn));
            addr += len;
            n -= len;
        }
    }

    /// <summary>The pieces of the next <paramref name="n"/> bytes of a segment list from (index, skip), into <see cref="_pieces"/>.</summary>
    private void Walk(IterType type, ulong ubuf, IoVec[] iov, ReadOnlySpan<TBvec> bvecs, int index, ulong skip, ulong n)
    {
        _pieces.Clear();
        if (type == IterType.Ubuf)
        {
            UserPieces(ubuf + skip, n);
            // Stryker disable once statement : a UBUF iterator has no Iov segments and no bvecs, so the segment loop below would not run
            return;
        }
        int segs = type == IterType.Bvec ? bvecs.Length : iov.Length;
        for (int idx = index; n > 0 && idx < segs; idx++, skip = 0)
        {
            ulong segLen = type == IterType.Bvec ? W.LenOf(bvecs[idx]) : iov[idx].Len;
            ulong len = Math.Min(segLen - Math.Min(skip, segLen), n);
            // Stryker disable once statement : a zero-length segment adds no pieces in any branch (every branch loops while its length is left) and n -= 0 changes nothing
            if (len == 0) continue;
            n -= len;
            switch (type)
            {
                case IterType.Iovec:
                    UserPieces(iov[idx].Base + skip, len);
                    break;
                case IterType.Kvec:
                    for (ulong addr = iov[idx].Base + skip, left = len; left > 0;)
                    {
                        ulong inPage = addr & (_ps - 1), l = Math.Min(left, _ps - inPage);
                        _pieces.Add(new Piece(_a.PageToPhys(KernelAddressToPage(addr)) + inPage, l, true));
                        addr += l;
                        left -= l;
                    }
                    break;
                default:
                {
                    ulong off = W.OffsetOf(bvecs[idx]) + skip;
                    for (ulong left = len; left > 0;)
                    {
                        ulong page = _a.Add(W.PageOf(bvecs[idx]), (long)(off / _ps));
                        if (!_a.IsStructPage(page)) throw _log.Fatal(Diag.WildPage(_a.AddrOf(page)));
                        ulong inPage = off % _ps, l = Math.Min(left, _ps - inPage);
                        _pieces.Add(new Piece(_a.PageToPhys(page) + inPage, l, true));
                        off += l;
                        left -= l;
                    }
                    break;
                }
            }
        }
    }

    private void WalkIter(IterState it, ulong n)
        // Stryker disable once conditional : for a non-BVEC iterator NBvecs is 0 (its Bvecs list is empty), so IterBvecs[..0] is the same empty span as default
        => Walk(it.Type, it.Ubuf, it.Iov, it.Type == IterType.Bvec ? IterBvecs[..it.NBvecs] : default, it.Index, it.IovOffset, Math.Min(n, it.Count));

    /// <summary>The iterator's next <paramref name="n"/> bytes as they are now, up to the first unreadable one.</summary>
    private byte[] ReadIter(IterState it, ulong n)
    {
        WalkIter(it, n);
        return ReadPieces();
    }

    private byte[] ReadPieces()
    {
        ulong total = 0;
        foreach (var p in _pieces)
        {
            if (!p.Mapped) break;
            total += p.Len;
        }
        var bytes = new byte[total];
        ulong done = 0;
        foreach (var p in _pieces)
        {
            if (!p.Mapped) break;
            _mem!.Read(p.Phys, bytes.AsSpan((int)done, (int)p.Len));
            done += p.Len;
        }
        return bytes;
    }

    /// <summary>copy_from_iter into physical memory at <paramref name="dst"/>, stopping at the first fault; advances by what was copied.</summary>
    private ulong CopyFromIter(IterState it, ulong dst, ulong n)
    {
        WalkIter(it, n);
        ulong copied = 0;
        foreach (var p in _pieces)
        {
            if (!p.Mapped) break;
            _mem!.Copy(dst + copied, p.Phys, (int)p.Len);
            copied += p.Len;
        }
        Advance(it, copied);
        return copied;
    }

    // ---------------------------------------------------------------- bounce

    /// <summary>The bio's description after a bounce call: the entry when nothing was added, else its bvecs in use.</summary>
    private Bio Desc(Bio entry, BioState bio, int first, int count)
    {
        var vecs = BioVecs(bio);
        var list = new BvecDesc[count];
        for (int i = 0; i < count; i++) list[i] = ToDesc(vecs[first + i]);
        return entry with { Vecs = list, Vcnt = bio.Vcnt, Size = bio.Size, Flags = bio.Flags };
    }

    /// <summary>bio_iov_iter_bounce_write (see the reference's Bounce.BounceWrite for the rules).</summary>
    public (long Ret, Bio Bio) BounceWrite(Bio entry, BioState bio, IterState it, ulong maxlen, ulong minsize)
    {
        ulong total = Math.Min(maxlen, it.Count);
        if (bio.Has(BioFlags.Cloned)) { _log.Warn(Diag.BounceCloned); return (-Errno.EINVAL, entry); }
        if (bio.Size != 0) { _log.Warn(Diag.BounceNotEmpty); return (-Errno.EINVAL, entry); }
        if (bio.Vcnt >= bio.MaxVecs) { _log.Warn(Diag.BounceNoRoom); return (-Errno.EINVAL, entry); }
        var vecs = BioVecs(bio);
        bool added = false;
        do
        {
            ulong len = Math.Min(total, OneMiB);
            if (len > 2 * minsize) len = RoundDownPow2(len);
            if (bio.Size > BioLimits.BioMaxSize - len) break;
            ulong? got = FolioAllocGreedy(ref len, minsize);
            if (got is null) break;
            ulong head = got.Value;
            // Stryker disable once statement,equality : len is at most 1 MiB here (the cap above; FolioAllocGreedy only lowers it), far below BIO_MAX_SIZE, so the WARN cannot fire
            if (len > BioLimits.BioMaxSize) _log.Warn(Diag.AddFolioNofailTooLong);
            vecs[bio.Vcnt++] = W.Make(head, (uint)len, 0);
            bio.Size = unchecked(bio.Size + (uint)len);
            added = true;
            ulong copied = CopyFromIter(it, _a.PageToPhys(head), len);
            if (copied < len)
            {
                Revert(it, bio.Size - len + copied);
                for (int i = 0; i < bio.Vcnt; i++) FolioPut(W.PageOf(vecs[i]));
                return (-Errno.EFAULT, Desc(entry, bio, 0, bio.Vcnt));
            }
            total -= len;
        } while (total > 0 && bio.Vcnt < bio.MaxVecs);
        if (bio.Size == 0) return (-Errno.ENOMEM, added ? Desc(entry, bio, 0, bio.Vcnt) : entry);
        int vcnt = bio.Vcnt;
        uint size = bio.Size;
        long r = AlignDownSpan(vecs, ref vcnt, ref size, pinned: false, it, (uint)(minsize - 1));
        bio.Vcnt = (ushort)vcnt;
        bio.Size = size;
        return (r, Desc(entry, bio, 0, vcnt));
    }

    /// <summary>bio_iov_iter_bounce_read: one bounce folio in bvec 0, the user bvecs extracted after it (see the reference's Bounce.BounceRead).</summary>
    public (long Ret, Bio Bio) BounceRead(Bio entry, BioState bio, IterState it, ulong maxlen, ulong minsize)
    {
        ulong len = Math.Min(Math.Min(it.Count, maxlen), OneMiB);
        ulong? got = FolioAllocGreedy(ref len, minsize);
        if (got is null) return (-Errno.ENOMEM, entry);
        ulong head = got.Value;
        var vecs = BioVecs(bio);
        int room = Math.Max(0, bio.MaxVecs - 1);
        int nr = bio.Vcnt;
        var user = vecs[1..Math.Min(vecs.Length, 1 + Math.Max(room, nr))];
        uint size = bio.Size;
        do
        {
            long r = ExtractBvecs(it, user, ref nr, (ushort)room, len, 0, 0);
            if (r <= 0)
            {
                if (nr == 0)
                {
                    FolioPut(head);
                    return (r, entry with { Vecs = [], Vcnt = 0, Size = size });
                }
                break;
            }
            len -= (ulong)r;
            size += (uint)r;
        } while (len > 0 && nr < room);
        bool pinned = it.UserBacked;
        if (pinned) bio.Flags |= BioFlags.PagePinned;
        long a = AlignDownSpan(user, ref nr, ref size, pinned, it, (uint)(minsize - 1));
        vecs[0] = W.Make(head, size, 0);
        bio.Vcnt = (ushort)nr;
        bio.Size = size;
        var desc = Desc(entry, bio, 0, nr + 1);
        if (a < 0)
        {
            FolioPut(head);
            return (a, desc);
        }
        return (0, desc);
    }

    /// <summary>The body of bio_iov_iter_align_down on a bvec span (mainline: a dropped bvec unpins only its first page).</summary>
    private long AlignDownSpan(Span<TBvec> vecs, ref int vcnt, ref uint size, bool pinned, IterState it, uint mask)
    {
        ulong nbytes = size & mask;
        if (nbytes == 0) return 0;
        Revert(it, nbytes);
        size -= (uint)nbytes;
        int j = vcnt - 1;
        while (nbytes >= W.LenOf(vecs[j]))
        {
            if (pinned) _a.Unpin(W.PageOf(vecs[j]));
            vcnt--;
            if (vcnt == 0) return -Errno.EFAULT;
            nbytes -= W.LenOf(vecs[j]);
            j--;
        }
        W.SetLen(ref vecs[j], W.LenOf(vecs[j]) - (uint)nbytes);
        return 0;
    }

    /// <summary>
    /// bio_iov_iter_unbounce: a write puts its bounce folios; a read copies bvec 0 into the user bvecs unless the I/O
    /// failed (then nothing is dirtied), unpins every page of each user bvec of a PINNED bio (dirtying the folio of its
    /// first page when asked), and puts the bounce folio.
    /// </summary>
    public void Unbounce(BioState bio, bool isError, bool markDirty)
    {
        var vecs = BioVecs(bio);
        if ((bio.Opf & BioOpf.Write) != 0)
        {
            for (int i = 0; i < bio.Vcnt; i++) FolioPut(W.PageOf(vecs[i]));
            return;
        }
        var bounce = vecs[0];
        var user = vecs.Slice(1, bio.Vcnt);
        if (!isError)
        {
            ulong n = W.LenOf(bounce), src = _a.PageToPhys(W.PageOf(bounce)), done = 0;
            Walk(IterType.Bvec, 0, [], user, 0, 0, n);
            foreach (var p in _pieces)
            {
                _mem!.Copy(p.Phys, src + done, (int)p.Len);
                done += p.Len;
            }
            if (done != n) _log.Warn(Diag.UnbounceShortCopy);
        }
        else markDirty = false;
        if (bio.Has(BioFlags.PagePinned))
            foreach (ref readonly var bv in user)
            {
                uint len = W.LenOf(bv), off = W.OffsetOf(bv);
                if (len == 0) continue;
                ulong first = off / _ps, last = ((ulong)off + len - 1) / _ps;
                ulong page = _a.Add(W.PageOf(bv), (long)first);
                for (ulong k = first; k <= last; k++, page = _a.Add(page, 1))
                    if (!_a.IsStructPage(page)) throw _log.Fatal(Diag.WildPage(_a.AddrOf(page)));
                page = _a.Add(W.PageOf(bv), (long)first);
                if (markDirty) _a.MarkDirty(page);
                for (ulong k = first; k <= last; k++, page = _a.Add(page, 1)) _a.Unpin(page);
            }
        FolioPut(W.PageOf(bounce));
    }

    /// <summary>bio_iov_bounce_nr_vecs: npages(BIO_MAX_VECS) for a write, npages(BIO_MAX_VECS − 1) + 1 for a read.</summary>
    public ulong BounceNrVecs(IterState it, bool write) => write ? Npages(it, BioMaxVecs) : Npages(it, BioMaxVecs - 1) + 1;

    /// <summary>What one direct I/O did (pins, folios and dirty pages live in the arena).</summary>
    public sealed record DirectIoResult(long Ret, Bio Bio, IterDesc Iter, byte[] Submitted, byte[] Stored, byte[] Device, byte[] Buffer);

    /// <summary>One direct I/O over time on a stable-pages device: build (bounce), stores in flight, DMA, completion (unbounce).</summary>
    public DirectIoResult DirectIo(DirectIoOp d)
    {
        LoadAllocatorAndMemory();
        var entry = d.Bio with { Opf = d.Write ? d.Bio.Opf | BioOpf.Write : d.Bio.Opf & ~BioOpf.Write };
        LoadIterBvecs(d.Iter);
        var bio = LoadBio(entry);
        var it = IterState.From(d.Iter);
        var (ret, desc) = d.Write ? BounceWrite(entry, bio, it, d.MaxLen, d.MinSize) : BounceRead(entry, bio, it, d.MaxLen, d.MinSize);
        byte[] Buffer() => ReadIter(IterState.From(d.Iter), d.Iter.Count); // the user's buffer as it is now
        var submitted = Buffer();
        if (ret < 0) return new(ret, desc, it.ToDesc(d.Iter), submitted, submitted, [], Buffer());

        foreach (var w in d.InFlight) UserStore(w);
        var stored = Buffer();

        var vecs = BioVecs(bio);
        byte[] device;
        if (d.Write)
        {
            Walk(IterType.Bvec, 0, [], vecs[..bio.Vcnt], bio.Idx, bio.Done, bio.Size);
            device = ReadPieces();
        }
        else if (d.IoError) device = [];
        else
        {
            device = new byte[bio.Size];
            for (int i = 0; i < device.Length; i++) device[i] = DeviceBytes.ReadData((ulong)i);
            Walk(IterType.Bvec, 0, [], vecs[..1], 0, 0, bio.Size);
            ulong done = 0;
            foreach (var p in _pieces)
            {
                _mem!.Write(p.Phys, device.AsSpan((int)done, (int)p.Len));
                done += p.Len;
            }
        }
        Unbounce(bio, d.IoError, d.MarkDirty);
        return new(ret, desc, it.ToDesc(d.Iter), submitted, stored, device, Buffer());
    }

    /// <summary>A store by the user process through its mapping.</summary>
    private void UserStore(UserWrite w)
    {
        _pieces.Clear();
        UserPieces(w.Addr, w.Len);
        ulong done = 0;
        Span<byte> buf = stackalloc byte[256];
        foreach (var p in _pieces)
        {
            if (!p.Mapped) throw _log.Fatal(Diag.UserStoreUnmapped(w.Addr + done));
            for (ulong at = 0; at < p.Len;)
            {
                int n = (int)Math.Min((ulong)buf.Length, p.Len - at);
                // Stryker disable once arithmetic : at is a multiple of the 256-byte buffer whenever it is used, and ByteAt keeps its index mod 256, so done − at and done + at give the same bytes
                for (int i = 0; i < n; i++) buf[i] = w.ByteAt(done + at + (ulong)i);
                _mem!.Write(p.Phys + at, buf[..n]);
                at += (ulong)n;
            }
            done += p.Len;
        }
    }
}
