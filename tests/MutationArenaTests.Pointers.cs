using System.Runtime.InteropServices;
using BioModel.Core;
using BioModel.Optimized;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// MemmapArena called directly with what no operation hands it: pointers into the middle of a record whose
/// bytes happen to read as the "set up" mark, aligned pointers outside the arena, holes between sections,
/// 32-bit pointer wrap-around, arenas of more than 4 GiB, and the fast loops (PinUserRun, FolioRun) on their
/// own. The arena's inline fast paths trust a record only when it is aligned, inside the arena and marked; each
/// test builds the case where one of those three is the only thing that sends a pointer to the checked path.
/// The mark is the byte 0x5A at offset 21 of a record; the tests make other bytes read 0x5A (a section number,
/// a pin count, a compound_head link) and check the pointer is still refused.
/// </summary>
public sealed partial class MutationArenaTests
{
    private const byte MarkByte = 0x5A;

    // ---------------------------------------------------------------- pointers into a record

    /// <summary>
    /// Classic SPARSEMEM, one section numbered 0x5A, MAX_PHYSMEM_BITS 40: SECTIONS_WIDTH is 24, so the section
    /// number sits in flags bits 40..63 and byte 5 of every set-up record is 0x5A. A pointer 16 bytes before a
    /// record has that byte where a record's mark is (offset 21): it is still inside the previous record, so it is
    /// no struct page, and reading through it is a wild dereference.
    /// </summary>
    [Theory]
    [InlineData(64)]
    [InlineData(72)]
    public void A_pointer_into_a_record_is_wild_even_where_its_mark_byte_reads_as_set(int sz)
    {
        var m = Cfg(MemoryModel.Sparsemem, sz) with { MaxPhysmemBits = 40 };
        var w = Valid(World.Create(m, [(ulong)MarkByte], MemmapPlacement.NodeBuffer(Aligned(sz))));
        Assert.Equal(24, m.SectionsWidth);
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        ulong s0 = (ulong)MarkByte << 4;
        int fatal = 0;
        for (ulong i = 1; i < 16; i++)
        {
            ulong rec = a.PfnToPage(s0 + i);
            Assert.Equal((ulong)MarkByte, a.PageToSection(rec)); // sets the record up, section number in its flags
            ulong inside = rec - 16;
            Assert.False(a.IsStructPage(inside));
            var ex = Assert.Throws<OptViolation>(() => a.PageFolio(inside));
            Assert.Equal(Diag.WildPage(w.Facts.MemmapAddress(s0 + i)!.Value - 16), ex.Message);
            Assert.Throws<OptViolation>(() => a.FolioOrder(inside));
            fatal += 2;
            // The record itself is unharmed.
            Assert.Equal(rec, a.PageFolio(rec));
            Assert.Equal(s0 + i, a.PageToPfn(rec));
        }
        Assert.Equal(fatal, log.Violations.Count);
    }

    /// <summary>
    /// 0x5A pins of PFN 5 make byte 24 of its record 0x5A, which is the mark offset of the pointer three bytes into
    /// the record: page_to_phys, page_folio and the folio run through that pointer are fatal, the record is not.
    /// </summary>
    [Fact]
    public void A_pin_count_that_reads_as_the_mark_does_not_make_a_pointer_into_the_record_a_struct_page()
    {
        var w = Geometry("vmemmap-64");
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        ulong p5 = a.PfnToPage(5), addr5 = w.Facts.MemmapAddress(5)!.Value;
        for (int i = 0; i < MarkByte; i++) a.Pin(p5);
        Assert.Equal([new PinCount(5, MarkByte)], a.PinTable().ToArray());
        Assert.Equal(0x5000UL, a.PageToPhys(p5));
        Assert.False(a.IsStructPage(p5 + 3));
        Assert.Equal(Diag.WildPage(addr5 + 3), Assert.Throws<OptViolation>(() => a.PageToPhys(p5 + 3)).Message);
        Assert.Equal(Diag.WildPage(addr5 + 3), Assert.Throws<OptViolation>(() => a.PageFolio(p5 + 3)).Message);
        // p5 + 3 is exactly one record after p5 + 3 − 64, so only the record test can stop the run.
        Assert.Equal(Diag.WildPage(addr5 + 3), Assert.Throws<OptViolation>(() => a.FolioRun(new[] { p5 + 3 }, p5 + 3 - 64, p5)).Message);
        Assert.Equal(3, log.Violations.Count);
        Assert.Equal(p5, a.PageFolio(p5));
    }

