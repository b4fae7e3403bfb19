using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// The optimized model's native pieces (MemmapArena, TrapBuffer, FreeArea, IterState, the vector pointer test)
/// on the geometries the generators rarely make: sizeof(struct page) that is no power of two, 32-bit page
/// pointers, FLATMEM with ARCH_PFN_OFFSET, classic SPARSEMEM with memmaps out of order, section numbers
/// wider than the flags field, PFNs and pointers just outside memory. Each answer is checked against the
/// world's facts (WorldFacts) or against the reference model, never against the optimized code itself.
/// </summary>
public sealed partial class MutationArenaTests
{
    private static MachineConfig Cfg(MemoryModel model, int sz, bool is64 = true, ulong archPfnOffset = 0, bool zoneDevice = true)
        => ArchPresets.Get(model switch
        {
            MemoryModel.Flatmem => "tiny-flatmem",
            MemoryModel.Sparsemem => "tiny-sparsemem",
            _ => "tiny-vmemmap",
        }) with
        {
            StructPageSize = sz,
            Is64Bit = is64,
            MaxPhysmemBits = is64 ? 46 : 36,
            ArchPfnOffset = archPfnOffset,
            ZoneDevice = zoneDevice,
            PciP2pdma = zoneDevice,
        };

    /// <summary>32-bit FLATMEM with 1024-page sections, MAX_PHYSMEM_BITS 40, no ZONE_DEVICE: mem_map of up to 4 GiB.</summary>
    private static MachineConfig Flat32(int sz)
        => new() { Model = MemoryModel.Flatmem, Is64Bit = false, MaxPhysmemBits = 40, SectionSizeBits = 22, StructPageSize = sz, PciP2pdma = false, ZoneDevice = false };

    /// <summary>SPARSEMEM_VMEMMAP, 64-bit, 32-byte struct pages, 2^18-page sections (8 MiB of memmap each), no ZONE_DEVICE.</summary>
    private static MachineConfig Vmemmap32ByteLargeSections()
        => Cfg(MemoryModel.SparsememVmemmap, 32, zoneDevice: false) with { SectionSizeBits = 30 };

    public static TheoryData<string> Geometries() => new(GeometryNames);

    private static readonly string[] GeometryNames =
    [
        "vmemmap-64", "vmemmap-72", "vmemmap-64-32bit", "vmemmap-56-32bit",
        "flatmem-64-off8", "flatmem-56-off8", "flatmem-64-off8-32bit", "flatmem-80-32bit",
        "sparse-64", "sparse-80", "sparse-64-32bit", "sparse-72-32bit", "sparse-64-reversed", "sparse-56-padded",
    ];

    private static World Geometry(string name) => Valid(name switch
    {
        "vmemmap-64" => World.Create(Cfg(MemoryModel.SparsememVmemmap, 64), [0, 1, 3]),
        "vmemmap-72" => World.Create(Cfg(MemoryModel.SparsememVmemmap, 72), [0, 1, 3]),
        "vmemmap-64-32bit" => World.Create(Cfg(MemoryModel.SparsememVmemmap, 64, is64: false), [1, 2, 4]),
        "vmemmap-56-32bit" => World.Create(Cfg(MemoryModel.SparsememVmemmap, 56, is64: false), [1, 2, 4]),
        "flatmem-64-off8" => World.Create(Cfg(MemoryModel.Flatmem, 64, archPfnOffset: 8), [1, 2]),
        "flatmem-56-off8" => World.Create(Cfg(MemoryModel.Flatmem, 56, archPfnOffset: 8), [1, 2]),
        "flatmem-64-off8-32bit" => World.Create(Cfg(MemoryModel.Flatmem, 64, is64: false, archPfnOffset: 8), [1, 3]),
        "flatmem-80-32bit" => World.Create(Cfg(MemoryModel.Flatmem, 80, is64: false), [0, 2]),
        "sparse-64" => World.Create(Cfg(MemoryModel.Sparsemem, 64), [0, 1, 3]),
        "sparse-80" => World.Create(Cfg(MemoryModel.Sparsemem, 80), [0, 1, 3], MemmapPlacement.NodeBuffer(Aligned(80))),
        "sparse-64-32bit" => World.Create(Cfg(MemoryModel.Sparsemem, 64, is64: false), [1, 2, 5]),
        "sparse-72-32bit" => World.Create(Cfg(MemoryModel.Sparsemem, 72, is64: false), [1, 2, 5], MemmapPlacement.NodeBuffer(Aligned(72))),
        // Section 3's memmap below section 0's, section 1's far above: the arena's origin is not section 0's memmap.
        "sparse-64-reversed" => World.Create(Cfg(MemoryModel.Sparsemem, 64), [0, 1, 3],
            MemmapPlacement.Independent(0x200000, 0x400000, 0x100000)),
        "sparse-56-padded" => World.Create(Cfg(MemoryModel.Sparsemem, 56), [2, 3, 4], MemmapPlacement.Padded(Aligned(56) + 0x1000 * 56)),
        _ => throw new ArgumentException(name),
    });

    /// <summary>The lowest memmap base the validator accepts for 16-page sections of <paramref name="sz"/>-byte records.</summary>
    private static ulong Aligned(int sz)
    {
        ulong align = Math.Min(16UL * (ulong)sz, 0x1000);
        return (MemmapPlacement.Origin + align - 1) / align * align;
    }

