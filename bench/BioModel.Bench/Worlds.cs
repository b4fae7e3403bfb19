using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Bench;

/// <summary>
/// The worlds the benchmarks run in: the x86-64 preset (4 KiB pages, 128 MiB sections, 64-byte struct
/// pages) in SPARSEMEM_VMEMMAP, where num_pages_contiguous has no section test, and in classic SPARSEMEM
/// with node-buffer memmaps (adjacent across sections), where the section test is what stops a run.
/// Each benchmark builds its world, the reference's <see cref="MemoryModelRules"/> and the optimized
/// <see cref="MemmapArena"/> once, in its global setup.
/// </summary>
public static class Worlds
{
    public const ulong PageSize = 4096;
    public const ulong UserBase = AddressSpace.DefaultUserBase;

    public static MachineConfig X86_64(MemoryModel model) => ArchPresets.Get("x86-64") with { Model = model };

    /// <summary>A world of <paramref name="sections"/> present sections, with the given folios and user mapping.</summary>
    public static World Make(MemoryModel model, int sections, Folio[]? folios = null, ulong[]? user = null)
    {
        var w = World.Create(X86_64(model), Enumerable.Range(0, sections).Select(s => (ulong)s), MemmapPlacement.NodeBuffer());
        w = w with
        {
            Folios = folios ?? [],
            User = new AddressSpace(UserBase, (user ?? []).Select(VirtPage.Map).ToEqArray()),
        };
        var problems = w.Problems();
        if (problems.Count > 0)
            throw new InvalidOperationException("benchmark world is invalid: " + string.Join("; ", problems.Select(p => $"{p.Path}: {p.Reason}")));
        return w;
    }

    public static ulong PagesPerSection(World w) => 1UL << w.Machine.PfnSectionShift;

    /// <summary>Aligned folios of one order over [first, first + count) (order 0: none listed, every page is its own folio).</summary>
    public static Folio[] FoliosOf(int order, ulong first, ulong count)
    {
        if (order == 0) return [];
        ulong n = 1UL << order;
        var list = new List<Folio>();
        for (ulong p = first; p < first + count; p += n) list.Add(new Folio(p, order));
        return [.. list];
    }
}

/// <summary>The reference and the optimized implementation of one world, side by side.</summary>
public sealed class Both : IDisposable
{
    public World World { get; }
    public MemoryModelRules Mm { get; }
    public RunLog Log { get; } = new();
    public MemmapArena Arena { get; }
    public OptKernel<Wide, BioVec64, ulong> Kernel { get; }

    public Both(World w)
    {
        World = w;
        Mm = new MemoryModelRules(w);
        Arena = new MemmapArena(w, Log, wide: true);
        Kernel = new OptKernel<Wide, BioVec64, ulong>(w, Log, Arena);
    }

    public void Dispose()
    {
        Kernel.CheckAndFree();
        Arena.Dispose();
        if (Log.Violations.Count > 0)
            throw new InvalidOperationException("the optimized run reported: " + string.Join("; ", Log.Violations));
    }
}
