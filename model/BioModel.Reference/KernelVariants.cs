using BioModel.Core;

namespace BioModel.Reference;

/// <summary>Which num_pages_contiguous the model runs (VARIANTS.md npc/*, KERNEL-SPEC §4.1).</summary>
public enum NpcVariant
{
    /// <summary>
    /// npc/section-compare: pointer compare plus "same section as pages[0]". Linus Torvalds' loop of 5 Aug 2025,
    /// reworked by David Hildenbrand (v5, 14 Aug 2025) and merged as 929bf010e0599ddef6b640cd314f1de65dd1ca3e
    /// ("mm: introduce num_pages_contiguous()", 6.18, include/linux/mm_inline.h). Mainline.
    /// </summary>
    SectionCompare,
    /// <summary>
    /// npc/nth-page: pages[i] == nth_page(pages[0], i), nth_page being pfn_to_page(page_to_pfn(p) + i) in classic
    /// SPARSEMEM and p + i otherwise. Li Zhe, "mm: introduce num_pages_contiguous()" v1–v4 (Jun–Jul 2025),
    /// pulled into the VFIO tree for 6.17 and refused by Linus Torvalds on 4 Aug 2025.
    /// </summary>
    NthPage,
    /// <summary>
    /// npc/pointer-only: pages[i] == pages[i − 1] + 1, no section test. Linus Torvalds, 4 Aug 2025 ("all you care
    /// about is struct page being contiguous"), thread "[GIT PULL] VFIO updates for v6.17-rc1".
    /// </summary>
    PointerOnly,
    /// <summary>
    /// npc/draft-section-mask: in classic SPARSEMEM, nr_pages capped at PAGES_PER_SECTION − (pfn &amp; PAGES_PER_SECTION),
    /// then pointer compare with the previous entry. David Hildenbrand's draft in the same thread, 5 Aug 2025.
    /// The mask takes one bit of the section number, not the offset inside the section.
    /// </summary>
    DraftSectionMask,
}

/// <summary>How bio_add_page treats a page whose pgmap differs from the last bvec's (VARIANTS.md add/*, KERNEL-SPEC §1.6, §1.9).</summary>
public enum AddPgmapPolicy
{
    /// <summary>
    /// add/compatible: refuse (return 0) only when either side is P2PDMA and the pgmaps differ; merge only with
    /// the same pgmap. 41c665aae2b5dbecddddcc8ace344caf630cc7a4 (Naman Jain, Apr 2026, "zone_device_pages_compatible").
    /// Mainline.
    /// </summary>
    Compatible,
    /// <summary>
    /// add/merge-guard: the pgmap test lives only inside the merge helper; a different pgmap just starts a new
    /// bvec, and __bio_add_page does not set REQ_NOMERGE. 49580e690755 (Logan Gunthorpe, "block: add check when
    /// merging zone device pages", v6.2) to v6.16. That era had no P2P homogeneity rule (DMA mapping went per
    /// segment), so its BIO-5 failure is the later design's rule, not a bug of its time.
    /// </summary>
    MergeGuard,
    /// <summary>
    /// add/reject-any-pgmap: any pgmap change, RAM against device memory included, is refused (return 0).
    /// 38446014648c (Christoph Hellwig, "block: don't merge different kinds of P2P transfers in a single bio",
    /// posted 25 Jun 2025), v6.17 until 41c665aae2b5 (7.1 merge window).
    /// </summary>
    RejectAnyPgmap,
    /// <summary>
    /// add/separate-any-pgmap: a page of a different pgmap is accepted as a new bvec and never merged, P2PDMA or
    /// not. Naman Jain, "[PATCH 2/2] block: allow different-pgmap pages as separate bvecs in bio_add_page", v1,
    /// 1 Apr 2026 (its v2 became 41c665aae2b5). Modelled on the newest bio_add_page otherwise (zero length refused);
    /// whether v1's base already had 643893647cac is not known.
    /// </summary>
    SeparateAnyPgmap,
}

/// <summary>biovec_phys_mergeable with or without the pgmap test (VARIANTS.md mergeable/*).</summary>
public enum MergeablePolicy
{
    /// <summary>mergeable/pgmap: never one hardware segment across pgmaps. 13920e4b7b784b40cf4519ff1f0f3e513476a499 (Naman Jain, Apr 2026). Mainline.</summary>
    Pgmap,
    /// <summary>mergeable/no-pgmap: physical adjacency only, as before 13920e4b7b78 (block/blk.h).</summary>
    NoPgmap,
}

