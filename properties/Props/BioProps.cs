using BioModel.Core;

namespace BioModel.Properties;

/// <summary>BIO — bio_add_page and friends (INVARIANTS.md).</summary>
public static class BioProps
{
    /// <summary>One add call and what it did, run one call at a time so each step can be judged.</summary>
    public sealed record Step(Bio Before, AddCall Call, Outcome O)
    {
        public Bio After => O.Bio ?? Before;
        public long Ret => O.Returns.Length > 0 ? O.Returns[0] : 0;
        /// <summary>The bio took the bytes (judged by the bio, not by the return value, which BIO-1 judges).</summary>
        public bool Added => After != Before;
        public bool Merged => Added && After.Vcnt == Before.Vcnt;
    }

    public static List<Step> Steps(Case c)
    {
        var a = (BioAddOp)c.Op!;
        var bio = a.Bio;
        var steps = new List<Step>();
        foreach (var call in a.Calls)
        {
            var o = Ref.Run(c.World, new BioAddOp(bio, [call]));
            steps.Add(new Step(bio, call, o));
            if (o.Violations.Length > 0) break;
            bio = o.Bio!;
        }
        return steps;
    }

    /// <summary>The page and in-page byte offset a call's data starts at (bio_add_folio normalises through folio_page).</summary>
    public static (ulong Pfn, ulong Off) Start(World w, AddCall call)
    {
        ulong ps = w.Machine.PageSize;
        return call.Fn == AddFn.BioAddFolio ? (call.Pfn + call.Off / ps, call.Off % ps) : (call.Pfn, call.Off);
    }

    private static Case Gen(Draw d, bool rawAllowed = true)
    {
        if (d.Chance(0.12))
        {
            var big = WorldGen.Big(d);
            return new Case(big, OpGen.BioAddNearMax(d, big));
        }
        var w = WorldGen.Any(d, pgmapChance: 0.6);
        return new Case(w, OpGen.BioAdd(d, w, allowRaw: rawAllowed));
    }

    private static Case GenHuge(Draw d)
    {
        var w = WorldGen.Big(d);
        return new Case(w, OpGen.BioAddHuge(d, w));
    }

    private static Case GenHomogeneous(Draw d)
    {
        var c = Gen(d, rawAllowed: false);
        var a = (BioAddOp)c.Op!;
        if (!Ref.P2pHomogeneous(c.World, a.Bio.InUse).Ok) c = c with { Op = a with { Bio = Bio.Empty(a.Bio.MaxVecs) } };
        return c;
    }

    private static bool Compatible(World w, ulong lastPfn, ulong pfn)
        => !(Oracle.IsP2p(w, lastPfn) || Oracle.IsP2p(w, pfn)) || Oracle.PgmapId(w, lastPfn) == Oracle.PgmapId(w, pfn);

    private static IEnumerable<string> Classes(Case c)
    {
        var w = c.World;
        ulong ps = w.Machine.PageSize;
        var set = new HashSet<string>();
        foreach (var s in Steps(c))
        {
            var (pfn, off) = Start(w, s.Call);
            if (s.Merged) set.Add(s.Before.Vcnt >= s.Before.MaxVecs ? "merge into a full bvec array" : "merge");
            else if (s.Added) set.Add("new bvec");
            else if (s.Before.Vcnt >= s.Before.MaxVecs) set.Add("refused: bvec array full");
            else if (s.Call.Len == 0) set.Add("refused: len 0");
            else if (s.Before.Vcnt > 0 && !Compatible(w, s.Before.Vecs[s.Before.Vcnt - 1].Pfn, pfn)) set.Add("refused: P2PDMA mismatch");
            else if (s.Before.Size + s.Call.Len > uint.MaxValue) set.Add("refused: BIO_MAX_SIZE");
            if (s.Before.Vcnt > 0)
            {
                var last = s.Before.Vecs[s.Before.Vcnt - 1];
                ulong endPhys = Oracle.Phys(w, last.Pfn, last.Offset) + last.Len;
                if (endPhys == Oracle.Phys(w, pfn, off) && endPhys % ps == 0 &&
                    w.Facts.SectionNr((endPhys - 1) / ps) != w.Facts.SectionNr(endPhys / ps))
                    set.Add("join across a section boundary");
                if (Oracle.PgmapId(w, last.Pfn) != Oracle.PgmapId(w, pfn)) set.Add("pgmap change");
            }
            if (s.Call.Off >= ps && s.Call.Fn == AddFn.BioAddPage) set.Add("off >= PAGE_SIZE");
            if (s.Before.Size > uint.MaxValue - 4 * ps) set.Add("near BIO_MAX_SIZE");
        }
        if (w.Machine.Kmsan) set.Add("KMSAN");
        if (w.Machine.XenGuest) set.Add("Xen guest");
        return set;
    }

