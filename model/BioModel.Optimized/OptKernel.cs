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
    private readonly ulong _pageMask; // PAGE_MASK, and the two switches bio_add_page's merge asks on every call,
    private readonly bool _kmsan, _xen; // held here rather than re-derived from the machine each time
    private readonly List<TrapBuffer> _buffers = [];
    private TrapBuffer? _iterBvecs;
    private readonly PointerRun<ulong> _run64; // num_pages_contiguous's pointer test, one of the two by word size
    private readonly PointerRun<uint> _run32;

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
        _pageMask = _m.PageMask;
        _kmsan = _m.Kmsan;
        _xen = _m.XenGuest;
        _run64 = new PointerRun<ulong>(arena.StructPageSize);
        _run32 = new PointerRun<uint>((uint)arena.StructPageSize);
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
            // Stryker disable once statement : only frees native memory early (the finalizer frees it too); nothing in the outcome depends on it
            b.Dispose();
        }
        // Stryker disable once statement : a kernel is used for one run and CheckAndFree is its last call; the list is never read again
        _buffers.Clear();
        // Stryker disable once statement : only frees the bounce allocator and memory store early; nothing in the outcome depends on it
        DisposeBounce();
    }

    private Span<TBvec> IterBvecs => _iterBvecs is null ? default : _iterBvecs.As<TBvec>();

    /// <summary>Puts a BVEC iterator's bio_vec array in native memory (page pointers into the arena).</summary>
    public void LoadIterBvecs(IterDesc d)
    {
        // Stryker disable once statement : for a non-BVEC iterator d.Bvecs is empty: the buffer would only hold one unused entry, read by no path (every IterBvecs reader asks for IterType.Bvec)
        if (d.Type != IterType.Bvec) return;
        _iterBvecs = NewBuffer("iterator bvec array", Math.Max(1, d.Bvecs.Length) * Marshal.SizeOf<TBvec>());
        var span = _iterBvecs.As<TBvec>();
        for (int i = 0; i < d.Bvecs.Length; i++)
            span[i] = W.Make(_a.PfnToPage(d.Bvecs[i].Pfn), d.Bvecs[i].Len, d.Bvecs[i].Offset);
    }

    private ulong SegLen(IterState it, int i) => it.Type == IterType.Bvec ? W.LenOf(IterBvecs[i]) : it.Iov[i].Len;

    public BvecDesc ToDesc(in TBvec b) => new(_a.PageToPfn(W.PageOf(b)), W.LenOf(b), W.OffsetOf(b));

    // ---------------------------------------------------------------- num_pages_contiguous (mm_inline.h 929bf010)

    /// <summary>
    /// num_pages_contiguous. The pointer test runs over vectors of page pointers (<see cref="PointerRun{T}"/>);
    /// where the section number is in the page flags, the section test then runs over the stretch the pointer
    /// test accepted (<see cref="MemmapArena.SectionRun"/>), a chunk of <see cref="NpcChunk"/> pages at a time so
    /// that a run ended by a section is not scanned past its chunk. The kernel interleaves the two tests per
    /// page; the first index failing either is the same, and a section is still read only for a pointer that
    /// compared equal. Without SECTION_IN_PAGE_FLAGS the section test is constant and the kernel's compiler
    /// drops it, as here.
    /// </summary>
    public int NumPagesContiguous(ReadOnlySpan<TPtr> pages)
    {
        if (pages.Length == 0) throw _log.Fatal(Diag.NpcEmpty);
        // Stryker disable once conditional : without SECTION_IN_PAGE_FLAGS the records hold no section number (PageToSection is 0 for every page), so the section pass accepts the whole pointer run: the same count, only slower
        return _m.SectionInPageFlags ? NpcWithSections(pages) : PointerRunOf(pages);
    }

    /// <summary>num_pages_contiguous where the section is in the page flags (kept out of line: the pointer-only
    /// path then needs no stack frame of its own).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private int NpcWithSections(ReadOnlySpan<TPtr> pages)
    {
        ulong first = W.FromPtr(pages[0]);
        ulong section = _a.PageToSection(first);
        int n = pages.Length, done = 1; // pages[0 .. done) passed both tests
        while (done < n)
        {
            int end = Math.Min(done + NpcChunk, n);
            // Relative to pages[done − 1], which is first + (done − 1) records: the same pointer test.
            int stop = done - 1 + PointerRunOf(pages[(done - 1)..end]);
            int s = _a.SectionRun(first, section, done, stop);
            if (s < stop || stop < end) return s;
            done = end;
        }
        return n;
    }

    /// <summary>Pages per chunk of the interleaved pointer and section tests (2 KiB of 64-bit page pointers).</summary>
    private const int NpcChunk = 256;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private int PointerRunOf(ReadOnlySpan<TPtr> pages)
        => W.Is64 ? _run64.Length(MemoryMarshal.Cast<TPtr, ulong>(pages)) : _run32.Length(MemoryMarshal.Cast<TPtr, uint>(pages));
}
