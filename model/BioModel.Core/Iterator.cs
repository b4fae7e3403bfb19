namespace BioModel.Core;

/// <summary>The iov_iter types modelled (include/linux/uio.h; KERNEL-SPEC §3.1).</summary>
public enum IterType
{
    /// <summary>One user buffer (ubuf, count).</summary>
    Ubuf,
    /// <summary>An array of user iovecs.</summary>
    Iovec,
    /// <summary>An array of kernel {base, len}.</summary>
    Kvec,
    /// <summary>An array of bio_vecs.</summary>
    Bvec,
}

/// <summary>One iovec / kvec: a virtual base address and a length.</summary>
public readonly record struct IoVec(ulong Base, ulong Len);

/// <summary>
/// A bio_vec as described in scenario files and outcomes: the page as a PFN (the reference turns it into a
/// struct-page address; a bv_page pointer always names a real struct page), bv_len and bv_offset.
/// bv_offset may be ≥ PAGE_SIZE (KERNEL-SPEC §1.1).
/// </summary>
public readonly record struct BvecDesc(ulong Pfn, uint Len, uint Offset)
{
    public override string ToString() => $"{{pfn 0x{Pfn:x}, off 0x{Offset:x}, len 0x{Len:x}}}";
}

/// <summary>
/// An iov_iter: type, direction, segments and the position in them. For UBUF the segment is
/// (<see cref="Ubuf"/>, count) and the position is <see cref="IovOffset"/> from the start. For the array
/// types, <see cref="Index"/> is how far the kernel's segment pointer has moved (nr_segs = segments −
/// index), <see cref="IovOffset"/> the bytes consumed inside the current segment.
/// </summary>
public sealed record IterDesc
{
    public IterType Type { get; init; }
    /// <summary>ITER_SOURCE (the iterator is read from: a WRITE) when true, ITER_DEST when false.</summary>
    public bool Source { get; init; } = true;
    public bool Nofault { get; init; }
    public ulong Ubuf { get; init; }
    public EqArray<IoVec> Iov { get; init; } = [];
    public EqArray<BvecDesc> Bvecs { get; init; } = [];
    public int Index { get; init; }
    public ulong IovOffset { get; init; }
    public ulong Count { get; init; }

    public int SegmentCount => Type switch
    {
        IterType.Ubuf => 1,
        IterType.Bvec => Bvecs.Length,
        _ => Iov.Length,
    };

    /// <summary>nr_segs as the kernel keeps it: segments from the current one on (1 for UBUF).</summary>
    public int NrSegs => Type == IterType.Ubuf ? 1 : SegmentCount - Index;

    /// <summary>Length of array segment <paramref name="i"/> (iov_len or bv_len).</summary>
    public ulong SegLen(int i) => Type == IterType.Bvec ? Bvecs[i].Len : Iov[i].Len;

    /// <summary>iov_iter_extract_will_pin: user-backed iterators (UBUF, IOVEC) are pinned.</summary>
    public bool UserBacked => Type is IterType.Ubuf or IterType.Iovec;

    public static IterDesc ForUbuf(ulong addr, ulong count, bool source = true)
        => new() { Type = IterType.Ubuf, Source = source, Ubuf = addr, Count = count };

    public static IterDesc ForIovec(IEnumerable<IoVec> segs, bool source = true, IterType type = IterType.Iovec)
    {
        var a = segs.ToEqArray();
        ulong count = 0;
        foreach (var s in a) count += s.Len;
        return new() { Type = type, Source = source, Iov = a, Count = count };
    }

    public static IterDesc ForBvec(IEnumerable<BvecDesc> bvecs, bool source = true)
    {
        var a = bvecs.ToEqArray();
        ulong count = 0;
        foreach (var b in a) count += b.Len;
        return new() { Type = IterType.Bvec, Source = source, Bvecs = a, Count = count };
    }

    /// <summary>Reasons this iterator cannot be handed to the kernel (path relative to the iterator).</summary>
    public IEnumerable<(string Path, string Reason)> Problems()
    {
        if (!Enum.IsDefined(Type)) { yield return ("type", $"iterator type {(int)Type} does not exist"); yield break; }
        if (Type == IterType.Ubuf)
        {
            if (!Iov.IsEmpty || !Bvecs.IsEmpty) yield return ("segments", "a UBUF iterator has no segment array");
            if (Index != 0) yield return ("index", "a UBUF iterator has no segment index");
            if (IovOffset + Count < IovOffset || Ubuf + IovOffset + Count < Ubuf)
                yield return ("count", "the buffer wraps around the address space");
            yield break;
        }
        if (Type == IterType.Bvec && !Iov.IsEmpty) yield return ("segments", "a BVEC iterator takes bvecs, not iovecs");
        if (Type != IterType.Bvec && !Bvecs.IsEmpty) yield return ("bvecs", $"a {Type} iterator takes segments, not bvecs");
        if (Index < 0 || Index > SegmentCount) { yield return ("index", $"index {Index} is outside the {SegmentCount} segments"); yield break; }
        ulong rest = 0;
        for (int i = Index; i < SegmentCount; i++) rest += SegLen(i);
        ulong cur = Index < SegmentCount ? SegLen(Index) : 0;
        if (Index == SegmentCount ? IovOffset != 0 : IovOffset > cur)
            yield return ("iov_offset", $"iov_offset {IovOffset} is past the end of the current segment ({cur} bytes)");
        else if (Count > rest - IovOffset)
            yield return ("count", $"count {Count} exceeds the {rest - IovOffset} bytes left in the segments");
    }
}
