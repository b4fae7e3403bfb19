using System.Runtime.InteropServices;
using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// The optimized implementation of the modelled kernel functions for one run, generic over the word
/// size (<see cref="Wide"/>: 16-byte bio_vecs and 8-byte page pointers, <see cref="Narrow"/>: 12 and
/// 4). Pages are pointers into the <see cref="MemmapArena"/>; bvec and page arrays are spans over
/// trap-padded native buffers. The algorithms follow the same kernel texts as the reference model
/// (block/bio.c b539aeac, lib/iov_iter.c b0d8d56b, include/linux/mm_inline.h 929bf010) but are written
/// against memory, the way the kernel does it: no allocation inside the per-page loops.
/// </summary>
public sealed partial class OptKernel<W, TBvec, TPtr>
    where W : IWordSize<TBvec, TPtr>
    where TBvec : unmanaged
    where TPtr : unmanaged
{
    private readonly World _w;
    private readonly MachineConfig _m;
    private readonly WorldFacts _f;
    private readonly RunLog _log;
    private readonly MemmapArena _a;
    private readonly ulong _ps;
    private readonly int _pshift; // PAGE_SHIFT: x / PAGE_SIZE as a shift in the per-page paths
    private readonly List<TrapBuffer> _buffers = [];
    private TrapBuffer? _iterBvecs;

    /// <summary>PAGE_PTRS_PER_BVEC = sizeof(struct bio_vec) / sizeof(struct page *).</summary>
    public static readonly int PagePtrsPerBvec = Marshal.SizeOf<TBvec>() / Marshal.SizeOf<TPtr>();

    public OptKernel(World w, RunLog log, MemmapArena arena)
    {
        _w = w;
        _m = w.Machine;
        _f = w.Facts;
        _log = log;
        _a = arena;
        _ps = _m.PageSize;
        _pshift = _m.PageShift;
    }

    public MemmapArena Arena => _a;

    /// <summary>A trap-padded buffer owned by this run (checked and freed by <see cref="CheckAndFree"/>).</summary>
    public TrapBuffer NewBuffer(string name, int bytes)
    {
        var b = new TrapBuffer(name, bytes);
        _buffers.Add(b);
        return b;
    }

    /// <summary>CF-2: every trap byte still poison; then free the native buffers.</summary>
    public void CheckAndFree()
    {
        foreach (var b in _buffers)
        {
            b.Check(_log.Violations);
            b.Dispose();
        }
        _buffers.Clear();
        DisposeBounce();
    }

    private Span<TBvec> IterBvecs => _iterBvecs is null ? default : _iterBvecs.As<TBvec>();

    /// <summary>Puts a BVEC iterator's bio_vec array in native memory (page pointers into the arena).</summary>
    public void LoadIterBvecs(IterDesc d)
    {
        if (d.Type != IterType.Bvec) return;
        _iterBvecs = NewBuffer("iterator bvec array", Math.Max(1, d.Bvecs.Length) * Marshal.SizeOf<TBvec>());
        var span = _iterBvecs.As<TBvec>();
        for (int i = 0; i < d.Bvecs.Length; i++)
            span[i] = W.Make(_a.PfnToPage(d.Bvecs[i].Pfn), d.Bvecs[i].Len, d.Bvecs[i].Offset);
    }

    private ulong SegLen(IterState it, int i) => it.Type == IterType.Bvec ? W.LenOf(IterBvecs[i]) : it.Iov[i].Len;

    public BvecDesc ToDesc(in TBvec b) => new(_a.PageToPfn(W.PageOf(b)), W.LenOf(b), W.OffsetOf(b));

    // ---------------------------------------------------------------- num_pages_contiguous (mm_inline.h 929bf010)

    public int NumPagesContiguous(ReadOnlySpan<TPtr> pages)
    {
        if (pages.Length == 0) throw _log.Fatal(Diag.NpcEmpty);
        ulong cur = W.FromPtr(pages[0]);
        int i;
        if (!_m.SectionInPageFlags)
        {
            // No section number in the page flags: the section test is constant and the compiler drops
            // it, leaving the pointer walk (as the kernel's comment says of unproblematic configs).
            ulong sz = _a.StructPageSize;
            for (i = 1; i < pages.Length; i++)
            {
                cur = W.Is64 ? cur + sz : (uint)(cur + sz);
                if (cur != W.FromPtr(pages[i])) break;
            }
            return i;
        }
        ulong section = _a.PageToSection(cur);
        var flags = _a.SectionFlags;
        ulong step = _a.StructPageSize;
        for (i = 1; i < pages.Length; i++)
        {
            cur = W.Is64 ? cur + step : (uint)(cur + step);
            if (cur != W.FromPtr(pages[i])) break;
            // cur is pages[0] (a checked struct page) plus whole records: the record-aligned read holds.
            if (!flags.TryRead(cur, out ulong s)) s = _a.PageToSection(cur);
            if (s != section) break;
        }
        return i;
    }
}
