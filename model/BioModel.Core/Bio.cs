namespace BioModel.Core;

/// <summary>bio->bi_flags bits that matter here (KERNEL-SPEC §1.1).</summary>
[Flags]
public enum BioFlags
{
    None = 0,
    /// <summary>BIO_CLONED: the bvec array belongs to someone else; adds are forbidden.</summary>
    Cloned = 1,
    /// <summary>BIO_PAGE_PINNED: pages were pinned by GUP and are unpinned on completion.</summary>
    PagePinned = 2,
}

/// <summary>bio->bi_opf bits that matter here.</summary>
[Flags]
public enum BioOpf
{
    None = 0,
    /// <summary>REQ_NOMERGE, set for P2PDMA pages.</summary>
    NoMerge = 1,
    /// <summary>REQ_OP_WRITE (op_is_write): the bounce helpers dispatch on it.</summary>
    Write = 2,
}

/// <summary>
/// The request queue the bio is aimed at: whether it takes P2PDMA pages (blk_queue_pci_p2pdma) and the
/// limits the merge helpers read.
/// </summary>
public sealed record QueueLimits
{
    public bool HasBdev { get; init; } = true;
    public bool PciP2pdma { get; init; }
    public ulong SegBoundaryMask { get; init; } = 0xFFFF_FFFF;
    public uint MaxSegmentSize { get; init; } = 65536;
    public ulong VirtBoundaryMask { get; init; }
}

/// <summary>
/// A bio as the functions see it: capacity, the bi_io_vec table, bi_vcnt, bi_iter (size, idx, offset),
/// flags and opf, and its queue. For a bio built by bio_iov_bvec_set the table is the iterator's array
/// (shared, <see cref="BioFlags.Cloned"/>) and <see cref="Vcnt"/> stays 0.
/// </summary>
public sealed record Bio
{
    public ushort MaxVecs { get; init; }
    public EqArray<BvecDesc> Vecs { get; init; } = [];
    public ushort Vcnt { get; init; }
    public uint Size { get; init; }
    public int Idx { get; init; }
    /// <summary>bi_iter.bi_offset (bi_bvec_done before b539aeacf8cc).</summary>
    public uint Done { get; init; }
    public BioFlags Flags { get; init; }
    public BioOpf Opf { get; init; }
    public QueueLimits Queue { get; init; } = new();
    /// <summary>
    /// The bio's P2P record, kept only with a page-less bio_vec (VARIANTS.md bvec/phys), where the last bvec no longer names
    /// a page whose pgmap could be compared: null before the first bvec (and always with page-based bio_vecs), 0 for a
    /// bio of non-P2P memory, n for a bio of P2P memory of PCI_P2PDMA pgmap n ("each bio to be either non P2P or P2P to
    /// a specific device", Christoph Hellwig, 23 Jun 2025). bio_add_page decides against it.
    /// </summary>
    public int? P2pPgmap { get; init; }

    /// <summary>An empty bio with room for <paramref name="maxVecs"/> bvecs.</summary>
    public static Bio Empty(ushort maxVecs) => new() { MaxVecs = maxVecs };

    /// <summary>A bio holding the given bvecs (bi_vcnt and bi_size follow them).</summary>
    public static Bio With(ushort maxVecs, params BvecDesc[] vecs)
    {
        ulong size = 0;
        foreach (var v in vecs) size += v.Len;
        return new() { MaxVecs = maxVecs, Vecs = vecs, Vcnt = (ushort)vecs.Length, Size = (uint)size };
    }

    public bool Has(BioFlags f) => (Flags & f) != 0;

    /// <summary>The bvecs in use: the first bi_vcnt entries, or for a cloned bio the borrowed table.</summary>
    public IEnumerable<BvecDesc> InUse => Has(BioFlags.Cloned) && Vcnt == 0 ? Vecs : Vecs.Take(Vcnt);

    /// <summary>Reasons this bio cannot be handed to the kernel (path relative to the bio).</summary>
    public IEnumerable<(string Path, string Reason)> Problems()
    {
        if (!Has(BioFlags.Cloned))
        {
            if (Vcnt != Vecs.Length) yield return ("vcnt", $"bi_vcnt {Vcnt} differs from the {Vecs.Length} bvecs listed");
            if (Vecs.Length > MaxVecs) yield return ("vecs", $"{Vecs.Length} bvecs do not fit bi_max_vecs {MaxVecs}");
            ulong sum = 0;
            foreach (var v in Vecs) sum += v.Len;
            if (sum != Size) yield return ("size", $"bi_size {Size} differs from the sum of bv_len {sum}");
        }
        if (Idx != 0 || Done != 0)
            if (Idx < 0 || Idx > Vecs.Length) yield return ("idx", $"bi_idx {Idx} outside the table");
    }
}