/// <summary>How bio_iov_iter_get_pages turns user pages into bvecs (VARIANTS.md extract/*, KERNEL-SPEC §3.8).</summary>
public enum ExtractionVariant
{
    /// <summary>
    /// extract/bvecs: iov_iter_extract_bvecs stops at a pgmap change, reverts and unpins what it did not use and
    /// returns the bytes added. 91b73c458182 / 12da89e8844a (Christoph Hellwig, Jan 2026). Mainline.
    /// </summary>
    Bvecs,
    /// <summary>
    /// extract/add-folio: __bio_iov_iter_get_pages with one bio_add_folio (later bio_add_page, the same page and
    /// offset) per get_contig_folio_len run. VARIANTS.md dates it ≈6.16–6.18; as modelled, with the refusing
    /// bio_add_page of 38446014648c (v6.17) and the align-down of 20a0e6276edb (Keith Busch, v6.18), it is the
    /// v6.18–v6.19 loop, replaced in v7.0 by 12da89e8844a ("block: open code bio_add_page and fix handling of
    /// mismatching P2P ranges", Christoph Hellwig, 19 Jan 2026), whose removed lines show it. A refused add is
    /// WARN_ON_ONCE and -EINVAL, and jumps past the revert of the bytes not added; a run that starts inside a page
    /// and merged drops the duplicate pin. The outer loop runs while rounds return 0 and returns align-down's result
    /// whenever bi_vcnt &gt; 0 (which is -EFAULT when the bio holds less than one block). No mem_align_mask (it came
    /// with 91b73c458182).
    /// </summary>
    AddFolio,
}

/// <summary>What bio_iov_iter_align_down unpins (VARIANTS.md aligndown/*, KERNEL-SPEC §3.8).</summary>
public enum AlignDownVariant
{
    /// <summary>aligndown/first-page: a dropped bvec unpins only bv_page; a trimmed one unpins nothing. Mainline (block/bio.c b539aeacf8cc).</summary>
    FirstPage,
    /// <summary>
    /// aligndown/all-pages: every page a dropped bvec spans is unpinned, and so is every page cut off the partly
    /// trimmed bvec. Tal Zussman, "[PATCH v5 8/9] block: unpin all pages of a bvec in bio_iov_iter_align_down()"
    /// (linux-block, 23 Sep 2026, &lt;20260923-blkdev-fixes-v5-8-89e60d66eb38@columbia.edu&gt;, the text modelled);
    /// v6 (9 Oct 2026) is the newest posting, rebased on for-7.4/block.
    /// </summary>
    AllPages,
}

/// <summary>How a direct I/O on a device that needs stable pages builds and completes its bio (VARIANTS.md bounce/*).</summary>
public enum BounceVariant
{
    /// <summary>
    /// bounce/copy: bio_iov_iter_bounce / bio_iov_iter_unbounce as in the newest tree (block/bio.c b539aeacf8cc):
    /// the series "bounce buffer direct I/O when stable pages are required" (Christoph Hellwig, v3 26 Jan 2026, merged
    /// as 8dd5e7c75d7b for 7.0) with maxlen (a9aa6045abde, 7.1), minsize and align-down (32d5019ed3b6, e7b8b3c5b2a6,
    /// 7.1), the revert after a short copy (b68d4979c88e, 7.2) and the nofault copy (d5b58fbb2fd7, 7.2). Mainline.
    /// </summary>
    Copy,
    /// <summary>
    /// bounce/copy-v3: the helpers as posted in v3 and merged for 7.0 (8dd5e7c75d7b): no maxlen or minsize (PAGE_SIZE
    /// thresholds), no align-down, and a short copy frees the folios and returns -EFAULT without reverting the
    /// iterator (until b68d4979c88e, Jun 2026); a read whose first extraction fails returns without putting the bounce
    /// folio.
    /// </summary>
    CopyV3,
    /// <summary>
    /// bounce/none: zero copy, as before the series: bio_iov_iter_get_pages pins the user pages and the device reads
    /// (or writes) them during the I/O; completion releases the pages (dirtying them after a read).
    /// </summary>
    None,
}