    /// <summary>pfn_to_page, page_to_pfn, page_to_phys and page_to_section agree with where the facts put every struct page.</summary>
    [Theory]
    [MemberData(nameof(Geometries))]
    public void Pfn_and_page_conversions_match_the_facts_for_every_pfn(string geometry)
    {
        var w = Geometry(geometry);
        var m = w.Machine;
        var f = w.Facts;
        var log = new RunLog();
        using var a = new MemmapArena(w, log, m.Is64Bit);
        ulong top = w.Memory.PresentSections[^1] * m.PagesPerSection + m.PagesPerSection + 4;
        int fatal = 0;
        for (ulong pfn = 0; pfn < top; pfn++)
        {
            if (!f.HasMemmap(pfn))
            {
                var ex = Assert.Throws<OptViolation>(() => a.PfnToPage(pfn));
                Assert.Equal(Diag.PfnWithoutPage(pfn), ex.Message);
                Assert.Throws<OptViolation>(() => a.PfnToPageInline(pfn));
                fatal += 2;
                continue;
            }
            ulong page = a.PfnToPage(pfn);
            Assert.Equal(f.MemmapAddress(pfn), a.AddrOf(page));
            Assert.Equal(page, a.PfnToPageInline(pfn));
            if (!m.Is64Bit) Assert.True(page <= uint.MaxValue);
            Assert.True(a.IsStructPage(page));
            Assert.Equal(pfn, a.PageToPfn(page));
            Assert.Equal(pfn << m.PageShift, a.PageToPhys(page));
            Assert.Equal(m.SectionInPageFlags ? pfn >> m.PfnSectionShift : 0, a.PageToSection(page));
            // Inside one record: not a struct page.
            Assert.False(a.IsStructPage(page + 8));
            Assert.False(a.IsStructPage(page + (ulong)m.StructPageSize / 2));
            Assert.Equal(0, a.PagePgmap(page));
            Assert.False(a.IsZoneDevicePage(page));
            Assert.Equal(page, a.PageFolio(page));
        }
        Assert.Equal(fatal, log.Violations.Count);
    }

    /// <summary>Pointer arithmetic: page + n and (a − b) / sizeof(struct page), in records, both signs, on every record size.</summary>
    [Theory]
    [MemberData(nameof(Geometries))]
    public void Pointer_difference_is_the_record_distance(string geometry)
    {
        var w = Geometry(geometry);
        using var a = new MemmapArena(w, new RunLog(), w.Machine.Is64Bit);
        ulong sz = (ulong)w.Machine.StructPageSize;
        Assert.Equal(sz, a.StructPageSize);
        ulong p = a.PfnToPage(w.Facts.SectionStart(w.Memory.PresentSections[0]) + 3);
        for (long k = -40; k <= 40; k++)
        {
            ulong q = a.Add(p, k);
            Assert.Equal(w.Machine.Is64Bit ? p + (ulong)k * sz : (uint)(p + (ulong)k * sz), q);
            Assert.Equal(k, a.Diff(q, p));
            Assert.Equal(-k, a.Diff(p, q));
        }
        // Not whole records apart: truncating division, as C's pointer difference would compute it.
        Assert.Equal(1, a.Diff(p + sz + 8, p));
        Assert.Equal(0, a.Diff(p + 8, p));
        Assert.Equal(-1, a.Diff(p, p + sz + 8));
    }

    /// <summary>Pointers just before the first and just after the last struct page, and into a hole, are wild.</summary>
    [Theory]
    [MemberData(nameof(Geometries))]
    public void Pointers_just_outside_the_memmaps_are_no_struct_pages(string geometry)
    {
        var w = Geometry(geometry);
        var f = w.Facts;
        var log = new RunLog();
        using var a = new MemmapArena(w, log, w.Machine.Is64Bit);
        var pfns = Enumerable.Range(0, (int)(w.Memory.PresentSections[^1] + 2) * 16).Select(i => (ulong)i).Where(f.HasMemmap).ToArray();
        ulong lowest = pfns.MinBy(p => f.MemmapAddress(p)!.Value), highest = pfns.MaxBy(p => f.MemmapAddress(p)!.Value);
        ulong first = a.PfnToPage(lowest), last = a.PfnToPage(highest);
        ulong before = a.Add(first, -1), after = a.Add(last, 1);
        Assert.False(a.IsStructPage(before));
        Assert.False(a.IsStructPage(after));
        Assert.False(a.IsStructPage(a.Add(after, 1)));
        var ex = Assert.Throws<OptViolation>(() => a.PageFolio(after));
        Assert.Equal(Diag.WildPage(f.MemmapAddress(highest)!.Value + (ulong)w.Machine.StructPageSize), ex.Message);
        ex = Assert.Throws<OptViolation>(() => a.PageToPfn(before));
        Assert.Equal(Diag.WildPage(f.MemmapAddress(lowest)!.Value - (ulong)w.Machine.StructPageSize), ex.Message);
        Assert.Throws<OptViolation>(() => a.PageToPhys(after));
        Assert.Throws<OptViolation>(() => a.PageToSection(after));
        Assert.Throws<OptViolation>(() => a.PageFolio(first + 8));
        Assert.Throws<OptViolation>(() => a.FolioOrder(last + 8));
        Assert.Equal(6, log.Violations.Count);
    }

    [Fact]
    public void A_vmemmap_hole_between_present_sections_is_no_struct_page()
    {
        var w = Geometry("vmemmap-64");
        using var a = new MemmapArena(w, new RunLog(), true);
        // Section 2 is a hole: the record address vmemmap + pfn is inside the arena but no page lives there.
        ulong inHole = a.Add(a.PfnToPage(31), 1);
        Assert.False(a.IsStructPage(inHole));
        Assert.Throws<OptViolation>(() => a.PageFolio(inHole));
        Assert.Throws<OptViolation>(() => a.PfnToPageInline(40));
        Assert.True(a.IsStructPage(a.Add(a.PfnToPage(31), 17)));
        Assert.Equal(48UL, a.PageToPfn(a.Add(a.PfnToPage(31), 17)));
    }