    private static Verdict EachStep(Case c, Func<World, Step, Verdict> check)
    {
        foreach (var s in Steps(c))
        {
            var v = Ref.NoViolation(s.O);
            if (!v.Ok) return v;
            v = check(c.World, s);
            if (!v.Ok) return Verdict.Fail($"{s.Call}: {v.Message}");
        }
        return Verdict.Pass;
    }

    /// <summary>A property judged on every add call of a sequence, one call at a time.</summary>
    private static PropertyDef StepDef(string id, string title, (string, double)[] required, Func<World, Step, Verdict> check) => new()
    {
        Id = id,
        Title = title,
        Generate = d => Gen(d),
        Classify = Classes,
        Required = required,
        Check = c => EachStep(c, check),
    };

    private static List<(ulong, ulong)> BioRanges(World w, Bio b) => Oracle.Normalize(b.InUse.Select(v => Oracle.Range(w, v)));

    public static IEnumerable<PropertyDef> All()
    {
        (string, double)[] reach = [("merge", 0.1), ("new bvec", 0.1), ("join across a section boundary", 0.02), ("merge into a full bvec array", 0.01), ("refused: bvec array full", 0.02), ("near BIO_MAX_SIZE", 0.03)];
        var bio1 = new PropertyDef
        {
            Id = "BIO-1",
            Title = "The return is 0 or len; when it is 0, nothing in the bio changed",
            Generate = PropertyDef.Focus(d => Gen(d), GenHuge, 0.1),
            Classify = Classes,
            Expect = Expectation.KnownFinding,
            Finding = "bio_add_page returns an int: a range of 2 GiB or more comes back as a negative number, and bio_add_folio, which tests that return for > 0, reports false for a 2–4 GiB range it did add (block/bio.c b539aeac)",
            Check = c => EachStep(c, (w, s) =>
            {
                if (s.Call.Fn == AddFn.RawBioAddPage) return Verdict.Pass; // void: nothing to judge
                long expectedAdded = s.Call.Fn == AddFn.BioAddFolio ? 1 : (long)s.Call.Len;
                if (s.Ret != 0 && s.Ret != expectedAdded) return Verdict.Fail($"returned {s.Ret}, neither 0 nor {expectedAdded}");
                return Verdict.Require(s.Ret != 0 || s.After == s.Before, () => "returned 0 but the bio changed: " + LayoutRenderer.RenderBioHeader(s.After));
            }),
        };
        yield return bio1;
        yield return bio1.Twin("below-2g", "every add shorter than 2 GiB", c => ((BioAddOp)c.Op!).Calls.All(x => x.Len < 0x8000_0000UL), reach);
        yield return StepDef("BIO-2", "bi_size == Σ bv_len (without overflow) ≤ BIO_MAX_SIZE; bi_vcnt ≤ bi_max_vecs", reach, (w, s) =>
        {
            ulong sum = 0;
            foreach (var v in s.After.InUse) sum += v.Len;
            if (sum != s.After.Size) return Verdict.Fail($"bi_size {Ref.Hex(s.After.Size)} != Σ bv_len {Ref.Hex(sum)}");
            if (sum > BioLimits.BioMaxSize) return Verdict.Fail($"Σ bv_len {Ref.Hex(sum)} exceeds BIO_MAX_SIZE");
            return Verdict.Require(s.After.Vcnt <= s.After.MaxVecs, () => $"bi_vcnt {s.After.Vcnt} > bi_max_vecs {s.After.MaxVecs}");
        });
        yield return StepDef("BIO-3", "Merge soundness: a merge only when the bytes follow physically, the join is in one page or the struct pages are adjacent, the pgmaps match, and neither KMSAN nor Xen forbids it", reach, (w, s) =>
        {
            if (!s.Merged) return Verdict.Pass;
            var last = s.Before.Vecs[s.Before.Vcnt - 1];
            var (pfn, off) = Start(w, s.Call);
            return Verdict.Require(Oracle.MergeAllowed(w, last, pfn, off, out var why), () => $"merged into {last} although {why}");
        });
        yield return StepDef("BIO-4", "Merge completeness: when every merge condition holds the add merges (and so succeeds even with a full bvec array)", reach, (w, s) =>
        {
            if (s.Call.Fn == AddFn.RawBioAddPage || s.Before.Vcnt == 0 || s.Before.Has(BioFlags.Cloned) || s.Call.Len == 0) return Verdict.Pass;
            if (s.Before.Size + s.Call.Len > BioLimits.BioMaxSize) return Verdict.Pass;
            var last = s.Before.Vecs[s.Before.Vcnt - 1];
            var (pfn, off) = s.Call.Fn == AddFn.BioAddFolio ? Start(w, s.Call) : (s.Call.Pfn, s.Call.Off);
            if (!Compatible(w, last.Pfn, s.Call.Fn == AddFn.BioAddFolio ? pfn : s.Call.Pfn)) return Verdict.Pass;
            if (!Oracle.MergeAllowed(w, last, pfn, off, out _)) return Verdict.Pass;
            return Verdict.Require(s.Merged, () => $"every merge condition holds against {last}, but the add {(s.Added ? "made a new bvec" : "was refused")}{(s.Before.Vcnt >= s.Before.MaxVecs ? " (the array was full)" : "")}");
        });
        var bio5 = new PropertyDef
        {
            Id = "BIO-5",
            Title = "P2P homogeneity: a bio's bvecs are all non-P2PDMA, or all P2PDMA of one pgmap",
            Generate = PropertyDef.Focus(GenHomogeneous, GenOffsetPastPgmap),
            Domain = c => Ref.P2pHomogeneous(c.World, ((BioAddOp)c.Op!).Bio.InUse).Ok,
            Classify = Classes,
            Expect = Expectation.KnownFinding,
            Finding = OffsetFinding,
            Check = c => EachStep(c, (w, s) => Ref.P2pHomogeneous(w, s.After.InUse)),
        };
        yield return bio5;
        yield return bio5.Twin("page-offsets", "calls whose offset stays in the pgmap of their page", PgmapOffsetsOk,
            [("pgmap change", 0.05), ("refused: P2PDMA mismatch", 0.02)]);
        yield return StepDef("BIO-6", "Compatible acceptance: a page compatible with the last bvec (no P2PDMA on either side, or the same P2PDMA pgmap) is accepted whenever there is room and size left", [("pgmap change", 0.05)], (w, s) =>
        {
            if (s.Call.Fn == AddFn.RawBioAddPage || s.Before.Has(BioFlags.Cloned) || s.Call.Len == 0) return Verdict.Pass;
            if (s.Before.Vcnt >= s.Before.MaxVecs || s.Before.Size + s.Call.Len > BioLimits.BioMaxSize) return Verdict.Pass;
            var page = s.Call.Fn == AddFn.BioAddFolio ? Start(w, s.Call).Pfn : s.Call.Pfn;
            if (s.Before.Vcnt > 0 && !Compatible(w, s.Before.Vecs[s.Before.Vcnt - 1].Pfn, page)) return Verdict.Pass;
            return Verdict.Require(s.Added, () => $"compatible page, {s.Before.MaxVecs - s.Before.Vcnt} free bvec(s) and size left, but refused");
        });
        yield return new PropertyDef
        {
            Id = "BIO-7",
            Title = "Bytes: the physical ranges of the bvecs, concatenated, are exactly the added ranges in order",
            Generate = d => Gen(d),
            Classify = Classes,
            Required = reach,
            Check = c =>
            {
                var w = c.World;
                var a = (BioAddOp)c.Op!;
                var expected = a.Bio.InUse.Select(v => Oracle.Range(w, v)).ToList();
                var steps = Steps(c);
                foreach (var s in steps)
                {
                    var v = Ref.NoViolation(s.O);
                    if (!v.Ok) return v;
                    if (s.Added)
                    {
                        var (pfn, off) = Start(w, s.Call);
                        expected.Add((Oracle.Phys(w, pfn, off), s.Call.Len));
                    }
                }
                var final = steps.Count > 0 ? steps[^1].After : a.Bio;
                var want = Oracle.Normalize(expected);
                var got = BioRanges(w, final);
                return Verdict.Require(want.SequenceEqual(got), () => $"bvecs cover {Oracle.RangesText(got)}, the adds were {Oracle.RangesText(want)}");
            },
        };
        yield return StepDef("BIO-8", "Every bvec can be walked page by page with page + k and reaches PFN first + k", reach, (w, s) =>
        {
            foreach (var v in s.After.InUse)
                if (Oracle.WalkProblem(w, v) is { } why) return Verdict.Fail($"bvec {v}: {why}");
            return Verdict.Pass;
        });
        var bio9 = Bio9();
        yield return bio9;
        yield return bio9.Twin("same-pgmap", "calls whose offset stays in the pgmap of their page, no Xen guest", OffsetStaysInPgmap, [("off >= PAGE_SIZE", 0.2)]);
        yield return Segments();
    }

