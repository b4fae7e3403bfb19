using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// Operation generators: iterators over the world's user buffer, vmalloc area, direct map and valid bvec
/// runs; page arrays for num_pages_contiguous; add sequences that continue the previous range (so merges
/// happen) and fill the bvec array; extraction and get_pages calls with small arrays, alignment masks and
/// sizes at page, folio, section and BIO_MAX_SIZE boundaries.
/// </summary>
public static class OpGen
{
    private static ulong Ps(World w) => w.Machine.PageSize;

    /// <summary>An in-page offset biased to 0, small, just below the page end and arbitrary.</summary>
    public static ulong InPageOffset(Draw d, ulong ps)
        => d.Weighted((40, 0UL), (20, d.U64(1, 511)), (15, ps - d.U64(1, 512)), (10, (ulong)d.Int(1, 7) * 512), (15, d.U64(0, ps - 1)));

    /// <summary>A length for a range that starts <paramref name="start"/> bytes into a buffer of <paramref name="avail"/> bytes.</summary>
    public static ulong Length(Draw d, ulong start, ulong avail, ulong ps)
    {
        if (avail == 0) return 0;
        ulong toPageEnd = ps - start % ps;
        return d.Weighted(
            (30, avail),
            (20, Math.Min(avail, toPageEnd)),
            (10, Math.Min(avail, toPageEnd + ps * (ulong)d.Int(1, 3))),
            (10, Math.Min(avail, (ulong)d.Int(1, 8) * 512)),
            (25, d.U64(1, avail)),
            (5, 0UL));
    }

    public static IterDesc UbufIter(Draw d, World w)
    {
        ulong ps = Ps(w);
        ulong size = (ulong)w.User.Pages.Length * ps;
        ulong startPage = (ulong)d.Int(0, Math.Max(0, w.User.Pages.Length - 1));
        ulong start = Math.Min(startPage * ps + InPageOffset(d, ps), size - 1);
        ulong count = Length(d, start, size - start, ps);
        if (d.Chance(0.08)) count += (ulong)d.Int(1, 2) * ps; // runs off the end of the mapping: GUP stops
        if (count == 0 && d.Chance(0.7)) count = 1;
        return IterDesc.ForUbuf(w.User.Base + start, count, source: d.Chance(0.6)) with { Nofault = d.Chance(0.05) };
    }

    private static List<IoVec> UserSegments(Draw d, World w, int n)
    {
        ulong ps = Ps(w);
        ulong size = (ulong)w.User.Pages.Length * ps;
        var segs = new List<IoVec>();
        for (int i = 0; i < n; i++)
        {
            if (d.Chance(0.15)) { segs.Add(new IoVec(w.User.Base + d.U64(0, size - 1), 0)); continue; }
            ulong start = Math.Min((ulong)d.Int(0, w.User.Pages.Length - 1) * ps + InPageOffset(d, ps), size - 1);
            ulong len = Math.Max(1, Length(d, start, size - start, ps));
            segs.Add(new IoVec(w.User.Base + start, len));
        }
        return segs;
    }

    /// <summary>Optionally moves the starting point into the segments (index, iov_offset), keeping count consistent.</summary>
    private static IterDesc Position(Draw d, IterDesc it)
    {
        if (!d.Chance(0.15) || it.SegmentCount == 0) return it;
        int idx = d.Int(0, it.SegmentCount - 1);
        ulong off = d.U64(0, it.SegLen(idx));
        if (off == it.SegLen(idx) && d.Chance(0.5)) off = 0;
        ulong rest = 0;
        for (int i = idx; i < it.SegmentCount; i++) rest += it.SegLen(i);
        rest -= off;
        ulong count = d.Chance(0.7) ? rest : d.U64(0, rest);
        return it with { Index = idx, IovOffset = off, Count = count };
    }

    public static IterDesc IovecIter(Draw d, World w)
        => Position(d, IterDesc.ForIovec(UserSegments(d, w, d.Int(1, 4)), source: d.Chance(0.6)));