    /// <summary>Where the section number sits in the flags word: the top SECTIONS_WIDTH bits (native baseline and benchmarks read it).</summary>
    [Theory]
    [InlineData(46, 16)]
    [InlineData(36, 16)]
    [InlineData(64, 16)]
    public void The_section_field_is_the_top_sections_width_bits(int physBits, int sectionBits)
    {
        var m = Cfg(MemoryModel.Sparsemem, 64) with { MaxPhysmemBits = physBits, SectionSizeBits = sectionBits };
        var w = Valid(World.Create(m, [0, 1]));
        using var a = new MemmapArena(w, new RunLog(), true);
        int width = physBits - sectionBits;
        Assert.Equal(64 - width, a.SectionFlagsShift);
        Assert.Equal((1UL << width) - 1, a.SectionFlagsMask);
    }

    // ---------------------------------------------------------------- folios, pgmaps, pins

    [Theory]
    [InlineData("vmemmap-64")]
    [InlineData("vmemmap-72")]
    [InlineData("sparse-80")]
    [InlineData("flatmem-56-off8")]
    public void Folio_tails_lead_to_their_head(string geometry)
    {
        var w = Geometry(geometry);
        ulong head = w.Machine.Model == MemoryModel.Flatmem ? 16UL : 4UL;
        ulong head2 = (head + 4 + 7) / 8 * 8;
        w = Valid(w with { Folios = [new Folio(head, 2), new Folio(head2, 3)] });
        using var a = new MemmapArena(w, new RunLog(), w.Machine.Is64Bit);
        ulong h = a.PfnToPage(head), h2 = a.PfnToPage(head2);
        for (ulong i = 0; i < 4; i++)
        {
            ulong p = a.PfnToPage(head + i);
            Assert.Equal(h, a.PageFolio(p));
            Assert.Equal(h, a.FolioAndOrder(p, out int order));
            Assert.Equal(2, order);
        }
        Assert.Equal(2, a.FolioOrder(h));
        Assert.Equal(4 * w.Machine.PageSize, a.FolioSize(h));
        Assert.Equal(h2, a.PageFolio(a.PfnToPage(head2 + 7)));
        Assert.Equal(h2, a.FolioAndOrder(a.PfnToPage(head2 + 5), out int o3));
        Assert.Equal(3, o3);
        Assert.Equal(3, a.FolioOrder(h2));
        Assert.Equal(a.PfnToPage(head - 1), a.PageFolio(a.PfnToPage(head - 1)));
        Assert.Equal(a.PfnToPage(head - 1), a.FolioAndOrder(a.PfnToPage(head - 1), out int o0));
        Assert.Equal(0, o0);
    }

    private static World WithPgmaps(bool zoneDevice = true)
    {
        var w = Geometry("vmemmap-64");
        return Valid(w with
        {
            Pgmaps = [new Pgmap(7, MemoryType.PciP2pdma, 16, 8, null), new Pgmap(9, MemoryType.PciP2pdma, 24, 8, null), new Pgmap(8, MemoryType.Private, 48, 8, null)],
            Folios = [new Folio(20, 2)],
        });
    }

    [Fact]
    public void Pgmap_membership_is_read_from_the_records()
    {
        var w = WithPgmaps();
        using var a = new MemmapArena(w, new RunLog(), true);
        ulong ram = a.PfnToPage(3), ram2 = a.PfnToPage(4), p2p = a.PfnToPage(17), p2pTail = a.PfnToPage(23), p2pOther = a.PfnToPage(25), priv = a.PfnToPage(50);
        Assert.False(a.IsZoneDevicePage(ram));
        Assert.True(a.IsZoneDevicePage(p2p));
        Assert.True(a.IsZoneDevicePage(priv));
        Assert.Equal(0, a.PagePgmap(ram));
        Assert.Equal(7, a.PagePgmap(p2p));
        Assert.Equal(7, a.PagePgmap(p2pTail));
        Assert.Equal(9, a.PagePgmap(p2pOther));
        Assert.Equal(8, a.PagePgmap(priv));
        Assert.True(a.IsP2pdma(p2p));
        Assert.False(a.IsP2pdma(priv));
        Assert.False(a.IsP2pdma(ram));

        Assert.True(a.SamePgmap(ram, ram2));
        Assert.True(a.SamePgmap(p2p, p2pTail));
        Assert.False(a.SamePgmap(p2p, p2pOther));
        Assert.False(a.SamePgmap(ram, priv));
        Assert.False(a.SamePgmap(priv, ram));

        Assert.True(a.Compatible(ram, ram2));
        Assert.True(a.Compatible(ram, priv));
        Assert.True(a.Compatible(p2p, p2pTail));
        Assert.False(a.Compatible(p2p, ram));
        Assert.False(a.Compatible(ram, p2pOther));
        Assert.False(a.Compatible(p2p, p2pOther));

        Assert.Equal((true, true), a.PgmapRelation(ram, ram2));
        Assert.Equal((true, false), a.PgmapRelation(ram, priv));
        Assert.Equal((true, false), a.PgmapRelation(priv, ram));
        Assert.Equal((false, false), a.PgmapRelation(p2p, ram));
        Assert.Equal((false, false), a.PgmapRelation(ram, p2p));
        Assert.Equal((true, true), a.PgmapRelation(p2p, p2pTail));
        Assert.Equal((false, false), a.PgmapRelation(p2p, p2pOther));
        Assert.Equal((true, true), a.PgmapRelation(priv, a.PfnToPage(55)));

        Assert.False(a.TryPinUser(p2p, p2pAllowed: false));
        Assert.True(a.TryPinUser(p2p, p2pAllowed: true));
        Assert.True(a.TryPinUser(priv, p2pAllowed: false));
        Assert.True(a.TryPinUser(ram, p2pAllowed: false));
        Assert.Equal([new PinCount(3, 1), new PinCount(17, 1), new PinCount(50, 1)], a.PinTable().ToArray());
    }