    // ------------------------------------------------------------------ BIO-3 for hardware segments

    /// <summary>The pgmap of a bvec's pages, when they all have one (RAM is 0), else null.</summary>
    private static int? BvecPgmap(World w, BvecDesc b)
    {
        var ids = Oracle.SpannedPfns(w, b).Select(p => Oracle.PgmapId(w, p)).Distinct().ToList();
        return ids.Count == 1 ? ids[0] : null;
    }

    /// <summary>Pairs of well-formed bvecs: non-empty, offset inside the first page, every page in one pgmap.</summary>
    private static bool WellFormedPairs(Case c)
    {
        var w = c.World;
        ulong ps = w.Machine.PageSize;
        bool Ok(BvecDesc b) => b.Len > 0 && b.Offset < ps && OpGen.ContigRun(w, b.Pfn, 64) * ps >= (ulong)b.Offset + b.Len && BvecPgmap(w, b) is not null;
        return ((MergeableOp)c.Op!).Pairs.All(p => Ok(p.A) && Ok(p.B));
    }

    /// <summary>A pair that meets at a pgmap boundary: the first bvec ends on the last page before it, the second starts on the first page after it.</summary>
    private static Case? GenPgmapSeam(Draw d)
    {
        var m = WorldGen.Machine(d) with { ZoneDevice = true, Kmsan = false };
        var w = WorldGen.Build(d, m, pgmapChance: 1.0);
        ulong ps = m.PageSize;
        var seams = w.Pgmaps.SelectMany(p => new[] { p.Start, p.End })
            .Where(pfn => pfn > 0 && w.Facts.IsPresent(pfn) && w.Facts.IsPresent(pfn - 1)).Distinct().ToList();
        if (seams.Count == 0) return null;
        ulong seam = d.Pick(seams);
        ulong off = OpGen.InPageOffset(d, ps);
        var a = new BvecDesc(seam - 1, (uint)(ps - off), (uint)off);
        var b = new BvecDesc(seam, (uint)d.U64(1, ps), 0);
        var q = new QueueLimits { SegBoundaryMask = d.Chance(0.8) ? 0xffff_ffffUL : ps * 4 - 1 };
        return new Case(w, new MergeableOp(q, [new BvecPair(a, b)]));
    }

