namespace BioModel.Core;

/// <summary>
/// The catalogue of what an outcome can report besides values: the kernel's WARN_ON sites that the
/// modelled functions pass, and the contract violations (a caller broke a precondition). Both the
/// reference model and the optimized implementation word them from here, so conformance (CF-1) can
/// compare outcomes exactly.
/// </summary>
public static class Diag
{
    // ---------------------------------------------------------------- warnings (WARN_ON / WARN_ON_ONCE sites)

    public const string BioAddPageCloned = "bio_add_page: WARN_ON_ONCE(bio_flagged(bio, BIO_CLONED))";
    public const string BioAddPageZeroLen = "bio_add_page: WARN_ON_ONCE(len == 0)";
    public const string RawAddCloned = "__bio_add_page: WARN_ON_ONCE(bio_flagged(bio, BIO_CLONED))";
    public const string RawAddFull = "__bio_add_page: WARN_ON_ONCE(bio_full(bio, len))";
    public const string RevertTooFar = "iov_iter_revert: WARN_ON(unroll > MAX_RW_COUNT)";
    public const string WantPagesZero = "want_pages_array: WARN_ON(!count)";
    public const string BvecSetHasVecs = "bio_iov_bvec_set: WARN_ON_ONCE(bio->bi_max_vecs)";
    public const string GetPagesCloned = "bio_iov_iter_get_pages: WARN_ON_ONCE(bio_flagged(bio, BIO_CLONED))";
    public const string BounceCloned = "bio_iov_iter_bounce_write: WARN_ON_ONCE(bio_flagged(bio, BIO_CLONED))";
    public const string BounceNotEmpty = "bio_iov_iter_bounce_write: WARN_ON_ONCE(bio->bi_iter.bi_size)";
    public const string BounceNoRoom = "bio_iov_iter_bounce_write: WARN_ON_ONCE(bio->bi_vcnt >= bio->bi_max_vecs)";
    public const string AddFolioNofailTooLong = "bio_add_folio_nofail: WARN_ON_ONCE(len > BIO_MAX_SIZE)";
    public const string UnbounceShortCopy = "bio_iov_iter_unbounce_read: WARN_ON_ONCE(copy_to_iter(...) != len)";
    /// <summary>extract/add-folio (≈6.16–6.18): bio_add_folio refused a run of the extracted pages.</summary>
    public const string AddFolioRoundRefused = "__bio_iov_iter_get_pages: WARN_ON_ONCE(1) after bio_add_folio refused a run (-EINVAL, the iterator is not reverted)";

    private static string H(ulong v) => LayoutRenderer.Hex(v);

    // ---------------------------------------------------------------- struct pages and memory models

    /// <summary>A pointer used as a struct page where none lives (outside every memmap, or between records).</summary>
    public static string WildPage(ulong addr) => $"wild struct page pointer {LayoutRenderer.MemmapRel(addr)}: no struct page lives there";

    public static string PfnWithoutPage(ulong pfn) => $"pfn_to_page({H(pfn)}): the PFN has no struct page (pfn_valid is false)";

    public static string SectionMapFlags(ulong section, ulong coded)
        => $"sparse_encode_mem_map: biased memmap {H(coded)} of section {H(section)} collides with the section_mem_map flag bits";

    // ---------------------------------------------------------------- num_pages_contiguous

    public const string NpcEmpty = "num_pages_contiguous: nr_pages is 0, but pages[0] is read unconditionally (@nr_pages: at least 1)";

    /// <summary>The text every <see cref="NthPageIntoHole"/> report starts with.</summary>
    public const string NthPageIntoHolePrefix = "nth_page(pages[0], ";

    /// <summary>npc/nth-page in classic SPARSEMEM: pfn_to_page of a PFN that has no memmap.</summary>
    public static string NthPageIntoHole(ulong pfn0, int i, ulong pfn)
        => $"{NthPageIntoHolePrefix}{i}) = pfn_to_page({H(pfn0)} + {i}) = pfn_to_page({H(pfn)}): that PFN has no memmap (a hole section or past the last present one), so the struct page compared with is undefined";

    // ---------------------------------------------------------------- bio_add_page and friends

    public static string RangeNotContiguous(string fn, ulong pfn, uint len, uint off)
        => $"{fn}: the range off {H(off)} len {H(len)} from PFN {H(pfn)} is not reached by incrementing the page pointer (caller precondition)";

    public static string RangeCrossesPgmap(string fn, ulong pfn, uint len, uint off)
        => $"{fn}: the range off {H(off)} len {H(len)} from PFN {H(pfn)} crosses a pgmap boundary (caller precondition: the pages of one bvec share a pgmap)";

    public static string RawAddPastArray(int vcnt, int maxVecs)
        => $"__bio_add_page on a full bio: bi_io_vec[{vcnt}] is written past bi_max_vecs {maxVecs}";