    /// <summary>
    /// An aligned pointer into memory that is not the arena (a pinned buffer full of 0x5A bytes, so every byte
    /// reads as the mark) is no struct page: the arena never reads a record outside itself.
    /// </summary>
    [Fact]
    public void An_aligned_pointer_outside_the_arena_is_wild_whatever_it_points_at()
    {
        var w = Geometry("vmemmap-64");
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        var buf = GC.AllocateArray<byte>(3 * 4096, pinned: true);
        Array.Fill(buf, MarkByte);
        ulong at = ((ulong)Marshal.UnsafeAddrOfPinnedArrayElement(buf, 0) + 4095) & ~4095UL;
        int fatal = 0;
        for (ulong p = at; p < at + 4096; p += 64)
        {
            Assert.False(a.IsStructPage(p));
            Assert.Throws<OptViolation>(() => a.PageFolio(p));
            Assert.Throws<OptViolation>(() => a.FolioOrder(p));
            Assert.Throws<OptViolation>(() => a.PageToPhys(p));
            fatal += 3;
        }
        Assert.Equal(fatal, log.Violations.Count);
        Assert.All(buf, b => Assert.Equal(MarkByte, b)); // and nothing was written there
        GC.KeepAlive(buf);
    }

    /// <summary>
    /// SPARSEMEM_VMEMMAP sections 0, 1 and 3: section 2 (PFNs 32..47) is a hole inside the arena, so vmemmap + pfn
    /// there is an aligned address in the arena with no struct page. page_to_phys of it is fatal (its inline path
    /// is for set-up records only), whether or not a record next to it was touched.
    /// </summary>
    [Fact]
    public void Page_to_phys_in_a_vmemmap_hole_is_a_wild_dereference()
    {
        var w = Geometry("vmemmap-64");
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        ulong last = a.PfnToPage(31);
        Assert.Equal(31UL << 12, a.PageToPhys(last));
        for (long k = 1; k <= 16; k++)
        {
            ulong hole = a.Add(last, k);
            var ex = Assert.Throws<OptViolation>(() => a.PageToPhys(hole));
            Assert.Equal(Diag.WildPage(w.Facts.MemmapAddress(31)!.Value + (ulong)k * 64), ex.Message);
        }
        Assert.Equal(48UL << 12, a.PageToPhys(a.Add(last, 17)));
        Assert.Equal(16, log.Violations.Count);
    }

    /// <summary>VMEMMAP sections 0 and 512: PFN 32 is in the hole section 2 (not section 512, whatever its bits shifted the wrong way say).</summary>
    [Fact]
    public void The_inline_pfn_to_page_finds_the_section_by_shifting_the_pfn_down()
    {
        var w = Valid(World.Create(Cfg(MemoryModel.SparsememVmemmap, 64), [0, 512]));
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        foreach (ulong pfn in new ulong[] { 0, 15, 512 * 16, 512 * 16 + 15 })
        {
            Assert.Equal(a.PfnToPage(pfn), a.PfnToPageInline(pfn));
            Assert.Equal(pfn, a.PageToPfn(a.PfnToPageInline(pfn)));
        }
        foreach (ulong pfn in new ulong[] { 16, 32, 33, 511 * 16 + 15, 513 * 16 })
            Assert.Equal(Diag.PfnWithoutPage(pfn), Assert.Throws<OptViolation>(() => a.PfnToPageInline(pfn)).Message);
        Assert.Equal(5, log.Violations.Count);
    }