/// <summary>
/// The function versions the reference model runs. <see cref="Mainline"/> is the newest tree KERNEL-SPEC.md
/// describes; every other value is a historical or proposed version from VARIANTS.md, named in <see cref="Variants"/>.
/// </summary>
/// <summary>Bugs the tests seed into bio_iov_iter_bounce / bio_iov_iter_unbounce to show the properties catch them.</summary>
public enum SeededBounceBug
{
    None,
    /// <summary>A short copy in the bounce write returns -EFAULT without reverting the iterator (what v3 did; BNC-3).</summary>
    NoRevertOnShortCopy,
    /// <summary>The read completion does not force mark_dirty off when the I/O failed, so it dirties pages it never filled (BNC-4).</summary>
    DirtyOnError,
}

public sealed record KernelVariants
{
    public NpcVariant Npc { get; init; } = NpcVariant.SectionCompare;
    public AddPgmapPolicy AddPolicy { get; init; } = AddPgmapPolicy.Compatible;
    public MergeablePolicy Mergeable { get; init; } = MergeablePolicy.Pgmap;
    public ExtractionVariant Extraction { get; init; } = ExtractionVariant.Bvecs;
    public AlignDownVariant AlignDown { get; init; } = AlignDownVariant.FirstPage;
    /// <summary>
    /// bio_add_page refuses len == 0 with a warning: 643893647cac (Qu Wenruo, "block: reject zero length in
    /// bio_add_page()", for-7.1). Before it a zero-length add was accepted, merged as a no-op or appended as an
    /// empty bvec, and returned 0 (KERNEL-SPEC §1.8, the btrfs double free).
    /// </summary>
    public bool RefuseZeroLength { get; init; } = true;
    public BounceVariant Bounce { get; init; } = BounceVariant.Copy;
    /// <summary>The struct bio_vec layout: with a page pointer (mainline), or page-less (bvec/phys).</summary>
    public BvecLayout Bvec { get; init; } = BvecLayout.Page;

    /// <summary>
    /// A bug seeded into the bounce helpers on purpose, to show the BNC properties catch it (tests only; no kernel
    /// had it). Never part of a <see cref="Variant"/>.
    /// </summary>
    public SeededBounceBug SeededBug { get; init; } = SeededBounceBug.None;

    public static readonly KernelVariants Mainline = new();
}

/// <summary>
/// One entry of VARIANTS.md: its id, the function it concerns, what it does, where it comes from, the kernel
/// functions the reference model runs for it, and, for the world-shaping variants (memmap placement, folio size
/// rule, calls without room), which worlds or calls it is about. <see cref="Kernel"/> for a world-shaping variant
/// is the code the variant was argued with (memmap/* with npc/pointer-only, the proposal that placement would
/// make sound).
/// </summary>
public sealed record Variant(string Id, string Function, string What, string Provenance, KernelVariants Kernel)
{
    /// <summary>memmap/*: the classic SPARSEMEM placement the variant stands for.</summary>
    public PlacementPolicy? Placement { get; init; }
    /// <summary>folio/*: the folio size rule of the machine.</summary>
    public FolioSizeRule? FolioRule { get; init; }
    /// <summary>extract/no-room: the variant is about calls entered with nr_vecs ≥ max_vecs.</summary>
    public bool NoRoomOnEntry { get; init; }
    /// <summary>True for the variant that is (part of) the newest tree.</summary>
    public bool IsMainline { get; init; }
}

/// <summary>The catalogue of VARIANTS.md, in its order. Each field's comment gives the provenance.</summary>
public static class Variants
{
    private static KernelVariants K => KernelVariants.Mainline;

    // ---------------------------------------------------------------- num_pages_contiguous

    /// <summary>Li Zhe v1–v4, Jun–Jul 2025; refused by Linus Torvalds in the 6.17 VFIO pull, 4 Aug 2025.</summary>
    public static readonly Variant NpcNthPage = new("npc/nth-page", "num_pages_contiguous",
        "pages[i] == nth_page(pages[0], i); nth_page = pfn_to_page(page_to_pfn(p) + i) in classic SPARSEMEM, p + i otherwise",
        "Li Zhe v1–v4, Jun–Jul 2025; refused by Linus Torvalds, 4 Aug 2025", K with { Npc = NpcVariant.NthPage });

    /// <summary>Linus Torvalds, 4 Aug 2025, "[GIT PULL] VFIO updates for v6.17-rc1".</summary>
    public static readonly Variant NpcPointerOnly = new("npc/pointer-only", "num_pages_contiguous",
        "pages[i] == pages[i-1] + 1, no section test",
        "Linus Torvalds, 4 Aug 2025", K with { Npc = NpcVariant.PointerOnly });