    public static IterDesc KvecIter(Draw d, World w)
    {
        ulong ps = Ps(w);
        var segs = new List<IoVec>();
        int n = d.Int(1, 3);
        for (int i = 0; i < n; i++)
        {
            if (d.Chance(0.12)) { segs.Add(new IoVec(AddressSpace.PageOffset, 0)); continue; }
            if (!w.Kernel.Pages.IsEmpty && d.Chance(0.6))
            {
                ulong size = (ulong)w.Kernel.Pages.Length * ps;
                ulong start = Math.Min((ulong)d.Int(0, w.Kernel.Pages.Length - 1) * ps + InPageOffset(d, ps), size - 1);
                segs.Add(new IoVec(w.Kernel.Base + start, Math.Max(1, Length(d, start, size - start, ps))));
            }
            else
            {
                // Direct map: a run of present PFNs.
                ulong pfn = d.Chance(0.6) ? d.Pick(WorldGen.InterestingPfns(w)) : WorldGen.RandomPresentPfn(d, w);
                ulong run = 1;
                while (run < 6 && w.Facts.IsPresent(pfn + run)) run++;
                ulong start = InPageOffset(d, ps);
                segs.Add(new IoVec(AddressSpace.PageOffset + pfn * ps + start, Math.Max(1, Length(d, start, run * ps - start, ps))));
            }
        }
        return Position(d, IterDesc.ForIovec(segs, source: d.Chance(0.6), type: IterType.Kvec));
    }

    /// <summary>
    /// A valid bvec: its pages are physically and pointer-contiguous (the bvec invariant), it starts at an
    /// interesting PFN and may have bv_offset ≥ PAGE_SIZE.
    /// </summary>
    public static BvecDesc ValidBvec(Draw d, World w, int maxPages = 6, ulong? startPfn = null)
    {
        ulong ps = Ps(w);
        ulong pfn = startPfn ?? (d.Chance(0.7) ? d.Pick(WorldGen.InterestingPfns(w)) : WorldGen.RandomPresentPfn(d, w));
        ulong run = ContigRun(w, pfn, maxPages);
        ulong off = d.Chance(0.1) && run > 1 ? d.U64(ps, (run - 1) * ps) : InPageOffset(d, ps);
        if (off >= run * ps) off = 0;
        ulong len = d.Chance(0.08) ? 0 : Math.Max(1, Length(d, off, run * ps - off, ps));
        return new BvecDesc(pfn, (uint)len, (uint)off);
    }

    public static IterDesc BvecIter(Draw d, World w)
    {
        int n = d.Int(1, 4);
        var list = new List<BvecDesc>();
        for (int i = 0; i < n; i++)
        {
            if (d.Chance(0.4) && list.Count > 0)
            {
                // The next bvec starts where the previous one ended (page aligned when it can).
                var p = list[^1];
                ulong endPfn = p.Pfn + ((ulong)p.Offset + p.Len) / Ps(w);
                if (w.Facts.IsPresent(endPfn)) { list.Add(ValidBvec(d, w, startPfn: endPfn) with { Offset = 0 }); continue; }
            }
            list.Add(ValidBvec(d, w));
        }
        return Position(d, IterDesc.ForBvec(list, source: d.Chance(0.6)));
    }

    public static IterDesc AnyIter(Draw d, World w, bool bvec = true)
        => d.Weighted(
            (35, 0), (25, 1), (20, 2), (bvec ? 20 : 0, 3)) switch
        {
            0 => UbufIter(d, w),
            1 => IovecIter(d, w),
            2 => KvecIter(d, w),
            _ => BvecIter(d, w),
        };

    // ------------------------------------------------------------------ num_pages_contiguous

