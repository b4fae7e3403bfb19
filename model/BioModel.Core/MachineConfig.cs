namespace BioModel.Core;

/// <summary>The three memory models of include/asm-generic/memory_model.h (KERNEL-SPEC §5.1).</summary>
public enum MemoryModel
{
    /// <summary>One mem_map array: page = mem_map + (pfn - ARCH_PFN_OFFSET).</summary>
    Flatmem,
    /// <summary>Classic SPARSEMEM: one memmap per present section, section number kept in page flags.</summary>
    Sparsemem,
    /// <summary>SPARSEMEM_VMEMMAP: one virtual array, page = vmemmap + pfn.</summary>
    SparsememVmemmap,
}

/// <summary>
/// How large a folio may be. <see cref="MaxFolioOrder"/> is the 6.18 rule (4751c39eee0c, 84efbefa26df):
/// in classic SPARSEMEM no folio crosses a section. <see cref="CrossSection"/> is the pre-6.18 world where
/// gigantic folios (1 GiB hugetlb, dax) could span sections (VARIANTS.md folio/cross-section).
/// </summary>
public enum FolioSizeRule
{
    MaxFolioOrder,
    CrossSection,
}

/// <summary>
/// The simulated machine: page size, section geometry, memory model, sizeof(struct page), the
/// MAX_FOLIO_ORDER rule and the configuration switches of KERNEL-SPEC §7.
/// </summary>
public sealed record MachineConfig
{
    /// <summary>Preset name this config came from, or "custom".</summary>
    public string Name { get; init; } = "custom";
    public int PageShift { get; init; } = 12;
    public int SectionSizeBits { get; init; } = 16;
    public MemoryModel Model { get; init; } = MemoryModel.Sparsemem;
    public int StructPageSize { get; init; } = 64;
    public bool Is64Bit { get; init; } = true;
    public int MaxPhysmemBits { get; init; } = 46;
    /// <summary>MAX_PAGE_ORDER (default 10, CONFIG_ARCH_FORCE_MAX_ORDER); mmzone.h requires MaxPageOrder + PAGE_SHIFT ≤ SECTION_SIZE_BITS.</summary>
    public int MaxPageOrder { get; init; } = 4;
    /// <summary>HAVE_GIGANTIC_FOLIOS with hugetlb: folios above MAX_PAGE_ORDER exist.</summary>
    public bool GiganticFolios { get; init; } = true;
    public FolioSizeRule FolioRule { get; init; } = FolioSizeRule.MaxFolioOrder;
    /// <summary>FLATMEM only: the first PFN covered by mem_map.</summary>
    public ulong ArchPfnOffset { get; init; }
    public bool ZoneDevice { get; init; } = true;
    public bool PciP2pdma { get; init; } = true;
    public bool Kmsan { get; init; }
    public bool XenGuest { get; init; }
    /// <summary>XEN_PAGE_SIZE == PAGE_SIZE; when false a Xen guest never merges (drivers/xen/biomerge.c).</summary>
    public bool XenPageSizeMatches { get; init; } = true;
    /// <summary>CONFIG_DEBUG_KERNEL: exhaustive BVEC alignment check in bio_iov_iter_get_pages.</summary>
    public bool DebugKernel { get; init; }

    public ulong PageSize => 1UL << PageShift;
    public ulong PageMask => ~(PageSize - 1);
    /// <summary>PFN_SECTION_SHIFT = SECTION_SIZE_BITS − PAGE_SHIFT.</summary>
    public int PfnSectionShift => SectionSizeBits - PageShift;
    public ulong PagesPerSection => 1UL << PfnSectionShift;
    public int PointerSize => Is64Bit ? 8 : 4;
    /// <summary>sizeof(struct bio_vec): pointer + u32 len + u32 offset (16 on 64-bit, 12 on 32-bit).</summary>
    public int BvecSize => PointerSize + 8;
    /// <summary>PAGE_PTRS_PER_BVEC = sizeof(bio_vec) / sizeof(page pointer): 2 on 64-bit, 3 on 32-bit (KERNEL-SPEC §3.6).</summary>
    public int PagePtrsPerBvec => BvecSize / PointerSize;
    /// <summary>sizeof(phys_addr_t): 8 on 64-bit and with CONFIG_PHYS_ADDR_T_64BIT (32-bit PAE, MAX_PHYSMEM_BITS &gt; 32), else 4.</summary>
    public int PhysAddrSize => Is64Bit || MaxPhysmemBits > 32 ? 8 : 4;

    /// <summary>sizeof(struct bio_vec) in a layout: {page *, u32, u32}, or the page-less packed {phys_addr_t, u32} of bvec/phys.</summary>
    public int BvecSizeIn(BvecLayout layout) => layout == BvecLayout.Page ? BvecSize : PhysAddrSize + 4;

    /// <summary>
    /// PAGE_PTRS_PER_BVEC in a layout: sizeof(bio_vec) / sizeof(struct page *) (integer division). Below 2 the page-pointer
    /// array of iov_iter_extract_bvecs cannot sit in the tail of the bvec array (KERNEL-SPEC §3.6; the kernel asserts
    /// it at build time): 12 / 8 = 1 for bvec/phys on 64-bit.
    /// </summary>
    public int PagePtrsPerBvecIn(BvecLayout layout) => BvecSizeIn(layout) / PointerSize;

