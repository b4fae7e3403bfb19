using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// Bounce-buffered direct I/O: folio_alloc_greedy, bio_iov_iter_bounce (write and read), bio_iov_iter_unbounce and
/// bio_iov_bounce_nr_vecs, block/bio.c and include/linux/bio.h as KERNEL-SPEC §3.9 describes the newest text (the
/// series "bounce buffer direct I/O when stable pages are required", Christoph Hellwig, v3 26 Jan 2026, merged for
/// 7.0, with the later maxlen and minsize parameters). Also the byte copies the helpers make (copy_from_iter into a
/// bounce folio, copy_to_iter back to the user's pages) on the <see cref="Effects.Memory"/> image, with a fault
/// where the user mapping has no page.
/// </summary>
public sealed class Bounce(MemoryModelRules mm, Effects fx, KernelVariants? variants = null)
{
    private readonly MachineConfig _m = mm.World.Machine;
    private readonly KernelVariants _v = variants ?? KernelVariants.Mainline;
    private readonly Extract _ex = new(mm, fx, variants);
    private readonly BioIov _bi = new(mm, fx, variants);

    /// <summary>SZ_1M: the most one bounce folio (write) or one read bio carries.</summary>
    public const ulong OneMiB = 1UL << 20;

    /// <summary>BIO_MAX_VECS: the largest bvec array a bio_set hands out.</summary>
    public const int BioMaxVecs = 256;

    /// <summary>get_order(size): the smallest order whose folio holds <paramref name="size"/> bytes (0 for size ≤ PAGE_SIZE).</summary>
    /// <remarks>
    /// As include/asm-generic/getorder.h computes it: fls((size − 1) &gt;&gt; PAGE_SHIFT), so a size near 2^64 gives
    /// 64 − PAGE_SHIFT (the allocator then refuses that order). The first model doubled PAGE_SIZE until it held
    /// the size, and for sizes above 2^63 the shift wrapped to 0 and it never stopped; the bad-input campaign
    /// found that.
    /// </remarks>
    public int GetOrder(ulong size)
        => size <= _m.PageSize ? 0 : 64 - System.Numerics.BitOperations.LeadingZeroCount((size - 1) >> _m.PageShift);