    [Fact]
    public void Pins_are_counted_per_page_and_an_unpin_without_pin_is_a_breach()
    {
        var w = Geometry("sparse-80");
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        ulong hi = a.PfnToPage(50), lo = a.PfnToPage(2), never = a.PfnToPage(20);
        a.Pin(hi);
        a.Pin(hi);
        a.Pin(lo);
        Assert.True(a.TryPinUser(lo, false));
        Assert.Equal([new PinCount(2, 2), new PinCount(50, 2)], a.PinTable().ToArray());
        a.Unpin(hi);
        a.Unpin(lo);
        a.Unpin(lo);
        Assert.Empty(log.Violations);
        Assert.Equal([new PinCount(50, 1)], a.PinTable().ToArray());
        a.Unpin(never);
        Assert.Equal([Diag.UnpinWithoutPin(20)], log.Violations);
        Assert.Equal([new PinCount(20, -1), new PinCount(50, 1)], a.PinTable().ToArray());
    }

    [Theory]
    [InlineData("vmemmap-64")]
    [InlineData("sparse-64-32bit")]
    [InlineData("flatmem-56-off8")]
    public void Allocated_folios_link_their_tails_and_go_back_whole(string geometry)
    {
        var w = Geometry(geometry);
        ulong b = w.Facts.SectionStart(w.Memory.PresentSections[^1]);
        using var a = new MemmapArena(w, new RunLog(), w.Machine.Is64Bit);
        ulong big = a.PrepFolio(b + 8, 3), small = a.PrepFolio(b, 1);
        Assert.Equal(a.PfnToPage(b + 8), big);
        for (ulong i = 0; i < 8; i++) Assert.Equal(big, a.PageFolio(a.PfnToPage(b + 8 + i)));
        Assert.Equal(3, a.FolioOrder(big));
        Assert.Equal(small, a.PageFolio(a.PfnToPage(b + 1)));
        Assert.Equal(a.PfnToPage(b + 2), a.PageFolio(a.PfnToPage(b + 2)));
        Assert.Equal([new Folio(b, 1), new Folio(b + 8, 3)], a.HeldTable().ToArray());

        a.MarkDirty(a.PfnToPage(b + 13));
        a.MarkDirty(a.PfnToPage(b + 1));
        Assert.Equal([b, b + 8], a.DirtyTable().ToArray());

        Assert.Equal(3, a.FolioPut(big));
        Assert.Null(a.FolioPut(big));
        for (ulong i = 0; i < 8; i++)
        {
            ulong p = a.PfnToPage(b + 8 + i);
            Assert.Equal(p, a.PageFolio(p));
            Assert.Equal(0, a.FolioOrder(p));
        }
        Assert.Equal([new Folio(b, 1)], a.HeldTable().ToArray());
        Assert.Equal([b], a.DirtyTable().ToArray());
        Assert.Equal(1, a.FolioPut(small));
        Assert.Empty(a.HeldTable());
        Assert.Empty(a.DirtyTable());
        Assert.Null(a.FolioPut(a.PfnToPage(b + 4)));
    }

    // ---------------------------------------------------------------- arena limits

    [Fact]
    public void A_narrow_arena_refuses_a_memmap_that_reaches_4_GiB_with_the_bias()
    {
        // Not a valid world (the validator refuses it first); the arena's own guard is what is tested.
        // FLATMEM, 32-bit: one mem_map of (FlatEnd − ARCH_PFN_OFFSET) records of 64 bytes.
        var m = Flat32(64);
        ulong pps = m.PagesPerSection; // 1024 pages: 64 KiB of memmap per section
        // span = (sections · pps − offset) · 64; 2^32 − 2^16 exactly is refused, 2^16 less is accepted.
        ulong sectionsFor4G = (1UL << 32) / (pps * 64); // 65536
        var refused = World.Create(m, [sectionsFor4G - 2]);
        Assert.Equal((1UL << 32) - (1UL << 16), refused.Facts.FlatEnd * 64);
        Assert.Throws<ArgumentException>(() => new MemmapArena(refused, new RunLog(), false));
        var fits = World.Create(m, [sectionsFor4G - 3]);
        using (var a = new MemmapArena(fits, new RunLog(), false))
            Assert.Equal(fits.Facts.FlatEnd - 1, a.PageToPfn(a.PfnToPage(fits.Facts.FlatEnd - 1)));
        // The same span is fine for a 64-bit arena.
        using (var a = new MemmapArena(refused, new RunLog(), true))
            Assert.Equal(refused.Facts.FlatEnd - 1, a.PageToPfn(a.PfnToPage(refused.Facts.FlatEnd - 1)));
    }