    /// <summary>David Hildenbrand's draft, 5 Aug 2025, same thread.</summary>
    public static readonly Variant NpcDraftSectionMask = new("npc/draft-section-mask", "num_pages_contiguous",
        "classic SPARSEMEM: n capped at PAGES_PER_SECTION - (pfn & PAGES_PER_SECTION), then pointer compare",
        "David Hildenbrand's draft, 5 Aug 2025", K with { Npc = NpcVariant.DraftSectionMask });

    /// <summary>929bf010e0599ddef6b640cd314f1de65dd1ca3e, 6.18, include/linux/mm_inline.h.</summary>
    public static readonly Variant NpcSectionCompare = new("npc/section-compare", "num_pages_contiguous",
        "pointer compare plus same section as pages[0]",
        "Linus Torvalds' loop, 5 Aug 2025; merged as 929bf010e059 (6.18)", K) { IsMainline = true };

    // ---------------------------------------------------------------- memmap placement (classic SPARSEMEM)

    /// <summary>
    /// sparse_buffer (mm/sparse.c): one buffer per node, memmaps carved in section order. Introduced by
    /// 35fd1eb1e8212c02f6eae24335a9e5b80f9519b4, Pavel Tatashin, "mm/sparse: abstract sparse buffer allocations"
    /// (Jul 2018, v4.19), used for classic SPARSEMEM by the same "sparse_init rewrite" series.
    /// </summary>
    public static readonly Variant MemmapNodeBuffer = new("memmap/node-buffer", "memmap placement",
        "memmaps of a node's present sections carved one after another from one buffer; none for a hole",
        "sparse_buffer, 35fd1eb1e821 (Pavel Tatashin, Jul 2018, v4.19) to 6.x", K with { Npc = NpcVariant.PointerOnly }) { Placement = PlacementPolicy.NodeBuffer };

    /// <summary>
    /// One memblock allocation per section: sparse_init_nid → __populate_section_memmap → memmap_alloc →
    /// memblock_alloc, as David Hildenbrand describes it in "[GIT PULL] VFIO updates for v6.17-rc1" (5 Aug 2025
    /// 13:20: a large hole and memblock handing out the next range can make two sections' struct pages
    /// consecutive); the fallback when the node buffer cannot be had, and kvmalloc'd memmaps on hotplug.
    /// </summary>
    public static readonly Variant MemmapIndependent = new("memmap/independent", "memmap placement",
        "one allocation per section, anywhere (adjacent or not, by chance)",
        "per-section memblock_alloc, David Hildenbrand, 5 Aug 2025 (VFIO 6.17 pull thread); kvmalloc on hotplug", K with { Npc = NpcVariant.PointerOnly }) { Placement = PlacementPolicy.Independent };

    /// <summary>Jason Gunthorpe's proposal, 5 Aug 2025, same thread.</summary>
    public static readonly Variant MemmapPadded = new("memmap/padded", "memmap placement",
        "allocations that never end where another section's memmap starts",
        "Jason Gunthorpe's proposal, 5 Aug 2025", K with { Npc = NpcVariant.PointerOnly }) { Placement = PlacementPolicy.Padded };

    // ---------------------------------------------------------------- folio size rule

    /// <summary>
    /// Before 6.18: gigantic folios (hugetlb 1 GiB, dax) may span sections in classic SPARSEMEM, i.e. before
    /// 4751c39eee0c (David Hildenbrand, "mm: limit folio/compound page sizes in problematic kernel configs", Sep 2025).
    /// Combined here with the 6.18 folio_page (pointer arithmetic, after 84efbefa26df "mm: remove nth_page()"):
    /// the combination that series had to rule out.
    /// </summary>
    public static readonly Variant FolioCrossSection = new("folio/cross-section", "folio size rule",
        "gigantic folios may span sections in classic SPARSEMEM; folio_page by pointer arithmetic",
        "before 4751c39eee0c (David Hildenbrand, Sep 2025; 6.18)", K) { FolioRule = FolioSizeRule.CrossSection };

    /// <summary>4751c39eee0c (David Hildenbrand, Sep 2025, 6.18): MAX_FOLIO_ORDER is the section order in classic SPARSEMEM.</summary>
    public static readonly Variant FolioMaxFolioOrder = new("folio/max-folio-order", "folio size rule",
        "MAX_FOLIO_ORDER = section order in classic SPARSEMEM",
        "4751c39eee0c (David Hildenbrand, Sep 2025), 6.18", K) { FolioRule = FolioSizeRule.MaxFolioOrder, IsMainline = true };

    // ---------------------------------------------------------------- bio_add_page and pgmaps

