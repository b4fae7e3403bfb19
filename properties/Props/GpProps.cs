using BioModel.Core;

namespace BioModel.Properties;

/// <summary>GP — bio_iov_iter_get_pages and bio_iov_iter_align_down (INVARIANTS.md).</summary>
public static class GpProps
{
    private static Case Gen(Draw d)
    {
        var w = WorldGen.Any(d, pgmapChance: 0.4);
        return new Case(w, OpGen.GetPages(d, w));
    }

    /// <summary>
    /// A call within the contract: a bio with a free bvec (or a BVEC iterator, which borrows its array),
    /// bytes already in the bio aligned to len_align_mask + 1 (align-down reverts the iterator by
    /// bi_size &amp; mask, so unaligned bytes from elsewhere would be "given back" to this iterator), and
    /// pinned bvecs that look like extraction output (the release path walks them per folio).
    /// </summary>
    public static bool RoomOnEntry(Case c)
        => c.Op is GetPagesOp g && (g.Iter.Type == IterType.Bvec || (g.Bio.Vcnt < g.Bio.MaxVecs && (g.Bio.Size & g.LenAlignMask) == 0 &&
           (!g.Bio.Has(BioFlags.PagePinned) || g.Bio.InUse.All(b => OpGen.ExtractionLike(c.World, b) == b))));

    private static IEnumerable<string> Classes(Case c)
    {
        var g = (GetPagesOp)c.Op!;
        var o = Ref.Run(c);
        yield return g.Iter.Type.ToString().ToUpperInvariant();
        long r = o.Returns.Length > 0 ? o.Returns[0] : 0;
        yield return r < 0 ? "error " + LayoutRenderer.Ret(r) : "success";
        var bio = o.Bio;
        if (bio is not null && r == 0 && g.Iter.Type != IterType.Bvec)
        {
            if (bio.Vcnt == bio.MaxVecs) yield return "bio full";
            if (g.LenAlignMask != 0 && Ref.Run(c.World, g with { LenAlignMask = 0 }).Bio?.Size != bio.Size) yield return "align-down trimmed";
            if (bio.InUse.Any(b => Oracle.PagesSpanned(c.World, b) > 1)) yield return "multi-page bvec";
        }
        if (r == -Errno.EFAULT && g.LenAlignMask != 0 && Ref.Run(c.World, g with { LenAlignMask = 0 }).Returns[0] == 0) yield return "align-down dropped every bvec";
        if (bio is not null && r == 0 && g.Iter.Type != IterType.Bvec)
        {
            if (bio.Opf.HasFlag(BioOpf.NoMerge)) yield return "P2PDMA bio";
        }
        if (g.LenAlignMask >= c.World.Machine.PageSize) yield return "len_align_mask ≥ PAGE_SIZE";
    }