    /// <summary>
    /// BIO-3 at the hardware-segment level: biovec_phys_mergeable (block/blk.h, used to build segments from bvecs
    /// and to merge bios into requests) joins two bvecs only when the second starts exactly where the first ends
    /// physically, both are of one pgmap, and KMSAN is off. VARIANTS.md mergeable/*.
    /// </summary>
    private static PropertyDef Segments() => new()
    {
        Id = "BIO-3/segments",
        Title = "Merge soundness for hardware segments: biovec_phys_mergeable joins two bvecs only when they are physically adjacent, of one pgmap, and KMSAN is off",
        Generate = PropertyDef.Focus(d =>
        {
            var w = WorldGen.Any(d, pgmapChance: 0.7);
            return new Case(w, OpGen.Mergeable(d, w));
        }, GenPgmapSeam, 0.4),
        Domain = WellFormedPairs,
        Classify = c =>
        {
            var w = c.World;
            var set = new HashSet<string>();
            foreach (var p in ((MergeableOp)c.Op!).Pairs)
            {
                bool adjacent = Oracle.Phys(w, p.A.Pfn, p.A.Offset) + p.A.Len == Oracle.Phys(w, p.B.Pfn, p.B.Offset);
                set.Add(!adjacent ? "not adjacent" : BvecPgmap(w, p.A) == BvecPgmap(w, p.B) ? "adjacent, one pgmap" : "adjacent, pgmaps differ");
            }
            return set;
        },
        Required = [("adjacent, pgmaps differ", 0.1), ("adjacent, one pgmap", 0.1)],
        Check = c =>
        {
            var w = c.World;
            var mo = (MergeableOp)c.Op!;
            var o = Ref.Run(c);
            var v = Ref.NoViolation(o);
            if (!v.Ok) return v;
            for (int i = 0; i < mo.Pairs.Length; i++)
            {
                if (o.Returns[i] == 0) continue;
                var (a, b) = (mo.Pairs[i].A, mo.Pairs[i].B);
                ulong end = Oracle.Phys(w, a.Pfn, a.Offset) + a.Len, start = Oracle.Phys(w, b.Pfn, b.Offset);
                if (end != start) return Verdict.Fail($"pair {i}: {a} and {b} are mergeable, but the first ends at phys {Ref.Hex(end)} and the second starts at {Ref.Hex(start)}");
                int? ga = BvecPgmap(w, a), gb = BvecPgmap(w, b);
                if (ga != gb)
                    return Verdict.Fail($"pair {i}: {a} ({PgmapName(w, ga)}) and {b} ({PgmapName(w, gb)}) become one hardware segment across pgmaps");
                if (w.Machine.Kmsan) return Verdict.Fail($"pair {i}: mergeable under KMSAN");
            }
            return Verdict.Pass;
        },
    };

