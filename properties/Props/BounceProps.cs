using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// BNC: bounce-buffered direct I/O on a device that needs stable pages (the seed series "bounce buffer direct I/O
/// when stable pages are required", KERNEL-SPEC §3.9, VARIANTS.md bounce/*). INVARIANTS.md has no ids for them; the
/// issue that asked for them (stable pages, read delivery, nothing leaked or lost, dirtying only after a successful
/// read) names them, and README.md lists them:
/// BNC-1 stable pages; BNC-2 a bounced read delivers exactly the device's bytes, nothing on error; BNC-3 no pin, folio
/// or byte leaked or lost on any path (a short copy's -EFAULT leaves the iterator where it was); BNC-4 pages are
/// dirtied only by a read that delivered data, when asked; BNC-5 folio_alloc_greedy.
/// </summary>
public static class BounceProps
{
    private static Case Gen(Draw d)
    {
        var w = BounceGen.World(d);
        var op = BounceGen.DirectIo(d, w);
        w = BounceGen.WithAllocator(d, w, Oracle.Stream(w, op.Iter, op.Iter.Count).Where(k => k.Pfn is not null).Select(k => k.Pfn!.Value));
        return new Case(w, op);
    }

    private static DirectIoOp Op(Case c) => (DirectIoOp)c.Op!;

    /// <summary>
    /// A call the helpers are made for: a read's bio has room for bvec 0 and one user bvec (bi_max_vecs ≥ 2, what
    /// bio_iov_bounce_nr_vecs asks for), and no byte of the buffer is another byte of it (a buffer that maps one page
    /// twice sees its own stores come back: the byte-by-byte claims of BNC-2 do not apply).
    /// </summary>
    private static bool Proper(Case c)
    {
        var d = Op(c);
        if (!d.Write && d.Bio.MaxVecs < 2) return false;
        var seen = new HashSet<ulong>();
        foreach (var k in Oracle.Stream(c.World, d.Iter, d.Iter.Count))
            if (k.Pfn is { } p && !seen.Add(p)) return false;
        return true;
    }

    /// <summary>bi_size of the bio the device saw (0 when none was built).</summary>
    private static ulong IoBytes(Outcome o) => o.Returns.Length > 0 && o.Returns[0] >= 0 && o.Bio is { } b ? b.Size : 0;

    private static bool Built(Outcome o) => o.Returns.Length > 0 && o.Returns[0] >= 0;

    private static IEnumerable<string> Classes(Case c)
    {
        var d = Op(c);
        var o = Ref.Run(c);
        yield return d.Write ? "write" : "read";
        yield return d.Iter.Type.ToString().ToUpperInvariant();
        long r = o.Returns.Length > 0 ? o.Returns[0] : 0;
        yield return r < 0 ? "error " + LayoutRenderer.Ret(r) : "built";
        if (r == -Errno.EFAULT && d.Write && o.Taken.Length > 0 && o.Submitted.Length < (int)Math.Min(d.Iter.Count, d.MaxLen)) yield return "short copy";
        ulong n = IoBytes(o);
        if (Built(o))
        {
            int k = (int)Math.Min(n, (ulong)Math.Min(o.Stored.Length, o.Submitted.Length));
            if (!o.Stored.Items.AsSpan(0, k).SequenceEqual(o.Submitted.Items.AsSpan(0, k))) yield return "store hits the I/O";
            if (n < Math.Min(d.Iter.Count, d.MaxLen) && o.Bio!.Vcnt < o.Bio.MaxVecs - (d.Write ? 0 : 1)) yield return "bio short of the buffer";
            if (o.Taken.Length > 1) yield return "several bounce folios";
            if (d.IoError) yield return "I/O error";
        }
        if (c.World.Allocator.FreePages < (Math.Min(d.Iter.Count, d.MaxLen) + c.World.Machine.PageSize - 1) / c.World.Machine.PageSize)
            yield return "allocator short of the buffer";
        if (d.Iter.Count % d.MinSize != 0) yield return "count not block aligned";
        if (n > 0 && n < Math.Min(d.Iter.Count, d.MaxLen) && n % d.MinSize == 0 && d.Iter.Count % d.MinSize != 0) yield return "align-down trimmed";
    }

