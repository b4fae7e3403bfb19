using System.Runtime.InteropServices;
using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// The memmap as native memory: one allocation spanning every struct page of the world at the addresses
/// the memory model and the placement give them, so two section memmaps are adjacent in memory exactly
/// when the placement made them so, and "page + 1" is real pointer arithmetic. Records are initialised
/// on first touch (as memmap_init would have written them), so a 4 GiB section costs only what is used.
///
/// Record layout (any sizeof(struct page) ≥ 32): flags (u64: SECTION_IN_PAGE_FLAGS section number in the
/// top SECTIONS_WIDTH bits, PG_zone_device, PG_dirty), compound_head (u64: head | 1 on tail pages), pgmap id (s32,
/// the folio's), folio order (u8, on the head), an "initialised" mark (u8), the pin count (s32) and the folio
/// reference count the page allocator hands out (s32, on the head of a folio this run allocated).
///
/// pfn ↔ page uses the kernel's encodings (include/asm-generic/memory_model.h): mem_map + pfn −
/// ARCH_PFN_OFFSET, vmemmap + pfn, and for classic SPARSEMEM a table of biased section_mem_map pointers
/// with the present/has-memmap bits in the low bits (mm/sparse.c sparse_encode_mem_map).
/// </summary>
public sealed unsafe class MemmapArena : IDisposable
{
    private const int OffFlags = 0, OffHead = 8, OffPgmap = 16, OffOrder = 20, OffMark = 21, OffPins = 24, OffRef = 28;
    private const byte Mark = 0x5A;
    private const ulong PgZoneDevice = 1, PgDirty = 2;
    private const ulong NarrowBias = 0x10000;

    private readonly World _w;
    private readonly MachineConfig _m;
    private readonly WorldFacts _f;
    private readonly RunLog _log;
    private readonly bool _wide;
    private readonly ulong _sz;
    private readonly int _szShift;      // log2(sizeof(struct page)) when it is a power of two, else -1
    private readonly ulong _alignMask;  // sizeof(struct page) − 1 when a power of two; all ones (inline path off) otherwise
    private readonly bool[] _presentSec = [];
    private readonly bool _dense;
    private readonly Dictionary<ulong, ulong> _sparse = new(); // section → coded section_mem_map, when !_dense
    /// <summary>Sections between the lowest and the highest present one above which the tables are not dense.</summary>
    private const ulong DenseSections = 1UL << 20;
    private readonly ulong _presentMin;
    private readonly int _sectionsShift;
    private readonly ulong _sectionsMask;
    private byte* _alloc;
    private byte* _base;
    private readonly ulong _span;
    private readonly ulong _origin;
    private readonly ulong _minSection;
    private readonly ulong[] _sectionMemMap = [];
    private readonly ulong _memMap;
    private readonly Dictionary<int, MemoryType> _pgmapTypes = new();
    // ZONE_DEVICE configured and some pgmap registered: otherwise no page carries PG_zone_device (memmap_init
    // sets it exactly for pgmap pages), so the pgmap tests answer without reading a record.
    private readonly bool _anyZoneDevice;
    private readonly List<ulong> _pinned = new(256); // sized up front: pinning in the per-page GUP loop should not allocate
    // Classic SPARSEMEM with every present section's number distinct after the SECTIONS_WIDTH mask and no two
    // section memmaps overlapping: two records that both say section s then lie in the one memmap of s, and so
    // does every record between them (see SectionRun).
    private readonly bool _sectionRunsByEnds;
    private readonly bool _vmemmap;      // pfn_to_page is vmemmap + pfn: the per-page GUP loop does it inline
    private readonly int _pfnSectionShift;
    private readonly int _pfnPageShift;  // PAGE_SHIFT

    /// <summary>Memmap-space span above which the arena refuses a world (the validator refuses it first).</summary>
    public const ulong MaxSpan = 1UL << 34;