    private static string PgmapName(World w, int? id)
    {
        if (id is not { } n || n == 0) return "RAM";
        var p = w.Pgmaps.First(x => x.Id == n);
        return $"pgmap #{n} {Pgmap.TypeName(p.Type)}";
    }

    /// <summary>
    /// The calls of the case never point past their page into another pgmap, and the machine is not a Xen
    /// guest: the domain where the kernel's checks look at the right page whatever the offset.
    /// </summary>
    private static bool OffsetStaysInPgmap(Case c) => !c.World.Machine.XenGuest && PgmapOffsetsOk(c);

    private static Case GenBio9(Draw d)
    {
        var c = Gen(d, rawAllowed: false);
        var a = (BioAddOp)c.Op!;
        ulong ps = c.World.Machine.PageSize;
        // Make sure some calls carry off ≥ PAGE_SIZE, the case normalization is about.
        var calls = a.Calls.Select(x => x.Fn == AddFn.BioAddPage && x.Off < ps && x.Pfn > 0 && d.Chance(0.3) && OpGen.PointerReaches(c.World, x.Pfn - 1, 1)
            ? x with { Pfn = x.Pfn - 1, Off = x.Off + ps } : x).ToEqArray();
        return c with { Op = a with { Calls = calls } };
    }

    private const string OffsetFinding =
        "bio_add_page checks the pgmap (zone_device_pages_compatible, zone_device_pages_have_same_pgmap) and, in a Xen guest, the bus frame of the page it is given, not of page + off / PAGE_SIZE where the bytes are: with off ≥ PAGE_SIZE a page of another pgmap (RAM after a P2PDMA page, or the reverse) is merged or accepted where the normalised call is refused (block/bio.c b539aeac, drivers/xen/biomerge.c)";

