namespace BioModel.Core;

/// <summary>
/// The content of physical memory: every byte has a deterministic value f(pfn, offset), so byte
/// conservation can be checked with page identity (a COW'd page holds different bytes than the page it
/// replaced, even at the same offset).
/// </summary>
public static class PhysBytes
{
    public static byte ByteAt(ulong pfn, ulong offset)
    {
        ulong z = (pfn << 20) ^ offset ^ 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (byte)(z ^ (z >> 31));
    }

    /// <summary>The byte at a physical address.</summary>
    public static byte ByteAtPhys(ulong phys, int pageShift) => ByteAt(phys >> pageShift, phys & ((1UL << pageShift) - 1));
}