    public MemmapArena(World w, RunLog log, bool wide)
    {
        _w = w;
        _m = w.Machine;
        _f = w.Facts;
        _log = log;
        _wide = wide;
        _sz = (ulong)_m.StructPageSize;
        _szShift = ulong.IsPow2(_sz) ? System.Numerics.BitOperations.Log2(_sz) : -1;
        _alignMask = _szShift >= 0 ? _sz - 1 : ulong.MaxValue;
        // The whole SECTIONS_WIDTH (at most 64 − PAGE_SHIFT = 52 bits, so PG_zone_device and PG_dirty in the low
        // bits stay clear of it). It was capped at 40 bits, which made section 2^40 of a 48-bit field read as 0.
        _sectionsShift = 64 - Math.Min(_m.SectionsWidth, 62);
        _sectionsMask = (1UL << Math.Min(_m.SectionsWidth, 62)) - 1;
        foreach (var p in w.Pgmaps) _pgmapTypes[p.Id] = p.Type;
        _vmemmap = _m.Model == MemoryModel.SparsememVmemmap && _szShift >= 0;
        _pfnSectionShift = _m.PfnSectionShift;
        _pfnPageShift = _m.PageShift;
        // Stryker disable once logical : the validator refuses pgmaps without ZONE_DEVICE, and with no pgmap no record carries PG_zone_device: a true flag only makes the pgmap tests read records that answer the same
        _anyZoneDevice = _m.ZoneDevice && w.Pgmaps.Length > 0;

        ulong lo = ulong.MaxValue, hi = 0;
        var secs = w.Memory.PresentSections;
        if (_m.Model == MemoryModel.Flatmem)
        {
            lo = _f.MemmapAddress(_m.ArchPfnOffset)!.Value;
            hi = _f.MemmapAddress(_f.FlatEnd - 1)!.Value + _sz;
        }
        else
            foreach (var s in secs)
            {
                ulong a = _f.MemmapAddress(_f.SectionStart(s))!.Value;
                lo = Math.Min(lo, a);
                hi = Math.Max(hi, a + _f.SectionMemmapBytes);
            }
        // Present sections far apart (section numbers reach 2^(MAX_PHYSMEM_BITS − SECTION_SIZE_BITS)) get no dense
        // tables: the look-ups then go through _sparse.
        _dense = secs.Length > 0 && secs[^1] - secs[0] < DenseSections;
        if (!_dense) foreach (var s in secs) _sparse[s] = 0;
        if (_dense)
        {
            // Present sections as a dense table (the per-page look-up of pfn_to_page in VMEMMAP).
            _presentMin = secs[0];
            _presentSec = new bool[secs[^1] - secs[0] + 1];
            foreach (var s in secs) _presentSec[s - _presentMin] = true;
        }
        _origin = lo;
        _span = hi - lo;
        if (_span > MaxSpan || (!wide && _span + NarrowBias >= 1UL << 32))
            throw new ArgumentException($"the memmap spans {_span:#x} bytes, more than the arena can hold");
        // Page-aligned base, so real page pointers keep the low bits their memmap addresses have (the
        // section_mem_map encoding relies on them being free).
        _alloc = (byte*)NativeMemory.AllocZeroed((nuint)(_span + 4096));
        _base = (byte*)(((ulong)_alloc + 4095) & ~4095UL);

        switch (_m.Model)
        {
            case MemoryModel.Flatmem:
                _memMap = HandleOfAddr(lo);
                break;
            case MemoryModel.SparsememVmemmap:
                _memMap = HandleOfAddr(MemmapPlacement.Origin); // vmemmap: the struct page of PFN 0
                break;
            default:
            {
                _minSection = secs[0];
                if (_dense) _sectionMemMap = new ulong[secs[^1] - secs[0] + 1];
                foreach (var s in secs)
                {
                    ulong map = HandleOfAddr(_f.SectionMemmapBase(s)!.Value);
                    ulong coded = Trunc(map - _f.SectionStart(s) * _sz); // sparse_encode_mem_map
                    if (_dense) _sectionMemMap[s - _minSection] = coded | 0b1111; // present, has memmap, online, early
                    else _sparse[s] = coded | 0b1111;
                }
                // Stryker disable once linq : the validator refuses overlapping memmaps, so apart is true for every valid world; descending bases only make it false, which selects the exact record-by-record walk of SectionRun
                var bases = secs.Select(s => _f.SectionMemmapBase(s)!.Value).Order().ToArray();
                // Stryker disable once boolean : apart false only selects the exact record-by-record walk of SectionRun (memmaps never overlap in a valid world); only speed changes
                bool apart = true;
                // Stryker disable once assignment : memmaps never overlap in a valid world (validator), so apart is true; every mutant either keeps it true or makes it false, which selects the exact record-by-record walk of SectionRun
                for (int i = 1; i < bases.Length; i++) apart &= bases[i - 1] + _f.SectionMemmapBytes <= bases[i];
                // Stryker disable once logical,equality : every present section is below 2^SECTIONS_WIDTH (validator) and the mask is the whole width, so both operands are true; a false result only selects the exact record-by-record walk
                _sectionRunsByEnds = apart && secs[^1] <= _sectionsMask;
                break;
            }
        }
    }

