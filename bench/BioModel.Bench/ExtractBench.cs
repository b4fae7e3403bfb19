using BenchmarkDotNet.Attributes;
using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Bench;

/// <summary>
/// iov_iter_extract_bvecs of a 1 MiB UBUF (a direct I/O write) into 256 empty bvecs, over user memory
/// backed by order-0 folios (256 bvecs), order-4 folios (16 bvecs) or one 2 MiB folio (1 bvec).
/// Reference: <see cref="Extract.ExtractBvecs"/>; optimized: <see cref="OptKernel{W,TBvec,TPtr}.ExtractBvecs"/>
/// with the page array parked in the tail of the native bvec array; C: the same loop in bench/native.
/// Each extraction pins every page once; the pins are left in place (they do not change the work done).
/// </summary>
[PagesPerOperation(UbufBench.Pages)]
public class ExtractBench : UbufBench
{
    [Benchmark]
    public long Reference()
    {
        var r = new Extract(B.Mm, new Effects()).ExtractBvecs(Desc, [], Bytes, MaxVecs, 0, 0);
        return r.Ret + r.Bvecs.Length;
    }

    [Benchmark(Baseline = true)]
    public long Optimized()
    {
        ResetIter();
        int nr = 0;
        long r = B.Kernel.ExtractBvecs(Iter, BvecSpan, ref nr, MaxVecs, Bytes, 0, 0);
        return r + nr;
    }

    [Benchmark, BenchmarkCategory(Categories.Native)]
    public long C()
    {
        uint nr = 0;
        long r = NativeBaseline.Extract(Ptes, 0, Bytes, BvecSpan, ref nr, MaxVecs, Worlds.PageSize, (ulong)B.World.Machine.StructPageSize);
        return r + nr;
    }
}

/// <summary>bio_iov_iter_get_pages of the same 1 MiB UBUF into an empty bio of 256 vecs (reset before each call).</summary>
[PagesPerOperation(UbufBench.Pages)]
public class GetPagesBench : UbufBench
{
    private Bio _entry = Bio.Empty(MaxVecs);
    private BioState _bio = null!;

    protected override void More() => _bio = B.Kernel.LoadBio(_entry);

    [Benchmark]
    public long Reference()
    {
        var r = new BioIov(B.Mm, new Effects()).GetPages(_entry, Desc, 0, 0);
        return r.Ret + r.Bio.Size + r.Bio.Vcnt;
    }

    [Benchmark(Baseline = true)]
    public long Optimized()
    {
        ResetIter();
        var bio = _bio;
        bio.Vcnt = 0;
        bio.Size = 0;
        bio.Flags = 0;
        bio.Opf = 0;
        long r = B.Kernel.GetPages(bio, Iter, 0, 0);
        return r + bio.Size + bio.Vcnt;
    }
}

/// <summary>What the two UBUF benchmarks share: the world, the user mapping, the iterator and the bvec array.</summary>
public abstract class UbufBench
{
    public const int Pages = 256;
    public const ushort MaxVecs = 256;
    public const ulong Bytes = Pages * Worlds.PageSize;

    /// <summary>The folio order backing the buffer: 0, 4 or 9 (2 MiB).</summary>
    [Params(0, 4, 9)] public int FolioOrder;

    protected Both B = null!;
    protected IterDesc Desc = null!;
    protected IterState Iter = null!;
    protected ulong[] Ptes = [];
    private TrapBuffer _bvecs = null!;

    protected Span<BioVec64> BvecSpan => _bvecs.As<BioVec64>();

    [GlobalSetup]
    public void Setup()
    {
        // The buffer's pages are PFNs 512..767, inside a 2 MiB-aligned folio for order 9.
        const ulong first = 512;
        var folios = Worlds.FoliosOf(FolioOrder, 0, 4096);
        var user = Enumerable.Range(0, Pages).Select(i => first + (ulong)i).ToArray();
        B = new Both(Worlds.Make(MemoryModel.SparsememVmemmap, 1, folios, user));
        Desc = IterDesc.ForUbuf(Worlds.UserBase, Bytes, source: true);
        Iter = IterState.From(Desc);
        Ptes = user.Select(B.Arena.PfnToPage).ToArray();
        _bvecs = B.Kernel.NewBuffer("benchmark bvec array", MaxVecs * 16);
        More();
    }

    protected virtual void More() { }

    [GlobalCleanup]
    public void Cleanup() => B.Dispose();

    /// <summary>The iterator back at the start of the buffer (no allocation).</summary>
    protected void ResetIter()
    {
        Iter.IovOffset = 0;
        Iter.Index = 0;
        Iter.Count = Bytes;
    }
}
