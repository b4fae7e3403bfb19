using BenchmarkDotNet.Attributes;
using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Bench;

/// <summary>
/// 256 bio_add_page calls of whole 4 KiB pages into a bio of 256 vecs: physically consecutive pages
/// (every add after the first merges into one 1 MiB bvec), or every other PFN (no add merges: 256 bvecs,
/// the array ends exactly full). Reference: <see cref="BioAdd"/> on the immutable bio; optimized:
/// <see cref="OptKernel{W,TBvec,TPtr}.AddPage"/> on a bio state and its native bvec array, reset
/// before each sequence.
/// </summary>
[PagesPerOperation(Adds)]
public class BioAddBench
{
    public const int Adds = 256;

    [Params(true, false)] public bool Merging;

    private Both _b = null!;
    private ulong[] _refPages = [];
    private ulong[] _optPages = [];
    private Bio _entry = Bio.Empty(Adds);
    private BioState _bio = null!;

    [GlobalSetup]
    public void Setup()
    {
        _b = new Both(Worlds.Make(MemoryModel.SparsememVmemmap, 1));
        var pfns = Enumerable.Range(0, Adds).Select(i => (ulong)(Merging ? i : 2 * i)).ToArray();
        _refPages = pfns.Select(_b.Mm.PfnToPage).ToArray();
        _optPages = pfns.Select(_b.Arena.PfnToPage).ToArray();
        _bio = _b.Kernel.LoadBio(_entry);
    }

    [GlobalCleanup]
    public void Cleanup() => _b.Dispose();

    [Benchmark]
    public long Reference()
    {
        var add = new BioAdd(_b.Mm, new Effects());
        var bio = _entry;
        long added = 0;
        foreach (var page in _refPages)
        {
            (bio, int n) = add.AddPage(bio, page, (uint)Worlds.PageSize, 0);
            added += n;
        }
        return added + bio.Vcnt;
    }

    [Benchmark(Baseline = true)]
    public long Optimized()
    {
        var k = _b.Kernel;
        var bio = _bio;
        bio.Vcnt = 0;
        bio.Size = 0;
        long added = 0;
        foreach (var page in _optPages) added += k.AddPage(bio, page, (uint)Worlds.PageSize, 0);
        return added + bio.Vcnt;
    }
}