    /// <summary>rounddown_pow_of_two(n) for n ≥ 1.</summary>
    public static ulong RoundDownPow2(ulong n) => n == 0 ? 0 : 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(n));

    /// <summary>
    /// folio_alloc_greedy(gfp, &amp;size, minsize): while size &gt; minsize, try a folio of get_order(size) with
    /// __GFP_NORETRY | __GFP_NOWARN and on failure shrink size to rounddown_pow_of_two(size − 1); then one normal
    /// attempt at get_order(size). The folio may be larger than size; size is what the caller may use.
    /// </summary>
    public Folio? FolioAllocGreedy(ref ulong size, ulong minsize)
    {
        while (size > minsize)
        {
            var (after, folio) = fx.Allocator.Alloc(GetOrder(size), noRetry: true, _m.MaxPageOrder);
            if (folio is { } f)
            {
                fx.Allocator = after;
                fx.Took(f);
                return f;
            }
            size = RoundDownPow2(size - 1);
        }
        var (after2, last) = fx.Allocator.Alloc(GetOrder(size), noRetry: false, _m.MaxPageOrder);
        if (last is { } l)
        {
            fx.Allocator = after2;
            fx.Took(l);
        }
        return last;
    }

    // ------------------------------------------------------------------ bytes

    /// <summary>
    /// The physical address of each byte run of the iterator's next <paramref name="n"/> bytes, page piece by page
    /// piece; null for a user page that is not mapped (the copy faults there). UBUF/IOVEC go through the user
    /// mapping, KVEC through the direct map or vmalloc, BVEC through the bvec's pages (bv_page + offset/PAGE_SIZE).
    /// </summary>
    public IEnumerable<(ulong? Phys, ulong Len)> Pieces(IterDesc it, ulong n)
    {
        ulong ps = _m.PageSize;
        n = Math.Min(n, it.Count);
        if (it.Type == IterType.Ubuf)
        {
            foreach (var p in UserPieces(it.Ubuf + it.IovOffset, n)) yield return p;
            yield break;
        }
        int idx = it.Index;
        ulong skip = it.IovOffset;
        while (n > 0 && idx < it.SegmentCount)
        {
            ulong len = Math.Min(it.SegLen(idx) - Math.Min(skip, it.SegLen(idx)), n);
            if (len > 0)
            {
                IEnumerable<(ulong?, ulong)> seg = it.Type switch
                {
                    IterType.Iovec => UserPieces(it.Iov[idx].Base + skip, len),
                    IterType.Kvec => KernelPieces(it.Iov[idx].Base + skip, len),
                    _ => BvecPieces(it.Bvecs[idx], skip, len),
                };
                foreach (var p in seg) yield return p;
                n -= len;
            }
            skip = 0;
            idx++;
        }
        _ = ps;
    }

    private IEnumerable<(ulong?, ulong)> UserPieces(ulong addr, ulong n)
    {
        ulong ps = _m.PageSize;
        while (n > 0)
        {
            ulong inPage = addr & (ps - 1), len = Math.Min(n, ps - inPage);
            var vp = mm.World.User.At(addr, _m.PageShift);
            yield return (vp.HasPfn ? (vp.Pfn << _m.PageShift) + inPage : null, len);
            addr += len;
            n -= len;
        }
    }

    private IEnumerable<(ulong?, ulong)> KernelPieces(ulong addr, ulong n)
    {
        ulong ps = _m.PageSize;
        while (n > 0)
        {
            ulong inPage = addr & (ps - 1), len = Math.Min(n, ps - inPage);
            yield return (mm.PageToPhys(_ex.KernelAddressToPage(addr)) + inPage, len);
            addr += len;
            n -= len;
        }
    }

    private IEnumerable<(ulong?, ulong)> BvecPieces(BvecDesc bv, ulong skip, ulong n)
    {
        ulong ps = _m.PageSize;
        ulong off = bv.Offset + skip;
        while (n > 0)
        {
            ulong page = mm.PageAdd(mm.PfnToPage(bv.Pfn), (long)(off / ps));
            if (!mm.IsStructPage(page)) throw fx.Fatal(Diag.WildPage(page));
            ulong inPage = off % ps, len = Math.Min(n, ps - inPage);
            yield return (mm.PageToPhys(page) + inPage, len);
            off += len;
            n -= len;
        }
    }

    /// <summary>The iterator's next <paramref name="n"/> bytes as they are now, up to the first unreadable byte.</summary>
    public byte[] ReadIter(IterDesc it, ulong n)
    {
        var bytes = new List<byte>();
        foreach (var (phys, len) in Pieces(it, n))
        {
            if (phys == null) break; // not `is not { } p`: a mutant that drops the break must still compile (CS0165)
            ulong p = phys.Value;
            var buf = new byte[len];
            fx.Memory.Read(p, buf);
            bytes.AddRange(buf);
        }
        return [.. bytes];
    }

    /// <summary>
    /// copy_from_iter (or copy_from_iter_nofault): up to <paramref name="n"/> bytes from the iterator into physical
    /// memory at <paramref name="dst"/>, stopping at the first byte it cannot read (an unmapped user page); the
    /// iterator advances by what was copied.
    /// </summary>
    public (ulong Copied, IterDesc It) CopyFromIter(IterDesc it, ulong dst, ulong n)
    {
        ulong copied = 0;
        foreach (var (phys, len) in Pieces(it, n).ToList())
        {
            if (phys == null) break;
            ulong p = phys.Value;
            var buf = new byte[len];
            fx.Memory.Read(p, buf);
            fx.Memory = fx.Memory.Write(dst + copied, buf);
            copied += len;
        }
        return (copied, IovIter.Advance(it, copied));
    }

    /// <summary>copy_to_iter: <paramref name="n"/> bytes from physical memory at <paramref name="src"/> into the iterator's pages (a BVEC iterator over pinned pages never faults).</summary>
    public ulong CopyToIter(ulong src, ulong n, IterDesc it)
    {
        ulong done = 0;
        foreach (var (phys, len) in Pieces(it, n).ToList())
        {
            if (phys == null) break;
            ulong p = phys.Value;
            var buf = new byte[len];
            fx.Memory.Read(src + done, buf);
            fx.Memory = fx.Memory.Write(p, buf);
            done += len;
        }
        return done;
    }

    // ------------------------------------------------------------------ bounce

    /// <summary>A bounce-built bio: the bvec table (for a read, bvec 0 is the bounce folio and bi_vcnt counts the user bvecs after it).</summary>
    public sealed record BounceResult(long Ret, Bio Bio, IterDesc Iter);

    /// <summary>bio_iov_iter_bounce(bio, it, maxlen, minsize): dispatch on the bio's direction (op_is_write).</summary>
    public BounceResult BounceBio(Bio bio, IterDesc it, ulong maxlen, ulong minsize)
        => bio.Opf.HasFlag(BioOpf.Write) ? BounceWrite(bio, it, maxlen, minsize) : BounceRead(bio, it, maxlen, minsize);

    /// <summary>
    /// bio_iov_iter_bounce_write: total = min(maxlen, count); a cloned bio, a non-empty one or one without a free
    /// bvec warns and gets -EINVAL. Then chunk after chunk: this = min(total, 1 MiB), rounded down to a power of two
    /// when above 2·minsize; stop when bi_size + this would pass BIO_MAX_SIZE or no folio can be had
    /// (folio_alloc_greedy may shrink this); the folio becomes a bvec {folio, this, 0} (bio_add_folio_nofail) and
    /// this bytes are copied into it from the iterator. A short copy reverts the iterator by everything this call
    /// copied (bi_size − this + copied), puts every folio of the bio and returns -EFAULT; the bvecs stay in the
    /// bio. Loop while bytes are left and the bvec array has room. Nothing added → -ENOMEM. Finally align-down to
    /// minsize (a dropped bvec's folio is neither unpinned nor put: the bio is not PINNED).
    /// </summary>
    public BounceResult BounceWrite(Bio bio, IterDesc it, ulong maxlen, ulong minsize)
    {
        bool v3 = _v.Bounce == BounceVariant.CopyV3;
        if (v3) (maxlen, minsize) = (ulong.MaxValue, _m.PageSize);
        ulong total = Math.Min(maxlen, it.Count);
        if (bio.Has(BioFlags.Cloned)) { fx.Warn(Diag.BounceCloned); return new(-Errno.EINVAL, bio, it); }
        if (bio.Size != 0) { fx.Warn(Diag.BounceNotEmpty); return new(-Errno.EINVAL, bio, it); }
        if (bio.Vcnt >= bio.MaxVecs) { fx.Warn(Diag.BounceNoRoom); return new(-Errno.EINVAL, bio, it); }
        do
        {
            ulong thisLen = Math.Min(total, OneMiB);
            if (thisLen > 2 * minsize) thisLen = RoundDownPow2(thisLen);
            if (bio.Size > BioLimits.BioMaxSize - thisLen) break;
            var folio = FolioAllocGreedy(ref thisLen, minsize);
            if (folio == null) break; // as above: a dropped break must leave f assigned
            var f = folio.Value;
            bio = AddFolioNofail(bio, f, thisLen);
            var (copied, after) = CopyFromIter(it, f.Head << _m.PageShift, thisLen);
            it = after;
            if (copied < thisLen)
            {
                if (!v3 && _v.SeededBug != SeededBounceBug.NoRevertOnShortCopy) it = IovIter.Revert(it, bio.Size - thisLen + copied, _m, fx);
                foreach (var bv in bio.InUse) fx.Put(bv.Pfn);
                return new(-Errno.EFAULT, bio, it);
            }
            total -= thisLen;
        } while (total > 0 && bio.Vcnt < bio.MaxVecs);
        if (bio.Size == 0) return new(-Errno.ENOMEM, bio, it);
        if (v3) return new(0, bio, it);
        var r = _bi.AlignDownVecs(bio.Vecs.Take(bio.Vcnt), bio.Size, pinned: false, it, (uint)(minsize - 1));
        return new(r.Ret, bio with { Vecs = r.Vecs, Vcnt = (ushort)r.Vecs.Length, Size = r.Size }, r.Iter);
    }

    /// <summary>bio_add_folio_nofail(bio, folio, len, 0): a bvec on the folio's first page (no merging); WARN above BIO_MAX_SIZE.</summary>
    private Bio AddFolioNofail(Bio bio, Folio f, ulong len)
    {
        if (len > BioLimits.BioMaxSize) fx.Warn(Diag.AddFolioNofailTooLong);
        var bv = new BvecDesc(f.Head, (uint)len, 0);
        return bio with { Vecs = bio.Vecs.Take(bio.Vcnt).Add(bv), Vcnt = (ushort)(bio.Vcnt + 1), Size = unchecked(bio.Size + (uint)len) };
    }

    /// <summary>
    /// bio_iov_iter_bounce_read: len = min(count, maxlen, 1 MiB); one bounce folio for it (folio_alloc_greedy may
    /// shrink len; none → -ENOMEM). Then iov_iter_extract_bvecs into bi_io_vec + 1 (at most bi_max_vecs − 1 user
    /// bvecs, no alignment mask, no P2PDMA) until len is used or the array is full; a first failure puts the folio
    /// and returns the error, a later one keeps what was extracted. bvec 0 becomes the bounce folio; PINNED for
    /// user-backed iterators; align-down on the user bvecs (an error puts the folio); bvec 0's length = bi_size.
    /// bi_vcnt counts the user bvecs only: the device sees bvec 0, the rest is bookkeeping for the copy back.
    /// </summary>
    public BounceResult BounceRead(Bio bio, IterDesc it, ulong maxlen, ulong minsize)
    {
        bool v3 = _v.Bounce == BounceVariant.CopyV3;
        if (v3) (maxlen, minsize) = (ulong.MaxValue, _m.PageSize);
        ulong len = Math.Min(Math.Min(it.Count, maxlen), OneMiB);
        var folio = FolioAllocGreedy(ref len, minsize);
        if (folio is not { } f) return new(-Errno.ENOMEM, bio, it);
        var user = bio.Vecs.Skip(1).Take(bio.Vcnt);
        uint size = bio.Size;
        ushort room = (ushort)Math.Max(0, bio.MaxVecs - 1);
        do
        {
            var r = _ex.ExtractBvecs(it, user, len, room, 0, 0);
            it = r.Iter;
            user = r.Bvecs;
            if (r.Ret <= 0)
            {
                if (user.Length == 0)
                {
                    if (!v3) fx.Put(f.Head); // v3 returned without putting the bounce folio
                    return new(r.Ret, bio with { Vecs = [], Vcnt = 0, Size = size }, it);
                }
                break;
            }
            len -= (ulong)r.Ret;
            size += (uint)r.Ret;
        } while (len > 0 && user.Length < room);
        bool pinned = it.UserBacked;
        var flags = pinned ? bio.Flags | BioFlags.PagePinned : bio.Flags;
        if (v3) return new(0, bio with { Vecs = [new BvecDesc(f.Head, size, 0), .. user], Vcnt = (ushort)user.Length, Size = size, Flags = flags }, it);
        var a = _bi.AlignDownVecs(user, size, pinned, it, (uint)(minsize - 1));
        var head = new BvecDesc(f.Head, a.Size, 0);
        var built = bio with { Vecs = [head, .. a.Vecs], Vcnt = (ushort)a.Vecs.Length, Size = a.Size, Flags = flags };
        if (a.Ret < 0)
        {
            fx.Put(f.Head);
            return new(a.Ret, built, a.Iter);
        }
        return new(0, built, a.Iter);
    }

    /// <summary>
    /// bio_iov_iter_unbounce(bio, is_error, mark_dirty): a write puts every bounce folio of the bio; a read, unless
    /// is_error, copies bvec 0's bytes into the user bvecs through a BVEC iterator (mark_dirty is forced off on an
    /// error), then, if PINNED, unpins every page each user bvec spans (marking its folio dirty when asked) and puts
    /// the bounce folio.
    /// </summary>
    public void Unbounce(Bio bio, bool isError, bool markDirty)
    {
        if (bio.Opf.HasFlag(BioOpf.Write))
        {
            foreach (var bv in bio.InUse) fx.Put(bv.Pfn);
            return;
        }
        var bounce = bio.Vecs[0];
        var user = bio.Vecs.Skip(1).Take(bio.Vcnt);
        if (!isError)
        {
            var to = IterDesc.ForBvec(user, source: false) with { Count = bounce.Len };
            ulong n = CopyToIter(bounce.Pfn << _m.PageShift, bounce.Len, to);
            if (n != bounce.Len) fx.Warn(Diag.UnbounceShortCopy);
        }
        else if (_v.SeededBug != SeededBounceBug.DirtyOnError) markDirty = false;
        if (bio.Has(BioFlags.PagePinned))
            foreach (var bv in user)
            {
                var pages = _bi.BvecPages(bv).ToList();
                if (markDirty && pages.Count > 0) fx.MarkDirty(mm.PageToPfn(mm.PageFolio(mm.PfnToPage(pages[0]))));
                foreach (var pfn in pages) fx.Unpin(pfn);
            }
        fx.Put(bounce.Pfn);
    }

    /// <summary>
    /// bio_iov_bounce_nr_vecs(iter, op): a write needs iov_iter_npages(iter, BIO_MAX_VECS) bvecs; a read one more
    /// for the bounce folio, iov_iter_npages(iter, BIO_MAX_VECS − 1) + 1. BVEC iterators are not special-cased
    /// (they are bounced too).
    /// </summary>
    public ulong NrVecs(IterDesc it, bool write)
        => write ? IovIter.Npages(it, BioMaxVecs, _m) : IovIter.Npages(it, BioMaxVecs - 1, _m) + 1;

    // ------------------------------------------------------------------ one direct I/O over time

    /// <summary>What a direct I/O did, besides pins, folios and dirty pages (those are in <see cref="Effects"/>).</summary>
    public sealed record DirectIoResult(long Ret, Bio Bio, IterDesc Iter, byte[] Submitted, byte[] Stored, byte[] Device, byte[] Buffer);

    /// <summary>
    /// A direct I/O on a stable-pages device (KERNEL-SPEC §3.8, §3.9): build the bio (bounce, or zero copy under
    /// bounce/none with len_align_mask = minsize − 1), let the user store into its buffer while the I/O is in flight,
    /// move the data (a write's device reads the bio's bytes at DMA time; a read's device writes
    /// <see cref="DeviceBytes.ReadData"/> into them, unless the I/O fails), then complete (unbounce, or release the
    /// pinned pages, dirtying them after a successful read when asked). A bio that could not be built never reaches
    /// the device: the caller only puts it.
    /// </summary>
    public DirectIoResult DirectIo(DirectIoOp d)
    {
        fx.Memory = MemoryImage.Initial(_m);
        fx.Allocator = mm.World.Allocator;
        var bio = d.Bio with { Opf = d.Write ? d.Bio.Opf | BioOpf.Write : d.Bio.Opf & ~BioOpf.Write };
        var entry = d.Iter;
        long ret;
        IterDesc it;
        if (_v.Bounce == BounceVariant.None)
        {
            var g = _bi.GetPages(bio, entry, 0, (uint)(d.MinSize - 1));
            (ret, bio, it) = (g.Ret, g.Bio, g.Iter);
        }
        else
        {
            var b = BounceBio(bio, entry, d.MaxLen, d.MinSize);
            (ret, bio, it) = (b.Ret, b.Bio, b.Iter);
        }
        var submitted = ReadIter(entry, entry.Count);
        if (ret < 0) return new(ret, bio, it, submitted, submitted, [], ReadIter(entry, entry.Count));

        foreach (var w in d.InFlight) UserStore(w);
        var stored = ReadIter(entry, entry.Count);

        var data = DataIter(bio);
        byte[] device;
        if (d.Write) device = ReadIter(data, data.Count);
        else if (d.IoError) device = [];
        else
        {
            device = new byte[data.Count];
            for (ulong i = 0; i < data.Count; i++) device[i] = DeviceBytes.ReadData(i);
            WriteIter(data, device);
        }

        if (_v.Bounce == BounceVariant.None)
        {
            if (bio.Has(BioFlags.PagePinned))
            {
                if (!d.Write && d.MarkDirty && !d.IoError)
                    foreach (var bv in bio.InUse)
                        foreach (var pfn in _bi.BvecPages(bv)) fx.MarkDirty(mm.PageToPfn(mm.PageFolio(mm.PfnToPage(pfn))));
                _bi.ReleasePages(bio);
            }
        }
        else Unbounce(bio, d.IoError, d.MarkDirty);
        return new(ret, bio, it, submitted, stored, device, ReadIter(entry, entry.Count));
    }

    /// <summary>
    /// The bytes the device moves, as a BVEC iterator: bvec 0 of a bounced read; otherwise the bio's bvecs from bi_iter.
    /// The device walks bi_io_vec by bi_iter alone (bi_idx, bi_bvec_done, bi_size; bi_vcnt is not consulted). A bio
    /// that owns its table has exactly bi_vcnt bvecs in it; a clone made by bio_iov_bvec_set shares the iterator's
    /// whole table and keeps whatever bi_vcnt it had (KERNEL-SPEC §3.8), so its table is taken whole. Until the
    /// mutation run of the bounce part showed the line undecided, a clone with bi_vcnt ≠ 0 was cut to bi_vcnt bvecs.
    /// </summary>
    private IterDesc DataIter(Bio bio)
    {
        if (_v.Bounce != BounceVariant.None && !bio.Opf.HasFlag(BioOpf.Write))
            return IterDesc.ForBvec([bio.Vecs[0]]) with { Count = bio.Size };
        var table = bio.Has(BioFlags.Cloned) ? bio.Vecs : bio.Vecs.Take(bio.Vcnt);
        return IterDesc.ForBvec(table) with { Index = bio.Idx, IovOffset = bio.Done, Count = bio.Size };
    }

    /// <summary>The device's DMA into the pages behind a BVEC iterator.</summary>
    private void WriteIter(IterDesc it, byte[] bytes)
    {
        ulong done = 0;
        foreach (var (phys, len) in Pieces(it, (ulong)bytes.Length).ToList())
        {
            fx.Memory = fx.Memory.Write(phys!.Value, bytes.AsSpan((int)done, (int)len));
            done += len;
        }
    }

    /// <summary>A store by the user process: through its mapping, page by page.</summary>
    private void UserStore(UserWrite w)
    {
        ulong done = 0;
        foreach (var (phys, len) in UserPieces(w.Addr, w.Len).ToList())
        {
            if (phys == null) throw fx.Fatal(Diag.UserStoreUnmapped(w.Addr + done));
            ulong p = phys.Value;
            var buf = new byte[len];
            for (ulong i = 0; i < len; i++) buf[i] = w.ByteAt(done + i);
            fx.Memory = fx.Memory.Write(p, buf);
            done += len;
        }
    }
}