    /// <summary>49580e690755 (Logan Gunthorpe, v6.2) to v6.16; zero-length adds accepted (before 643893647cac).</summary>
    public static readonly Variant AddMergeGuard = new("add/merge-guard", "bio_add_page",
        "pgmap test only inside the merge helper; a different pgmap starts a new bvec",
        "49580e690755 (Logan Gunthorpe, Oct 2022), v6.2 to v6.16", K with { AddPolicy = AddPgmapPolicy.MergeGuard, RefuseZeroLength = false });

    /// <summary>38446014648c (Christoph Hellwig), v6.17 to v7.0; zero-length adds accepted (before 643893647cac).</summary>
    public static readonly Variant AddRejectAnyPgmap = new("add/reject-any-pgmap", "bio_add_page",
        "any pgmap change is refused (return 0)",
        "38446014648c \"block: don't merge different kinds of P2P transfers in a single bio\" (Christoph Hellwig, Jun 2025), v6.17 to v7.0", K with { AddPolicy = AddPgmapPolicy.RejectAnyPgmap, RefuseZeroLength = false });

    /// <summary>Naman Jain, [PATCH 2/2] v1, 1 Apr 2026.</summary>
    public static readonly Variant AddSeparateAnyPgmap = new("add/separate-any-pgmap", "bio_add_page",
        "a different pgmap is accepted as a new bvec, never merged",
        "Naman Jain, \"[PATCH 2/2] block: allow different-pgmap pages as separate bvecs in bio_add_page\", v1, 1 Apr 2026", K with { AddPolicy = AddPgmapPolicy.SeparateAnyPgmap });

    /// <summary>41c665aae2b5, Apr 2026 (Cc stable). Mainline.</summary>
    public static readonly Variant AddCompatible = new("add/compatible", "bio_add_page",
        "refuse only when either side is P2PDMA and the pgmaps differ; merge only with the same pgmap",
        "41c665aae2b5 (Naman Jain, Apr 2026, Cc stable)", K) { IsMainline = true };

    /// <summary>Before 13920e4b7b78 (Naman Jain patch 1/2, Apr 2026).</summary>
    public static readonly Variant MergeableNoPgmap = new("mergeable/no-pgmap", "biovec_phys_mergeable",
        "biovec_phys_mergeable without a pgmap test",
        "before 13920e4b7b78 (Naman Jain patch 1/2, Apr 2026)", K with { Mergeable = MergeablePolicy.NoPgmap });

    /// <summary>13920e4b7b78, Apr 2026. Mainline.</summary>
    public static readonly Variant MergeablePgmap = new("mergeable/pgmap", "biovec_phys_mergeable",
        "biovec_phys_mergeable with the pgmap test",
        "13920e4b7b78 (Naman Jain, Apr 2026, Cc stable)", K) { IsMainline = true };

    // ---------------------------------------------------------------- extraction into a bio

    /// <summary>v6.18–v6.19 as modelled (VARIANTS.md: ≈6.16–6.18), until 12da89e8844a (v7.0); runs with the bio_add_page of its time (reject-any-pgmap).</summary>
    public static readonly Variant ExtractAddFolio = new("extract/add-folio", "bio_iov_iter_get_pages",
        "each folio run added with bio_add_folio/bio_add_page; a refused add warns and fails the round with -EINVAL",
        "≈6.16–6.18 in VARIANTS.md; as modelled (38446014648c's refusal, 20a0e6276edb's align-down, Keith Busch, Sep 2025) v6.18–v6.19, until 12da89e8844a (Christoph Hellwig, Jan 2026, v7.0)",
        K with { Extraction = ExtractionVariant.AddFolio, AddPolicy = AddPgmapPolicy.RejectAnyPgmap, RefuseZeroLength = false });

    /// <summary>91b73c458182 / 12da89e8844a, Jan 2026. Mainline.</summary>
    public static readonly Variant ExtractBvecs = new("extract/bvecs", "bio_iov_iter_get_pages",
        "iov_iter_extract_bvecs: stop at a pgmap change, revert, unpin unused pages, return bytes added",
        "91b73c458182 / 12da89e8844a (Christoph Hellwig, Jan 2026)", K) { IsMainline = true };

    /// <summary>The nr_vecs question raised in review of 91b73c458182 and declined: mainline code, calls without room.</summary>
    public static readonly Variant ExtractNoRoom = new("extract/no-room", "iov_iter_extract_bvecs",
        "entered with nr_vecs == max_vecs (or more): the free count is zero or wraps",
        "review of 91b73c458182 (declined)", K) { NoRoomOnEntry = true, IsMainline = true };