    [Fact]
    public void A_wide_arena_holds_exactly_MaxSpan()
    {
        var m = new MachineConfig { Model = MemoryModel.SparsememVmemmap, MaxPhysmemBits = 52, SectionSizeBits = 27, StructPageSize = 64, PciP2pdma = false, ZoneDevice = false };
        // vmemmap from PFN 0: the arena spans (last section end) · 64 bytes; 2^34 / 64 = 2^28 pages = 8 sections of 2^15.
        ulong perSec = m.PagesPerSection * 64;
        ulong last = MemmapArena.MaxSpan / perSec - 1;
        var exact = World.Create(m, [0, last]);
        using (var a = new MemmapArena(exact, new RunLog(), true))
            Assert.Equal((last + 1) * m.PagesPerSection - 1, a.PageToPfn(a.PfnToPage((last + 1) * m.PagesPerSection - 1)));
        var over = World.Create(m, [0, last + 1]);
        var ex = Assert.Throws<ArgumentException>(() => new MemmapArena(over, new RunLog(), true));
        Assert.Contains("more than the arena can hold", ex.Message);
    }

    // ---------------------------------------------------------------- optimized against reference

    private static void Same(World w, Operation op, Action<Outcome>? check = null) => check?.Invoke(RunBoth(w, op));

    /// <summary>
    /// Found here: classic SPARSEMEM with a 56-byte struct page and padded memmaps puts section 3's memmap
    /// 896 + 4096 bytes after section 2's, not a whole number of records; the arena took every page of it
    /// for a wild pointer (its record test was "a multiple of sizeof(struct page) from the lowest memmap").
    /// </summary>
    [Theory]
    [InlineData(56)]
    [InlineData(72)]
    [InlineData(80)]
    public void Padded_memmaps_of_odd_sized_struct_pages_hold_struct_pages(int sz)
    {
        var w = Valid(World.Create(Cfg(MemoryModel.Sparsemem, sz), [2, 3, 4], MemmapPlacement.Padded(Aligned(sz))));
        Same(w, new NumPagesContiguousOp(new ulong[] { 48, 49, 50, 51 }.ToEqArray()), r => Assert.Equal([4L], r.Returns));
        Same(w, new NumPagesContiguousOp(new ulong[] { 62, 63, 64, 65 }.ToEqArray()), r => Assert.Equal([2L], r.Returns));
        Same(w, TestWorlds.Adds(Bio.Empty(4), (0x30, 0, 0x1000), (0x31, 0, 0x800), (0x40, 0x100, 0x200)),
            r => Assert.Equal([0x1000L, 0x800L, 0x200L], r.Returns));
    }

    [Fact]
    public void Independent_memmaps_a_page_apart_of_72_byte_struct_pages_hold_struct_pages()
    {
        // 64-page sections: a memmap of 4608 bytes, bases page aligned, 0x100000 apart (not a multiple of 72).
        var m = Cfg(MemoryModel.Sparsemem, 72) with { SectionSizeBits = 18, MaxPageOrder = 4 };
        var w = Valid(World.Create(m, [0, 1], MemmapPlacement.Independent(0x100000, 0x200000)));
        Same(w, new NumPagesContiguousOp(new ulong[] { 64, 65, 66 }.ToEqArray()), r => Assert.Equal([3L], r.Returns));
        Same(w, new NumPagesContiguousOp(new ulong[] { 62, 63, 64 }.ToEqArray()), r => Assert.Equal([2L], r.Returns));
    }

    /// <summary>
    /// Found here: a 32-bit FLATMEM mem_map of more than 2 GiB (the validator allows up to 4 GiB − 1 MiB); the
    /// pointer difference of page_to_pfn was taken as a signed 32-bit value, so the upper half's PFNs came out
    /// negative (0xfffffffffff7a3ff for 0x3f7a3ff).
    /// </summary>
    [Fact]
    public void A_32_bit_mem_map_above_2_GiB_gives_the_right_pfns()
    {
        var m = Flat32(64);
        var w = Valid(World.Create(m, [65000]));
        ulong top = w.Facts.FlatEnd - 1;
        Same(w, TestWorlds.Adds(Bio.Empty(4), (top, 0, 0x100)), r => Assert.Equal(top, r.Bio!.Vecs[0].Pfn));
        Same(w, new NumPagesContiguousOp(new ulong[] { top - 1, top }.ToEqArray()), r => Assert.Equal([2L], r.Returns));
    }

    // ---------------------------------------------------------------- GUP and get_contig_folio_len

    private static World WithUser(World w, params VirtPage[] pages)
        => Valid(w with { User = new AddressSpace(AddressSpace.DefaultUserBaseFor(w.Machine), pages.ToEqArray()) });

    private static ExtractPagesOp Extract(World w, ulong pages, bool source, ulong offset = 0)
        => new(IterDesc.ForUbuf(AddressSpace.DefaultUserBaseFor(w.Machine) + offset, pages * w.Machine.PageSize - offset, source), pages * w.Machine.PageSize, (uint)pages + 1, false);