    /// <summary>
    /// Two adjacent sections numbered 2^40 and 2^40 + 1 (MAX_PHYSMEM_BITS 64): the dense per-section tables cover
    /// the distance between the lowest and the highest present section, two entries, not their sum.
    /// </summary>
    [Theory]
    [InlineData(MemoryModel.Sparsemem)]
    [InlineData(MemoryModel.SparsememVmemmap)]
    public void Adjacent_sections_far_above_zero_get_small_dense_tables(MemoryModel model)
    {
        var m = Cfg(model, 64) with { MaxPhysmemBits = 64 };
        ulong s = 1UL << 40, lo = s << 4;
        var w = Valid(World.Create(m, [s, s + 1]));
        using (var a = new MemmapArena(w, new RunLog(), true))
            for (ulong pfn = lo; pfn < lo + 32; pfn++)
            {
                ulong page = a.PfnToPageInline(pfn);
                Assert.Equal(pfn, a.PageToPfn(page));
                Assert.Equal(model == MemoryModel.Sparsemem ? pfn >> 4 : 0, a.PageToSection(page));
            }
        Same(w, new NumPagesContiguousOp(Enumerable.Range(10, 12).Select(i => lo + (ulong)i).ToEqArray()),
            r => Assert.Equal([model == MemoryModel.Sparsemem ? 6L : 12L], r.Returns));
    }

    // ---------------------------------------------------------------- 32-bit page pointers

    /// <summary>page + n and page − page on a 32-bit kernel: the pointer wraps at 4 GiB and the difference is a 32-bit ptrdiff_t.</summary>
    [Fact]
    public void Narrow_pointer_arithmetic_wraps_at_4_GiB()
    {
        var w = Geometry("flatmem-64-off8-32bit");
        using var a = new MemmapArena(w, new RunLog(), false);
        ulong p = a.PfnToPage(20);
        Assert.True(p < 1UL << 32);
        Assert.Equal(p, a.Add(p, 1L << 26));                        // 2^26 records of 64 bytes: 4 GiB
        Assert.Equal((ulong)(uint)(p - 0x1000UL * 64), a.Add(p, -0x1000));
        Assert.Equal((ulong)(uint)(p + 0x80000000UL), a.Add(p, 1L << 25));
        ulong q = a.Add(p, 1L << 25);                               // 2 GiB further: the 32-bit difference is −2^31
        Assert.Equal(-(1L << 25), a.Diff(q, p));
        Assert.Equal(-(1L << 25), a.Diff(p, q));
        Assert.Equal((1L << 25) - 1, a.Diff(a.Add(p, (1L << 25) - 1), p));
    }

    /// <summary>
    /// 32-bit FLATMEM, 64-byte struct pages, three 1024-page sections: the handle of PFN 0 is 0x10000 (the bias)
    /// and PFN 2048's record lies 0x20000 bytes after PFN 0's. Making PFN 2048 an order-2 head leaves PFN 0 alone.
    /// </summary>
    [Fact]
    public void A_narrow_arena_finds_each_record_by_its_handle_minus_the_bias()
    {
        var m = Flat32(64);
        var w = Valid(World.Create(m, [0, 1, 2]));
        using var a = new MemmapArena(w, new RunLog(), false);
        Assert.Equal(0x10000UL, a.PfnToPage(0));
        ulong big = a.PrepFolio(2048, 2);
        Assert.Equal(0x30000UL, big);
        for (ulong pfn = 0; pfn < 4; pfn++)
        {
            ulong p = a.PfnToPage(pfn);
            Assert.Equal(0, a.FolioOrder(p));
            Assert.Equal(p, a.PageFolio(p));
        }
        Assert.Equal(2, a.FolioOrder(big));
        Assert.Equal(big, a.PageFolio(a.PfnToPage(2051)));
        Assert.Equal(2052UL, a.PageToPfn(a.PageFolio(a.PfnToPage(2052))));
    }

