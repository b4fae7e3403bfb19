using BioModel.Core;

namespace BioModel.Properties;

/// <summary>EX — iov_iter_extract_pages, get_contig_folio_len, iov_iter_extract_bvecs (INVARIANTS.md).</summary>
public static class ExProps
{
    private static Case GenPages(Draw d)
    {
        var w = WorldGen.Any(d, pgmapChance: 0.4);
        return new Case(w, OpGen.ExtractPages(d, w));
    }

    private static Case GenBvecs(Draw d)
    {
        var w = WorldGen.Any(d, pgmapChance: 0.5);
        return new Case(w, OpGen.ExtractBvecs(d, w));
    }

    private static IterDesc IterOf(Case c) => c.Op switch
    {
        ExtractPagesOp e => e.Iter,
        ExtractBvecsOp x => x.Iter,
        GetPagesOp g => g.Iter,
        IterOp io => io.Iter,
        _ => throw new InvalidOperationException(),
    };

    private static IEnumerable<string> Classes(Case c)
    {
        var w = c.World;
        var it = IterOf(c);
        yield return it.Type.ToString().ToUpperInvariant();
        ulong ps = w.Machine.PageSize;
        var chunks = Oracle.Stream(w, it, Math.Min(it.Count, 64 * ps));
        var pf = chunks.Where(k => k.Pfn is not null).Select(k => k.Pfn!.Value).ToList();
        var f = w.Facts;
        for (int i = 1; i < pf.Count; i++)
        {
            if (pf[i] == pf[i - 1] + 1 && f.SectionNr(pf[i]) != f.SectionNr(pf[i - 1])) yield return "buffer crosses a section";
            if (pf[i] != pf[i - 1] && f.FolioOf(pf[i - 1]).Order > 0 && f.FolioOf(pf[i]).Head != f.FolioOf(pf[i - 1]).Head && f.FolioOf(pf[i - 1]).Contains(pf[i - 1] + 1))
                yield return "COW'd page inside a large folio";
            if (Oracle.PgmapId(w, pf[i]) != Oracle.PgmapId(w, pf[i - 1])) yield return "pgmap change";
            if (pf[i] == pf[i - 1] + 1 && f.FolioOf(pf[i]).Head != f.FolioOf(pf[i - 1]).Head) yield return "adjacent folios";
        }
        if (chunks.Any(k => k.Kind != MappingKind.Mapped)) yield return "buffer reaches an unpinnable page";
        if (c.Op is ExtractBvecsOp x)
        {
            if (x.Entry.Length >= x.MaxVecs) yield return "no room on entry";
            else if (x.MaxVecs - x.Entry.Length == 1) yield return "one free bvec";
            if (x.Entry.Length > 0) yield return "bvecs present on entry";
            if (x.MemAlignMask != 0) yield return "mem_align_mask";
            var o = Ref.Run(c);
            if (o.Returns.Length > 0 && o.Returns[0] < 0) yield return "error " + LayoutRenderer.Ret(o.Returns[0]);
            else if (o.Bvecs.Length == x.MaxVecs && x.MaxVecs > x.Entry.Length) yield return "ends with a full bvec array";
        }
        if (it.Type != IterType.Ubuf && Enumerable.Range(it.Index, it.SegmentCount - it.Index).Any(i => it.SegLen(i) == 0)) yield return "zero-length segment";
    }

    /// <summary>The byte-stream position of the first byte of extracted page i.</summary>
    private static ulong PagePos(int i, ulong offset0, ulong ps) => i == 0 ? 0 : (ulong)i * ps - offset0;

    private static Chunk? ChunkAt(List<Chunk> chunks, ulong pos)
    {
        ulong at = 0;
        foreach (var k in chunks)
        {
            if (pos < at + k.Len) return k;
            at += k.Len;
        }
        return null;
    }