    /// <summary>Newest mainline bio_iov_iter_align_down.</summary>
    public static readonly Variant AlignDownFirstPage = new("aligndown/first-page", "bio_iov_iter_align_down",
        "a dropped bvec unpins only its first page",
        "align-down since 20a0e6276edb (Keith Busch, Sep 2025); newest mainline block/bio.c b539aeacf8cc", K) { IsMainline = true };

    /// <summary>Tal Zussman, [PATCH v5 8/9] (23 Sep 2026, the text modelled; v6 9 Oct 2026), pending.</summary>
    public static readonly Variant AlignDownAllPages = new("aligndown/all-pages", "bio_iov_iter_align_down",
        "every trimmed page is unpinned",
        "Tal Zussman, \"[PATCH v5 8/9] block: unpin all pages of a bvec in bio_iov_iter_align_down()\", 23 Sep 2026 (v6 9 Oct 2026, pending)",
        K with { AlignDown = AlignDownVariant.AllPages });

    // ---------------------------------------------------------------- bounce buffering

    /// <summary>Zero copy, before the series.</summary>
    public static readonly Variant BounceNone = new("bounce/none", "direct I/O on a stable-pages device",
        "zero copy: the device reads (or writes) the user pages during the I/O",
        "before the series (bio_iov_iter_get_pages)", K with { Bounce = BounceVariant.None });

    /// <summary>The helpers as posted in v3 and merged for 7.0 (8dd5e7c75d7b, 28 Jan 2026).</summary>
    public static readonly Variant BounceCopyV3 = new("bounce/copy-v3", "direct I/O on a stable-pages device",
        "bio_iov_iter_bounce as merged for 7.0: no minsize, no align-down, no revert after a short copy",
        "Christoph Hellwig, v3 26 Jan 2026, merged as 8dd5e7c75d7b (7.0); revert added by b68d4979c88e (Jun 2026)",
        K with { Bounce = BounceVariant.CopyV3 });

    /// <summary>The newest helpers (block/bio.c b539aeacf8cc). Mainline.</summary>
    public static readonly Variant BounceCopy = new("bounce/copy", "direct I/O on a stable-pages device",
        "bio_iov_iter_bounce / bio_iov_iter_unbounce: writes copy into kernel folios; reads use bvec 0 for the bounce folio",
        "Christoph Hellwig, v3 Jan 2026 (7.0) with maxlen, minsize, align-down (7.1) and the short-copy revert (7.2)", K) { IsMainline = true };

    /// <summary>
    /// The page-less bio_vec of the June 2025 thread: {phys_addr_t bv_phys; u32 bv_len} packed, 12 bytes with a 64-bit
    /// phys_addr_t, P2P decided per bio. iov_iter_extract_bvecs as written needs PAGE_PTRS_PER_BVEC ≥ 2, which the layout
    /// gives only on 32-bit kernels; bio_add_page decides P2P against the bio's record.
    /// </summary>
    public static readonly Variant BvecPhys = new("bvec/phys", "struct bio_vec",
        "bio_vec = {phys_addr_t, u32 len}, 12 bytes; P2P decided per bio (non-P2P, or P2P to one device)",
        "Christoph Hellwig, David Howells, Alistair Popple, \"How to handle P2P DMA with only {physaddr,len} in bio_vec?\", 23 Jun 2025 (proposal)",
        K with { Bvec = BvecLayout.Phys });

    /// <summary>Every variant, in the order of VARIANTS.md.</summary>
    public static IReadOnlyList<Variant> All { get; } =
    [
        NpcNthPage, NpcPointerOnly, NpcDraftSectionMask, NpcSectionCompare,
        MemmapNodeBuffer, MemmapIndependent, MemmapPadded,
        FolioCrossSection, FolioMaxFolioOrder,
        AddMergeGuard, AddRejectAnyPgmap, AddSeparateAnyPgmap, AddCompatible,
        MergeableNoPgmap, MergeablePgmap,
        ExtractAddFolio, ExtractBvecs, ExtractNoRoom,
        AlignDownFirstPage, AlignDownAllPages,
        BounceNone, BounceCopyV3, BounceCopy,
        BvecPhys,
    ];

    public static Variant Get(string id)
        => All.FirstOrDefault(v => v.Id == id)
           ?? throw new ArgumentException($"no variant '{id}' (known: {string.Join(", ", All.Select(v => v.Id))})");
}
