using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// The reference model as an <see cref="IKernelModel"/>: runs one operation on a world and reports the
/// outcome. Each run gets fresh <see cref="Effects"/>; a fatal contract violation ends the run and the
/// outcome holds the state before the call that broke the contract. <see cref="Instance"/> runs the newest
/// mainline; <see cref="For(Variant)"/> runs the function versions of one VARIANTS.md entry.
/// </summary>
public sealed class ReferenceModel(KernelVariants variants, string name = "reference") : IKernelModel
{
    public static readonly ReferenceModel Instance = new(KernelVariants.Mainline);

    /// <summary>The reference model running the kernel code of <paramref name="v"/>.</summary>
    public static ReferenceModel For(Variant v) => new(v.Kernel, $"reference [{v.Id}]");

    public KernelVariants Variants => variants;

    public string Name => name;

    public Outcome Run(World world, Operation op)
    {
        var fx = new Effects();
        var mm = new MemoryModelRules(world);
        var returns = new List<long>();
        Bio? bio = null;
        IterDesc? iter = null;
        EqArray<BvecDesc> bvecs = [];
        EqArray<ulong> pages = [];
        ulong? offset0 = null;
        EqArray<byte> submitted = [], stored = [], device = [], buffer = [];
        try
        {
            switch (op)
            {
                case NumPagesContiguousOp n:
                {
                    var ptrs = n.Pfns.Select(mm.PfnToPage).ToList();
                    returns.Add(NumPagesContiguous.Run(mm, ptrs, fx, variants.Npc));
                    break;
                }
                case BioAddOp a:
                {
                    var add = new BioAdd(mm, fx, variants);
                    bio = a.Bio;
                    foreach (var c in a.Calls)
                    {
                        ulong page = mm.PfnToPage(c.Pfn);
                        switch (c.Fn)
                        {
                            case AddFn.BioAddPage:
                            {
                                var (b, added) = add.AddPage(bio, page, (uint)c.Len, (uint)c.Off);
                                bio = b;
                                returns.Add(added);
                                break;
                            }
                            case AddFn.RawBioAddPage:
                                bio = add.RawAddPage(bio, page, (uint)c.Len, (uint)c.Off);
                                returns.Add((long)c.Len);
                                break;
                            default:
                            {
                                var (b, ok) = add.AddFolio(bio, page, c.Len, c.Off);
                                bio = b;
                                returns.Add(ok ? 1 : 0);
                                break;
                            }
                        }
                    }
                    break;
                }
                case ExtractPagesOp e:
                {
                    iter = e.Iter;
                    var r = new Extract(mm, fx, variants).ExtractPages(e.Iter, e.MaxSize, e.MaxPages, e.AllowP2p ? Extract.IterAllowP2pdma : 0);
                    returns.Add(r.Ret);
                    pages = r.Pages.Select(mm.PageToPfn).ToEqArray();
                    offset0 = r.Offset0;
                    iter = r.Iter;
                    break;
                }
                case ExtractBvecsOp x:
                {
                    iter = x.Iter;
                    bvecs = x.Entry;
                    var ex = new Extract(mm, fx, variants);
                    var (it, vecs) = (x.Iter, x.Entry);
                    for (int call = 0; call < x.Repeat; call++)
                    {
                        var r = ex.ExtractBvecs(it, vecs, x.MaxSize, x.MaxVecs, x.MemAlignMask, x.AllowP2p ? Extract.IterAllowP2pdma : 0);
                        returns.Add(r.Ret);
                        (it, vecs) = (r.Iter, r.Bvecs);
                        if (r.Ret <= 0 || it.Count == 0) break;
                    }
                    bvecs = vecs;
                    iter = it;
                    break;
                }
                case GetPagesOp g:
                {
                    bio = g.Bio;
                    iter = g.Iter;
                    var bi = new BioIov(mm, fx, variants);
                    if (g.Bio.Has(BioFlags.PagePinned))
                        foreach (var bv in g.Bio.InUse)
                            foreach (var pfn in bi.BvecPages(bv)) fx.Pin(pfn);
                    var r = bi.GetPages(g.Bio, g.Iter, g.MemAlignMask, g.LenAlignMask);
                    returns.Add(r.Ret);
                    bio = r.Bio;
                    iter = r.Iter;
                    break;
                }
                case IterOp io:
                {
                    iter = io.Iter;
                    foreach (var s in io.Steps)
                    {
                        switch (s.Kind)
                        {
                            case IterStepKind.Advance:
                                iter = IovIter.Advance(iter, s.N);
                                returns.Add((long)iter.Count);
                                break;
                            case IterStepKind.Revert:
                                iter = IovIter.Revert(iter, s.N, world.Machine, fx);
                                returns.Add((long)iter.Count);
                                break;
                            case IterStepKind.Npages:
                                returns.Add((long)IovIter.Npages(iter, s.N, world.Machine));
                                break;
                            default:
                                returns.Add((long)(IovIter.Alignment(iter)
                                    ?? throw fx.Fatal(Diag.AlignmentPastEnd)));
                                break;
                        }
                    }
                    break;
                }
                case MergeableOp mo:
                {
                    var add = new BioAdd(mm, fx, variants);
                    foreach (var p in mo.Pairs) returns.Add(add.BiovecPhysMergeable(mo.Queue, p.A, p.B) ? 1 : 0);
                    break;
                }
                case HwMergeOp hm:
                {
                    var add = new BioAdd(mm, fx, variants);
                    var bv = hm.Bvec;
                    bvecs = [bv];
                    foreach (var c in hm.Calls)
                    {
                        var merged = add.TryMergeHwPage(hm.Queue, bv, mm.PfnToPage(c.Pfn), (uint)c.Len, (uint)c.Off);
                        returns.Add(merged is null ? 0 : 1);
                        if (merged is { } m2) bv = m2;
                        bvecs = [bv];
                    }
                    break;
                }
                case FolioAllocGreedyOp fa:
                {
                    fx.Allocator = world.Allocator;
                    ulong size = fa.Size;
                    var folio = new Bounce(mm, fx, variants).FolioAllocGreedy(ref size, fa.MinSize);
                    returns.Add(folio is null ? -Errno.ENOMEM : 0);
                    returns.Add((long)size);
                    break;
                }
                case BounceNrVecsOp nv:
                    iter = nv.Iter;
                    returns.Add((long)new Bounce(mm, fx, variants).NrVecs(nv.Iter, nv.Write));
                    break;
                case DirectIoOp d:
                {
                    bio = d.Bio;
                    iter = d.Iter;
                    var r = new Bounce(mm, fx, variants).DirectIo(d);
                    returns.Add(r.Ret);
                    bio = r.Bio;
                    iter = r.Iter;
                    submitted = [.. r.Submitted];
                    stored = [.. r.Stored];
                    device = [.. r.Device];
                    buffer = [.. r.Buffer];
                    break;
                }
                default:
                    fx.Breach(Diag.UnknownOperation(op.GetType().Name));
                    break;
            }
        }
        catch (ContractViolation v)
        {
            if (!fx.Violations.Contains(v.Message)) fx.Violations.Add(v.Message);
        }
        return new Outcome
        {
            Returns = returns.ToEqArray(),
            Bio = bio,
            Bvecs = bvecs,
            Pages = pages,
            Offset0 = offset0,
            Iter = iter,
            Pins = fx.PinTable(),
            Warnings = fx.Warnings.ToEqArray(),
            Violations = fx.Violations.ToEqArray(),
            Taken = fx.TakenTable(),
            Allocated = fx.HeldTable(),
            Dirty = fx.DirtyTable(),
            Submitted = submitted,
            Stored = stored,
            Device = device,
            Buffer = buffer,
        };
    }
}