    /// <summary>Where the section number sits in the flags word: (flags &gt;&gt; shift) &amp; mask (native baseline, benchmarks).</summary>
    public int SectionFlagsShift => _sectionsShift;

    /// <inheritdoc cref="SectionFlagsShift"/>
    public ulong SectionFlagsMask => _sectionsMask;

    private ulong SectionMapMask => ~((1UL << (_m.ZoneDevice ? 5 : 4)) - 1);

    private ulong Trunc(ulong v) => _wide ? v : (uint)v;

    private ulong HandleOfAddr(ulong addr) => Trunc(_wide ? (ulong)_base + (addr - _origin) : addr - _origin + NarrowBias);

    /// <summary>The memmap-space address a page pointer stands for (for messages and for finding the record's PFN).</summary>
    public ulong AddrOf(ulong page) => _wide ? page - (ulong)_base + _origin : (ulong)(uint)page - NarrowBias + _origin;

    /// <summary>page + n: pointer arithmetic, 32-bit wrap-around for a 32-bit kernel.</summary>
    public ulong Add(ulong page, long n) => Trunc(page + (ulong)n * _sz);

    /// <summary>(a − b) / sizeof(struct page) as the signed pointer difference.</summary>
    public long Diff(ulong a, ulong b)
    {
        long d = _wide ? (long)(a - b) : (int)(uint)(a - b);
        // A shift where it is exact (the common case: whole records apart), a division otherwise.
        return _szShift >= 0 && (d & (long)(_sz - 1)) == 0 ? d >> _szShift : d / (long)_sz;
    }

    /// <summary>sizeof(struct page) of this world.</summary>
    public ulong StructPageSize => _sz;

    private bool TryRecord(ulong page, out byte* rec)
    {
        ulong off = _wide ? page - (ulong)_base : (ulong)(uint)page - NarrowBias;
        rec = null;
        if (off >= _span || (_szShift >= 0 && (off & (_sz - 1)) != 0)) return false;
        byte* r = _base + off;
        // With a power-of-two sizeof(struct page) every memmap starts at a multiple of it (memmap bases are
        // aligned to min(section memmap, page)), so an aligned offset is a record's. Otherwise two section
        // memmaps need not be a whole number of records apart (padded or independent placement): only the
        // facts know whether an offset starts a record, and a byte that reads as the mark may lie inside one.
        if (_szShift < 0 || r[OffMark] != Mark)
        {
            var pfn = _f.PfnAtAddress(_origin + off);
            if (pfn is null) return false;
            if (r[OffMark] != Mark) Init(r, pfn.Value);
        }
        rec = r;
        return true;
    }

    /// <summary>The struct page at <paramref name="page"/>; a pointer to anything else is a fatal wild dereference.</summary>
    /// <remarks>An initialised, aligned record is returned inline; the rest (first touch, odd record sizes, wild
    /// pointers) goes through the checked <see cref="TryRecord"/>.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private byte* Rec(ulong page)
    {
        ulong off = _wide ? page - (ulong)_base : (ulong)(uint)page - NarrowBias;
        if (off < _span && (off & _alignMask) == 0 && _base[off + OffMark] == Mark) return _base + off;
        return RecChecked(page);
    }

    private byte* RecChecked(ulong page)
        => TryRecord(page, out var r) ? r : throw _log.Fatal(Diag.WildPage(AddrOf(page)));

    /// <summary>memmap_init for one page: section in the flags, zone, folio head link and order, pgmap.</summary>
    private void Init(byte* r, ulong pfn)
    {
        var pg = _m.ZoneDevice ? _f.PgmapOf(pfn) : null;
        ulong flags = pg is null ? 0 : PgZoneDevice;
        if (_m.SectionInPageFlags) flags |= (_f.SectionNr(pfn) & _sectionsMask) << _sectionsShift;
        // Stryker disable once arithmetic : OffFlags is 0, so r - OffFlags and r + OffFlags are the same address
        *(ulong*)(r + OffFlags) = flags;
        var folio = _f.FolioOf(pfn);
        *(ulong*)(r + OffHead) = folio.Head == pfn ? 0 : HandleOfAddr(_f.MemmapAddress(folio.Head)!.Value) | 1;
        *(int*)(r + OffPgmap) = pg?.Id ?? 0;
        r[OffOrder] = (byte)folio.Order;
        *(int*)(r + OffPins) = 0;
        *(int*)(r + OffRef) = 0;
        r[OffMark] = Mark;
    }