    /// <summary>Calls whose data page (page + off / PAGE_SIZE) is in the pgmap of the page passed.</summary>
    private static bool PgmapOffsetsOk(Case c)
    {
        var w = c.World;
        ulong ps = w.Machine.PageSize;
        return ((BioAddOp)c.Op!).Calls.All(x => x.Fn != AddFn.BioAddPage || Oracle.PgmapId(w, x.Pfn) == Oracle.PgmapId(w, x.Pfn + x.Off / ps));
    }

    /// <summary>
    /// A bio_add_page whose offset points past its page into another pgmap: the page is the last one of a
    /// P2PDMA pgmap (or the one before it) and off = PAGE_SIZE, after an add on the page itself.
    /// </summary>
    private static Case? GenOffsetPastPgmap(Draw d)
    {
        var m = WorldGen.Machine(d) with { ZoneDevice = true, PciP2pdma = true, XenGuest = false };
        var w = WorldGen.Build(d, m, pgmapChance: 1.0);
        ulong ps = m.PageSize;
        var edges = w.Pgmaps.Where(p => p.Type == MemoryType.PciP2pdma)
            .SelectMany(p => new[] { p.End - 1, p.Start - 1 })
            .Where(pfn => w.Facts.IsPresent(pfn) && OpGen.PointerReaches(w, pfn, 1)).ToList();
        if (edges.Count == 0) return null;
        ulong page = d.Pick(edges);
        ulong o = d.Chance(0.5) ? 0 : OpGen.InPageOffset(d, ps);
        var calls = new List<AddCall> { new(AddFn.BioAddPage, page, ps - o, o), new(AddFn.BioAddPage, page, d.U64(1, ps), ps) };
        return new Case(w, new BioAddOp(Bio.Empty((ushort)d.Int(1, 4)), calls.ToEqArray()));
    }

    private static PropertyDef Bio9() => new()
    {
        Id = "BIO-9",
        Title = "Normalization: adding (page, off) and (page + off/PS, off % PS) gives the same physical layout",
        Generate = PropertyDef.Focus(GenBio9, GenOffsetPastPgmap),
        Expect = Expectation.KnownFinding,
        Finding = OffsetFinding,
        Classify = Classes,
        Check = c =>
        {
            var w = c.World;
            var a = (BioAddOp)c.Op!;
            ulong ps = w.Machine.PageSize;
            var norm = a with { Calls = a.Calls.Select(x => x.Fn == AddFn.BioAddPage ? x with { Pfn = x.Pfn + x.Off / ps, Off = x.Off % ps } : x).ToEqArray() };
            var o1 = Ref.Run(w, a);
            var o2 = Ref.Run(w, norm);
            var v = Ref.NoViolation(o1);
            if (!v.Ok) return v;
            v = Ref.NoViolation(o2);
            if (!v.Ok) return v;
            if (!o1.Returns.Equals(o2.Returns))
                return Verdict.Fail($"returns differ: as given {string.Join(" ", o1.Returns.Select(LayoutRenderer.Ret))}, normalised {string.Join(" ", o2.Returns.Select(LayoutRenderer.Ret))}");
            var seg1 = o1.Bio!.InUse.Select(b => Oracle.Range(w, b)).ToList();
            var seg2 = o2.Bio!.InUse.Select(b => Oracle.Range(w, b)).ToList();
            return Verdict.Require(seg1.SequenceEqual(seg2), () => $"bvecs differ: as given {Oracle.RangesText(seg1)}, normalised {Oracle.RangesText(seg2)}");
        },
    };
}
