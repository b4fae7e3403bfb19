namespace BioModel.Core;

/// <summary>
/// Named machine configurations. The architecture rows are KERNEL-SPEC §5.3 (arch/*/include/asm/sparsemem.h:
/// x86 08229de4b428, arm64 0cfa80d3c398, s390 05e5bd0f3dad, riscv 30c092337017, powerpc 00f5764dbb04).
/// The 64-bit ones use SPARSEMEM_VMEMMAP (forced where available since 6.18); the x86-32 ones classic
/// SPARSEMEM (the spec marks the 32-bit default model as unverified). MAX_PHYSMEM_BITS is only used for
/// the width of the section field in page flags; where the spec has no value, 46 is assumed and said so.
/// The "tiny-*" presets keep real 4 KiB pages but sections of 16 pages, so boundaries are hit often.
/// </summary>
public static class ArchPresets
{
    private static MachineConfig Arch(string name, int pageShift, int sectionBits, MemoryModel model, bool is64, int physBits, int structPage)
        => new()
        {
            Name = name,
            PageShift = pageShift,
            SectionSizeBits = sectionBits,
            Model = model,
            Is64Bit = is64,
            MaxPhysmemBits = physBits,
            StructPageSize = structPage,
            MaxPageOrder = Math.Min(10, sectionBits - pageShift),
        };

    public static readonly IReadOnlyDictionary<string, MachineConfig> All = new Dictionary<string, MachineConfig>
    {
        ["x86-64"] = Arch("x86-64", 12, 27, MemoryModel.SparsememVmemmap, true, 46, 64),
        ["x86-32-pae"] = Arch("x86-32-pae", 12, 29, MemoryModel.Sparsemem, false, 36, 32),
        ["x86-32"] = Arch("x86-32", 12, 26, MemoryModel.Sparsemem, false, 32, 32),
        ["arm64-4k"] = Arch("arm64-4k", 12, 27, MemoryModel.SparsememVmemmap, true, 48, 64),
        ["arm64-16k"] = Arch("arm64-16k", 14, 27, MemoryModel.SparsememVmemmap, true, 48, 64),
        ["arm64-64k"] = Arch("arm64-64k", 16, 29, MemoryModel.SparsememVmemmap, true, 48, 64),
        ["powerpc-4k"] = Arch("powerpc-4k", 12, 24, MemoryModel.SparsememVmemmap, true, 46, 64),
        ["powerpc-64k"] = Arch("powerpc-64k", 16, 24, MemoryModel.SparsememVmemmap, true, 46, 64),
        ["s390"] = Arch("s390", 12, 28, MemoryModel.SparsememVmemmap, true, 46, 64),
        ["riscv"] = Arch("riscv", 12, 27, MemoryModel.SparsememVmemmap, true, 56, 64),
        ["tiny-flatmem"] = Arch("tiny-flatmem", 12, 16, MemoryModel.Flatmem, true, 46, 64),
        ["tiny-sparsemem"] = Arch("tiny-sparsemem", 12, 16, MemoryModel.Sparsemem, true, 46, 64),
        ["tiny-vmemmap"] = Arch("tiny-vmemmap", 12, 16, MemoryModel.SparsememVmemmap, true, 46, 64),
    };

    public static MachineConfig Get(string name)
        => All.TryGetValue(name, out var c) ? c : throw new ArgumentException($"unknown machine preset '{name}' (known: {string.Join(", ", All.Keys)})", nameof(name));
}