    public bool IsStructPage(ulong page) => TryRecord(page, out _);

    // ---------------------------------------------------------------- pfn <-> page

    public ulong PfnToPage(ulong pfn)
    {
        switch (_m.Model)
        {
            case MemoryModel.Flatmem:
                if (pfn < _m.ArchPfnOffset || pfn >= _f.FlatEnd) throw _log.Fatal(Diag.PfnWithoutPage(pfn));
                return Add(_memMap, (long)(pfn - _m.ArchPfnOffset));
            case MemoryModel.SparsememVmemmap:
                if (!IsPresent(pfn)) throw _log.Fatal(Diag.PfnWithoutPage(pfn));
                return Trunc(_memMap + pfn * _sz);
            default:
            {
                return Trunc(SectionMemMapAddr(pfn >> _m.PfnSectionShift, pfn) + pfn * _sz);
            }
        }
    }

    /// <summary>
    /// <see cref="PfnToPage"/> for the per-page loops: in SPARSEMEM_VMEMMAP (with a power-of-two sizeof(struct
    /// page)) the present-section test and vmemmap + pfn inline; every other case, and a PFN with no memmap,
    /// through <see cref="PfnToPage"/>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ulong PfnToPageInline(ulong pfn)
    {
        if (_vmemmap)
        {
            ulong s = (pfn >> _pfnSectionShift) - _presentMin;
            if (s < (ulong)_presentSec.Length && _presentSec[s]) return Trunc(_memMap + (pfn << _szShift));
        }
        return PfnToPage(pfn);
    }

    private bool IsPresent(ulong pfn)
    {
        if (!_dense) return _sparse.ContainsKey(pfn >> _m.PfnSectionShift);
        ulong s = (pfn >> _m.PfnSectionShift) - _presentMin;
        return s < (ulong)_presentSec.Length && _presentSec[s];
    }

    /// <summary>__section_mem_map_addr: the decoded, biased memmap pointer of a present section.</summary>
    private ulong SectionMemMapAddr(ulong s, ulong pfnForMessage)
    {
        ulong coded = !_dense ? _sparse.GetValueOrDefault(s)
            : s >= _minSection && s - _minSection < (ulong)_sectionMemMap.Length ? _sectionMemMap[s - _minSection] : 0;
        if (coded == 0) throw _log.Fatal(Diag.PfnWithoutPage(pfnForMessage));
        // sparse_encode_mem_map BUG()s when the biased pointer has a flag bit set: checked where it is used.
        if (((coded & ~0b1111UL) & ~SectionMapMask) != 0)
            throw _log.Fatal(Diag.SectionMapFlags(s, _f.SectionMemmapBase(s)!.Value - _f.SectionStart(s) * _sz));
        return coded & SectionMapMask;
    }

    /// <summary>page_to_section / memdesc_section: the section number kept in the flags (0 unless classic SPARSEMEM).</summary>
    public ulong PageToSection(ulong page)
    {
        byte* r = Rec(page);
        // Stryker disable once arithmetic : without SECTION_IN_PAGE_FLAGS no section bits are written, and the low flag bits shift out (shift >= 12), so the read is 0; >>> equals >> on ulong; OffFlags is 0
        return _m.SectionInPageFlags ? (*(ulong*)(r + OffFlags) >> _sectionsShift) & _sectionsMask : 0;
    }