    /// <summary>
    /// 32-bit FLATMEM with 32-byte struct pages and an order-2 folio at PFN 0x2d00000, whose head's handle is
    /// 0x5a010000: each tail's compound_head link has 0x5A in byte 3, which is record byte 11, 21 bytes before the
    /// next record's mark. A tail not yet set up still leads to its head.
    /// </summary>
    [Fact]
    public void A_tail_that_is_not_set_up_finds_its_head_even_after_a_link_byte_that_reads_as_the_mark()
    {
        var m = Flat32(32);
        const ulong head = 0x2d00000;
        var w = Valid(World.Create(m, [head >> 10]) with { Folios = [new Folio(head, 2)] });
        using var a = new MemmapArena(w, new RunLog(), false);
        ulong h = a.PfnToPage(head);
        Assert.Equal(0x5a010000UL, h);
        for (ulong i = 1; i < 4; i++) Assert.Equal(h, a.PageFolio(a.PfnToPage(head + i))); // one at a time: each tail is first touched here
        Assert.Equal(h, a.FolioAndOrder(a.PfnToPage(head + 3), out int order));
        Assert.Equal(2, order);
        ulong next = a.PfnToPage(head + 4);
        Assert.Equal(next, a.PageFolio(next));
    }

    // ---------------------------------------------------------------- the fast loops on their own

    /// <summary>
    /// PinUserRun, the common case of GUP's page loop: mapped pages (read-only ones only without FOLL_WRITE) with a
    /// struct page, up to the first that is anything else, and only in SPARSEMEM_VMEMMAP on a 64-bit kernel
    /// without ZONE_DEVICE pages; 0 elsewhere (the general loop then does all of it).
    /// </summary>
    [Fact]
    public void The_fast_gup_loop_pins_mapped_pages_up_to_the_first_it_cannot_take()
    {
        var w = Geometry("vmemmap-64");
        using var a = new MemmapArena(w, new RunLog(), true);
        var pages = new ulong[8];
        VirtPage[] ptes = [VirtPage.Map(4), VirtPage.Map(5), new(MappingKind.ReadOnly, 6), VirtPage.Map(7)];
        Assert.Equal(2, a.PinUserRun(ptes, write: true, pages));
        Assert.Equal([a.PfnToPage(4), a.PfnToPage(5)], pages[..2]);
        Assert.Equal(4, a.PinUserRun(ptes, write: false, pages));
        Assert.Equal([a.PfnToPage(4), a.PfnToPage(5), a.PfnToPage(6), a.PfnToPage(7)], pages[..4]);
        Assert.Equal(1, a.PinUserRun([VirtPage.Map(8), VirtPage.Hole, VirtPage.Map(9)], false, pages));
        Assert.Equal(1, a.PinUserRun([VirtPage.Map(10), new(MappingKind.NoPin, 11)], false, pages));
        Assert.Equal(1, a.PinUserRun([VirtPage.Map(12), VirtPage.Map(40)], false, pages)); // PFN 40: hole section 2
        Assert.Equal(2, a.PinUserRun(ptes, false, pages.AsSpan(0, 2)));                      // as many as there is room for
        Assert.Equal(0, a.PinUserRun([], false, pages));
        Assert.Equal(
            [new PinCount(4, 3), new PinCount(5, 3), new PinCount(6, 1), new PinCount(7, 1), new PinCount(8, 1), new PinCount(10, 1), new PinCount(12, 1)],
            a.PinTable().ToArray());

        foreach (var other in new[] { Geometry("vmemmap-64-32bit"), Geometry("vmemmap-72"), Geometry("sparse-64"), Geometry("flatmem-64-off8"), WithPgmaps() })
        {
            using var o = new MemmapArena(other, new RunLog(), other.Machine.Is64Bit);
            ulong s = other.Facts.SectionStart(other.Memory.PresentSections[0]);
            Assert.Equal(0, o.PinUserRun([VirtPage.Map(s + 4), VirtPage.Map(s + 5)], false, pages));
            Assert.Empty(o.PinTable());
        }
    }

