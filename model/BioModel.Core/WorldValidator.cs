namespace BioModel.Core;

/// <summary>
/// Rejects worlds that cannot exist, naming the scenario-file path of the offending value. A world with
/// any problem is never run.
/// </summary>
public static class WorldValidator
{
    public static IReadOnlyList<(string Path, string Reason)> Validate(World w)
    {
        var errors = new List<(string, string)>();
        var m = w.Machine;
        foreach (var (field, reason) in m.Problems())
            errors.Add(($"$.machine.{field}", reason));
        if (errors.Count > 0) return errors;

        var f = w.Facts;
        var secs = w.Memory.PresentSections;
        ulong nrMemSections = m.SectionsWidth >= 63 ? ulong.MaxValue : 1UL << m.SectionsWidth;
        if (secs.Length == 0) errors.Add(("$.memory.sections", "no present section: the machine has no memory"));
        for (int i = 0; i < secs.Length; i++)
        {
            if (i > 0 && secs[i] <= secs[i - 1])
                errors.Add(($"$.memory.sections[{i}]", $"section {secs[i]} is not above the previous one ({secs[i - 1]}): list sections in ascending order, once"));
            if (secs[i] >= nrMemSections)
                errors.Add(($"$.memory.sections[{i}]", $"section {secs[i]} is beyond NR_MEM_SECTIONS = 2^(MAX_PHYSMEM_BITS − SECTION_SIZE_BITS) = {nrMemSections}"));
        }
        if (errors.Count > 0) return errors;

        var p = w.Memory.Placement;
        if (m.Model != MemoryModel.Sparsemem)
        {
            if (p != MemmapPlacement.NodeBuffer())
                errors.Add(("$.memory.placement", $"memmap placement only exists for classic SPARSEMEM; {m.Model} has one memmap array"));
        }
        else
        {
            ulong align = Math.Min(f.SectionMemmapBytes, m.PageSize);
            if (p.Policy == PlacementPolicy.Independent)
            {
                if (p.Bases.Length != secs.Length)
                    errors.Add(("$.memory.placement.bases", $"independent placement needs one base per present section: {secs.Length} sections, {p.Bases.Length} bases"));
                else
                {
                    var spans = new List<(ulong Start, ulong End, int Index)>();
                    for (int i = 0; i < p.Bases.Length; i++)
                    {
                        if (p.Bases[i] < MemmapPlacement.Origin || p.Bases[i] % align != 0)
                            errors.Add(($"$.memory.placement.bases[{i}]", $"memmap base 0x{p.Bases[i]:x} must be ≥ 0x{MemmapPlacement.Origin:x} and a multiple of 0x{align:x} (memmap_alloc aligns to the allocation size, at most a page)"));
                        spans.Add((p.Bases[i], p.Bases[i] + f.SectionMemmapBytes, i));
                    }
                    spans.Sort();
                    for (int i = 1; i < spans.Count; i++)
                        if (spans[i].Start < spans[i - 1].End)
                            errors.Add(($"$.memory.placement.bases[{spans[i].Index}]", $"memmap at 0x{spans[i].Start:x} overlaps the memmap of bases[{spans[i - 1].Index}]"));
                }
            }
            else
            {
                if (!p.Bases.IsEmpty)
                    errors.Add(("$.memory.placement.bases", $"only independent placement takes explicit bases, not {MemmapPlacement.PolicyName(p.Policy)}"));
                if (p.Base < MemmapPlacement.Origin || p.Base % align != 0)
                    errors.Add(("$.memory.placement.base", $"memmap base 0x{p.Base:x} must be ≥ 0x{MemmapPlacement.Origin:x} and a multiple of 0x{align:x}"));
            }
        }
        if (m.Model == MemoryModel.Flatmem && secs.Length > 0 && m.ArchPfnOffset > f.SectionStart(secs[0]))
            errors.Add(("$.machine.arch_pfn_offset", $"ARCH_PFN_OFFSET 0x{m.ArchPfnOffset:x} is above the first present PFN 0x{f.SectionStart(secs[0]):x}"));
        if (errors.Count > 0) return errors;

        // The memmaps must fit one arena: what a machine of this size could map (16 GiB of struct
        // pages; under 4 GiB with 32-bit page pointers).
        ulong lo = ulong.MaxValue, hi = 0;
        foreach (var sec in secs)
        {
            ulong first = m.Model == MemoryModel.Flatmem && sec == secs[0] ? m.ArchPfnOffset : f.SectionStart(sec);
            ulong a = f.MemmapAddress(first)!.Value, b = f.MemmapAddress(f.SectionStart(sec) + m.PagesPerSection - 1)!.Value + (ulong)m.StructPageSize;
            lo = Math.Min(lo, a);
            hi = Math.Max(hi, b);
        }
        ulong limit = m.Is64Bit ? 1UL << 34 : (1UL << 32) - (1UL << 20);
        if (hi - lo > limit)
            errors.Add((m.Model == MemoryModel.Sparsemem ? "$.memory.placement" : "$.memory.sections",
                $"the memmaps spread over 0x{hi - lo:x} bytes; the model's memmap arena holds at most 0x{limit:x}"));
        if (errors.Count > 0) return errors;

        // Pgmaps: ZONE_DEVICE ranges inside present memory, disjoint, distinct ids.
        var pgmaps = w.Pgmaps;
        if (!pgmaps.IsEmpty && !m.ZoneDevice)
            errors.Add(("$.pgmaps", "pgmaps need CONFIG_ZONE_DEVICE"));
        var ids = new HashSet<int>();
        for (int i = 0; i < pgmaps.Length; i++)
        {
            var pg = pgmaps[i];
            string at = $"$.pgmaps[{i}]";
            if (pg.Id <= 0) errors.Add(($"{at}.id", $"pgmap id {pg.Id} must be positive"));
            else if (!ids.Add(pg.Id)) errors.Add(($"{at}.id", $"pgmap id {pg.Id} is used twice"));
            if (!Enum.IsDefined(pg.Type)) errors.Add(($"{at}.type", $"memory type {(int)pg.Type} does not exist"));
            if (pg.Type == MemoryType.PciP2pdma && !m.PciP2pdma) errors.Add(($"{at}.type", "a PCI_P2PDMA pgmap needs CONFIG_PCI_P2PDMA"));
            if (pg.NrPages == 0) errors.Add(($"{at}.pages", "a pgmap covers at least one page"));
            else if (!RangePresent(f, pg.Start, pg.NrPages, out ulong bad))
                errors.Add(($"{at}", $"PFN 0x{bad:x} of pgmap {pg.Id} is not in a present section"));
        }
        var sortedPg = pgmaps.Select((pg, i) => (pg, i)).OrderBy(t => t.pg.Start).ToList();
        for (int i = 1; i < sortedPg.Count; i++)
            if (sortedPg[i].pg.Start < sortedPg[i - 1].pg.End)
                errors.Add(($"$.pgmaps[{sortedPg[i].i}]", $"pgmap {sortedPg[i].pg.Id} [0x{sortedPg[i].pg.Start:x}, 0x{sortedPg[i].pg.End:x}) overlaps pgmap {sortedPg[i - 1].pg.Id}"));

        // Folios: naturally aligned, within MAX_FOLIO_ORDER, present, disjoint, inside one pgmap.
        var folios = w.Folios;
        for (int i = 0; i < folios.Length; i++)
        {
            var fo = folios[i];
            string at = $"$.folios[{i}]";
            if (fo.Order < 0 || fo.Order > 40) { errors.Add(($"{at}.order", $"order {fo.Order} out of range")); continue; }
            if (fo.Order > m.MaxFolioOrder)
                errors.Add(($"{at}.order", $"order {fo.Order} exceeds MAX_FOLIO_ORDER = {m.MaxFolioOrder} for {m.Model}{(m.Model == MemoryModel.Sparsemem ? " (a folio may fill but not cross a section)" : "")}"));
            if (fo.Head % fo.NrPages != 0)
                errors.Add(($"{at}.head", $"head 0x{fo.Head:x} is not aligned to the folio size ({fo.NrPages} pages)"));
            if (!RangePresent(f, fo.Head, fo.NrPages, out ulong bad))
                errors.Add(($"{at}", $"PFN 0x{bad:x} of the folio at 0x{fo.Head:x} is not in a present section"));
            else
            {
                var pgHead = f.PgmapOf(fo.Head);
                foreach (var pg in pgmaps)
                    if (pg.Start < fo.End && fo.Head < pg.End && (pgHead is null || pgHead.Value.Id != pg.Id || pg.Start > fo.Head || pg.End < fo.End))
                    {
                        errors.Add(($"{at}", $"folio [0x{fo.Head:x}, 0x{fo.End:x}) straddles the boundary of pgmap {pg.Id}"));
                        break;
                    }
            }
        }
        var sortedF = folios.Select((fo, i) => (fo, i)).OrderBy(t => t.fo.Head).ToList();
        for (int i = 1; i < sortedF.Count; i++)
            if (sortedF[i].fo.Head < sortedF[i - 1].fo.End)
                errors.Add(($"$.folios[{sortedF[i].i}]", $"folio at 0x{sortedF[i].fo.Head:x} overlaps the folio at 0x{sortedF[i - 1].fo.Head:x}"));

        CheckSpace(errors, f, w.User, "$.user", m);
        if (w.User.End(m.PageSize) > m.TaskSizeMax)
            errors.Add(("$.user.base", $"the user mapping ends at 0x{w.User.End(m.PageSize):x}, above TASK_SIZE_MAX 0x{m.TaskSizeMax:x}"));
        CheckSpace(errors, f, w.Kernel, "$.kernel", m);

        var xen = w.Xen.Select((x, i) => (x, i)).OrderBy(t => t.x.Pfn).ToList();
        for (int i = 0; i < xen.Count; i++)
        {
            if (xen[i].x.Count == 0) errors.Add(($"$.xen[{xen[i].i}].count", "a Xen range covers at least one frame"));
            if (i > 0 && xen[i].x.Pfn < xen[i - 1].x.Pfn + xen[i - 1].x.Count)
                errors.Add(($"$.xen[{xen[i].i}]", "Xen ranges overlap"));
        }
        if (!w.Xen.IsEmpty && !m.XenGuest)
            errors.Add(("$.xen", "a pfn → bfn map only exists in a Xen guest (machine.xen_guest)"));
        CheckAllocator(errors, w);
        return errors;
    }

