using System.Runtime.InteropServices;
using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// The optimized implementation as an <see cref="IKernelModel"/>: builds the native memmap arena of the
/// world, puts the operation's arrays in trap-padded native buffers, runs the generic kernel for the
/// machine's word size, checks every trap (CF-2) and reports the same <see cref="Outcome"/> shape as
/// the reference. A fatal contract violation ends the run with the state before the failing call.
/// </summary>
public sealed class OptimizedModel : IKernelModel
{
    public static readonly OptimizedModel Instance = new();

    public string Name => "optimized";

    public Outcome Run(World world, Operation op)
        => world.Machine.Is64Bit
            ? Run<Wide, BioVec64, ulong>(world, op)
            : Run<Narrow, BioVec32, uint>(world, op);

    private static Outcome Run<W, TBvec, TPtr>(World world, Operation op)
        where W : IWordSize<TBvec, TPtr>
        where TBvec : unmanaged
        where TPtr : unmanaged
    {
        var log = new RunLog();
        using var arena = new MemmapArena(world, log, W.Is64);
        var k = new OptKernel<W, TBvec, TPtr>(world, log, arena);
        var returns = new List<long>();
        Bio? bio = null;
        IterDesc? iter = null;
        EqArray<BvecDesc> bvecs = [];
        EqArray<ulong> pages = [];
        ulong? offset0 = null;
        int ptr = Marshal.SizeOf<TPtr>(), bvSize = Marshal.SizeOf<TBvec>();
        EqArray<PinCount> pins = [];
        EqArray<Folio> held = [];
        EqArray<ulong> dirty = [];
        EqArray<byte> submitted = [], stored = [], device = [], buffer = [];
        try
        {
            switch (op)
            {
                case NumPagesContiguousOp n:
                {
                    // Stryker disable once string : the name is printed only when a trap byte is overwritten, and this array is written only through its exact-length span
                    var buf = k.NewBuffer("page array", Math.Max(1, n.Pfns.Length) * ptr);
                    var span = buf.As<TPtr>()[..n.Pfns.Length];
                    for (int i = 0; i < span.Length; i++) span[i] = W.ToPtr(arena.PfnToPage(n.Pfns[i]));
                    returns.Add(k.NumPagesContiguous(span));
                    break;
                }
                case BioAddOp a:
                {
                    var b = k.LoadBio(a.Bio);
                    bio = a.Bio;
                    foreach (var c in a.Calls)
                    {
                        ulong page = arena.PfnToPage(c.Pfn);
                        long ret = c.Fn switch
                        {
                            AddFn.BioAddPage => k.AddPage(b, page, (uint)c.Len, (uint)c.Off),
                            AddFn.RawBioAddPage => RawAdd(k, b, page, c),
                            _ => k.AddFolio(b, page, c.Len, c.Off) ? 1 : 0,
                        };
                        returns.Add(ret);
                        bio = k.ToDesc(b, a.Bio, null);
                    }
                    break;
                }
                case ExtractPagesOp e:
                {
                    iter = e.Iter;
                    k.LoadIterBvecs(e.Iter);
                    var it = IterState.From(e.Iter);
                    int cap = (int)Math.Min(e.MaxPages, 1u << 22);
                    // Stryker disable once string : the name is printed only when a trap byte is overwritten, and this array is written only through its exact-length span
                    var buf = k.NewBuffer("page array", Math.Max(1, cap) * ptr);
                    var span = buf.As<TPtr>()[..cap];
                    long r = k.ExtractPages(it, span, e.MaxSize, e.MaxPages, e.AllowP2p ? OptKernel<W, TBvec, TPtr>.IterAllowP2pdma : 0, out var off0, out int written);
                    var list = new ulong[written];
                    for (int i = 0; i < list.Length; i++) list[i] = arena.PageToPfn(W.FromPtr(span[i]));
                    returns.Add(r);
                    pages = list;
                    offset0 = off0;
                    iter = it.ToDesc(e.Iter);
                    break;
                }
                case ExtractBvecsOp x:
                {
                    iter = x.Iter;
                    bvecs = x.Entry;
                    k.LoadIterBvecs(x.Iter);
                    var it = IterState.From(x.Iter);
                    int cap = Math.Max(x.MaxVecs, x.Entry.Length);
                    // Stryker disable once string : the name is printed only when a trap byte is overwritten; the bvec array is written through spans and a page-pointer tail that never leaves it (TailArray bounds)
                    var buf = k.NewBuffer("bvec array", Math.Max(1, cap) * bvSize);
                    var span = buf.As<TBvec>();
                    for (int i = 0; i < x.Entry.Length; i++)
                        span[i] = W.Make(arena.PfnToPage(x.Entry[i].Pfn), x.Entry[i].Len, x.Entry[i].Offset);
                    int nr = x.Entry.Length;
                    for (int call = 0; call < x.Repeat; call++)
                    {
                        // Stryker disable once linq : nr <= cap on every call (it starts at the entry length and grows only up to max_vecs), so Min and Max give the same span length
                        long r = k.ExtractBvecs(it, span[..Math.Max(x.MaxVecs, Math.Min(nr, cap))], ref nr, x.MaxVecs, x.MaxSize, x.MemAlignMask,
                            x.AllowP2p ? OptKernel<W, TBvec, TPtr>.IterAllowP2pdma : 0);
                        returns.Add(r);
                        if (r <= 0 || it.Count == 0) break;
                    }
                    var list = new BvecDesc[nr];
                    for (int i = 0; i < nr; i++) list[i] = k.ToDesc(span[i]);
                    bvecs = list;
                    iter = it.ToDesc(x.Iter);
                    break;
                }
                case GetPagesOp g:
                {
                    bio = g.Bio;
                    iter = g.Iter;
                    k.LoadIterBvecs(g.Iter);
                    var b = k.LoadBio(g.Bio);
                    var it = IterState.From(g.Iter);
                    if (g.Bio.Has(BioFlags.PagePinned))
                    {
                        var vecs = k.BioVecs(b);
                        for (int i = 0; i < b.Vcnt; i++) k.PinBvecPages(vecs[i]);
                    }
                    long r = k.GetPages(b, it, g.MemAlignMask, g.LenAlignMask);
                    returns.Add(r);
                    bio = k.ToDesc(b, g.Bio, g.Iter);
                    iter = it.ToDesc(g.Iter);
                    break;
                }
                case IterOp io:
                {
                    iter = io.Iter;
                    k.LoadIterBvecs(io.Iter);
                    var it = IterState.From(io.Iter);
                    foreach (var s in io.Steps)
                    {
                        switch (s.Kind)
                        {
                            case IterStepKind.Advance:
                                k.Advance(it, s.N);
                                returns.Add((long)it.Count);
                                break;
                            case IterStepKind.Revert:
                                k.Revert(it, s.N);
                                returns.Add((long)it.Count);
                                break;
                            case IterStepKind.Npages:
                                returns.Add((long)k.Npages(it, s.N));
                                break;
                            default:
                                returns.Add((long)(k.Alignment(it) ?? throw log.Fatal(Diag.AlignmentPastEnd)));
                                break;
                        }
                        iter = it.ToDesc(io.Iter);
                    }
                    break;
                }
                case MergeableOp mo:
                    foreach (var p in mo.Pairs)
                    {
                        var a = W.Make(arena.PfnToPage(p.A.Pfn), p.A.Len, p.A.Offset);
                        var b = W.Make(arena.PfnToPage(p.B.Pfn), p.B.Len, p.B.Offset);
                        returns.Add(k.BiovecPhysMergeable(mo.Queue, a, b) ? 1 : 0);
                    }
                    break;
                case HwMergeOp hm:
                {
                    var bv = W.Make(arena.PfnToPage(hm.Bvec.Pfn), hm.Bvec.Len, hm.Bvec.Offset);
                    bvecs = [hm.Bvec];
                    foreach (var c in hm.Calls)
                    {
                        var copy = bv;
                        bool ok = k.TryMergeHwPage(hm.Queue, ref copy, arena.PfnToPage(c.Pfn), (uint)c.Len, (uint)c.Off);
                        returns.Add(ok ? 1 : 0);
                        if (ok) bv = copy;
                        bvecs = [k.ToDesc(bv)];
                    }
                    break;
                }
                case FolioAllocGreedyOp fa:
                {
                    k.LoadAllocatorAndMemory();
                    ulong size = fa.Size;
                    var head = k.FolioAllocGreedy(ref size, fa.MinSize);
                    returns.Add(head is null ? -Errno.ENOMEM : 0);
                    returns.Add((long)size);
                    break;
                }
                case BounceNrVecsOp nv:
                    iter = nv.Iter;
                    k.LoadIterBvecs(nv.Iter);
                    returns.Add((long)k.BounceNrVecs(IterState.From(nv.Iter), nv.Write));
                    break;
                case DirectIoOp d:
                {
                    bio = d.Bio;
                    iter = d.Iter;
                    var r = k.DirectIo(d);
                    returns.Add(r.Ret);
                    bio = r.Bio;
                    iter = r.Iter;
                    submitted = r.Submitted;
                    stored = r.Stored;
                    device = r.Device;
                    buffer = r.Buffer;
                    break;
                }
                default:
                    log.Breach(Diag.UnknownOperation(op.GetType().Name));
                    break;
            }
        }
        catch (OptViolation)
        {
            // The violation is in the log; the outcome keeps the state before the failing call.
        }
        try
        {
            pins = arena.PinTable();
            held = arena.HeldTable();
            dirty = arena.DirtyTable();
        }
        catch (OptViolation)
        {
        }
        // Stryker disable once statement : no reachable input makes the optimized code write into a trap (all writes go through bounded spans), so the check reports nothing; CheckAndFree itself is tested directly (MutationKernelTests)
        k.CheckAndFree();
        return new Outcome
        {
            Returns = returns.ToEqArray(),
            Bio = bio,
            Bvecs = bvecs,
            Pages = pages,
            Offset0 = offset0,
            Iter = iter,
            Pins = pins,
            Warnings = log.Warnings.ToEqArray(),
            Violations = log.Violations.ToEqArray(),
            Taken = k.TakenTable(),
            Allocated = held,
            Dirty = dirty,
            Submitted = submitted,
            Stored = stored,
            Device = device,
            Buffer = buffer,
        };
    }

    private static long RawAdd<W, TBvec, TPtr>(OptKernel<W, TBvec, TPtr> k, BioState b, ulong page, AddCall c)
        where W : IWordSize<TBvec, TPtr>
        where TBvec : unmanaged
        where TPtr : unmanaged
    {
        k.RawAddPage(b, page, (uint)c.Len, (uint)c.Off);
        return (long)c.Len;
    }
}
