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
    // The facts of the last world they were built for. `with` copies this field, so a world made from
    // another by changing only its user or kernel mapping or its allocator reuses them; any change to
    // what the facts are made of (machine, memory, folios, pgmaps, Xen map) builds new ones.
    private FactsSlot _facts;

    /// <summary>What the page allocator can hand out (bounce folios); nothing by default.</summary>
    public PageAllocator Allocator { get; init; } = PageAllocator.None;

    /// <summary>Layout facts of this world (built once, on first use).</summary>
    public WorldFacts Facts
    {
        get
        {
            var f = _facts.Facts;
            if (f is null || !f.BuiltFrom(this)) _facts = new FactsSlot(f = new WorldFacts(this));
            return f;
        }
    }

    /// <summary>A world with the given sections and nothing else.</summary>
    public static World Create(MachineConfig machine, IEnumerable<ulong> sections, MemmapPlacement? placement = null)
        => new(machine, new PhysicalMemory(sections.ToEqArray(), placement ?? MemmapPlacement.NodeBuffer()), [], [],
               AddressSpace.Empty(AddressSpace.DefaultUserBaseFor(machine)), AddressSpace.Empty(AddressSpace.DefaultVmallocBase), []);

    /// <summary>Every reason this world cannot exist, each with a scenario-file path.</summary>
    public IReadOnlyList<(string Path, string Reason)> Problems() => WorldValidator.Validate(this);
}

/// <summary>A world's cached facts: not part of what the world is, so every slot equals every other.</summary>
internal readonly struct FactsSlot(WorldFacts? facts) : IEquatable<FactsSlot>
{
    public WorldFacts? Facts { get; } = facts;
    public bool Equals(FactsSlot other) => true;
    public override bool Equals(object? obj) => obj is FactsSlot;
    public override int GetHashCode() => 0;
}