    /// <summary>
    /// Free blocks: naturally aligned, of order at most MAX_PAGE_ORDER, present RAM (no pgmap), disjoint, not part
    /// of a listed folio and mapped by no address space (free pages belong to nobody).
    /// </summary>
    private static void CheckAllocator(List<(string, string)> errors, World w)
    {
        var a = w.Allocator;
        if (a.IsNone) return;
        var m = w.Machine;
        var f = w.Facts;
        if (a.MaxOrder > m.MaxPageOrder)
            errors.Add(("$.allocator.max_order", $"max_order {a.MaxOrder} is above MAX_PAGE_ORDER {m.MaxPageOrder}: the buddy allocator has no larger blocks"));
        if (a.NoRetryMaxOrder > a.MaxOrder)
            errors.Add(("$.allocator.noretry_max_order", $"noretry_max_order {a.NoRetryMaxOrder} is above max_order {a.MaxOrder}: a __GFP_NORETRY attempt never gets more than a normal one"));
        var mapped = new HashSet<ulong>();
        foreach (var vp in w.User.Pages.Concat(w.Kernel.Pages)) if (vp.HasPfn) mapped.Add(vp.Pfn);
        for (int i = 0; i < a.Free.Length; i++)
        {
            var b = a.Free[i];
            string at = $"$.allocator.free[{i}]";
            if (b.Order < 0 || b.Order > m.MaxPageOrder) { errors.Add(($"{at}.order", $"order {b.Order} is not a buddy order (0..MAX_PAGE_ORDER {m.MaxPageOrder})")); continue; }
            if (b.Head % b.NrPages != 0) errors.Add(($"{at}.head", $"head 0x{b.Head:x} is not aligned to the block size ({b.NrPages} pages)"));
            if (!RangePresent(f, b.Head, b.NrPages, out ulong bad)) { errors.Add((at, $"PFN 0x{bad:x} of the free block at 0x{b.Head:x} is not in a present section")); continue; }
            if (w.Pgmaps.Any(pg => pg.Start < b.End && b.Head < pg.End))
                errors.Add((at, $"the free block at 0x{b.Head:x} overlaps a pgmap: ZONE_DEVICE memory is not in the page allocator"));
            if (w.Folios.Any(fo => fo.Head < b.End && b.Head < fo.End))
                errors.Add((at, $"the free block at 0x{b.Head:x} overlaps a listed folio: free pages are not part of a folio"));
            for (ulong p = b.Head; p < b.End; p++)
                if (mapped.Contains(p)) { errors.Add((at, $"PFN 0x{p:x} of the free block is mapped by the user or vmalloc mapping: free pages belong to nobody")); break; }
            for (int j = 0; j < i; j++)
                if (a.Free[j].Head < b.End && b.Head < a.Free[j].End) errors.Add((at, $"the free block at 0x{b.Head:x} overlaps free[{j}]"));
        }
    }

    private static void CheckSpace(List<(string, string)> errors, WorldFacts f, AddressSpace s, string at, MachineConfig m)
    {
        if (s.Base % m.PageSize != 0)
            errors.Add(($"{at}.base", $"base 0x{s.Base:x} is not page aligned"));
        if (s.Base + (ulong)s.Pages.Length * m.PageSize < s.Base)
            errors.Add(($"{at}.pages", "the mapping wraps around the address space"));
        for (int i = 0; i < s.Pages.Length; i++)
        {
            var vp = s.Pages[i];
            if (vp.HasPfn && !f.IsPresent(vp.Pfn))
                errors.Add(($"{at}.pages[{i}]", $"maps PFN 0x{vp.Pfn:x}, which is not in a present section"));
        }
    }

    private static bool RangePresent(WorldFacts f, ulong start, ulong count, out ulong bad)
    {
        // Check one PFN per section touched: presence is per section.
        bad = 0;
        if (start + count < start) { bad = start; return false; }
        ulong pfn = start;
        while (pfn < start + count)
        {
            if (!f.IsPresent(pfn)) { bad = pfn; return false; }
            pfn = f.SectionStart(f.SectionNr(pfn) + 1);
        }
        return true;
    }
}
