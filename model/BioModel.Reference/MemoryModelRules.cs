using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// pfn ↔ struct page for the three memory models, the sparsemem section helpers and folio indexing, as
/// the kernel computes them (KERNEL-SPEC §4–§5). A "page" is the address of a struct page in the memmap
/// space; pointer arithmetic is address arithmetic, so two memmaps that happen to sit next to each other
/// make "page + 1" land on an unrelated PFN exactly as in the kernel.
///
/// Sources: include/asm-generic/memory_model.h (0604aa87b098; __pfn_to_page / __page_to_pfn per model),
/// mm/sparse.c 2026 text (sparse_encode_mem_map / sparse_decode_mem_map, section_mem_map flag bits),
/// include/linux/mm.h at 84efbefa26df (page_to_section / memdesc_section, folio_page, folio_page_idx
/// after "mm: remove nth_page()", MAX_FOLIO_ORDER).
/// </summary>
public sealed class MemoryModelRules(World world)
{
    private readonly World _w = world;
    private readonly MachineConfig _m = world.Machine;
    private readonly WorldFacts _f = world.Facts;

    /// <summary>mem_map (FLATMEM) and vmemmap (SPARSEMEM_VMEMMAP): where the single array starts.</summary>
    public ulong MemMapBase => MemmapPlacement.Origin;

    private ulong Sz => (ulong)_m.StructPageSize;

    /// <summary>section_mem_map flag bits below SECTION_MAP_LAST_BIT: MARKED_PRESENT, HAS_MEM_MAP,
    /// IS_ONLINE, IS_EARLY, TAINT_ZONE_DEVICE (with ZONE_DEVICE). SECTION_MAP_MASK clears them.</summary>
    public int SectionMapLastBit => _m.ZoneDevice ? 5 : 4;
    public ulong SectionMapMask => ~((1UL << SectionMapLastBit) - 1);

    /// <summary>pfn_to_section_nr(pfn) = pfn &gt;&gt; PFN_SECTION_SHIFT.</summary>
    public ulong PfnToSectionNr(ulong pfn) => pfn >> _m.PfnSectionShift;

    /// <summary>section_nr_to_pfn(nr) = nr &lt;&lt; PFN_SECTION_SHIFT.</summary>
    public ulong SectionNrToPfn(ulong nr) => nr << _m.PfnSectionShift;

    /// <summary>
    /// sparse_encode_mem_map: the memmap address minus the section's first PFN (so adding any PFN of the
    /// section yields its struct page), with the present/has-memmap/online/early bits in the low bits.
    /// The kernel BUGs if the biased pointer has any low flag bit set.
    /// </summary>
    public ulong SparseEncodeMemMap(ulong memmap, ulong section)
    {
        ulong coded = memmap - SectionNrToPfn(section) * Sz;
        if ((coded & ~SectionMapMask) != 0)
            throw new ContractViolation(Diag.SectionMapFlags(section, coded));
        return coded | 0b1111; // MARKED_PRESENT | HAS_MEM_MAP | IS_ONLINE | IS_EARLY
    }

    /// <summary>__section_mem_map_addr: the biased memmap pointer of a present section; for a hole, the PFN looked up has no struct page.</summary>
    public ulong SectionMemMapAddr(ulong section, ulong pfn)
    {
        var b = _f.SectionMemmapBase(section)
            ?? throw new ContractViolation(Diag.PfnWithoutPage(pfn));
        return SparseEncodeMemMap(b, section) & SectionMapMask;
    }

    /// <summary>pfn_to_page for the configured memory model; a PFN without a struct page is a violation.</summary>
    public ulong PfnToPage(ulong pfn)
    {
        switch (_m.Model)
        {
            case MemoryModel.Flatmem:
                if (pfn < _m.ArchPfnOffset || pfn >= _f.FlatEnd)
                    throw new ContractViolation(Diag.PfnWithoutPage(pfn));
                return MemMapBase + (pfn - _m.ArchPfnOffset) * Sz;
            case MemoryModel.SparsememVmemmap:
                if (!_f.IsPresent(pfn))
                    throw new ContractViolation(Diag.PfnWithoutPage(pfn));
                return MemMapBase + pfn * Sz;
            default:
                return SectionMemMapAddr(PfnToSectionNr(pfn), pfn) + pfn * Sz;
        }
    }

    /// <summary>True when a struct page lives at <paramref name="page"/> (what a dereference would find).</summary>
    public bool IsStructPage(ulong page) => _f.PfnAtAddress(page) is not null;

    /// <summary>
    /// The section number kept in page->flags (SECTION_IN_PAGE_FLAGS, classic SPARSEMEM only; 0 otherwise).
    /// Reading the flags of something that is not a struct page is a wild dereference.
    /// </summary>
    public ulong PageToSection(ulong page)
    {
        var pfn = _f.PfnAtAddress(page)
            ?? throw new ContractViolation(Diag.WildPage(page));
        if (!_m.SectionInPageFlags) return 0;
        ulong mask = _m.SectionsWidth >= 64 ? ulong.MaxValue : (1UL << _m.SectionsWidth) - 1;
        return PfnToSectionNr(pfn) & mask;
    }

    /// <summary>page_to_pfn for the configured memory model.</summary>
    public ulong PageToPfn(ulong page)
    {
        switch (_m.Model)
        {
            case MemoryModel.Flatmem:
            case MemoryModel.SparsememVmemmap:
            {
                if (page < MemMapBase || (page - MemMapBase) % Sz != 0 || !IsStructPage(page))
                    throw new ContractViolation(Diag.WildPage(page));
                ulong idx = (page - MemMapBase) / Sz;
                return _m.Model == MemoryModel.Flatmem ? idx + _m.ArchPfnOffset : idx;
            }
            default:
            {
                ulong section = PageToSection(page);
                return (page - SectionMemMapAddr(section, SectionNrToPfn(section))) / Sz;
            }
        }
    }

