namespace BioModel.Core;

/// <summary>
/// How classic SPARSEMEM memmaps are placed in virtual memory (KERNEL-SPEC §5.2, VARIANTS.md memmap/*).
/// Only classic SPARSEMEM has per-section memmaps; FLATMEM and VMEMMAP ignore the placement.
/// </summary>
public enum PlacementPolicy
{
    /// <summary>
    /// sparse_buffer (≈4.19–6.x): the memmaps of a node's present sections are carved one after another
    /// from one buffer; a hole section gets none, so the memmaps around a hole are adjacent.
    /// </summary>
    NodeBuffer,
    /// <summary>mm/sparse.c 2026: one allocation per section, anywhere (given explicitly per section).</summary>
    Independent,
    /// <summary>Jason Gunthorpe's proposal (5 Aug 2025): allocations that never end where another starts.</summary>
    Padded,
}

/// <summary>
/// A placement: the policy, the base address for NodeBuffer / Padded, and for Independent one explicit base
/// per present section (in the order of <see cref="PhysicalMemory.PresentSections"/>).
/// </summary>
public sealed record MemmapPlacement(PlacementPolicy Policy, ulong Base, EqArray<ulong> Bases)
{
    /// <summary>Lowest address of the memmap space; nothing is placed below it, so 0 is never a page.</summary>
    public const ulong Origin = 0x100000;

    public static MemmapPlacement NodeBuffer(ulong @base = Origin) => new(PlacementPolicy.NodeBuffer, @base, []);
    public static MemmapPlacement Padded(ulong @base = Origin) => new(PlacementPolicy.Padded, @base, []);
    public static MemmapPlacement Independent(params ulong[] bases) => new(PlacementPolicy.Independent, 0, [.. bases]);


    public static string PolicyName(PlacementPolicy p) => p switch
    {
        PlacementPolicy.NodeBuffer => "node-buffer",
        PlacementPolicy.Independent => "independent",
        PlacementPolicy.Padded => "padded",
        _ => p.ToString(),
    };
}

/// <summary>Present sections (everything else is a hole) and the memmap placement.</summary>
public sealed record PhysicalMemory(EqArray<ulong> PresentSections, MemmapPlacement Placement);
