using System.Runtime.CompilerServices;

namespace BioModel.Core;

/// <summary>
/// One simulated machine state: configuration, physical memory and memmap placement, folios, pgmaps,
/// the user mapping, the kernel vmalloc mapping and (for Xen guests) the pfn → bus-frame map.
/// Immutable; the derived look-ups live in <see cref="Facts"/>.
/// </summary>
public sealed record World(
    MachineConfig Machine,
    PhysicalMemory Memory,
    EqArray<Folio> Folios,
    EqArray<Pgmap> Pgmaps,
    AddressSpace User,
    AddressSpace Kernel,
    EqArray<XenRange> Xen)
{
    private static readonly ConditionalWeakTable<World, WorldFacts> Cache = new();

    /// <summary>What the page allocator can hand out (bounce folios); nothing by default.</summary>
    public PageAllocator Allocator { get; init; } = PageAllocator.None;

    /// <summary>Layout facts of this world (built once, on first use).</summary>
    public WorldFacts Facts => Cache.GetValue(this, w => new WorldFacts(w));

    /// <summary>A world with the given sections and nothing else.</summary>
    public static World Create(MachineConfig machine, IEnumerable<ulong> sections, MemmapPlacement? placement = null)
        => new(machine, new PhysicalMemory(sections.ToEqArray(), placement ?? MemmapPlacement.NodeBuffer()), [], [],
               AddressSpace.Empty(AddressSpace.DefaultUserBaseFor(machine)), AddressSpace.Empty(AddressSpace.DefaultVmallocBase), []);

    /// <summary>Every reason this world cannot exist, each with a scenario-file path.</summary>
    public IReadOnlyList<(string Path, string Reason)> Problems() => WorldValidator.Validate(this);
}
