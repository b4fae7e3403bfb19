using System.Runtime.InteropServices;

namespace BioModel.Bench;

/// <summary>
/// The native C baseline (bench/native/baseline.c, built by this project's build with the system C
/// compiler at -O2), called through function pointers so the call costs what a P/Invoke without
/// marshalling costs. <see cref="Available"/> is false where the library was not built (no C compiler)
/// or cannot be loaded; <see cref="Why"/> then says why, and the C benchmarks are left out.
/// </summary>
public static unsafe class NativeBaseline
{
    public const string LibraryFile = "libbmbaseline.so";

    private static readonly delegate* unmanaged<ulong*, nuint, ulong, int, uint, ulong, nuint> NpcRuns;
    private static readonly delegate* unmanaged<ulong*, nuint, ulong, ulong, BioModel.Optimized.BioVec64*, uint*, uint, ulong, ulong, long> ExtractUbuf;

    public static bool Available { get; }
    public static string Why { get; } = "";

    static NativeBaseline()
    {
        var dirs = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(NativeBaseline).Assembly.Location) ?? "" };
        foreach (var dir in dirs.Distinct())
        {
            var path = Path.Combine(dir, LibraryFile);
            if (!File.Exists(path) || !NativeLibrary.TryLoad(path, out var lib)) continue;
            if (!NativeLibrary.TryGetExport(lib, "bm_npc_runs", out var npc) || !NativeLibrary.TryGetExport(lib, "bm_extract_ubuf", out var ex))
            {
                Why = $"{path} does not export bm_npc_runs and bm_extract_ubuf";
                return;
            }
            NpcRuns = (delegate* unmanaged<ulong*, nuint, ulong, int, uint, ulong, nuint>)npc;
            ExtractUbuf = (delegate* unmanaged<ulong*, nuint, ulong, ulong, BioModel.Optimized.BioVec64*, uint*, uint, ulong, ulong, long>)ex;
            Available = true;
            return;
        }
        Why = $"{LibraryFile} was not built (no C compiler when the bench project was built) or cannot be loaded";
    }

    private static void Require()
    {
        if (!Available) throw new InvalidOperationException("native baseline unavailable: " + Why);
    }

    /// <summary>bm_npc_runs: how many num_pages_contiguous runs cover the whole array.</summary>
    public static long Runs(ReadOnlySpan<ulong> pages, ulong structPageSize, bool sectionInFlags, int shift, ulong mask)
    {
        Require();
        fixed (ulong* p = pages) return (long)NpcRuns(p, (nuint)pages.Length, structPageSize, sectionInFlags ? 1 : 0, (uint)shift, mask);
    }

    /// <summary>bm_extract_ubuf: the UBUF extraction loop into <paramref name="bv"/>; returns bytes or −EFAULT.</summary>
    public static long Extract(ReadOnlySpan<ulong> ptes, ulong offset, ulong count, Span<BioModel.Optimized.BioVec64> bv, ref uint nrVecs,
                               uint maxVecs, ulong pageSize, ulong structPageSize)
    {
        Require();
        fixed (ulong* p = ptes)
        fixed (BioModel.Optimized.BioVec64* b = bv)
        fixed (uint* nr = &nrVecs)
            return ExtractUbuf(p, (nuint)ptes.Length, offset, count, b, nr, maxVecs, pageSize, structPageSize);
    }
}
