namespace BioModel.Core;

/// <summary>
/// enum memory_type of include/linux/memremap.h with its current values (0 is deliberately unused;
/// COHERENT was inserted after PRIVATE in 2022). KERNEL-SPEC §2.
/// </summary>
public enum MemoryType
{
    Private = 1,
    Coherent = 2,
    FsDax = 3,
    Generic = 4,
    PciP2pdma = 5,
}

/// <summary>
/// A dev_pagemap: a PFN range of ZONE_DEVICE pages with an id, a type and, for P2PDMA, the providing
/// device. Two pgmaps are the same exactly when their ids are equal (page_pgmap pointer equality).
/// </summary>
public readonly record struct Pgmap(int Id, MemoryType Type, ulong Start, ulong NrPages, string? Provider)
{
    public ulong End => Start + NrPages;
    public bool Contains(ulong pfn) => pfn >= Start && pfn < End;

    public static string TypeName(MemoryType t) => t switch
    {
        MemoryType.Private => "private",
        MemoryType.Coherent => "coherent",
        MemoryType.FsDax => "fs-dax",
        MemoryType.Generic => "generic",
        MemoryType.PciP2pdma => "pci-p2pdma",
        _ => ((int)t).ToString(),
    };
}