    public static string RawAddWrapsSize(uint len, uint size)
        => $"__bio_add_page of {H(len)} bytes wraps bi_size {H(size)} past BIO_MAX_SIZE";

    // ---------------------------------------------------------------- releasing pages and pins

    public static string UnpinWithoutPin(ulong pfn) => $"unpin of PFN {H(pfn)}, which holds no pin (pin count underflow)";

    public static string UserStoreUnmapped(ulong addr) => $"the user stores to {H(addr)}, which is not mapped (the process would fault, not the kernel)";

    public static string FolioPutNotHeld(ulong head) => $"folio_put of the folio at {H(head)}, which the operation does not hold (a double free or a put of someone else's folio)";

    public static string ReleasePastFolio(BvecDesc bv, ulong offset, ulong head, ulong n)
        => $"__bio_release_pages: bvec {bv} starts {H(offset)} bytes into the folio at {H(head)}, past its end: {n} pins would be dropped from a folio that holds none of those pages";

    public static string ReleaseCountWraps(BvecDesc bv, ulong n, ulong head)
        => $"__bio_release_pages: bvec {bv} unpins {H(n)} pages of the folio at {H(head)} (the page count wraps)";

    // ---------------------------------------------------------------- iterators and extraction

    public static string RevertUbufBeforeStart(ulong unroll) => $"iov_iter_revert: BUG() reverting a UBUF iterator {H(unroll)} bytes before its start";

    public static string RevertBeforeFirst(bool bvec, ulong unroll)
        => $"iov_iter_revert: stepped before the first {(bvec ? "bvec" : "segment")} with {H(unroll)} bytes left to revert";

    public const string FirstIovecBug = "first_iovec_segment: BUG() — count > 0 but no iovec has bytes left";

    public static string KvecVmallocNull(ulong kaddr) => $"KVEC address {H(kaddr)}: vmalloc_to_page returns NULL (nothing mapped there)";

    public static string KvecNoPage(ulong kaddr, ulong pfn) => $"KVEC address {H(kaddr)}: virt_to_page of PFN {H(pfn)}, which has no struct page";

    public static string KvecUnmapped(ulong kaddr) => $"KVEC address {H(kaddr)} is neither in the direct map nor in the vmalloc mapping";

    public static string ExtractNrVecsAboveMax(int nrVecs, int maxVecs, ushort entriesLeft)
        => $"iov_iter_extract_bvecs: nr_vecs {nrVecs} > max_vecs {maxVecs} on entry (entries_left wraps to {entriesLeft})";

    public static string ExtractNoRoom(int maxVecs) => $"iov_iter_extract_bvecs: no room on entry (nr_vecs == max_vecs == {maxVecs})";

    public const string ExtractProbePastEnd = "iov_iter_extract_bvecs: the alignment probe reads past the end of the segment array (used-up iterator)";
    public const string ExtractProbeDecides = "iov_iter_extract_bvecs: the alignment of a segment past the end of the array decides the result";

    public static string TailArrayDoesNotFit(string layout) =>
        $"iov_iter_extract_bvecs: the page-pointer array cannot be parked in the tail of the bvec array ({layout}; it needs at least 2, BUILD_BUG_ON): a page-less bio_vec needs its own page array"
        ;

    public static string ExtractPagesPastArray(int pages, ulong slot, int maxVecs)
        => $"iov_iter_extract_bvecs: {pages} page pointers written at slot {slot}, beyond bv[max_vecs = {maxVecs}]";

    public static string ContigPastPages(int index, int count) => $"get_contig_folio_len reads pages[{index}] past the {count} extracted pages";

    public static string UnknownOperation(string name) => $"unknown operation {name}";

    public const string AlignmentPastEnd = "iov_iter_alignment reads past the end of the segment array (used-up iterator)";

    public const string BvecAlignedPastEnd = "bio_iov_bvec_aligned reads the bvec past the end of the borrowed array (used-up iterator)";
    public const string BvecAlignedDecides = "bio_iov_bvec_aligned: the offset of a bvec past the end of the array decides the result";
    public const string BvecAlignedWalksPast = "bio_iov_bvec_aligned walks past the end of the bvec array";

    /// <summary>EX-10 (optimized implementation only): writing bvec <paramref name="j"/> reaches a page pointer not read yet.</summary>
    public static string TailOverwritten(int j, ulong slot) => $"EX-10: writing bvec {j} of this call overwrites page-pointer slot {slot}, which was not read yet";

    /// <summary>CF-2 (optimized implementation only): a poison byte around a buffer changed.</summary>
    public static string TrapTouched(string buffer, long at) => $"CF-2: trap byte {at} of {buffer} was overwritten";
}