    [Theory]
    [InlineData("vmemmap-64")]
    [InlineData("vmemmap-72")]
    [InlineData("vmemmap-64-32bit")]
    [InlineData("sparse-80")]
    [InlineData("flatmem-56-off8")]
    public void Gup_pins_what_the_reference_pins_up_to_the_first_page_it_cannot_take(string geometry)
    {
        var w = Geometry(geometry);
        ulong s = w.Facts.SectionStart(w.Memory.PresentSections[0]);
        var runs = new (VirtPage[] Pages, bool Source, long Expect)[]
        {
            ([VirtPage.Map(s + 4), VirtPage.Map(s + 5), VirtPage.Map(s + 9), VirtPage.Map(s + 1)], true, 4),
            ([VirtPage.Map(s + 4), new(MappingKind.ReadOnly, s + 5), VirtPage.Map(s + 6)], true, 3),
            ([VirtPage.Map(s + 4), new(MappingKind.ReadOnly, s + 5), VirtPage.Map(s + 6)], false, 1),
            ([VirtPage.Map(s + 4), VirtPage.Hole, VirtPage.Map(s + 6)], true, 1),
            ([VirtPage.Map(s + 4), new(MappingKind.NoPin, s + 5)], true, 1),
            ([VirtPage.Map(s + 7), VirtPage.Map(s + 7), VirtPage.Map(s + 8)], false, 3),
        };
        foreach (var (pages, source, expect) in runs)
        {
            var wu = WithUser(w, pages);
            Same(wu, Extract(wu, (ulong)pages.Length, source), r => Assert.Equal(expect * (long)w.Machine.PageSize, r.Returns[0]));
        }
    }

    [Theory]
    [InlineData("vmemmap-64")]
    [InlineData("vmemmap-72")]
    [InlineData("vmemmap-64-32bit")]
    [InlineData("sparse-64")]
    public void Extraction_over_adjacent_folios_stops_each_run_at_its_folio(string geometry)
    {
        var w = Geometry(geometry);
        ulong s = w.Facts.SectionStart(w.Memory.PresentSections[0]);
        w = Valid(w with { Folios = [new Folio(s + 4, 2), new Folio(s + 8, 3)] });
        var user = Enumerable.Range(2, 12).Select(i => VirtPage.Map(s + (ulong)i)).ToArray();
        var wu = WithUser(w, user);
        Same(wu, Extract(wu, 12, true, 0x100), r => Assert.Equal(12 * (long)w.Machine.PageSize - 0x100, r.Returns[0]));
        // get_contig_folio_len from each start: an extraction of pages whose run crosses into the next folio.
        foreach (ulong max in new ulong[] { 2, 3, 5, 6, 7, 9 })
        {
            var op = new ExtractBvecsOp(IterDesc.ForUbuf(AddressSpace.DefaultUserBaseFor(w.Machine) + 0x80, 12 * w.Machine.PageSize - 0x80), [],
                (ushort)max, 12 * w.Machine.PageSize, 0, false);
            Same(wu, op, r => Assert.True(r.Bvecs.Length > 0));
        }
    }

    /// <summary>
    /// Found here: a 48-bit SECTIONS_WIDTH (MAX_PHYSMEM_BITS 64, 16-page sections) with section 2^40 present. The
    /// optimized arena kept only 40 bits of the section number in the flags, so section 2^40 read as section 0 and
    /// page_to_pfn gave 0x23 for 0x100000000003; its dense per-section tables (2^40 entries) overflowed first.
    /// </summary>
    [Fact]
    public void Sections_far_apart_and_above_2_to_the_40_keep_their_numbers()
    {
        var m = Cfg(MemoryModel.Sparsemem, 64) with { MaxPhysmemBits = 64 };
        var w = Valid(World.Create(m, [0, 1, 1UL << 40]));
        ulong hi = (1UL << 40) << 4;
        Same(w, TestWorlds.Adds(Bio.Empty(4), (hi + 3, 0, 0x100)), r => Assert.Equal(hi + 3, r.Bio!.Vecs[0].Pfn));
        Same(w, new NumPagesContiguousOp(new ulong[] { 10, 11, 12, 13, 14, 15, 16, 17 }.ToEqArray()), r => Assert.Equal([6L], r.Returns));
        // Node-buffer memmaps: section 2^40's follows section 1's, so only the section number ends the run.
        Same(w, new NumPagesContiguousOp(Enumerable.Range(10, 22).Select(i => (ulong)i).Concat(Enumerable.Range(0, 16).Select(i => hi + (ulong)i)).ToEqArray()),
            r => Assert.Equal([6L], r.Returns));
        Same(w, new NumPagesContiguousOp(Enumerable.Range(20, 12).Select(i => (ulong)i).Concat(Enumerable.Range(0, 16).Select(i => hi + (ulong)i)).ToEqArray()),
            r => Assert.Equal([12L], r.Returns));
    }

    // ---------------------------------------------------------------- the section half of num_pages_contiguous

    /// <summary>SectionRun over 256-page sections with node-buffer memmaps: the first index whose record is in another section.</summary>
    [Theory]
    [InlineData(64, true, false)]
    [InlineData(64, true, true)]
    [InlineData(72, true, true)]
    [InlineData(64, false, false)]
    [InlineData(80, false, true)]
    public void Section_run_stops_at_the_first_record_of_the_next_section(int sz, bool is64, bool touchAll)
    {
        var m = Cfg(MemoryModel.Sparsemem, sz, is64) with { SectionSizeBits = 20, MaxPageOrder = 4 };
        ulong align = Math.Min(256UL * (ulong)sz, 0x1000);
        var w = Valid(World.Create(m, [0, 1, 2], MemmapPlacement.NodeBuffer((MemmapPlacement.Origin + align - 1) / align * align)));
        using var a = new MemmapArena(w, new RunLog(), is64);
        if (touchAll)
            for (ulong pfn = 0; pfn < 768; pfn++) Assert.Equal(pfn >> 8, a.PageToSection(a.PfnToPage(pfn)));
        foreach (int start in new[] { 0, 1, 100, 200, 223, 224, 225, 230, 254, 255 })
            foreach (ulong sec in new ulong[] { 0, 1 })
                foreach (int n in new[] { 1, 2, 31, 32, 33, 34, 64, 65, 100, 257, 300 })
                    foreach (int from in new[] { 1, 5, 40 })
                    {
                        ulong first = a.PfnToPage(sec * 256 + (ulong)start);
                        int boundary = 256 - start;
                        int expect = from >= n ? n : boundary <= from ? from : Math.Min(n, boundary);
                        Assert.Equal(expect, a.SectionRun(first, sec, from, n));
                    }
    }