    public static NumPagesContiguousOp Npc(Draw d, World w)
    {
        var f = w.Facts;
        ulong pps = w.Machine.PagesPerSection;
        var pfns = new List<ulong>();
        int shape = d.Int(0, 99);
        if (shape < 30)
        {
            // The tail of one present section followed by the head of the next present one (adjacent
            // memmaps across a hole in node-buffer placement).
            var secs = w.Memory.PresentSections;
            int i = d.Int(0, secs.Length - 1);
            ulong s = secs[i];
            ulong next = i + 1 < secs.Length ? secs[i + 1] : s;
            int tail = d.Int(1, (int)Math.Min(pps, 4));
            for (ulong p = f.SectionStart(s + 1) - (ulong)tail; p < f.SectionStart(s + 1); p++) pfns.Add(p);
            int head = d.Int(0, (int)Math.Min(pps, 4));
            for (ulong p = f.SectionStart(next); p < f.SectionStart(next) + (ulong)head; p++) pfns.Add(p);
        }
        else if (shape < 60)
        {
            // A PFN run that crosses a section boundary (if the next section is present).
            ulong start = d.Pick(WorldGen.InterestingPfns(w));
            int len = d.Int(1, 2 + (int)Math.Min(pps * 2, 40));
            for (int k = 0; k < len && f.HasMemmap(start + (ulong)k); k++) pfns.Add(start + (ulong)k);
        }
        else
        {
            // The pages of the user buffer (runs, COW'd pages, random pages).
            foreach (var vp in w.User.Pages) if (vp.HasPfn) pfns.Add(vp.Pfn);
        }
        if (pfns.Count == 0) pfns.Add(WorldGen.RandomPresentPfn(d, w));
        if (d.Chance(0.2) && pfns.Count > 2)
        {
            int i = d.Int(1, pfns.Count - 1);
            pfns[i] = WorldGen.RandomPresentPfn(d, w);
        }
        return new NumPagesContiguousOp(pfns.ToEqArray());
    }

    // ------------------------------------------------------------------ bio_add_page

    private static ushort SmallVecs(Draw d) => (ushort)d.Weighted((25, 1), (25, 2), (20, 3), (15, 4), (15, d.Int(5, 8)));

    /// <summary>A bio, optionally holding bvecs already (valid, pointer-contiguous), optionally cloned.</summary>
    public static Bio SomeBio(Draw d, World w, ushort maxVecs, double prefill = 0.3, double cloned = 0.03)
    {
        var bio = Bio.Empty(maxVecs);
        if (d.Chance(prefill) && maxVecs > 0)
        {
            int n = d.Int(1, maxVecs);
            var vecs = new List<BvecDesc>();
            for (int i = 0; i < n; i++)
            {
                var b = ValidBvec(d, w, 4);
                vecs.Add(b.Len == 0 ? b with { Len = 1 } : b);
            }
            bio = Bio.With(maxVecs, [.. vecs]);
        }
        if (d.Chance(cloned)) bio = bio with { Flags = bio.Flags | BioFlags.Cloned };
        return bio;
    }

