using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// A mutable iov_iter: the kernel's fields (type, direction, the segment pointer as an index, nr_segs
/// derived, iov_offset, count). IOVEC/KVEC segments are plain {base, len}; a BVEC iterator's bio_vec
/// array lives in native memory owned by the run (see <see cref="OptKernel{W,TBvec,TPtr}"/>).
/// </summary>
public sealed class IterState
{
    public IterType Type;
    public bool Source;
    public bool Nofault;
    public ulong Ubuf;
    public IoVec[] Iov = [];
    public int NBvecs;
    public int Index;
    public ulong IovOffset;
    public ulong Count;

    public int SegmentCount => Type switch
    {
        IterType.Ubuf => 1,
        IterType.Bvec => NBvecs,
        _ => Iov.Length,
    };

    public int NrSegs => Type == IterType.Ubuf ? 1 : SegmentCount - Index;
    public bool UserBacked => Type is IterType.Ubuf or IterType.Iovec;

    public IterState Clone() => (IterState)MemberwiseClone();

    public static IterState From(IterDesc d) => new()
    {
        Type = d.Type,
        Source = d.Source,
        Nofault = d.Nofault,
        Ubuf = d.Ubuf,
        Iov = [.. d.Iov],
        NBvecs = d.Bvecs.Length,
        Index = d.Index,
        IovOffset = d.IovOffset,
        Count = d.Count,
    };

    /// <summary>The description of this iterator, keeping the (unchanged) segment arrays of <paramref name="entry"/>.</summary>
    public IterDesc ToDesc(IterDesc entry) => entry with { Index = Index, IovOffset = IovOffset, Count = Count };
}

/// <summary>A bio as the optimized code holds it: the kernel's fields, and where bi_io_vec lives.</summary>
public sealed class BioState
{
    public ushort MaxVecs;
    public ushort Vcnt;
    public uint Size;
    public int Idx;
    public uint Done;
    public BioFlags Flags;
    public BioOpf Opf;
    public QueueLimits Queue = new();
    /// <summary>Set when bi_io_vec is the BVEC iterator's array (bio_iov_bvec_set), from this index.</summary>
    public int BorrowedFrom = -1;
    /// <summary>Nothing changed since entry: the outcome reports the entry description verbatim.</summary>
    public bool Untouched = true;

    public bool Has(BioFlags f) => (Flags & f) != 0;
}