    /// <summary>
    /// The highest section number (all ones in a 4-bit SECTIONS_WIDTH) with the memmap of section 14 right after
    /// section 15's: a run from section 15 into 14 is ended by the section number only.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_run_from_the_highest_section_into_a_lower_one_stops_at_the_section(bool is64)
    {
        var m = Cfg(MemoryModel.Sparsemem, 64, is64) with { MaxPhysmemBits = 20 };
        var w = Valid(World.Create(m, [14, 15], MemmapPlacement.Independent(0x100400, 0x100000)));
        foreach (int tail in new[] { 1, 5, 16 })
        {
            var pfns = Enumerable.Range(16 - tail, tail).Select(i => 240 + (ulong)i).Concat(Enumerable.Range(0, 16).Select(i => 224 + (ulong)i)).ToEqArray();
            Same(w, new NumPagesContiguousOp(pfns), r => Assert.Equal([(long)tail], r.Returns));
        }
        var w2 = Valid(World.Create(m, [14, 15]));
        Same(w2, new NumPagesContiguousOp(Enumerable.Range(224, 32).Select(i => (ulong)i).ToEqArray()), r => Assert.Equal([16L], r.Returns));
    }

    // ---------------------------------------------------------------- the pointer half (vectors of page pointers)

    private static IEnumerable<ulong[]> CraftedRuns(int lanes)
    {
        const ulong p = 24;
        int n = 3 * lanes + 3;
        yield return Enumerable.Repeat(p, n).ToArray();                                           // every pointer the same
        yield return [p, .. Enumerable.Range(0, n).Select(i => p - 1 + (ulong)i)];                 // one step behind
        yield return [p, .. Enumerable.Range(1, n).Select(i => p - (ulong)i)];                     // backwards
        yield return [p, .. Enumerable.Range(1, lanes).Select(i => p + (ulong)i), .. Enumerable.Range(0, n).Select(i => p + 1 - (ulong)lanes + (ulong)i)]; // second block one block back
        yield return [.. Enumerable.Range(0, n).Select(i => p + (ulong)i)];                        // all contiguous
        yield return [.. Enumerable.Range(0, lanes + 1).Select(i => p + (ulong)i)];                // exactly one block after the first
        yield return [.. Enumerable.Range(0, lanes).Select(i => p + (ulong)i)];                    // no full block
        foreach (int brk in new[] { 1, lanes - 1, lanes, lanes + 1, 2 * lanes, 2 * lanes + 1, n - 1 })
        {
            var a = Enumerable.Range(0, n).Select(i => p + (ulong)i).ToArray();
            a[brk] = 2;
            yield return a;
        }
    }

    [Theory]
    [InlineData(MemoryModel.SparsememVmemmap, 64, true, 4)]
    [InlineData(MemoryModel.SparsememVmemmap, 72, true, 4)]
    [InlineData(MemoryModel.SparsememVmemmap, 64, false, 8)]
    [InlineData(MemoryModel.Flatmem, 80, false, 8)]
    [InlineData(MemoryModel.Sparsemem, 64, true, 4)]
    [InlineData(MemoryModel.Sparsemem, 64, false, 8)]
    public void The_vector_pointer_test_agrees_with_one_pointer_at_a_time(MemoryModel model, int sz, bool is64, int lanes)
    {
        // Sixteen 16-page sections: PFNs 0 .. 255 all have struct pages (node-buffer memmaps adjacent in SPARSEMEM).
        var w = Valid(World.Create(Cfg(model, sz, is64), Enumerable.Range(0, 16).Select(i => (ulong)i)));
        ulong shift = 64;
        foreach (var run in CraftedRuns(lanes))
        {
            var pfns = run.Select(x => x + shift).ToArray();
            int expect = 1;
            while (expect < pfns.Length && pfns[expect] == pfns[0] + (ulong)expect
                   && (model != MemoryModel.Sparsemem || pfns[expect] >> 4 == pfns[0] >> 4)) expect++;
            Same(w, new NumPagesContiguousOp(pfns.ToEqArray()), r => Assert.Equal([(long)expect], r.Returns));
        }
    }

    // ---------------------------------------------------------------- trap buffers, free lists, iterator state