    /// <summary>
    /// The section half of num_pages_contiguous for a stretch the pointer test already accepted: the first j in
    /// [<paramref name="from"/>, n) whose record, <paramref name="first"/> + j·sizeof(struct page), holds another
    /// section number than <paramref name="want"/> (the one <paramref name="first"/>, a checked record, holds);
    /// n if there is none. The records read are whole records on from a checked one.
    /// </summary>
    /// <remarks>
    /// A section's memmap is one block of PAGES_PER_SECTION records, so where <see cref="_sectionRunsByEnds"/>
    /// holds, a record saying section s at both ends of a stretch means the whole stretch is in that memmap:
    /// the stretch is checked by the last record of each block of <see cref="SectionBlock"/> and read record by
    /// record only in the block where the section changes (or whose last record is no struct page). The kernel
    /// reads every record; the answer is the same index, and a record between two of the same section can
    /// be neither a hole nor another section's.
    /// </remarks>
    public int SectionRun(ulong first, ulong want, int from, int n)
    {
        ulong off0 = _wide ? first - (ulong)_base : (ulong)(uint)first - NarrowBias;
        // Stryker disable once arithmetic : last only feeds the in-arena guard, which every accepted stretch passes; a failed guard selects the exact record-by-record walk
        ulong last = (ulong)(n - 1) * _sz;
        int j = from;
        // Stryker disable once logical,arithmetic,equality,boolean : _sectionRunsByEnds holds for every valid world and a stretch the pointer test accepted lies inside the arena and below 4 GiB, so the guard is true; a false guard only selects the exact record-by-record walk
        if (_sectionRunsByEnds && off0 + last < _span && (_wide || (ulong)(uint)first + last <= uint.MaxValue))
        {
            byte* rec0 = _base + off0;
            int shift = _sectionsShift;
            ulong mask = _sectionsMask, sz = _sz;
            while (j < n)
            {
                int end = Math.Min(j + SectionBlock, n) - 1;
                byte* r = rec0 + (ulong)end * sz;
                // A record not touched yet is set up here (as memmap_init wrote it: no effect on the outcome);
                // one that is no struct page at all sends the block to the record-by-record loop.
                if ((r[OffMark] == Mark || TryRecord(Add(first, end), out _)) && ((*(ulong*)r >> shift) & mask) == want)
                {
                    j = end + 1;
                    // Stryker disable once statement : without continue the loop falls into the record loop with j = end + 1 > end, which does nothing, and goes round again
                    continue;
                }
                for (; j <= end; j++)
                {
                    byte* q = rec0 + (ulong)j * sz;
                    ulong s = q[OffMark] == Mark ? (*(ulong*)q >> shift) & mask : PageToSection(Add(first, j));
                    if (s != want) return j;
                }
            }
            return n;
        }
        // Anything else (aliasing section numbers, a run leaving the arena, a 32-bit wrap): record by record,
        // through the checked read, as the kernel's loop goes.
        // Stryker disable once equality,update : unreachable for a valid world: _sectionRunsByEnds always holds and accepted stretches pass the guard, so SectionRun never takes this loop
        for (; j < n; j++)
            // Stryker disable once equality : unreachable for a valid world: _sectionRunsByEnds always holds and accepted stretches pass the guard, so SectionRun never takes this loop
            if (PageToSection(Add(first, j)) != want) return j;
        return n;
    }

    /// <summary>Records per block in <see cref="SectionRun"/>: one record read per block on a run inside one section.</summary>
    private const int SectionBlock = 32;

    public ulong PageToPfn(ulong page)
    {
        switch (_m.Model)
        {
            case MemoryModel.Flatmem:
                Rec(page);
                return Index(page, _memMap) + _m.ArchPfnOffset;
            case MemoryModel.SparsememVmemmap:
                Rec(page);
                return Index(page, _memMap);
            default:
            {
                ulong s = PageToSection(page);
                return Index(page, SectionMemMapAddr(s, s << _m.PfnSectionShift));
            }
        }
    }

    /// <summary>
    /// (page − base) / sizeof(struct page) for a record at or above <paramref name="b"/>, unsigned: a 32-bit mem_map
    /// may span more than 2 GiB, and the signed <see cref="Diff"/> would make the PFN of its upper half negative.
    /// </summary>
    private ulong Index(ulong page, ulong b)
    {
        ulong d = _wide ? page - b : (uint)(page - b);
        return _szShift >= 0 ? d >> _szShift : d / _sz;
    }

    /// <summary>page_to_phys; in SPARSEMEM_VMEMMAP a set-up record's PFN is (page − vmemmap) / sizeof(struct page), inline.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ulong PageToPhys(ulong page)
    {
        if (_vmemmap && _wide)
        {
            ulong off = page - (ulong)_base;
            if (off < _span && (off & _alignMask) == 0 && _base[off + OffMark] == Mark)
                return ((page - _memMap) >> _szShift) << _pfnPageShift;
        }
        return PageToPfn(page) << _pfnPageShift;
    }

