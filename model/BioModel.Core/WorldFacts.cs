namespace BioModel.Core;

/// <summary>
/// What is true of a world, computed from its description: which PFNs exist, where each struct page lives
/// (the memmap placement as a fact, not the kernel's encoding of it), folio and pgmap membership, Xen bus
/// frames. The reference model implements the kernel's functions (pfn_to_page, page_to_pfn, …) on its
/// own; properties compare them with these facts. The layout renderer prints these facts.
/// </summary>
public sealed class WorldFacts
{
    private readonly World _w;
    private readonly MachineConfig _m;
    private readonly HashSet<ulong> _present;
    private readonly Dictionary<ulong, ulong> _sectionBase = new();
    private readonly (ulong Base, ulong Section)[] _basesSorted;
    private readonly Folio[] _folios;
    private readonly Pgmap[] _pgmaps;
    private readonly XenRange[] _xen;

    public WorldFacts(World w)
    {
        _w = w;
        _m = w.Machine;
        _present = [.. w.Memory.PresentSections];
        var sections = w.Memory.PresentSections.Items.Sort();
        if (_m.Model == MemoryModel.Sparsemem)
        {
            var p = w.Memory.Placement;
            for (int k = 0; k < sections.Length; k++)
            {
                ulong b = p.Policy switch
                {
                    PlacementPolicy.NodeBuffer => p.Base + (ulong)k * SectionMemmapBytes,
                    PlacementPolicy.Padded => p.Base + (ulong)k * (SectionMemmapBytes + _m.PageSize),
                    _ => k < p.Bases.Length ? p.Bases[k] : 0,
                };
                _sectionBase[sections[k]] = b;
            }
        }
        _basesSorted = [.. _sectionBase.Select(kv => (kv.Value, kv.Key)).OrderBy(t => t.Value)];
        _folios = [.. w.Folios.OrderBy(f => f.Head)];
        _pgmaps = [.. w.Pgmaps.OrderBy(p => p.Start)];
        _xen = [.. w.Xen.OrderBy(x => x.Pfn)];
        FlatEnd = sections.IsEmpty ? _m.ArchPfnOffset : SectionStart(sections[^1]) + _m.PagesPerSection;
    }

    public MachineConfig Machine => _m;

    /// <summary>These facts describe <paramref name="w"/>: it has the very machine, memory, folios, pgmaps and Xen map they were built from.</summary>
    public bool BuiltFrom(World w)
        => ReferenceEquals(w.Machine, _w.Machine) && ReferenceEquals(w.Memory, _w.Memory) && w.Folios.SameInstance(_w.Folios)
           && w.Pgmaps.SameInstance(_w.Pgmaps) && w.Xen.SameInstance(_w.Xen);

    /// <summary>Bytes of one section's memmap: sizeof(struct page) × PAGES_PER_SECTION. The kernel
    /// PAGE_ALIGNs the allocation; for every real geometry that is already a page multiple, and the model
    /// leaves it out so tiny test sections keep the node-buffer adjacency of KERNEL-SPEC §5.2.</summary>
    public ulong SectionMemmapBytes => (ulong)_m.StructPageSize * _m.PagesPerSection;

    /// <summary>FLATMEM: one past the last PFN covered by mem_map (end of the highest present section).</summary>
    public ulong FlatEnd { get; }

    public ulong SectionNr(ulong pfn) => pfn >> _m.PfnSectionShift;
    public ulong SectionStart(ulong section) => section << _m.PfnSectionShift;
    public bool IsSectionPresent(ulong section) => _present.Contains(section);

    /// <summary>The PFN is RAM or device memory of a present section.</summary>
    public bool IsPresent(ulong pfn) => _present.Contains(SectionNr(pfn));

    /// <summary>The PFN has a struct page: FLATMEM covers holes inside mem_map, the sparse models only present sections.</summary>
    public bool HasMemmap(ulong pfn) => _m.Model == MemoryModel.Flatmem
        ? pfn >= _m.ArchPfnOffset && pfn < FlatEnd
        : IsPresent(pfn);

    /// <summary>Base address of a present section's memmap (classic SPARSEMEM), or null.</summary>
    public ulong? SectionMemmapBase(ulong section) => _sectionBase.TryGetValue(section, out var b) ? b : null;

    /// <summary>Address of the struct page of <paramref name="pfn"/> in the memmap space, or null when it has none.</summary>
    public ulong? MemmapAddress(ulong pfn)
    {
        if (!HasMemmap(pfn)) return null;
        ulong sz = (ulong)_m.StructPageSize;
        return _m.Model switch
        {
            MemoryModel.Flatmem => MemmapPlacement.Origin + (pfn - _m.ArchPfnOffset) * sz,
            MemoryModel.SparsememVmemmap => MemmapPlacement.Origin + pfn * sz,
            _ => _sectionBase[SectionNr(pfn)] + (pfn - SectionStart(SectionNr(pfn))) * sz,
        };
    }

    /// <summary>The PFN whose struct page starts exactly at <paramref name="addr"/>, or null (a wild pointer).</summary>
    public ulong? PfnAtAddress(ulong addr)
    {
        ulong sz = (ulong)_m.StructPageSize;
        if (addr < MemmapPlacement.Origin) return null;
        switch (_m.Model)
        {
            case MemoryModel.Flatmem:
            case MemoryModel.SparsememVmemmap:
            {
                ulong rel = addr - MemmapPlacement.Origin;
                if (rel % sz != 0) return null;
                ulong pfn = rel / sz + (_m.Model == MemoryModel.Flatmem ? _m.ArchPfnOffset : 0);
                return HasMemmap(pfn) ? pfn : null;
            }
            default:
            {
                // Which section memmap holds addr: the last base ≤ addr.
                int lo = 0, hi = _basesSorted.Length - 1, found = -1;
                while (lo <= hi)
                {
                    int mid = (lo + hi) / 2;
                    if (_basesSorted[mid].Base <= addr) { found = mid; lo = mid + 1; }
                    else hi = mid - 1;
                }
                if (found < 0) return null;
                var (b, sec) = _basesSorted[found];
                ulong off = addr - b;
                if (off >= SectionMemmapBytes || off % sz != 0) return null;
                return SectionStart(sec) + off / sz;
            }
        }
    }

    /// <summary>The folio holding <paramref name="pfn"/>: a listed folio, or the order-0 folio of the page itself.</summary>
    public Folio FolioOf(ulong pfn)
    {
        int lo = 0, hi = _folios.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            var f = _folios[mid];
            if (f.Head > pfn) hi = mid - 1;
            else if (f.End <= pfn) lo = mid + 1;
            else return f;
        }
        return new Folio(pfn, 0);
    }

    /// <summary>The pgmap of a ZONE_DEVICE pfn, or null for ordinary RAM.</summary>
    public Pgmap? PgmapOf(ulong pfn)
    {
        int lo = 0, hi = _pgmaps.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            var p = _pgmaps[mid];
            if (p.Start > pfn) hi = mid - 1;
            else if (p.End <= pfn) lo = mid + 1;
            else return p;
        }
        return null;
    }

    /// <summary>Xen pfn_to_bfn: the bus frame of a pseudo-physical frame (identity outside the listed ranges).</summary>
    public ulong Bfn(ulong pfn)
    {
        foreach (var x in _xen)
            if (pfn >= x.Pfn && pfn < x.Pfn + x.Count) return x.Bfn + (pfn - x.Pfn);
        return pfn;
    }

    public IReadOnlyList<Folio> SortedFolios => _folios;
    public IReadOnlyList<Pgmap> SortedPgmaps => _pgmaps;
}
