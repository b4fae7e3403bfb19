namespace BioModel.Core;

/// <summary>
/// One thing to run on a world. Every operation starts from the world as described (no pins beyond what
/// its bio implies) and produces one <see cref="Outcome"/>.
/// </summary>
public abstract record Operation
{
    /// <summary>The kernel function the operation exercises, as written in scenario files.</summary>
    public abstract string Kind { get; }
}

/// <summary>num_pages_contiguous(pages, nr_pages) on the struct pages of the given PFNs (include/linux/mm_inline.h).</summary>
public sealed record NumPagesContiguousOp(EqArray<ulong> Pfns) : Operation
{
    public override string Kind => "num_pages_contiguous";
}

/// <summary>Which add function a call uses.</summary>
public enum AddFn
{
    /// <summary>bio_add_page(bio, page, len, off): merge, or append if there is room.</summary>
    BioAddPage,
    /// <summary>__bio_add_page: append, never merge; the caller guarantees room.</summary>
    RawBioAddPage,
    /// <summary>bio_add_folio(bio, folio, len, off): bio_add_page on folio_page(folio, off / PAGE_SIZE).</summary>
    BioAddFolio,
}

/// <summary>One add call. For <see cref="AddFn.BioAddFolio"/>, <see cref="Pfn"/> is the folio's head.</summary>
public readonly record struct AddCall(AddFn Fn, ulong Pfn, ulong Len, ulong Off)
{
    public static string FnName(AddFn f) => f switch
    {
        AddFn.BioAddPage => "bio_add_page",
        AddFn.RawBioAddPage => "__bio_add_page",
        AddFn.BioAddFolio => "bio_add_folio",
        _ => f.ToString(),
    };

    public override string ToString() => $"{FnName(Fn)}(0x{Pfn:x}, len 0x{Len:x}, off 0x{Off:x})";
}

/// <summary>A sequence of add calls on one bio (block/bio.c).</summary>
public sealed record BioAddOp(Bio Bio, EqArray<AddCall> Calls) : Operation
{
    public override string Kind => "bio_add_page";
}

/// <summary>iov_iter_extract_pages(iter, &amp;pages, maxsize, maxpages, flags, &amp;offset0) (lib/iov_iter.c).</summary>
public sealed record ExtractPagesOp(IterDesc Iter, ulong MaxSize, uint MaxPages, bool AllowP2p) : Operation
{
    public override string Kind => "iov_iter_extract_pages";
}

/// <summary>
/// iov_iter_extract_bvecs(iter, bv, max_size, &amp;nr_vecs, max_vecs, mem_align_mask, flags): the bvec
/// array holds <see cref="Entry"/> on entry (nr_vecs = its length) and has room for <see cref="MaxVecs"/>.
/// With <see cref="Repeat"/> &gt; 1 the call is repeated on the same iterator and array (as a caller
/// filling one array would) until the iterator is empty, a call returns 0 or an error, or the repeats run out.
/// </summary>
public sealed record ExtractBvecsOp(IterDesc Iter, EqArray<BvecDesc> Entry, ushort MaxVecs, ulong MaxSize, uint MemAlignMask, bool AllowP2p) : Operation
{
    public override string Kind => "iov_iter_extract_bvecs";

    public int Repeat { get; init; } = 1;
}

/// <summary>
/// bio_iov_iter_get_pages(bio, iter, mem_align_mask, len_align_mask) (block/bio.c). If the bio is
/// BIO_PAGE_PINNED on entry, the pages its bvecs span hold one pin each.
/// </summary>
public sealed record GetPagesOp(Bio Bio, IterDesc Iter, uint MemAlignMask, uint LenAlignMask) : Operation
{
    public override string Kind => "bio_iov_iter_get_pages";
}

public enum IterStepKind
{
    Advance,
    Revert,
    Npages,
    Alignment,
}

/// <summary>One call on an iterator: iov_iter_advance(n), iov_iter_revert(n), iov_iter_npages(maxpages = n) or iov_iter_alignment.</summary>
public readonly record struct IterStep(IterStepKind Kind, ulong N)
{
    public static string StepName(IterStepKind k) => k switch
    {
        IterStepKind.Advance => "advance",
        IterStepKind.Revert => "revert",
        IterStepKind.Npages => "npages",
        IterStepKind.Alignment => "alignment",
        _ => k.ToString(),
    };
}

/// <summary>A sequence of advance / revert / npages / alignment calls on one iterator.</summary>
public sealed record IterOp(IterDesc Iter, EqArray<IterStep> Steps) : Operation
{
    public override string Kind => "iov_iter";
}

/// <summary>Two existing bvecs whose hardware-segment merge is asked about.</summary>
public readonly record struct BvecPair(BvecDesc A, BvecDesc B);

/// <summary>
/// biovec_phys_mergeable(q, v1, v2) for each pair (block/blk.h): may the two bvecs form one hardware
/// segment under the queue's limits? Returns 1 or 0 per pair.
/// </summary>
public sealed record MergeableOp(QueueLimits Queue, EqArray<BvecPair> Pairs) : Operation
{
    public override string Kind => "biovec_phys_mergeable";
}

/// <summary>
/// bvec_try_merge_hw_page(q, bv, page, len, off) applied call after call to one bvec (the integrity path's
/// merge helper, block/bio.c). Returns 1 or 0 per call; the outcome's bvec table holds the bvec after.
/// </summary>
public sealed record HwMergeOp(QueueLimits Queue, BvecDesc Bvec, EqArray<AddCall> Calls) : Operation
{
    public override string Kind => "bvec_try_merge_hw_page";
}

/// <summary>
/// folio_alloc_greedy(gfp, &amp;size, minsize) on the world's page allocator (block/bio.c, KERNEL-SPEC §3.9): larger
/// attempts with __GFP_NORETRY, halving on failure, then one normal attempt. Returns 0 (a folio, listed as
/// allocated) or -ENOMEM, and the size it settled on.
/// </summary>
public sealed record FolioAllocGreedyOp(ulong Size, ulong MinSize) : Operation
{
    public override string Kind => "folio_alloc_greedy";
}

/// <summary>bio_iov_bounce_nr_vecs(iter, op) (include/linux/bio.h): how many bvecs a bounce bio for the iterator needs.</summary>
public sealed record BounceNrVecsOp(IterDesc Iter, bool Write) : Operation
{
    public override string Kind => "bio_iov_bounce_nr_vecs";
}

/// <summary>
/// One direct I/O on a device that needs stable pages, from building the bio to its completion: a write when the
/// iterator is a source, a read otherwise. The kernel builds the bio (bio_iov_iter_bounce with
/// <see cref="MaxLen"/> and <see cref="MinSize"/> under bounce/copy; bio_iov_iter_get_pages with len_align_mask
/// MinSize − 1 under bounce/none); then the user process stores <see cref="InFlight"/> into its buffer while the
/// I/O is in flight; then the device moves the data (a write reads the bio's bytes, a read fills them, unless
/// <see cref="IoError"/>); then the completion runs (bio_iov_iter_unbounce(bio, IoError, MarkDirty), or the zero-copy
/// release). The bio must not be in use on entry.
/// </summary>
public sealed record DirectIoOp(Bio Bio, IterDesc Iter, ulong MaxLen, ulong MinSize, EqArray<UserWrite> InFlight, bool IoError, bool MarkDirty) : Operation
{
    public override string Kind => "direct_io";

    public bool Write => Iter.Source;
}