    /// <summary>The layout in C-like words, with its size and PAGE_PTRS_PER_BVEC.</summary>
    public string DescribeBvec(BvecLayout layout)
        => (layout == BvecLayout.Page
               ? $"struct bio_vec {{ struct page *bv_page; u32 bv_len; u32 bv_offset; }}"
               : $"struct bio_vec {{ phys_addr_t bv_phys; u32 bv_len; }} __packed")
           + $": {BvecSizeIn(layout)} bytes, {PointerSize}-byte page pointers, PAGE_PTRS_PER_BVEC {BvecSizeIn(layout)}/{PointerSize} = {PagePtrsPerBvecIn(layout)}";

    /// <summary>MAX_RW_COUNT = INT_MAX &amp; PAGE_MASK (KERNEL-SPEC §3.1).</summary>
    public ulong MaxRwCount => int.MaxValue & PageMask;
    /// <summary>TASK_SIZE_MAX: GUP refuses a user range that ends above it (x86-64 4-level paging; 3 GiB on 32-bit).</summary>
    public ulong TaskSizeMax => Is64Bit ? 0x7fff_ffff_f000UL : 0xc000_0000UL;

    /// <summary>SECTION_IN_PAGE_FLAGS: defined exactly for classic SPARSEMEM (KERNEL-SPEC §4.3).</summary>
    public bool SectionInPageFlags => Model == MemoryModel.Sparsemem;
    /// <summary>SECTIONS_WIDTH = MAX_PHYSMEM_BITS − SECTION_SIZE_BITS (width of the section field in page flags).</summary>
    public int SectionsWidth => MaxPhysmemBits - SectionSizeBits;

    /// <summary>
    /// MAX_FOLIO_ORDER as defined in include/linux/mm.h at 84efbefa26df (6.18) and its follow-up
    /// (16 GiB gigantic pages on 64-bit powerpc): no gigantic folios → MAX_PAGE_ORDER; classic SPARSEMEM →
    /// PFN_SECTION_SHIFT; otherwise get_order(16 GiB) on 64-bit, get_order(1 GiB) on 32-bit.
    /// Under <see cref="FolioSizeRule.CrossSection"/> (before 6.18) classic SPARSEMEM had no section cap.
    /// </summary>
    public int MaxFolioOrder
    {
        get
        {
            if (!GiganticFolios) return MaxPageOrder;
            if (Model == MemoryModel.Sparsemem && FolioRule == FolioSizeRule.MaxFolioOrder) return PfnSectionShift;
            return (Is64Bit ? 34 : 30) - PageShift;
        }
    }

    /// <summary>Reasons this configuration cannot exist (empty when it is valid).</summary>
    public IEnumerable<(string Field, string Reason)> Problems()
    {
        if (PageShift is not (12 or 14 or 16))
            yield return ("page_shift", $"page shift {PageShift} is not 12 (4K), 14 (16K) or 16 (64K)");
        if (SectionSizeBits < PageShift || SectionSizeBits > 40)
            yield return ("section_size_bits", $"SECTION_SIZE_BITS {SectionSizeBits} must lie in [PAGE_SHIFT={PageShift}, 40]");
        // No kernel's struct page is below 32 bytes (eight words on 32-bit: flags, lru, mapping, index, private,
        // _mapcount, _refcount; include/linux/mm_types.h), and the optimized arena's records need 32.
        if (StructPageSize is < 32 or > 256 || StructPageSize % 8 != 0)
            yield return ("struct_page_size", $"sizeof(struct page) {StructPageSize} must be a multiple of 8 in [32, 256] (eight words on 32-bit is the smallest)");
        if (MaxPageOrder < 0 || MaxPageOrder + PageShift > SectionSizeBits)
            yield return ("max_page_order", $"MAX_PAGE_ORDER {MaxPageOrder} + PAGE_SHIFT {PageShift} exceeds SECTION_SIZE_BITS {SectionSizeBits} (mmzone.h refuses to build)");
        if (MaxPhysmemBits <= SectionSizeBits || MaxPhysmemBits > 64)
            yield return ("max_physmem_bits", $"MAX_PHYSMEM_BITS {MaxPhysmemBits} must exceed SECTION_SIZE_BITS {SectionSizeBits} and be at most 64");
        if (PciP2pdma && !ZoneDevice)
            yield return ("pci_p2pdma", "CONFIG_PCI_P2PDMA depends on CONFIG_ZONE_DEVICE");
        if (ArchPfnOffset != 0 && Model != MemoryModel.Flatmem)
            yield return ("arch_pfn_offset", "ARCH_PFN_OFFSET only exists for FLATMEM");
    }
}

/// <summary>
/// The struct bio_vec layout: with a page pointer (every kernel so far), or the page-less {phys_addr_t, u32 len} of the
/// June 2025 thread "How to handle P2P DMA with only {physaddr,len} in bio_vec?" (Christoph Hellwig, David Howells,
/// Alistair Popple; VARIANTS.md bvec/phys), where a bio must record its P2P state itself.
/// </summary>
public enum BvecLayout
{
    Page,
    Phys,
}