    /// <summary>
    /// FolioRun, the page loop of get_contig_folio_len: each next page must be the next struct page and in the
    /// folio. Order-2 folios at PFNs 4 and 8 are adjacent in the memmap, so only the folio test ends a run at 8.
    /// Run twice: first every record is read through the checked path (not set up yet), then inline.
    /// </summary>
    [Fact]
    public void The_folio_run_takes_the_next_pages_of_the_folio_and_stops_at_its_end()
    {
        var w = Valid(Geometry("vmemmap-64") with { Folios = [new Folio(4, 2), new Folio(8, 2)] });
        using var a = new MemmapArena(w, new RunLog(), true);
        ulong[] run = Enumerable.Range(4, 6).Select(i => a.PfnToPage((ulong)i)).ToArray(); // PFNs 4..9
        ulong P(ulong pfn) => a.PfnToPage(pfn);
        for (int pass = 0; pass < 2; pass++)
        {
            Assert.Equal(4, a.FolioRun(run, P(3), P(4)));         // from the head itself
            Assert.Equal(3, a.FolioRun(run.AsSpan(1), P(4), P(4)));
            Assert.Equal(2, a.FolioRun(run.AsSpan(4), P(7), P(8)));
            Assert.Equal(0, a.FolioRun(run.AsSpan(4), P(7), P(4))); // the next struct page, in the next folio
            Assert.Equal(0, a.FolioRun(new[] { P(6) }, P(4), P(4))); // in the folio, not the next struct page
            Assert.Equal(1, a.FolioRun(new[] { P(3) }, P(2), P(3))); // an order-0 page is its own folio
            Assert.Equal(0, a.FolioRun([], P(3), P(4)));
        }
    }

    // ---------------------------------------------------------------- 64-bit arenas of more than 4 GiB

    /// <summary>
    /// SPARSEMEM_VMEMMAP with 32-byte struct pages, 2^18-page sections (8 MiB of memmap each), every even section
    /// from 0 to 512 present: the arena spans 513 sections, just over 4 GiB, and each present section but the last is followed
    /// by a hole. Only the records these tests touch are ever committed.
    /// </summary>
    private static World HalfPresentVmemmap4G()
    {
        return Valid(World.Create(Vmemmap32ByteLargeSections(), Enumerable.Range(0, 257).Select(i => 2 * (ulong)i)));
    }

    private const ulong Pps4G = 1UL << 18;

    /// <summary>
    /// A 64-bit page pointer's bits 24..31 reach 0x5A somewhere in any 4 GiB: take the order-2 folio at the end
    /// of the present section where the head's pointer has 0x5A in byte 3. Its tails' compound_head links then
    /// have 0x5A in record byte 11, 21 bytes before the next record's mark. After the folio goes back
    /// (FolioPut leaves the links and clears the marks) and in the hole after its last tail, every fast path must
    /// still go by the real mark.
    /// </summary>
    [Fact]
    public void Stale_head_links_that_read_as_the_mark_do_not_make_the_next_record_set_up()
    {
        var w = HalfPresentVmemmap4G();
        var log = new RunLog();
        using var a = new MemmapArena(w, log, true);
        ulong head = 0;
        for (ulong s = 0; s <= 510 && head == 0; s += 2)
            if (((a.PfnToPage((s + 1) * Pps4G - 4) >> 24) & 0xff) == MarkByte) head = (s + 1) * Pps4G - 4;
        Assert.NotEqual(0UL, head);
        ulong P(ulong pfn) => a.PfnToPage(pfn);
        ulong h = a.PrepFolio(head, 2);
        Assert.Equal(P(head), h);
        // The record after the last tail is in the hole section: page_to_phys of it is fatal.
        ulong hole = a.Add(P(head + 3), 1);
        Assert.Equal(Diag.WildPage(w.Facts.MemmapAddress(head + 3)!.Value + 32), Assert.Throws<OptViolation>(() => a.PageToPhys(hole)).Message);
        Assert.Equal((head + 3) << 12, a.PageToPhys(P(head + 3)));
        Assert.Equal(2, a.FolioPut(h));
        // The GUP fast loop sets up the tail it pins (a pin in a record not set up would be lost when it is).
        var pages = new ulong[1];
        Assert.Equal(1, a.PinUserRun([VirtPage.Map(head + 3)], true, pages));
        Assert.Equal(P(head + 3), pages[0]);
        Assert.Equal([new PinCount(head + 3, 1)], a.PinTable().ToArray());
        // get_contig_folio_len's loop reads page head + 2 as memmap_init made it: its own folio.
        Assert.Equal(1, a.FolioRun(new[] { P(head + 2) }, P(head + 1), P(head + 2)));
        Assert.Equal(P(head + 1), a.PageFolio(P(head + 1)));
        Assert.Single(log.Violations);
    }