    private static Span<byte> WithPadding(TrapBuffer b)
        => System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.CompilerServices.Unsafe.Subtract(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b.Bytes), TrapBuffer.Pad),
            b.Length + 2 * TrapBuffer.Pad);

    [Fact]
    public void A_trap_buffer_is_filled_and_reports_nothing_untouched()
    {
        using var b = new TrapBuffer("page array", 40);
        Assert.Equal(40, b.Length);
        Assert.Equal("page array", b.Name);
        Assert.All(b.Bytes.ToArray(), x => Assert.Equal(TrapBuffer.Fill, x));
        b.Bytes.Fill(0x11);
        var v = new List<string>();
        b.Check(v);
        Assert.Empty(v);
        Assert.Equal(5, b.As<ulong>().Length);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-TrapBuffer.Pad)]
    [InlineData(-17)]
    [InlineData(40)]
    [InlineData(45)]
    [InlineData(40 + TrapBuffer.Pad - 1)]
    public void A_write_into_the_padding_is_reported_with_its_offset(int at)
    {
        using var b = new TrapBuffer("bvec array", 40);
        WithPadding(b)[at + TrapBuffer.Pad] = 0;
        var v = new List<string>();
        b.Check(v);
        Assert.Equal([Diag.TrapTouched("bvec array", at)], v);
    }

    [Fact]
    public void Only_the_first_touched_byte_of_each_side_is_reported()
    {
        using var b = new TrapBuffer("x", 8);
        var all = WithPadding(b);
        all[TrapBuffer.Pad - 3] = 1;
        all[TrapBuffer.Pad - 2] = 1;
        var v = new List<string>();
        b.Check(v);
        Assert.Equal([Diag.TrapTouched("x", -3)], v);
        all[TrapBuffer.Pad - 3] = TrapBuffer.Poison;
        all[TrapBuffer.Pad - 2] = TrapBuffer.Poison;
        all[TrapBuffer.Pad + 8 + 2] = 7;
        all[TrapBuffer.Pad + 8 + 9] = 7;
        v.Clear();
        b.Check(v);
        Assert.Equal([Diag.TrapTouched("x", 10)], v);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_free_lists_hand_out_and_merge_as_the_reference_allocator_does(int seed)
    {
        var blocks = new List<Folio>();
        for (ulong h = 0; h < 256; h += 16) blocks.Add(new Folio(h, 4));
        blocks.Add(new Folio(256, 0));
        blocks.Add(new Folio(258, 1));
        var reference = new PageAllocator(blocks.ToEqArray(), 2, 4);
        using var fa = new FreeArea(reference);
        var rnd = new Random(seed);
        var held = new List<Folio>();
        for (int step = 0; step < 400; step++)
        {
            Assert.Equal(reference.FreePages, fa.FreePages);
            if (held.Count > 0 && rnd.Next(3) == 0)
            {
                int i = rnd.Next(held.Count);
                var f = held[i];
                held.RemoveAt(i);
                reference = reference.Put(f);
                fa.Free(f.Head, f.Order);
                continue;
            }
            int order = rnd.Next(-1, 6);
            bool noRetry = rnd.Next(2) == 0;
            int maxPage = rnd.Next(2, 6);
            var (after, got) = reference.Alloc(order, noRetry, maxPage);
            reference = after;
            Assert.Equal(got?.Head, fa.Alloc(order, noRetry, maxPage));
            if (got is { } g) held.Add(g);
        }
        foreach (var f in held) { reference = reference.Put(f); fa.Free(f.Head, f.Order); }
        Assert.Equal(reference.FreePages, fa.FreePages);
        // Everything merged back: sixteen order-4 blocks and the small ones as they were.
        for (int k = 0; k < 16; k++) Assert.Equal((ulong)k * 16, fa.Alloc(4, false, 4));
        Assert.Null(fa.Alloc(4, false, 4));
        Assert.Equal(256UL, fa.Alloc(0, false, 4));
        Assert.Equal(258UL, fa.Alloc(1, false, 4));
        Assert.Equal(0UL, fa.FreePages);
    }

    [Fact]
    public void Freed_buddies_merge_whichever_half_comes_back_first()
    {
        using var fa = new FreeArea(new PageAllocator([new Folio(0, 3)], 3, 3));
        Assert.Equal(0UL, fa.Alloc(0, false, 3));
        Assert.Equal(1UL, fa.Alloc(0, false, 3));
        Assert.Equal(2UL, fa.Alloc(1, false, 3));
        fa.Free(1, 0);
        fa.Free(0, 0);
        fa.Free(2, 1);
        Assert.Equal(8UL, fa.FreePages);
        Assert.Equal(0UL, fa.Alloc(3, false, 3));
    }

    [Fact]
    public void Iterator_and_bio_state_defaults_and_segment_counts()
    {
        Assert.Equal(1, new IterState { Type = IterType.Ubuf, Index = 0 }.NrSegs);
        Assert.Equal(1, new IterState { Type = IterType.Ubuf, Index = 1 }.NrSegs);
        Assert.Equal(3, new IterState { Type = IterType.Bvec, NBvecs = 5, Index = 2 }.NrSegs);
        Assert.Equal(2, new IterState { Type = IterType.Iovec, Iov = [new IoVec(0, 1), new IoVec(8, 1), new IoVec(16, 1)], Index = 1 }.NrSegs);
        var b = new BioState();
        Assert.True(b.Untouched);
        Assert.Equal(-1, b.BorrowedFrom);
    }

    /// <summary>
    /// Found here: the validator accepted sizeof(struct page) 16 and 24, below the arena's 32-byte record (pin
    /// count at 24, reference count at 28), so a record's pins overwrote its neighbour's flags and compound_head and
    /// GUP of eight pages reported one pin. No kernel's struct page is that small (eight words on 32-bit), so the
    /// machine now refuses it by name.
    /// </summary>
    [Theory]
    [InlineData(16)]
    [InlineData(24)]
    public void Struct_pages_smaller_than_32_bytes_are_refused_by_name(int sz)
    {
        var problems = Cfg(MemoryModel.SparsememVmemmap, sz).Problems().ToList();
        var p = Assert.Single(problems, x => x.Field == "struct_page_size");
        Assert.Contains("[32, 256]", p.Reason);
        Assert.DoesNotContain(Cfg(MemoryModel.SparsememVmemmap, 32).Problems(), x => x.Field == "struct_page_size");
    }
}