    // ---------------------------------------------------------------- folios and zone device

    /// <summary>page_folio: compound_head.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ulong PageFolio(ulong page)
    {
        ulong head = *(ulong*)(Rec(page) + OffHead);
        return (head & 1) != 0 ? head & ~1UL : page;
    }

    public int FolioOrder(ulong folio) => Rec(folio)[OffOrder];
    public ulong FolioSize(ulong folio) => _m.PageSize << FolioOrder(folio);

    // Stryker disable once arithmetic : OffFlags is 0, so r - OffFlags and r + OffFlags are the same address
    public bool IsZoneDevicePage(ulong page) => _anyZoneDevice && (*(ulong*)(Rec(page) + OffFlags) & PgZoneDevice) != 0;

    /// <summary>
    /// page_folio and the folio's order with one record read when the page is the head (order-0 pages always).
    /// </summary>
    public ulong FolioAndOrder(ulong page, out int order)
    {
        byte* r = Rec(page);
        ulong head = *(ulong*)(r + OffHead);
        if ((head & 1) == 0)
        {
            order = r[OffOrder];
            return page;
        }
        head &= ~1UL;
        order = Rec(head)[OffOrder];
        return head;
    }

    /// <summary>page_pgmap: the folio's pgmap id (0 without ZONE_DEVICE).</summary>
    public int PagePgmap(ulong page) => _m.ZoneDevice ? *(int*)(Rec(PageFolio(page)) + OffPgmap) : 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool SamePgmap(ulong a, ulong b) => !_anyZoneDevice || SamePgmapRead(a, b);

    private bool SamePgmapRead(ulong a, ulong b)
    {
        bool za = IsZoneDevicePage(a), zb = IsZoneDevicePage(b);
        if (za != zb) return false;
        return !za || PagePgmap(a) == PagePgmap(b);
    }

    public bool IsP2pdma(ulong page)
        => _m.PciP2pdma && IsZoneDevicePage(page) && _pgmapTypes[PagePgmap(page)] == MemoryType.PciP2pdma;

    public bool Compatible(ulong a, ulong b) => !(IsP2pdma(a) || IsP2pdma(b)) || SamePgmap(a, b);

    /// <summary>
    /// <see cref="Compatible"/> and <see cref="SamePgmap"/> of one pair together, reading each page's flags once
    /// (bio_add_page asks both of the last bvec's page and the new one).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public (bool Compatible, bool Same) PgmapRelation(ulong a, ulong b) => _anyZoneDevice ? PgmapRelationRead(a, b) : (true, true);

    private (bool Compatible, bool Same) PgmapRelationRead(ulong a, ulong b)
    {
        // Stryker disable once arithmetic : OffFlags is 0, so r - OffFlags and r + OffFlags are the same address
        bool za = (*(ulong*)(Rec(a) + OffFlags) & PgZoneDevice) != 0, zb = (*(ulong*)(Rec(b) + OffFlags) & PgZoneDevice) != 0;
        if (!za && !zb) return (true, true);
        int pa = za ? PagePgmap(a) : 0, pb = zb ? PagePgmap(b) : 0;
        bool same = za == zb && pa == pb;
        bool p2p = _m.PciP2pdma && ((za && _pgmapTypes[pa] == MemoryType.PciP2pdma) || (zb && _pgmapTypes[pb] == MemoryType.PciP2pdma));
        return (!p2p || same, same);
    }

    // ---------------------------------------------------------------- pins

    public void Pin(ulong page)
    {
        int* pins = (int*)(Rec(page) + OffPins);
        if (*pins == 0) _pinned.Add(page);
        (*pins)++;
    }

    /// <summary>
    /// The pin step of GUP for one page, reading its record once: false (nothing pinned) when the page is
    /// P2PDMA and <paramref name="p2pAllowed"/> is not set; otherwise the page is pinned.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryPinUser(ulong page, bool p2pAllowed)
    {
        byte* r = Rec(page);
        // Stryker disable once arithmetic : OffFlags is 0, so r - OffFlags and r + OffFlags are the same address
        if (_anyZoneDevice && (*(ulong*)(r + OffFlags) & PgZoneDevice) != 0 && !p2pAllowed && IsP2pdmaDevicePage(page))
            return false;
        int* pins = (int*)(r + OffPins);
        if (*pins == 0) _pinned.Add(page);
        (*pins)++;
        return true;
    }