    /// <summary>
    /// On a 64-bit arena a page pointer is the arena base plus the record's offset; the 32-bit handle (offset plus
    /// 0x10000) is never how it is read. For PFN x, the page z whose pointer's low 32 bits equal x's 32-bit handle
    /// is still its own record: making x an order-2 head leaves z order 0.
    /// </summary>
    [Fact]
    public void A_wide_pointer_is_never_read_by_its_low_32_bits()
    {
        // Every section present here, so whichever PFN the low 32 bits name has a struct page.
        var w = Valid(World.Create(Vmemmap32ByteLargeSections(), Enumerable.Range(0, 513).Select(i => (ulong)i)));
        using var a = new MemmapArena(w, new RunLog(), true);
        ulong b = a.PfnToPage(0);
        // z's pointer is b + 32·z; its low 32 bits must be x's 32-bit handle, 32·x + 0x10000 (a second x in case
        // the first one's z falls inside its own folio).
        static ulong Alias(ulong x, ulong b) => ((x * 32 + 0x10000 - (uint)b) & 0xffffffffUL) / 32;
        ulong x = 64, z = Alias(x, b);
        if (z >= x && z < x + 4) (x, z) = (4096, Alias(4096, b));
        Assert.Equal(x * 32 + 0x10000, (ulong)(uint)a.PfnToPage(z)); // the premise: z's low 32 bits are x's handle
        ulong hx = a.PrepFolio(x, 2);
        Assert.Equal(2, a.FolioOrder(hx));
        ulong pz2 = a.PfnToPage(z);
        Assert.Equal(0, a.FolioOrder(pz2));
        Assert.Equal(pz2, a.PageFolio(pz2));
        Assert.Equal(z, a.PageToPfn(pz2));
        // and a pointer difference of 2^31 bytes is 2^26 records, not −2^26 (no 32-bit ptrdiff_t on a 64-bit kernel)
        Assert.Equal(1L << 26, a.Diff(a.PfnToPage(1UL << 26), b));
        Assert.Equal(-(1L << 26), a.Diff(b, a.PfnToPage(1UL << 26)));
    }

    /// <summary>
    /// Classic SPARSEMEM whose section 2 memmap is 4 GiB above the adjacent memmaps of sections 0 and 1: the section
    /// run from PFN 10 still reads the records it is given (section 0 up to PFN 15, then section 1), not memory
    /// at the pointer's low 32 bits.
    /// </summary>
    [Fact]
    public void A_section_run_in_an_arena_over_4_GiB_reads_its_own_records()
    {
        var w = Valid(World.Create(Cfg(MemoryModel.Sparsemem, 64), [0, 1, 2], MemmapPlacement.Independent(0x100000, 0x100400, 0x100000 + (1UL << 32))));
        using (var a = new MemmapArena(w, new RunLog(), true))
        {
            ulong first = a.PfnToPage(10);
            Assert.Equal(0UL, a.PageToSection(first));
            Assert.Equal(6, a.SectionRun(first, 0, 1, 12));
            Assert.Equal(2UL, a.PageToSection(a.PfnToPage(40)));
        }
        Same(w, new NumPagesContiguousOp(Enumerable.Range(10, 12).Select(i => (ulong)i).ToEqArray()), r => Assert.Equal([6L], r.Returns));
    }
}