    /// <summary>
    /// A sequence of adds. Most continue at the byte after the previous range (so they may merge), some as
    /// (previous page, off ≥ PAGE_SIZE); others start anywhere. Multi-page lengths stay pointer-contiguous
    /// (the caller's precondition); len 0 appears on purpose.
    /// </summary>
    public static BioAddOp BioAdd(Draw d, World w, bool allowFolio = true, bool allowRaw = true)
    {
        ulong ps = Ps(w);
        var f = w.Facts;
        var bio = SomeBio(d, w, SmallVecs(d));
        int n = d.Int(1, Math.Clamp(2 + d.Size / 12, 2, 10));
        var calls = new List<AddCall>();
        if (d.Chance(0.2))
        {
            // Start with the last bytes of a section, so the next add joins across the section boundary.
            ulong s = d.Pick(w.Memory.PresentSections.Items);
            ulong lastPfn = f.SectionStart(s + 1) - 1;
            ulong o = d.Chance(0.5) ? 0 : InPageOffset(d, ps);
            calls.Add(new AddCall(AddFn.BioAddPage, lastPfn, ps - o, o));
            if (f.IsPresent(lastPfn + 1) && d.Chance(0.7))
                calls.Add(new AddCall(AddFn.BioAddPage, lastPfn + 1, Math.Max(1, Length(d, 0, ContigRun(w, lastPfn + 1, 3) * ps, ps)), 0));
        }
        (ulong Pfn, ulong Off, ulong Len)? prev = calls.Count > 0 ? (calls[^1].Pfn, calls[^1].Off, calls[^1].Len)
            : bio.Vcnt > 0 ? (bio.Vecs[bio.Vcnt - 1].Pfn, bio.Vecs[bio.Vcnt - 1].Offset, bio.Vecs[bio.Vcnt - 1].Len) : null;
        for (int i = calls.Count; i < n; i++)
        {
            ulong pfn, off;
            if (prev is { } p && d.Chance(0.55))
            {
                ulong endByte = p.Off + p.Len;
                ulong nextPfn = p.Pfn + endByte / ps;
                if (!f.HasMemmap(nextPfn) || !f.IsPresent(nextPfn)) { nextPfn = WorldGen.RandomPresentPfn(d, w); endByte %= ps; }
                if (d.Chance(0.2) && PointerReaches(w, p.Pfn, endByte / ps)) { pfn = p.Pfn; off = endByte; }
                else { pfn = nextPfn; off = endByte % ps; }
            }
            else
            {
                pfn = d.Chance(0.7) ? d.Pick(WorldGen.InterestingPfns(w)) : WorldGen.RandomPresentPfn(d, w);
                off = InPageOffset(d, ps);
            }
            ulong run = ContigRun(w, pfn + off / ps, 4);
            ulong inPage = off % ps;
            ulong len = d.Chance(0.04) ? 0 : Math.Max(1, Length(d, inPage, run * ps - inPage, ps));
            var fn = AddFn.BioAddPage;
            if (allowFolio && d.Chance(0.15))
            {
                var fo = f.FolioOf(pfn);
                ulong fsize = fo.NrPages * ps;
                ulong foff = (pfn - fo.Head) * ps + inPage;
                fn = AddFn.BioAddFolio;
                pfn = fo.Head;
                off = foff;
                len = Math.Max(1, Math.Min(len, fsize - foff));
            }
            else if (allowRaw && i == 0 && bio.Vcnt < bio.MaxVecs && !bio.Has(BioFlags.Cloned) && d.Chance(0.05))
                fn = AddFn.RawBioAddPage;
            calls.Add(new AddCall(fn, pfn, len, off));
            prev = (pfn, off, len);
        }
        return new BioAddOp(bio, calls.ToEqArray());
    }

    /// <summary>An add sequence at the BIO_MAX_SIZE edge: a bio holding UINT_MAX − δ bytes already, then adds of about δ.</summary>
    /// <remarks>With <paramref name="raw"/> some calls are __bio_add_page (no merge; bio_full decides alone),
    /// so the conformance check reaches bio_full's own size test at bi_size + len == BIO_MAX_SIZE.</remarks>
    public static BioAddOp BioAddNearMax(Draw d, World w, bool raw = false)
    {
        ulong ps = Ps(w);
        ulong delta = d.Weighted((25, 0UL), (15, 1UL), (15, ps - 1), (15, ps), (10, ps + 1), (20, d.U64(2, 3 * ps)));
        ulong first = uint.MaxValue - delta;
        var bio = Bio.With((ushort)d.Int(1, 3), new BvecDesc(0, (uint)first, 0));
        var calls = new List<AddCall>();
        int n = d.Int(1, 3);
        for (int i = 0; i < n; i++)
        {
            bool cont = d.Chance(0.6);
            ulong pfn = cont ? first / ps : d.U64(0, 2 * w.Machine.PagesPerSection - 8) & ~1UL;
            ulong off = cont ? first % ps : d.U64(0, ps - 1);
            if (!w.Facts.IsPresent(pfn + off / ps)) { pfn = 0; off = 0; }
            ulong len = d.Weighted((30, delta), (25, delta + 1), (20, Math.Max(1, delta - 1)), (25, d.U64(1, ps)));
            if (len == 0) len = 1;
            len = Math.Min(len, ContigRun(w, pfn + off / ps, 2) * ps - off % ps);
            calls.Add(new AddCall(raw && d.Chance(0.3) ? AddFn.RawBioAddPage : AddFn.BioAddPage, pfn, len, off));
            if (cont) first += len;
        }
        return new BioAddOp(bio, calls.ToEqArray());
    }