    public static IEnumerable<PropertyDef> All()
    {
        (string, double)[] reach = [("buffer crosses a section", 0.05), ("pgmap change", 0.03)];
        var ex1 = Ex1();
        yield return ex1;
        yield return ex1.Twin("no-empty-bvec", "no empty bvec ahead in a BVEC iterator", c => !EmptyBvecAhead(c), [.. reach]);
        var ex2 = new PropertyDef
        {
            Id = "EX-2",
            Expect = Expectation.KnownFinding,
            Finding = EmptyBvecFinding,
            Title = "Progress and bounds: 0 < size ≤ min(maxsize, count), or an error; count drops by exactly size",
            Generate = PropertyDef.Focus(GenPages, GenEmptyBvecPages),
            Classify = Classes,
            Check = c =>
            {
                var e = (ExtractPagesOp)c.Op!;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                long r = o.Returns[0];
                ulong limit = Math.Min(Math.Min(e.MaxSize, e.Iter.Count), c.World.Machine.MaxRwCount);
                if (r > 0 && (ulong)r > limit) return Verdict.Fail($"extracted {Ref.Hex((ulong)r)} > min(maxsize, count, MAX_RW_COUNT) = {Ref.Hex(limit)}");
                if (r == 0 && limit > 0) return Verdict.Fail($"returned 0 with {Ref.Hex(limit)} bytes allowed and available");
                ulong drop = e.Iter.Count - o.Iter!.Count;
                ulong want = r > 0 ? (ulong)r : 0;
                return Verdict.Require(drop == want, () => $"count dropped by {Ref.Hex(drop)}, returned {LayoutRenderer.Ret(r)}");
            },
        };
        yield return ex2;
        yield return ex2.Twin("no-empty-bvec", "no empty bvec ahead in a BVEC iterator", c => !EmptyBvecAhead(c), [.. reach]);
        yield return new PropertyDef
        {
            Id = "EX-3",
            Title = "Each new bvec has bv_offset < PS, lies inside one folio and is pointer-contiguous; at most max_vecs − nr_vecs new bvecs; entry bvecs unchanged",
            Generate = GenBvecs,
            Classify = Classes,
            Required = [.. reach, ("COW'd page inside a large folio", 0.02), ("ends with a full bvec array", 0.05)],
            Check = c =>
            {
                var w = c.World;
                var x = (ExtractBvecsOp)c.Op!;
                var o = Ref.Run(c);
                if (x.Entry.Length >= x.MaxVecs) return Verdict.Require(o.Bvecs.Length <= x.Entry.Length, () => "bvecs written with no room");
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                ulong ps = w.Machine.PageSize;
                if (!o.Bvecs.Take(x.Entry.Length).Equals(x.Entry)) return Verdict.Fail("a bvec present on entry was changed");
                int added = o.Bvecs.Length - x.Entry.Length;
                if (added > x.MaxVecs - x.Entry.Length) return Verdict.Fail($"{added} new bvecs, only {x.MaxVecs - x.Entry.Length} free");
                foreach (var b in o.Bvecs.Skip(x.Entry.Length))
                {
                    if (b.Offset >= ps) return Verdict.Fail($"new bvec {b}: bv_offset ≥ PAGE_SIZE");
                    if (b.Len == 0) return Verdict.Fail($"new bvec {b} is empty");
                    var fo = w.Facts.FolioOf(b.Pfn);
                    ulong last = b.Pfn + ((ulong)b.Offset + b.Len - 1) / ps;
                    if (!fo.Contains(last)) return Verdict.Fail($"new bvec {b} runs out of its folio [{Ref.Hex(fo.Head)}, {Ref.Hex(fo.End)})");
                    if (Oracle.WalkProblem(w, b) is { } why) return Verdict.Fail($"new bvec {b}: {why}");
                }
                return Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "EX-4",
            Title = "Bytes with identity: the bytes of the new bvecs are exactly the iterator's next bytes",
            Generate = GenBvecs,
            Classify = Classes,
            Required = [.. reach, ("COW'd page inside a large folio", 0.02)],
            Check = c =>
            {
                var w = c.World;
                var x = (ExtractBvecsOp)c.Op!;
                var o = Ref.Run(c);
                if (x.Entry.Length >= x.MaxVecs) return Verdict.Pass;
                var v = Ref.NoViolation(o);
                if (!v.Ok || o.Returns[0] <= 0) return v;
                ulong size = (ulong)o.Returns[0];
                var chunks = Oracle.Stream(w, x.Iter, size);
                if (chunks.Any(k => k.Pfn is null)) return Verdict.Fail("extracted bytes the iterator has no page for");
                var want = Oracle.Normalize(Oracle.StreamRanges(w, chunks));
                var got = Oracle.Normalize(o.Bvecs.Skip(x.Entry.Length).Select(b => Oracle.Range(w, b)));
                return Verdict.Require(want.SequenceEqual(got), () => $"new bvecs hold {Oracle.RangesText(got)}, the iterator's next bytes are {Oracle.RangesText(want)}");
            },
        };
        yield return new PropertyDef
        {
            Id = "EX-5",
            Title = "Pins: for user-backed iterators, pins held afterwards == pages spanned by the new bvecs (unused pages unpinned); other iterators take none",
            Generate = GenBvecs,
            Classify = Classes,
            Required = [.. reach, ("UBUF", 0.2), ("IOVEC", 0.15), ("buffer reaches an unpinnable page", 0.03)],
            Check = c =>
            {
                var w = c.World;
                var x = (ExtractBvecsOp)c.Op!;
                var o = Ref.Run(c);
                if (x.Entry.Length > x.MaxVecs) return Verdict.Pass; // the contract is broken and the state undefined (EX-9)
                if (x.Entry.Length == x.MaxVecs) return Verdict.Require(o.Pins.Length == 0, () => "pins left after a call with no room");
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                var expected = x.Iter.UserBacked ? Ref.ExpectedPins(w, o.Bvecs.Skip(x.Entry.Length)) : new SortedDictionary<ulong, long>();
                return Ref.PinsEqual(expected, o, x.Iter.UserBacked ? "user-backed iterator" : $"{x.Iter.Type} iterator (never pinned)");
            },
        };
        yield return new PropertyDef
        {
            Id = "EX-6",
            Title = "Revert: the iterator afterwards is the iterator advanced by exactly the returned bytes; revert(advance(it, n), n) == it",
            Generate = d =>
            {
                var w = WorldGen.Any(d, pgmapChance: 0.4);
                if (d.Chance(0.5)) return new Case(w, OpGen.ExtractBvecs(d, w));
                var it = OpGen.AnyIter(d, w);
                ulong n = it.Count == 0 ? 0 : d.Weighted((60, d.U64(0, it.Count)), (40, it.Count));
                return new Case(w, new IterOp(it, [new IterStep(IterStepKind.Advance, n), new IterStep(IterStepKind.Revert, n)]));
            },
            Classify = Classes,
            Required = [("zero-length segment", 0.05)],
            Check = c =>
            {
                var it = IterOf(c);
                var o = Ref.Run(c);
                if (c.Op is ExtractBvecsOp x && x.Entry.Length >= x.MaxVecs) return Verdict.Pass;
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                long moved = c.Op is IterOp ? 0 : Math.Max(0, o.Returns[0]);
                var after = o.Iter!;
                ulong p0 = Oracle.AbsPos(it), p1 = Oracle.AbsPos(after);
                if (p1 != p0 + (ulong)moved || after.Count != it.Count - (ulong)moved)
                    return Verdict.Fail($"iterator at byte {Ref.Hex(p1)} with count {Ref.Hex(after.Count)}; expected byte {Ref.Hex(p0 + (ulong)moved)} with count {Ref.Hex(it.Count - (ulong)moved)} (moved {LayoutRenderer.Ret(moved)})");
                return Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "EX-7",
            Title = "Pgmap break: extraction stops before the first page whose pgmap differs from the previous bvec's (including one present on entry); 0 only then, with nr_vecs > 0",
            Generate = d =>
            {
                var w = WorldGen.Any(d, pgmapChance: 0.9);
                var x = OpGen.ExtractBvecs(d, w);
                return new Case(w, x with { MemAlignMask = 0 });
            },
            Classify = Classes,
            Required = [("pgmap change", 0.1), ("bvecs present on entry", 0.2)],
            Check = c =>
            {
                var w = c.World;
                var x = (ExtractBvecsOp)c.Op!;
                if (x.Entry.Length >= x.MaxVecs) return Verdict.Pass;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                // What iov_iter_extract_pages would hand over for the same call.
                var pages = Ref.Run(w, new ExtractPagesOp(x.Iter, x.MaxSize, (uint)(x.MaxVecs - x.Entry.Length), x.AllowP2p));
                long extracted = pages.Returns[0];
                if (extracted <= 0) return Verdict.Require(o.Returns[0] < 0, () => $"nothing could be extracted ({LayoutRenderer.Ret(extracted)}) but returned {LayoutRenderer.Ret(o.Returns[0])}");
                var chunks = Oracle.Stream(w, x.Iter, (ulong)extracted);
                int pgmap = x.Entry.Length > 0 ? Oracle.PgmapId(w, x.Entry[^1].Pfn) : Oracle.PgmapId(w, chunks[0].Pfn!.Value);
                ulong same = 0;
                foreach (var k in chunks)
                {
                    if (Oracle.PgmapId(w, k.Pfn!.Value) != pgmap) break;
                    same += k.Len;
                }
                long r = o.Returns[0];
                if (r < 0) return Verdict.Fail($"returned {LayoutRenderer.Ret(r)} although {Ref.Hex((ulong)extracted)} bytes were extracted");
                if ((ulong)r != same) return Verdict.Fail($"returned {Ref.Hex((ulong)r)}; the first {Ref.Hex(same)} of the {Ref.Hex((ulong)extracted)} extracted bytes share pgmap #{pgmap}");
                return Verdict.Require(r != 0 || x.Entry.Length > 0, () => "returned 0 with no bvec on entry");
            },
        };
        var ex8 = Ex8();
        yield return ex8;
        yield return ex8.Twin("iovec-kvec", "IOVEC and KVEC iterators", c => ((ExtractBvecsOp)c.Op!).Iter.Type != IterType.Bvec, [("zero-length segment", 0.9)]);
        yield return new PropertyDef
        {
            Id = "EX-9",
            Title = "Contract: nr_vecs < max_vecs on entry; a call that breaks it is reported as a contract violation; nothing is ever written at or beyond bv[max_vecs]",
            Generate = d =>
            {
                var w = WorldGen.Any(d, pgmapChance: 0.3);
                var x = OpGen.ExtractBvecs(d, w);
                if (d.Chance(0.5)) x = x with { MaxVecs = (ushort)Math.Max(0, x.Entry.Length - d.Int(0, Math.Min(2, x.Entry.Length))) };
                return new Case(w, x);
            },
            Classify = Classes,
            Required = [("no room on entry", 0.3), ("one free bvec", 0.05)],
            Check = c =>
            {
                var x = (ExtractBvecsOp)c.Op!;
                var o = Ref.Run(c);
                bool broken = x.Entry.Length >= x.MaxVecs;
                if (broken && o.Violations.Length == 0) return Verdict.Fail($"nr_vecs {x.Entry.Length} ≥ max_vecs {x.MaxVecs} on entry, but no contract violation was reported");
                if (!broken && o.Violations.Length > 0) return Verdict.Fail("contract violation reported for a valid call: " + o.Violations[0]);
                int limit = Math.Max(x.MaxVecs, x.Entry.Length);
                if (broken) limit = x.Entry.Length;
                return Verdict.Require(o.Bvecs.Length <= limit, () => $"{o.Bvecs.Length} bvecs in an array of {x.MaxVecs}");
            },
        };
        }

    private static PropertyDef Ex8() => new()
    {
        Id = "EX-8",
        Title = "Zero-length segments in an IOVEC/KVEC/BVEC iterator do not change what is extracted",
        Expect = Expectation.KnownFinding,
        Finding = EmptyBvecFinding,
        Generate = d =>
        {
            var w = WorldGen.Any(d, pgmapChance: 0.3);
            var x = OpGen.ExtractBvecs(d, w);
            if (d.Chance(0.2))
            {
                var e = EmptyBvecIter(d, w);
                return new Case(w, x with { Iter = e, MaxSize = e.Count, MemAlignMask = 0, Entry = [], MaxVecs = (ushort)d.Int(1, 4) });
            }
            var t = d.Pick(new[] { IterType.Iovec, IterType.Kvec, IterType.Bvec });
            var it = t switch { IterType.Iovec => OpGen.IovecIter(d, w), IterType.Kvec => OpGen.KvecIter(d, w), _ => OpGen.BvecIter(d, w) };
            it = it with { Index = 0, IovOffset = 0, Count = it.Type == IterType.Bvec ? (ulong)it.Bvecs.Sum(b => (long)b.Len) : (ulong)it.Iov.Sum(s => (long)s.Len) };
            // Insert zero-length segments at random places (the front included).
            int n = d.Int(1, 3);
            for (int i = 0; i < n; i++)
            {
                int at = d.Int(0, it.SegmentCount);
                it = it.Type == IterType.Bvec
                    ? it with { Bvecs = it.Bvecs.Insert(at, new BvecDesc(d.Pick(it.Bvecs.Items).Pfn, 0, (uint)(d.Chance(0.5) ? 0 : d.U64(1, 100)))) }
                    : it with { Iov = it.Iov.Insert(at, new IoVec(d.Chance(0.5) ? it.Iov[0].Base : AddressSpace.PageOffset, 0)) };
            }
            return new Case(w, x with { Iter = it, MaxSize = it.Count, MemAlignMask = 0 });
        },
        Classify = Classes,
        Check = c =>
        {
            var x = (ExtractBvecsOp)c.Op!;
            if (x.Entry.Length >= x.MaxVecs) return Verdict.Pass;
            var it = x.Iter;
            var stripped = it.Type == IterType.Bvec
                ? it with { Bvecs = it.Bvecs.Where(b => b.Len != 0).ToEqArray() }
                : it with { Iov = it.Iov.Where(s => s.Len != 0).ToEqArray() };
            var o1 = Ref.Run(c.World, x);
            var o2 = Ref.Run(c.World, x with { Iter = stripped });
            var v = Ref.NoViolation(o1);
            if (!v.Ok) return v;
            if (!o1.Returns.Equals(o2.Returns)) return Verdict.Fail($"returned {LayoutRenderer.Ret(o1.Returns[0])} with the zero-length segments, {LayoutRenderer.Ret(o2.Returns[0])} without");
            if (!o1.Bvecs.Equals(o2.Bvecs)) return Verdict.Fail("different bvecs with and without the zero-length segments");
            if (!o1.Pins.Equals(o2.Pins)) return Verdict.Fail("different pins with and without the zero-length segments");
            return Verdict.Require(o1.Iter!.Count == o2.Iter!.Count, () => "different counts left with and without the zero-length segments");
        },
    };

    /// <summary>A BVEC iterator with a zero-length bvec at or after its current entry.</summary>
    private static bool EmptyBvecAhead(Case c)
        => c.Op is ExtractPagesOp e && e.Iter.Type == IterType.Bvec && Enumerable.Range(e.Iter.Index, e.Iter.SegmentCount - e.Iter.Index).Any(i => e.Iter.Bvecs[i].Len == 0);

    private const string EmptyBvecFinding =
        "iov_iter_extract_bvec_pages steps over at most one used-up bvec at the head and ends its walk at an empty bvec: two empty bvecs at the head extract 0 bytes with data left (iov_iter_extract_bvecs then returns -EFAULT), an empty bvec after a page-aligned piece ends the extraction early and lists its page as one more entry than the bytes need (lib/iov_iter.c b0d8d56b)";

    /// <summary>A BVEC iterator with empty bvecs where the extractor trips on them: after a full page, or two at the head.</summary>
    private static IterDesc EmptyBvecIter(Draw d, World w)
    {
        var bv = OpGen.ValidBvec(d, w) with { Offset = 0, Len = (uint)w.Machine.PageSize };
        var next = OpGen.ValidBvec(d, w);
        if (next.Len == 0) next = next with { Len = 1 };
        var empty = bv with { Len = 0 };
        return IterDesc.ForBvec(d.Chance(0.5) ? [bv, empty, next] : [empty, empty, next]);
    }

    private static Case GenEmptyBvecPages(Draw d)
    {
        var w = WorldGen.Any(d, pgmapChance: 0.2);
        var it = EmptyBvecIter(d, w);
        return new Case(w, new ExtractPagesOp(it, it.Count, (uint)d.Int(2, 8), false));
    }

    private static PropertyDef Ex1() => new PropertyDef
        {
            Id = "EX-1",
            Expect = Expectation.KnownFinding,
            Finding = EmptyBvecFinding,
            Title = "Shape: offset0 < PS; ⌈(offset0 + size)/PS⌉ page entries, entry i being the page behind the i-th page of the extracted range (page identity)",
            Generate = PropertyDef.Focus(GenPages, GenEmptyBvecPages),
            Classify = Classes,

            Check = c =>
            {
                var w = c.World;
                var e = (ExtractPagesOp)c.Op!;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok || o.Returns[0] <= 0) return v;
                ulong ps = w.Machine.PageSize, size = (ulong)o.Returns[0], off0 = o.Offset0!.Value;
                if (off0 >= ps) return Verdict.Fail($"offset0 {Ref.Hex(off0)} ≥ PAGE_SIZE");
                ulong n = (off0 + size + ps - 1) / ps;
                if ((ulong)o.Pages.Length != n) return Verdict.Fail($"{o.Pages.Length} page entries for offset0 {Ref.Hex(off0)} + size {Ref.Hex(size)}; expected {n}");
                var chunks = Oracle.Stream(w, e.Iter, size);
                if (chunks[0].Off != off0) return Verdict.Fail($"offset0 {Ref.Hex(off0)}, but the first byte is at offset {Ref.Hex(chunks[0].Off)} of its page");
                for (int i = 0; i < o.Pages.Length; i++)
                {
                    var k = ChunkAt(chunks, PagePos(i, off0, ps));
                    if (k is null || k.Value.Pfn != o.Pages[i])
                        return Verdict.Fail($"page entry {i} is PFN {Ref.Hex(o.Pages[i])}, the iterator's page there is {(k?.Pfn is { } p ? Ref.Hex(p) : "none")}");
                }
                return Verdict.Pass;
            },
        };
}
