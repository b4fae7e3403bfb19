using BenchmarkDotNet.Attributes;
using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Bench;

/// <summary>The array shapes num_pages_contiguous is timed on.</summary>
public enum NpcShape
{
    /// <summary>Consecutive PFNs, SPARSEMEM_VMEMMAP: one run, no section test compiled in.</summary>
    Contiguous,
    /// <summary>A PFN skipped after every 8 pages, SPARSEMEM_VMEMMAP: runs of 8.</summary>
    Broken8,
    /// <summary>Consecutive PFNs over classic SPARSEMEM with adjacent memmaps: the pointers stay consecutive
    /// across every section boundary and only the section test in the flags stops a run.</summary>
    SectionCrossing,
}

/// <summary>
/// num_pages_contiguous over arrays of 16 to 1M pages, consumed the way callers use it: call it on the
/// rest of the array until the whole array is covered, counting runs. Reference (mm_inline.h 929bf010
/// as <see cref="NumPagesContiguous"/>), optimized (<see cref="BioModel.Optimized.OptKernel{W,TBvec,TPtr}.NumPagesContiguous"/>
/// on real page pointers) and the C baseline on the same pointers.
/// </summary>
[PagesFromParam]
public class NpcBench
{
    [Params(16, 1024, 65536, 1048576)] public int Pages;
    [Params(NpcShape.Contiguous, NpcShape.Broken8, NpcShape.SectionCrossing)] public NpcShape Shape;

    private Both _b = null!;
    private Effects _fx = null!;
    private ulong[] _refPages = [];
    private ulong[] _optPages = [];
    private bool _sectionInFlags;

    [GlobalSetup]
    public void Setup()
    {
        var model = Shape == NpcShape.SectionCrossing ? MemoryModel.Sparsemem : MemoryModel.SparsememVmemmap;
        ulong perSection = Worlds.PagesPerSection(Worlds.Make(model, 1));
        ulong span = (ulong)Pages + (ulong)Pages / 8 + perSection;
        _b = new Both(Worlds.Make(model, (int)(span / perSection) + 1));
        _fx = new Effects();
        // SectionCrossing starts 8 pages before the first section boundary, so even 16 pages cross it.
        ulong first = Shape == NpcShape.SectionCrossing ? perSection - 8 : 0;
        var pfns = new ulong[Pages];
        for (int i = 0; i < Pages; i++) pfns[i] = first + (ulong)i + (Shape == NpcShape.Broken8 ? (ulong)(i / 8) : 0);
        _refPages = pfns.Select(_b.Mm.PfnToPage).ToArray();
        _optPages = pfns.Select(_b.Arena.PfnToPage).ToArray();
        // Every record of the array set up, as memmap_init left it at boot: the C baseline reads records straight,
        // and the optimized code need not touch each one (it checks a run's section by the ends of its blocks).
        foreach (var page in _optPages) _b.Arena.IsStructPage(page);
        _sectionInFlags = _b.World.Machine.SectionInPageFlags;
    }

    [GlobalCleanup]
    public void Cleanup() => _b.Dispose();

    [Benchmark]
    public long Reference()
    {
        long runs = 0;
        for (int i = 0; i < _refPages.Length; runs++)
            i += NumPagesContiguous.Run(_b.Mm, new ArraySegment<ulong>(_refPages, i, _refPages.Length - i), _fx);
        return runs;
    }

    [Benchmark(Baseline = true)]
    public long Optimized()
    {
        long runs = 0;
        var k = _b.Kernel;
        ReadOnlySpan<ulong> pages = _optPages;
        for (int i = 0; i < pages.Length; runs++)
            i += k.NumPagesContiguous(pages[i..]);
        return runs;
    }

    [Benchmark, BenchmarkCategory(Categories.Native)]
    public long C() => NativeBaseline.Runs(_optPages, (ulong)_b.World.Machine.StructPageSize, _sectionInFlags,
                                           _b.Arena.SectionFlagsShift, _b.Arena.SectionFlagsMask);
}
