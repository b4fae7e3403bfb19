namespace BioModel.Core;

/// <summary>What GUP finds at a virtual page.</summary>
public enum MappingKind
{
    /// <summary>A present, writable mapping of a PFN.</summary>
    Mapped,
    /// <summary>Mapped read-only: pinning for FOLL_WRITE (a read into this buffer) fails.</summary>
    ReadOnly,
    /// <summary>Mapped but not pinnable (VM_IO / VM_PFNMAP): GUP stops here.</summary>
    NoPin,
    /// <summary>Nothing mapped: GUP stops here (-EFAULT if it is the first page).</summary>
    Unmapped,
}

public readonly record struct VirtPage(MappingKind Kind, ulong Pfn)
{
    public static VirtPage Map(ulong pfn) => new(MappingKind.Mapped, pfn);
    public static readonly VirtPage Hole = new(MappingKind.Unmapped, 0);
    public bool HasPfn => Kind != MappingKind.Unmapped;
}

/// <summary>
/// A run of virtual pages starting at <see cref="Base"/> (page aligned): the user mapping seen by GUP, or
/// the kernel's vmalloc area seen by vmalloc_to_page. Addresses outside the run are unmapped.
/// </summary>
public sealed record AddressSpace(ulong Base, EqArray<VirtPage> Pages)
{
    /// <summary>Default start of the user buffer on a 64-bit machine (x86-64 style).</summary>
    public const ulong DefaultUserBase = 0x7f00_0000_0000;
    /// <summary>Default start of the user buffer on a 32-bit machine (below the 3 GiB TASK_SIZE).</summary>
    public const ulong DefaultUserBase32 = 0x4000_0000;

    public static ulong DefaultUserBaseFor(MachineConfig m) => m.Is64Bit ? DefaultUserBase : DefaultUserBase32;
    /// <summary>Default start of the kernel vmalloc area (x86-64 VMALLOC_START).</summary>
    public const ulong DefaultVmallocBase = 0xffff_c900_0000_0000;
    /// <summary>Start of the direct map (x86-64 PAGE_OFFSET): virt_to_page(PageOffset + pfn·PAGE_SIZE) is pfn.</summary>
    public const ulong PageOffset = 0xffff_8880_0000_0000;

    public static AddressSpace Empty(ulong @base) => new(@base, []);

    public ulong End(ulong pageSize) => Base + (ulong)Pages.Length * pageSize;

    /// <summary>The virtual page holding <paramref name="addr"/>, or an unmapped page outside the run.</summary>
    public VirtPage At(ulong addr, int pageShift)
    {
        if (addr < Base) return VirtPage.Hole;
        ulong idx = (addr - Base) >> pageShift;
        return idx < (ulong)Pages.Length ? Pages[(int)idx] : VirtPage.Hole;
    }
}

/// <summary>Xen pseudo-physical → bus frame mapping for a run of PFNs (pfn_to_bfn); identity elsewhere.</summary>
public readonly record struct XenRange(ulong Pfn, ulong Count, ulong Bfn);