    /// <summary>
    /// The common case of GUP's per-page loop, with the arena's geometry in locals: consecutive user pages, each
    /// mapped (read-only only when <paramref name="write"/> is not set) to a PFN with a struct page, pinned
    /// into <paramref name="pages"/>. Returns how many it pinned; it stops before the first page that is anything
    /// else (a hole, no pin, a read-only page for FOLL_WRITE, a PFN without memmap), which
    /// the caller's general loop then takes. Only in SPARSEMEM_VMEMMAP on a 64-bit kernel with no ZONE_DEVICE page
    /// (P2PDMA cannot come up); 0 elsewhere. The pins in the records are written inside the loop, so a field read
    /// there would be re-read every page: everything it needs is read once, before.
    /// </summary>
    public int PinUserRun(ReadOnlySpan<VirtPage> ptes, bool write, Span<ulong> pages)
    {
        if (!_vmemmap || !_wide || _anyZoneDevice) return 0;
        int n = Math.Min(ptes.Length, pages.Length);
        byte* b = _base;
        // Stryker disable once arithmetic : a wrong offset lies outside the arena and stops the fast loop at once; the caller's general GUP loop pins the same pages
        ulong span = _span, memMapOff = _memMap - (ulong)_base, pmin = _presentMin;
        int pss = _pfnSectionShift, szs = _szShift;
        bool[] present = _presentSec;
        var touched = _pinned;
        int i;
        for (i = 0; i < n; i++)
        {
            ref readonly VirtPage vp = ref ptes[i];
            if (vp.Kind != MappingKind.Mapped && (vp.Kind != MappingKind.ReadOnly || write)) break;
            // Stryker disable once arithmetic,bitwise : a page the fast loop stops at is pinned by the caller's general GUP loop exactly; every mapped PFN is in a present section (validator), so the table test never sees one outside the table; a PFN wrongly accepted is still a present PFN whose record TryRecord checks; >>> equals >> on ulong
            ulong pfn = vp.Pfn, sec = (pfn >> pss) - pmin;
            // Stryker disable once equality,logical,boolean,unary,statement : a page the fast loop stops at is pinned by the caller's general GUP loop exactly; every mapped PFN is in a present section (validator), so the table test never sees one outside the table; a PFN wrongly accepted is still a present PFN, whose record is the one pinned
            if (sec >= (ulong)present.Length || !present[sec]) break;
            // Stryker disable once arithmetic : the wrong offset is outside the arena for every PFN but 0 (where it is the same), so the fast loop stops and the general GUP loop pins the page
            ulong off = memMapOff + (pfn << szs);
            ulong page = (ulong)b + off;
            // Stryker disable once boolean,unary,statement : a present PFN's record is always inside the arena and TryRecord is true for it, so the guard is false; a true guard stops the fast loop and the general GUP loop pins the page
            if (off >= span || (b[off + OffMark] != Mark && !TryRecord(page, out _))) break;
            int* pins = (int*)(b + off + OffPins);
            if (*pins == 0) touched.Add(page);
            (*pins)++;
            pages[i] = page;
        }
        return i;
    }

    /// <summary>
    /// The page loop of get_contig_folio_len on a 64-bit kernel, with the arena's geometry in locals: how many of
    /// <paramref name="pages"/> go on the run that ends at <paramref name="prev"/> — each the struct page right
    /// after the one before and in <paramref name="folio"/> by its compound_head. A record that is not set up
    /// (or a pointer that is no record) is read through the checked <see cref="PageFolio"/>, as everywhere else.
    /// </summary>
    public int FolioRun(ReadOnlySpan<ulong> pages, ulong prev, ulong folio)
    {
        byte* b = _base;
        ulong span = _span, align = _alignMask, sz = _sz;
        int i;
        for (i = 0; i < pages.Length; i++)
        {
            ulong p = pages[i];
            if (p != prev + sz) break; // the pointer test first: no memory
            ulong off = p - (ulong)b;
            ulong f;
            if (off < span && (off & align) == 0 && b[off + OffMark] == Mark)
            {
                ulong head = *(ulong*)(b + off + OffHead);
                f = (head & 1) != 0 ? head & ~1UL : p;
            }
            else f = PageFolio(p);
            if (f != folio) break;
            prev = p;
        }
        return i;
    }

