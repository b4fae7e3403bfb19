using System.Runtime.InteropServices;

namespace BioModel.Optimized;

/// <summary>struct bio_vec on a 64-bit kernel: {struct page *bv_page; unsigned int bv_len; unsigned int bv_offset;}, 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct BioVec64
{
    public ulong Page;
    public uint Len;
    public uint Offset;
}

/// <summary>struct bio_vec on a 32-bit kernel: a 4-byte page pointer, 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct BioVec32
{
    public uint Page;
    public uint Len;
    public uint Offset;
}

/// <summary>
/// The word size of the simulated kernel: the bio_vec layout and the width of a page pointer.
/// PAGE_PTRS_PER_BVEC = sizeof(bio_vec) / sizeof(page pointer) falls out of the two types
/// (16 / 8 = 2, 12 / 4 = 3), and iov_iter_extract_bvecs parks its page array in the tail of the bvec
/// span by reinterpreting it as a span of <typeparamref name="TPtr"/>.
/// </summary>
public interface IWordSize<TBvec, TPtr>
    where TBvec : unmanaged
    where TPtr : unmanaged
{
    static abstract TBvec Make(ulong page, uint len, uint offset);
    static abstract ulong PageOf(in TBvec bv);
    static abstract uint LenOf(in TBvec bv);
    static abstract uint OffsetOf(in TBvec bv);
    static abstract void SetLen(ref TBvec bv, uint len);
    static abstract TPtr ToPtr(ulong page);
    static abstract ulong FromPtr(TPtr p);
    static abstract bool Is64 { get; }
}

/// <summary>64-bit: page pointers are real pointers into the memmap arena.</summary>
public readonly struct Wide : IWordSize<BioVec64, ulong>
{
    public static BioVec64 Make(ulong page, uint len, uint offset) => new() { Page = page, Len = len, Offset = offset };
    public static ulong PageOf(in BioVec64 bv) => bv.Page;
    public static uint LenOf(in BioVec64 bv) => bv.Len;
    public static uint OffsetOf(in BioVec64 bv) => bv.Offset;
    public static void SetLen(ref BioVec64 bv, uint len) => bv.Len = len;
    public static ulong ToPtr(ulong page) => page;
    public static ulong FromPtr(ulong p) => p;
    public static bool Is64 => true;
}

/// <summary>
/// 32-bit: a real host pointer does not fit 4 bytes, so page pointers are 32-bit offsets into the arena
/// (plus a bias, so 0 stays NULL) — the narrowest faithful stand-in: arithmetic and adjacency are the
/// arena's, and they wrap at 32 bits like the kernel's.
/// </summary>
public readonly struct Narrow : IWordSize<BioVec32, uint>
{
    public static BioVec32 Make(ulong page, uint len, uint offset) => new() { Page = (uint)page, Len = len, Offset = offset };
    public static ulong PageOf(in BioVec32 bv) => bv.Page;
    public static uint LenOf(in BioVec32 bv) => bv.Len;
    public static uint OffsetOf(in BioVec32 bv) => bv.Offset;
    public static void SetLen(ref BioVec32 bv, uint len) => bv.Len = len;
    public static uint ToPtr(ulong page) => (uint)page;
    public static ulong FromPtr(uint p) => p;
    public static bool Is64 => false;
}