    /// <summary>A bvec as iov_iter_extract_bvecs makes them: normalised offset, clipped to its folio, never empty.</summary>
    public static BvecDesc ExtractionLike(World w, BvecDesc b)
    {
        ulong ps = w.Machine.PageSize;
        ulong pfn = b.Pfn + b.Offset / ps, off = b.Offset % ps;
        var fo = w.Facts.FolioOf(pfn);
        ulong room = (fo.End - pfn) * ps - off;
        return new BvecDesc(pfn, (uint)Math.Max(1, Math.Min(b.Len, room)), (uint)off);
    }

    /// <summary>Is pfn + k's struct page exactly k struct pages after pfn's (so (pfn, off ≥ PAGE_SIZE) names the right page)?</summary>
    public static bool PointerReaches(World w, ulong pfn, ulong k)
    {
        var f = w.Facts;
        var a = f.MemmapAddress(pfn);
        var b = f.MemmapAddress(pfn + k);
        return a is not null && b is not null && b.Value == a.Value + k * (ulong)w.Machine.StructPageSize && f.IsPresent(pfn + k);
    }

    /// <summary>
    /// How many pages from <paramref name="pfn"/> on are present, physically and pointer-contiguous and in
    /// one pgmap (at most <paramref name="max"/>): what a caller may hand over as one range or one bvec.
    /// </summary>
    public static ulong ContigRun(World w, ulong pfn, int max)
    {
        var f = w.Facts;
        ulong sz = (ulong)w.Machine.StructPageSize;
        int pgmap = Oracle.PgmapId(w, pfn);
        ulong run = 1;
        while (run < (ulong)max && f.IsPresent(pfn + run) && f.MemmapAddress(pfn + run) == f.MemmapAddress(pfn + run - 1) + sz &&
               Oracle.PgmapId(w, pfn + run) == pgmap)
            run++;
        return run;
    }