    /// <summary>A ZONE_DEVICE page's pgmap is PCI_P2PDMA (and the config has PCI_P2PDMA).</summary>
    private bool IsP2pdmaDevicePage(ulong page) => _m.PciP2pdma && _pgmapTypes[PagePgmap(page)] == MemoryType.PciP2pdma;

    public void Unpin(ulong page)
    {
        int* pins = (int*)(Rec(page) + OffPins);
        if (*pins == 0) _pinned.Add(page);
        if (--*pins < 0) _log.Breach(Diag.UnpinWithoutPin(PageToPfn(page)));
    }

    /// <summary>The non-zero pin counts, ascending by PFN.</summary>
    public EqArray<PinCount> PinTable()
    {
        var list = new List<PinCount>();
        foreach (ulong page in _pinned.Distinct())
        {
            int n = *(int*)(Rec(page) + OffPins);
            if (n != 0) list.Add(new PinCount(PageToPfn(page), n));
        }
        list.Sort((a, b) => a.Pfn.CompareTo(b.Pfn));
        return list.ToEqArray();
    }

    // ---------------------------------------------------------------- folios from the page allocator

    private readonly List<ulong> _allocated = [];
    private readonly List<ulong> _dirtied = [];

    /// <summary>
    /// prep_compound_page for a block the allocator hands out: the head gets the order and one reference, every tail
    /// links to the head (written into the struct pages, as the kernel does). Returns the head's page pointer.
    /// </summary>
    public ulong PrepFolio(ulong pfn, int order)
    {
        ulong head = PfnToPage(pfn);
        byte* h = Rec(head);
        h[OffOrder] = (byte)order;
        *(ulong*)(h + OffHead) = 0;
        *(int*)(h + OffRef) = 1;
        ulong link = head | 1;
        ulong page = head;
        for (ulong i = 1; i < 1UL << order; i++)
        {
            page = PfnToPage(pfn + i);
            byte* t = Rec(page);
            *(ulong*)(t + OffHead) = link;
            t[OffOrder] = 0;
        }
        _allocated.Add(head);
        return head;
    }

    /// <summary>
    /// folio_put: drops the reference the allocation gave; at zero the pages go back (their records return to what
    /// memmap_init wrote, re-made on the next touch) and the order is returned. Null for a folio nobody holds.
    /// </summary>
    public int? FolioPut(ulong head)
    {
        byte* h = Rec(head);
        int* refs = (int*)(h + OffRef);
        if (*refs <= 0) return null;
        if (--*refs > 0) return -1;
        int order = h[OffOrder];
        ulong page = head;
        for (ulong i = 0; i < 1UL << order; i++, page = Add(page, 1)) Rec(page)[OffMark] = 0;
        return order;
    }

    /// <summary>folio_mark_dirty: PG_dirty on the folio's head.</summary>
    public void MarkDirty(ulong page)
    {
        ulong folio = PageFolio(page);
        // Stryker disable once arithmetic : OffFlags is 0, so − OffFlags is the same address
        *(ulong*)(Rec(folio) + OffFlags) |= PgDirty;
        _dirtied.Add(folio);
    }

    /// <summary>The folios allocated in this run that are still held (head PFN and order), ascending.</summary>
    public EqArray<Folio> HeldTable()
    {
        var list = new List<Folio>();
        foreach (ulong head in _allocated.Distinct())
        {
            byte* h = Rec(head);
            if (*(int*)(h + OffRef) > 0) list.Add(new Folio(PageToPfn(head), h[OffOrder]));
        }
        list.Sort((a, b) => a.Head.CompareTo(b.Head));
        return list.ToEqArray();
    }

    /// <summary>The PFNs of the folio heads marked dirty in this run, ascending.</summary>
    public EqArray<ulong> DirtyTable()
    {
        var set = new SortedSet<ulong>();
        foreach (ulong f in _dirtied)
            // Stryker disable once arithmetic : OffFlags is 0, so − OffFlags is the same address
            if ((*(ulong*)(Rec(f) + OffFlags) & PgDirty) != 0) set.Add(PageToPfn(f));
        return set.ToEqArray();
    }

    public void Dispose()
    {
        // Stryker disable once equality,statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        if (_alloc != null) NativeMemory.Free(_alloc);
        _alloc = null;
        _base = null;
        // Stryker disable once statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        GC.SuppressFinalize(this);
    }

    ~MemmapArena() => Dispose();
}