    public static IEnumerable<PropertyDef> All()
    {
        yield return new PropertyDef
        {
            Id = "BNC-1",
            Title = "Stable pages: a write's device reads at DMA time exactly the buffer's bytes at submission, whatever the user stores while the I/O is in flight",
            Generate = Gen,
            Domain = c => Op(c).Write && Proper(c),
            Classify = Classes,
            Required = [("store hits the I/O", 0.1), ("built", 0.5)],
            Check = c =>
            {
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok || !Built(o)) return v;
                int n = (int)IoBytes(o);
                if (o.Device.Length != n) return Verdict.Fail($"the device read {LayoutRenderer.Hex((ulong)o.Device.Length)} bytes of a {LayoutRenderer.Hex((ulong)n)}-byte bio");
                var at = o.Submitted.Items.AsSpan(0, Math.Min(n, o.Submitted.Length)).ToArray();
                return Verdict.Require(o.Device.Items.AsSpan().SequenceEqual(at),
                    () => "the device read " + LayoutRenderer.Compare(o.Device.Items, at, "the buffer at submission") + " (a store in flight reached the device)");
            },
        };
        yield return new PropertyDef
        {
            Id = "BNC-2",
            Title = "A read delivers exactly the device's bytes into the first bi_size bytes of the buffer and leaves the rest as the user left it; nothing when the I/O fails or the bio was not built",
            Generate = Gen,
            Domain = c => !Op(c).Write && Proper(c),
            Classify = Classes,
            Required = [("I/O error", 0.05), ("built", 0.5), ("store hits the I/O", 0.05)],
            Check = c =>
            {
                var d = Op(c);
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                if (!Built(o) || d.IoError)
                    return Verdict.Require(o.Buffer.Equals(o.Stored),
                        () => $"{(d.IoError ? "the I/O failed" : "no bio was built")}, yet the buffer {LayoutRenderer.Compare(o.Buffer.Items, o.Stored.Items, "what the user left in it")}");
                int n = (int)IoBytes(o);
                if (o.Buffer.Length < n) return Verdict.Fail($"the buffer holds {LayoutRenderer.Hex((ulong)o.Buffer.Length)} readable bytes, the bio {LayoutRenderer.Hex((ulong)n)}");
                var head = o.Buffer.Items.AsSpan(0, n).ToArray();
                if (!head.AsSpan().SequenceEqual(o.Device.Items.AsSpan())) return Verdict.Fail("the first bi_size bytes of the buffer " + LayoutRenderer.Compare(head, o.Device.Items, "the device's bytes"));
                var tail = o.Buffer.Items.AsSpan()[n..].ToArray();
                var storedTail = o.Stored.Items.AsSpan()[Math.Min(n, o.Stored.Length)..].ToArray();
                return Verdict.Require(tail.AsSpan().SequenceEqual(storedTail), () => "past bi_size the buffer " + LayoutRenderer.Compare(tail, storedTail, "what the user left in it"));
            },
        };
        var bnc3 = new PropertyDef
        {
            Id = "BNC-3",
            Title = "Nothing leaked or lost: after completion no pin and no bounce folio is held, and the iterator moved by exactly bi_size (not at all after an error, a short copy's -EFAULT included)",
            Generate = Gen,
            Domain = Proper,
            Classify = Classes,
            Expect = Expectation.KnownFinding,
            Finding = "three mainline leaks: the bounce write leaks a bounce folio in two shapes iomap never produces, a count (or maxlen) not a multiple of minsize (a last chunk shorter than minsize is dropped by align-down, which frees nothing on a bio that is not PINNED; KERNEL-SPEC §3.9) and an empty iterator or maxlen 0 (a folio is allocated for a 0-byte chunk, added, and -ENOMEM returned without putting it); and a bounced read whose user bvec spans two pages of a large folio and is dropped by align-down keeps the pins of all but its first page (aligndown/first-page, GP-4)",
            Check = c =>
            {
                var d = Op(c);
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                if (o.Pins.Length > 0) return Verdict.Fail($"pins left after completion: {Ref.PinText(o.Pins.Select(p => new KeyValuePair<ulong, long>(p.Pfn, p.Count)))}");
                if (o.Allocated.Length > 0) return Verdict.Fail($"bounce folio(s) never put: {string.Join(" ", o.Allocated.Select(f => $"{Ref.Hex(f.Head)}/o{f.Order}"))}");
                ulong moved = d.Iter.Count - o.Iter!.Count;
                ulong p0 = Oracle.AbsPos(d.Iter), p1 = Oracle.AbsPos(o.Iter);
                if (!Built(o))
                    return Verdict.Require(moved == 0 && p0 == p1, () => $"returned {LayoutRenderer.Ret(o.Returns[0])} but the iterator moved by {Ref.Hex(moved)} (from byte {Ref.Hex(p0)} to {Ref.Hex(p1)})");
                ulong n = IoBytes(o);
                return Verdict.Require(moved == n, () => $"the bio carries {Ref.Hex(n)} bytes but the iterator moved by {Ref.Hex(moved)}");
            },
        };
        yield return bnc3;
        yield return bnc3.Twin("aligned", "a non-empty count and maxlen, multiples of minsize (what iomap passes); a read into user memory of order-0 folios (one page per user bvec: GP-4's align-down leak aside)",
            c => Op(c).Iter.Count > 0 && Op(c).Iter.Count % Op(c).MinSize == 0 && Op(c).MaxLen > 0 && (Op(c).MaxLen == ulong.MaxValue || Op(c).MaxLen % Op(c).MinSize == 0)
                 && (Op(c).Write || !Op(c).Iter.UserBacked || c.World.User.Pages.All(p => !p.HasPfn || c.World.Facts.FolioOf(p.Pfn).Order == 0)),
            [("short copy", 0.01), ("allocator short of the buffer", 0.05), ("several bounce folios", 0.05)]);
        yield return new PropertyDef
        {
            Id = "BNC-4",
            Title = "Dirtying: only a read that delivered data marks pages dirty, and only when asked: exactly the folios of the user bvecs",
            Generate = Gen,
            Domain = Proper,
            Classify = Classes,
            Required = [("I/O error", 0.05), ("read", 0.3)],
            Check = c =>
            {
                var d = Op(c);
                var w = c.World;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                var expected = new SortedSet<ulong>();
                if (!d.Write && Built(o) && !d.IoError && d.MarkDirty && o.Bio!.Has(BioFlags.PagePinned))
                {
                    var user = o.Taken.Length > 0 && o.Bio.Vecs.Length == o.Bio.Vcnt + 1 ? o.Bio.Vecs.Skip(1) : o.Bio.InUse;
                    foreach (var bv in user)
                        foreach (var pfn in Oracle.SpannedPfns(w, bv)) expected.Add(w.Facts.FolioOf(pfn).Head);
                }
                var actual = new SortedSet<ulong>(o.Dirty);
                return Verdict.Require(expected.SetEquals(actual),
                    () => $"dirty folios {(actual.Count == 0 ? "none" : string.Join(" ", actual.Select(Ref.Hex)))}, expected {(expected.Count == 0 ? "none" : string.Join(" ", expected.Select(Ref.Hex)))}{(d.IoError ? " (the I/O failed)" : "")}");
            },
        };
        yield return new PropertyDef
        {
            Id = "BNC-5",
            Title = "folio_alloc_greedy: the folio holds the size it reports; that size is the request or a power of two no smaller than min(request, minsize); the request is served whole when a __GFP_NORETRY attempt can; it fails only when not even a normal attempt at the last size can",
            Generate = d =>
            {
                var w = BounceGen.World(d);
                w = BounceGen.WithAllocator(d, w, []);
                return new Case(w, BounceGen.Greedy(d, w));
            },
            Classify = c =>
            {
                var o = Ref.Run(c);
                var g = (FolioAllocGreedyOp)c.Op!;
                var cls = new List<string> { o.Returns[0] == 0 ? "allocated" : "failed" };
                if (o.Returns[0] == 0 && (ulong)o.Returns[1] < g.Size) cls.Add("shrunk");
                return cls;
            },
            Required = [("allocated", 0.3), ("shrunk", 0.05), ("failed", 0.02)],
            Check = c =>
            {
                var g = (FolioAllocGreedyOp)c.Op!;
                var w = c.World;
                var o = Ref.Run(c);
                var v = Ref.NoViolation(o);
                if (!v.Ok) return v;
                ulong ps = w.Machine.PageSize, size = (ulong)o.Returns[1];
                int Order(ulong s) { int k = 0; while ((ps << k) < s) k++; return k; }
                bool Serves(ulong s, bool noRetry) => w.Allocator.Alloc(Order(s), noRetry, w.Machine.MaxPageOrder).Folio is not null;
                if (size > g.Size) return Verdict.Fail($"size grew from {Ref.Hex(g.Size)} to {Ref.Hex(size)}");
                ulong floor = Math.Min(g.Size, g.MinSize);
                if (size != g.Size && ((size & (size - 1)) != 0 || size < floor))
                    return Verdict.Fail($"size {Ref.Hex(size)} is neither the request {Ref.Hex(g.Size)} nor a power of two ≥ {Ref.Hex(floor)}");
                if (g.Size > g.MinSize && Serves(g.Size, true) && (o.Returns[0] != 0 || size != g.Size))
                    return Verdict.Fail($"a __GFP_NORETRY order-{Order(g.Size)} folio was there for the whole request, but the result is {LayoutRenderer.Ret(o.Returns[0])} with size {Ref.Hex(size)}");
                if (o.Returns[0] != 0)
                    return Verdict.Require(o.Taken.Length == 0 && !Serves(size, false), () => $"failed, yet a normal order-{Order(size)} attempt could have been served");
                if (o.Taken.Length != 1) return Verdict.Fail($"{o.Taken.Length} folios taken");
                var f = o.Taken[0];
                return Verdict.Require(f.Order == Order(size) && (ps << f.Order) >= size,
                    () => $"folio {Ref.Hex(f.Head)}/o{f.Order} for a size of {Ref.Hex(size)} (get_order is {Order(size)})");
            },
        };
    }
}