    public static IEnumerable<PropertyDef> All()
    {
        var gp1 = Gp1();
        yield return gp1;
        yield return gp1.Twin("one-round", "one extraction round, no align-down", OneRound, [("success", 0.3), ("error -EFAULT", 0.01)]);
        yield return new PropertyDef
        {
            Id = "GP-1/single-page",
            Title = gp1.Title + " — no mem_align_mask, and no bvec can span two pages (align-down kept)",
            Generate = PropertyDef.Focus(Gen, GenPgmapInFirstBlock, 0.4),
            Domain = c => RoomOnEntry(c) && SinglePageBvecs(c),
            Classify = c => Classes(c).Concat(PgmapInFirstBlock(c) ? ["pgmap change inside the first block"] : []),
            Required = [("success", 0.3), ("error -EFAULT", 0.05), ("pgmap change inside the first block", 0.1), ("align-down trimmed", 0.02)],
            Check = gp1.Check,
        };
        yield return OnSuccess("GP-2", "On success the iterator advanced by exactly the bytes the call added to bi_size", (g, o) =>
        {
            ulong advanced = g.Iter.Count - o.Iter!.Count;
            ulong added = g.Iter.Type == IterType.Bvec ? o.Bio!.Size : o.Bio!.Size - g.Bio.Size;
            return Verdict.Require(advanced == added, () => $"iterator advanced {Ref.Hex(advanced)}, bi_size grew by {Ref.Hex(added)}");
        });
        yield return OnSuccess("GP-3", "After align-down, bi_size is a multiple of len_align_mask + 1 (the extraction path; a BVEC iterator is forwarded as-is)", (g, o) =>
        {
            if (g.Iter.Type == IterType.Bvec) return Verdict.Pass;
            ulong unit = (ulong)g.LenAlignMask + 1;
            return Verdict.Require(o.Bio!.Size % unit == 0, () => $"bi_size {Ref.Hex(o.Bio!.Size)} is not a multiple of {Ref.Hex(unit)}");
        });
        var gp4 = new PropertyDef
        {
            Id = "GP-4",
            Title = "Pins held == pages spanned by the bio's bvecs (after align-down too)",
            Generate = Gen,
            Domain = RoomOnEntry,
            Classify = Classes,
            Expect = Expectation.KnownFinding,
            Finding = "newest bio_iov_iter_align_down unpins only the first page of a dropped bvec and none of the pages cut off a trimmed one (VARIANTS.md aligndown/first-page; KERNEL-SPEC §3.8)",
            Check = c =>
            {
                var w = c.World;
                var g = (GetPagesOp)c.Op!;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                var bio = o.Bio!;
                var expected = bio.Has(BioFlags.PagePinned) ? Ref.ExpectedPins(w, bio.InUse) : new SortedDictionary<ulong, long>();
                return Ref.PinsEqual(expected, o, $"bio of {bio.Vcnt} bvec(s) after {LayoutRenderer.Ret(o.Returns[0])}");
            },
        };
        yield return gp4;
        yield return gp4.Twin("no-align-down", "len_align_mask 0 (no align-down)", c => ((GetPagesOp)c.Op!).LenAlignMask == 0, [("success", 0.3)]);
        yield return new PropertyDef
        {
            Id = "GP-5",
            Title = "BIO-5 holds, and REQ_NOMERGE is set exactly when the first page is P2PDMA",
            Generate = d =>
            {
                var w = WorldGen.Any(d, pgmapChance: 0.9);
                var g = OpGen.GetPages(d, w, bvec: false);
                // BIO-5 must hold on entry for the call to be judged on what it adds.
                if (!Ref.P2pHomogeneous(w, g.Bio.InUse).Ok) g = g with { Bio = g.Bio with { Vecs = [], Vcnt = 0, Size = 0, Flags = g.Bio.Flags & ~BioFlags.PagePinned } };
                return new Case(w, g);
            },
            Domain = c => RoomOnEntry(c) && Ref.P2pHomogeneous(c.World, ((GetPagesOp)c.Op!).Bio.InUse).Ok,
            Classify = Classes,
            Required = [("P2PDMA bio", 0.02)],
            Check = c =>
            {
                var w = c.World;
                var g = (GetPagesOp)c.Op!;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok || o.Returns[0] != 0) return v;
                var bio = o.Bio!;
                v = Ref.P2pHomogeneous(w, bio.InUse);
                if (!v.Ok) return v;
                var first = bio.Vecs[0];
                bool p2p = Oracle.IsP2p(w, first.Pfn);
                bool nomerge = (bio.Opf & BioOpf.NoMerge) != 0;
                return Verdict.Require(p2p == nomerge, () => $"first page PFN {Ref.Hex(first.Pfn)} is {(p2p ? "" : "not ")}P2PDMA but REQ_NOMERGE is {(nomerge ? "set" : "clear")}");
            },
        };
        }

    /// <summary>
    /// Calls where neither known GP-1 breaker can happen: one extraction round serves the whole call (UBUF,
    /// BVEC, or a single-segment IOVEC/KVEC) and there is no align-down (len_align_mask 0).
    /// </summary>
    private static bool OneRound(Case c)
    {
        var g = (GetPagesOp)c.Op!;
        return g.LenAlignMask == 0 && (g.Iter.Type is IterType.Ubuf or IterType.Bvec || g.Iter.NrSegs <= 1);
    }

    /// <summary>
    /// Calls where neither known mainline GP-1 breaker can happen but align-down still runs: no mem_align_mask (so
    /// no -EINVAL from a later round), and no bvec can span two pages, so align-down's first-page-only unpin is
    /// exact: every user page the call can reach is an order-0 folio and no two neighbouring user pages are
    /// physically adjacent (nothing to merge), and pinned bvecs already in the bio are single-page. KVEC takes no
    /// pins; BVEC is borrowed.
    /// </summary>
    public static bool SinglePageBvecs(Case c)
    {
        var g = (GetPagesOp)c.Op!;
        var w = c.World;
        if (g.MemAlignMask != 0) return false;
        if (g.Bio.Has(BioFlags.PagePinned) && g.Bio.InUse.Any(b => Oracle.PagesSpanned(w, b) > 1)) return false;
        if (!g.Iter.UserBacked) return true;
        var pages = w.User.Pages;
        for (int i = 0; i < pages.Length; i++)
        {
            if (!pages[i].HasPfn) continue;
            if (w.Facts.FolioOf(pages[i].Pfn).Order != 0) return false;
            if (i + 1 < pages.Length && pages[i + 1].HasPfn && pages[i + 1].Pfn == pages[i].Pfn + 1) return false;
        }
        return true;
    }

    /// <summary>The iterator's first logical block (len_align_mask + 1 bytes) has bytes on both sides of a pgmap change.</summary>
    private static bool PgmapInFirstBlock(Case c)
    {
        var g = (GetPagesOp)c.Op!;
        if (g.LenAlignMask == 0 || g.Iter.Type == IterType.Bvec) return false;
        var ids = Oracle.Stream(c.World, g.Iter, Math.Min(g.Iter.Count, (ulong)g.LenAlignMask + 1))
            .Where(k => k.Pfn is not null).Select(k => Oracle.PgmapId(c.World, k.Pfn!.Value)).Distinct().Count();
        return ids > 1;
    }

    /// <summary>
    /// A user buffer whose first logical block straddles a pgmap change: a few bytes at the end of a RAM page, then a
    /// page of a pgmap (P2PDMA or GENERIC) that is not its physical neighbour; every page an order-0 folio; an empty
    /// bio; len_align_mask 0x1ff or PAGE_SIZE − 1. The MSHV VTL report of thread 000 in its smallest form.
    /// </summary>
    private static Case? GenPgmapInFirstBlock(Draw d)
    {
        var m = WorldGen.Machine(d) with { ZoneDevice = true };
        var w = WorldGen.Build(d, m, pgmapChance: 1.0);
        w = w with { Folios = [] };
        ulong ps = m.PageSize;
        var device = w.Pgmaps.Where(p => p.Type != MemoryType.FsDax).SelectMany(p => new[] { p.Start, p.End - 1 }).Where(w.Facts.IsPresent).ToList();
        var ram = WorldGen.InterestingPfns(w).Where(p => w.Facts.IsPresent(p) && Oracle.PgmapId(w, p) == 0).ToList();
        if (device.Count == 0 || ram.Count == 0) return null;
        ulong g = d.Pick(device);
        var farRam = ram.Where(r => r != g - 1 && r != g + 1).ToList();
        if (farRam.Count == 0) return null;
        ulong r = d.Pick(farRam);
        bool deviceFirst = d.Chance(0.3);
        var (p0, p1) = deviceFirst ? (g, r) : (r, g);
        w = w with { User = new AddressSpace(AddressSpace.DefaultUserBaseFor(m), [VirtPage.Map(p0), VirtPage.Map(p1)]) };
        uint mask = d.Chance(0.5) ? 0x1ffu : (uint)(ps - 1);
        ulong a = d.U64(1, Math.Min(mask, ps - 1));
        ulong b = d.U64(1, ps);
        var it = IterDesc.ForUbuf(w.User.Base + ps - a, a + b, source: d.Chance(0.5));
        var bio = Bio.Empty((ushort)d.Int(1, 4)) with { Queue = new QueueLimits { PciP2pdma = m.PciP2pdma && d.Chance(0.8) } };
        return new Case(w, new GetPagesOp(bio, it, 0, mask));
    }

    /// <summary>A property judged on a successful call (return 0) within the contract.</summary>
    private static PropertyDef OnSuccess(string id, string title, Func<GetPagesOp, Outcome, Verdict> check) => new()
    {
        Id = id,
        Title = title,
        Generate = Gen,
        Domain = RoomOnEntry,
        Classify = Classes,
        Required = [("align-down trimmed", 0.05)],
        Check = c =>
        {
            var o = Ref.Run(c);
            var v = Ref.NoViolation(o);
            return !v.Ok || o.Returns[0] != 0 ? v : check((GetPagesOp)c.Op!, o);
        },
    };

    /// <summary>
    /// A misaligned second iovec behind an aligned first one: the second extraction round fails with
    /// -EINVAL after the first one made progress.
    /// </summary>
    private static Case? GenLateMisalignment(Draw d)
    {
        var w = WorldGen.Any(d, pgmapChance: 0.1);
        ulong ps = w.Machine.PageSize;
        ulong size = (ulong)w.User.Pages.Length * ps;
        if (size < 2 * 512) return null;
        ulong a = w.User.Base + d.U64(0, size / 512 - 2) * 512;
        var segs = new[] { new IoVec(a, 512 * d.U64(1, 2)), new IoVec(w.User.Base + d.U64(1, 511), d.U64(1, ps)) };
        var it = IterDesc.ForIovec(segs, source: d.Chance(0.5));
        return new Case(w, new GetPagesOp(Bio.Empty((ushort)d.Int(2, 4)), it, 0x1ff, 0));
    }

    private static PropertyDef Gp1() => new()
    {
        Id = "GP-1",
        Title = "An error only when nothing could be added (or for a misaligned vector); then no pins are held and the iterator is unchanged",
        Generate = PropertyDef.Focus(Gen, GenLateMisalignment, 0.2),
        Domain = RoomOnEntry,
        Expect = Expectation.KnownFinding,
        Finding = "two mainline behaviours break it: a -EINVAL from a later extraction round (a misaligned second iovec) releases the pages but neither reverts the iterator nor resets bi_size (block/bio.c b539aeac); and when align-down drops every bvec (-EFAULT) it unpins only the first page of each, so a multi-page bvec leaves pins behind (aligndown/first-page)",
        Classify = Classes,
        Check = c =>
        {
            var w = c.World;
            var g = (GetPagesOp)c.Op!;
            var o = Ref.Run(c);
            var v = Ref.NoViolation(o);
            if (!v.Ok) return v;
            long r = o.Returns[0];
            if (r >= 0) return Verdict.Pass;
            var bio = o.Bio!;
            if (r == -Errno.EIO && g.Bio.Has(BioFlags.Cloned))
                return Verdict.Require(bio == g.Bio && o.Iter == g.Iter, () => "-EIO for a cloned bio changed the bio or the iterator");
            if (g.Iter.Type != IterType.Bvec && bio.Vcnt != 0) return Verdict.Fail($"returned {LayoutRenderer.Ret(r)} with {bio.Vcnt} bvecs in the bio");
            var expected = bio.Has(BioFlags.PagePinned) ? Ref.ExpectedPins(w, bio.InUse) : new SortedDictionary<ulong, long>();
            v = Ref.PinsEqual(expected, o, $"after {LayoutRenderer.Ret(r)}");
            if (!v.Ok) return v;
            ulong p0 = Oracle.AbsPos(g.Iter), p1 = Oracle.AbsPos(o.Iter!);
            return Verdict.Require(p0 == p1 && g.Iter.Count == o.Iter!.Count,
                () => $"returned {LayoutRenderer.Ret(r)} but the iterator moved from byte {Ref.Hex(p0)} (count {Ref.Hex(g.Iter.Count)}) to byte {Ref.Hex(p1)} (count {Ref.Hex(o.Iter!.Count)})");
        },
    };
}