    /// <summary>page + n: plain pointer arithmetic on struct pages.</summary>
    public ulong PageAdd(ulong page, long n) => page + (ulong)n * Sz;

    /// <summary>
    /// Whether struct pages page + first .. page + last are the struct pages of pfn(page) + first .. + last:
    /// the "every page of a bvec is reached by incrementing bv_page" contract (bvec.h). Checked where it can
    /// break: at the ends and at every section start in between (inside one memmap the arithmetic is linear).
    /// </summary>
    public bool RangeContiguous(ulong page, ulong first, ulong last)
    {
        ulong pfn0 = PageToPfn(page);
        var f = _w.Facts;
        bool Ok(ulong k) => f.HasMemmap(pfn0 + k) && PfnToPage(pfn0 + k) == PageAdd(page, (long)k);
        if (!Ok(first) || !Ok(last)) return false;
        ulong pps = _m.PagesPerSection;
        for (ulong start = (pfn0 + first) / pps * pps + pps; start <= pfn0 + last; start += pps)
            if (!Ok(start - pfn0) || !Ok(start - pfn0 - 1)) return false;
        return true;
    }

    /// <summary>Does a pgmap start or end strictly inside PFNs [first, last] (so the range mixes pgmaps, or device memory and RAM)?</summary>
    public bool PgmapBoundaryInside(ulong first, ulong last)
    {
        if (!_m.ZoneDevice) return false;
        foreach (var pg in _w.Pgmaps)
            if ((pg.Start > first && pg.Start <= last) || (pg.End > first && pg.End <= last)) return true;
        return false;
    }

    /// <summary>page_to_phys.</summary>
    public ulong PageToPhys(ulong page) => PageToPfn(page) << _m.PageShift;

    // ------------------------------------------------------------------ folios

    /// <summary>page_folio: the head struct page of the folio holding <paramref name="page"/> (compound_head).</summary>
    public ulong PageFolio(ulong page) => PfnToPage(_f.FolioOf(PageToPfn(page)).Head);

    /// <summary>folio_order / folio_nr_pages of a folio given by its head page.</summary>
    public int FolioOrder(ulong folio) => _f.FolioOf(PageToPfn(folio)).Order;

    /// <summary>folio_size: PAGE_SIZE &lt;&lt; order.</summary>
    public ulong FolioSize(ulong folio) => _m.PageSize << FolioOrder(folio);

    /// <summary>folio_page(folio, n) = &amp;folio-&gt;page + n (a macro again since 6.18, KERNEL-SPEC §4.2).</summary>
    public ulong FolioPage(ulong folio, ulong n) => PageAdd(folio, (long)n);

    /// <summary>folio_page_idx(folio, page) = page − &amp;folio-&gt;page (73b3294b1152).</summary>
    public long FolioPageIdx(ulong folio, ulong page) => (long)(page - folio) / (long)Sz;

    // ------------------------------------------------------------------ zone device (KERNEL-SPEC §2)

    /// <summary>is_zone_device_page: the zone in page->flags is ZONE_DEVICE (constant false without CONFIG_ZONE_DEVICE).</summary>
    public bool IsZoneDevicePage(ulong page) => _m.ZoneDevice && _f.PgmapOf(PageToPfn(page)) is not null;

    /// <summary>page_pgmap: the pgmap kept in the page's folio (Alistair Popple, 2025); null without ZONE_DEVICE.</summary>
    public Pgmap? PagePgmap(ulong page)
    {
        if (!_m.ZoneDevice) return null;
        return _f.PgmapOf(PageToPfn(PageFolio(page)));
    }

    /// <summary>
    /// zone_device_pages_have_same_pgmap: false if exactly one is a zone-device page, true if neither is,
    /// else page_pgmap equality; constant true without CONFIG_ZONE_DEVICE.
    /// </summary>
    public bool ZoneDevicePagesHaveSamePgmap(ulong a, ulong b)
    {
        if (!_m.ZoneDevice) return true;
        bool za = IsZoneDevicePage(a), zb = IsZoneDevicePage(b);
        if (za != zb) return false;
        if (!za) return true;
        return PagePgmap(a)!.Value.Id == PagePgmap(b)!.Value.Id;
    }

    /// <summary>is_pci_p2pdma_page: CONFIG_PCI_P2PDMA, a zone-device page, and its pgmap type is MEMORY_DEVICE_PCI_P2PDMA.</summary>
    public bool IsPciP2pdmaPage(ulong page)
        => _m.PciP2pdma && IsZoneDevicePage(page) && PagePgmap(page)!.Value.Type == MemoryType.PciP2pdma;

    /// <summary>
    /// zone_device_pages_compatible (block/blk.h, 41c665aae2b5): if either page is P2PDMA they must have the
    /// same pgmap; anything else (GENERIC of different pgmaps, GENERIC with RAM, FS_DAX) is compatible.
    /// </summary>
    public bool ZoneDevicePagesCompatible(ulong a, ulong b)
        => !(IsPciP2pdmaPage(a) || IsPciP2pdmaPage(b)) || ZoneDevicePagesHaveSamePgmap(a, b);

    /// <summary>pfn_to_bfn for a Xen guest (identity outside the world's Xen ranges).</summary>
    public ulong PfnToBfn(ulong pfn) => _f.Bfn(pfn);

    public World World => _w;
}