    /// <summary>
    /// One add of 2 GiB or more on a big world: bio_add_page of a long contiguous range, or bio_add_folio of
    /// (most of) a 2 GiB folio. bio_add_page returns an int.
    /// </summary>
    public static BioAddOp BioAddHuge(Draw d, World w)
    {
        ulong len = d.Weighted((40, 0x8000_0000UL), (30, d.U64(0x8000_0001UL, 0xffff_f000UL)), (30, (ulong)d.Int(1, 0x7fff) * 0x1000));
        var big = w.Folios.FirstOrDefault(f => f.Head == 0 && f.Order >= 19);
        if (big.Order >= 19 && d.Chance(0.5))
            return new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddFolio, 0, Math.Min(len, big.NrPages * w.Machine.PageSize), 0)]);
        return new BioAddOp(Bio.Empty(2), [new AddCall(AddFn.BioAddPage, 0, len, 0)]);
    }

    // ------------------------------------------------------------------ extraction

    private static ulong MaxSize(Draw d, ulong count, ulong ps)
        => d.Weighted((45, count), (20, count == 0 ? 0 : d.U64(1, count)), (15, d.U64(1, ps)), (15, ulong.MaxValue >> 1), (5, 0UL));

    public static ExtractPagesOp ExtractPages(Draw d, World w)
    {
        var it = AnyIter(d, w);
        uint maxPages = (uint)d.Weighted((70, d.Int(1, 8)), (5, 0), (25, 64));
        return new ExtractPagesOp(it, MaxSize(d, it.Count, Ps(w)), maxPages, d.Chance(0.5));
    }

    public static uint MemAlignMask(Draw d) => d.Weighted((60, 0u), (15, 0x1ffu), (10, 0x3u), (10, 0xfffu), (5, 0x7u));

    public static ExtractBvecsOp ExtractBvecs(Draw d, World w)
    {
        var it = AnyIter(d, w);
        var entry = new List<BvecDesc>();
        if (d.Chance(0.4))
        {
            int n = d.Int(1, 3);
            for (int i = 0; i < n; i++)
            {
                // Often the page just before the buffer, or a pgmap page, so the pgmap test has work.
                var b = ValidBvec(d, w, 2);
                entry.Add(b.Len == 0 ? b with { Len = 1 } : b);
            }
        }
        int room = d.Weighted((25, 1), (60, d.Int(2, 6)), (10, 0), (5, -d.Int(1, 2)));
        ushort maxVecs = (ushort)Math.Max(0, entry.Count + room);
        return new ExtractBvecsOp(it, entry.ToEqArray(), maxVecs, MaxSize(d, it.Count, Ps(w)), MemAlignMask(d), d.Chance(0.5));
    }

    public static uint LenAlignMask(Draw d, ulong ps)
        => d.Weighted((35, 0u), (25, 0x1ffu), (20, (uint)ps - 1), (15, (uint)(2 * ps) - 1), (5, (uint)(4 * ps) - 1));

    public static GetPagesOp GetPages(Draw d, World w, bool bvec = true)
    {
        var it = AnyIter(d, w, bvec);
        Bio bio;
        if (it.Type == IterType.Bvec) bio = Bio.Empty((ushort)(d.Chance(0.9) ? 0 : 2));
        else
        {
            // Leave room: a bio that is full on entry breaks the extractor's contract (EX-9 covers that).
            ushort max = SmallVecs(d);
            bio = SomeBio(d, w, max, prefill: 0.2);
            if (bio.Vcnt >= max) bio = Bio.With((ushort)(max + 1), [.. bio.Vecs]) with { Flags = bio.Flags };
            if (bio.Vcnt > 0 && it.UserBacked)
            {
                // Pinned bvecs look like extraction output: bv_offset < PAGE_SIZE, inside one folio.
                var vecs = bio.Vecs.Select(b => ExtractionLike(w, b)).ToArray();
                bio = Bio.With(bio.MaxVecs, vecs) with { Flags = bio.Flags | BioFlags.PagePinned };
            }
        }
        bio = bio with { Queue = new QueueLimits { HasBdev = d.Chance(0.9), PciP2pdma = d.Chance(0.5) } };
        uint lenMask = LenAlignMask(d, Ps(w));
        if (d.Chance(0.15) && AlignDownShape(d, w) is { } shaped)
        {
            // A short buffer across two pages of one folio with a mask larger than the buffer: align-down
            // drops a multi-page bvec (the pin accounting of KERNEL-SPEC §3.8).
            it = shaped.It;
            lenMask = shaped.Mask;
            bio = Bio.Empty(bio.MaxVecs) with { Queue = bio.Queue };
        }
        // Bytes already in the bio must be aligned: align-down reverts the iterator by bi_size & mask and
        // cannot give back bytes the iterator never produced (a UBUF revert past its start is a BUG()).
        if ((bio.Size & lenMask) != 0) bio = bio with { Vecs = [], Vcnt = 0, Size = 0, Flags = bio.Flags & ~BioFlags.PagePinned };
        return new GetPagesOp(bio, it, MemAlignMask(d), lenMask);
    }

    private static (IterDesc It, uint Mask)? AlignDownShape(Draw d, World w)
    {
        ulong ps = Ps(w);
        var f = w.Facts;
        var u = w.User.Pages;
        var pairs = Enumerable.Range(0, Math.Max(0, u.Length - 1))
            .Where(i => u[i].Kind == MappingKind.Mapped && u[i + 1].Kind == MappingKind.Mapped && u[i + 1].Pfn == u[i].Pfn + 1 && f.FolioOf(u[i].Pfn).Contains(u[i + 1].Pfn))
            .ToList();
        if (pairs.Count == 0) return null;
        int at = d.Pick(pairs);
        ulong off = d.U64(ps / 2, ps - 1);
        ulong count = ps - off + d.U64(1, ps);
        ulong unit = 1;
        while (unit <= count) unit <<= 1;
        if (d.Chance(0.3)) unit >>= 1;
        var it = IterDesc.ForUbuf(w.User.Base + (ulong)at * ps + off, count, source: d.Chance(0.5));
        return (it, (uint)(unit - 1));
    }

    /// <summary>Pairs of bvecs for biovec_phys_mergeable: often physically adjacent, across pages, pgmaps and boundary windows.</summary>
    public static MergeableOp Mergeable(Draw d, World w)
    {
        var pairs = new List<BvecPair>();
        int n = d.Int(1, 4);
        for (int i = 0; i < n; i++)
        {
            var a = ValidBvec(d, w, 3);
            if (a.Len == 0) a = a with { Len = 1 };
            ulong end = Oracle.Phys(w, a.Pfn, a.Offset) + a.Len;
            ulong pfn = end >> w.Machine.PageShift;
            var b = d.Chance(0.7) && w.Facts.IsPresent(pfn)
                ? ValidBvec(d, w, 3, pfn) with { Offset = (uint)(end & (Ps(w) - 1)) }
                : ValidBvec(d, w, 3);
            if (b.Len == 0) b = b with { Len = 1 };
            if (OpGen.ContigRun(w, b.Pfn, 3) * Ps(w) < (ulong)b.Offset + b.Len) b = b with { Len = 1 };
            pairs.Add(new BvecPair(a, b));
        }
        var q = new QueueLimits { SegBoundaryMask = d.Weighted((60, 0xffff_ffffUL), (40, (ulong)d.Int(1, 4) * Ps(w) - 1)) };
        return new MergeableOp(q, pairs.ToEqArray());
    }

    /// <summary>Integrity-style merges: a bvec, then ranges that mostly continue it, under small segment limits.</summary>
    public static HwMergeOp HwMerge(Draw d, World w)
    {
        var bv = ValidBvec(d, w, 2);
        if (bv.Len == 0) bv = bv with { Len = 1 };
        var calls = new List<AddCall>();
        ulong end = Oracle.Phys(w, bv.Pfn, bv.Offset) + bv.Len;
        int n = d.Int(1, 4);
        for (int i = 0; i < n; i++)
        {
            ulong pfn = end >> w.Machine.PageShift, off = end & (Ps(w) - 1);
            if (!w.Facts.IsPresent(pfn) || d.Chance(0.2)) { pfn = WorldGen.RandomPresentPfn(d, w); off = InPageOffset(d, Ps(w)); }
            ulong len = Math.Max(1, Math.Min(Length(d, off, ContigRun(w, pfn, 2) * Ps(w) - off, Ps(w)), 0x3000));
            calls.Add(new AddCall(AddFn.BioAddPage, pfn, len, off));
            end = Oracle.Phys(w, pfn, off) + len;
        }
        var q = new QueueLimits
        {
            SegBoundaryMask = d.Weighted((50, 0xffff_ffffUL), (50, (ulong)d.Int(1, 4) * Ps(w) - 1)),
            MaxSegmentSize = (uint)d.Weighted((50, 65536), (50, d.Int(1, 4) * (int)Ps(w))),
        };
        return new HwMergeOp(q, bv, calls.ToEqArray());
    }

    public static IterOp IterSteps(Draw d, World w)
    {
        var it = AnyIter(d, w);
        int n = d.Int(1, 6);
        var steps = new List<IterStep>();
        ulong consumed = 0, count = it.Count;
        for (int i = 0; i < n; i++)
        {
            switch (d.Int(0, 9))
            {
                case < 4:
                {
                    ulong a = d.Weighted((60, count == 0 ? 0 : d.U64(0, count)), (20, count), (20, count + d.U64(1, 3 * Ps(w))));
                    steps.Add(new IterStep(IterStepKind.Advance, a));
                    a = Math.Min(a, count);
                    consumed += a;
                    count -= a;
                    break;
                }
                case < 7:
                {
                    ulong r = consumed == 0 ? 0 : d.Weighted((70, d.U64(0, consumed)), (30, consumed));
                    steps.Add(new IterStep(IterStepKind.Revert, r));
                    consumed -= r;
                    count += r;
                    break;
                }
                case < 9:
                    steps.Add(new IterStep(IterStepKind.Npages, (ulong)d.Weighted((70, d.Int(1, 16)), (30, 1 << 20))));
                    break;
                default:
                    steps.Add(new IterStep(IterStepKind.Alignment, 0));
                    break;
            }
        }
        return new IterOp(it, steps.ToEqArray());
    }
}
