using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// Generates simulated machines and worlds that reach the boundaries the properties care about: tiny
/// sections (4–32 pages) so section ends are everywhere, holes between sections, node-buffer memmaps
/// that become adjacent across a hole, independent memmaps that are adjacent by chance, large folios that
/// fill (and in VMEMMAP/FLATMEM cross) sections, pgmaps that meet, user buffers that run across all of
/// them with COW'd pages and unpinnable tails.
/// </summary>
public static class WorldGen
{
    public static MachineConfig Machine(Draw d, MemoryModel? model = null)
    {
        int pageShift = d.Weighted((85, 12), (5, 14), (10, 16));
        int k = d.Int(2, 5);
        var mdl = model ?? d.Weighted((25, MemoryModel.Flatmem), (45, MemoryModel.Sparsemem), (30, MemoryModel.SparsememVmemmap));
        bool is64 = !d.Chance(0.15);
        bool zd = d.Chance(0.9);
        // Start from the tiny preset of the model, so that scenario files print only what differs from it.
        var basis = ArchPresets.Get(mdl switch
        {
            MemoryModel.Flatmem => "tiny-flatmem",
            MemoryModel.Sparsemem => "tiny-sparsemem",
            _ => "tiny-vmemmap",
        });
        var m = basis with
        {
            PageShift = pageShift,
            SectionSizeBits = pageShift + k,
            Model = mdl,
            StructPageSize = is64 ? 64 : 32,
            Is64Bit = is64,
            MaxPhysmemBits = is64 ? 46 : 36,
            MaxPageOrder = Math.Min(3, k),
            GiganticFolios = !d.Chance(0.1),
            ZoneDevice = zd,
            PciP2pdma = zd && d.Chance(0.85),
            Kmsan = d.Chance(0.08),
            XenGuest = d.Chance(0.08),
            XenPageSizeMatches = !d.Chance(0.2),
            DebugKernel = d.Chance(0.3),
        };
        // sizeof(struct page) under KMSAN: the shadow and origin page pointers make it 80 (include/linux/mm_types.h),
        // no power of two, so pfn_to_page and page_to_pfn divide and the optimized VMEMMAP inline path is off. Decided
        // from draws already made, so every other world is drawn exactly as before. Classic SPARSEMEM keeps 64: its
        // tiny sections' memmaps would not be page multiples, and the section memmap bases must stay aligned for the
        // section_mem_map encoding (WorldValidator). Other odd sizes (56, 72) are in tests/MutationArenaTests.cs.
        return m.Kmsan && m.Is64Bit && mdl != MemoryModel.Sparsemem ? m with { StructPageSize = 80 } : m;
    }

    /// <summary>A whole world on a generated machine.</summary>
    public static World Any(Draw d, MemoryModel? model = null, double pgmapChance = 0.5, int maxUserPages = 24)
        => Build(d, Machine(d, model), pgmapChance, maxUserPages);

    /// <summary>
    /// Classic SPARSEMEM with node-buffer placement and a hole section: the memmaps on both sides of the
    /// hole are adjacent, so "page + 1" lands on an unrelated PFN (the false-positive hazard of npc).
    /// </summary>
    public static World HoleyNodeBuffer(Draw d, double pgmapChance = 0.2)
        => Build(d, Machine(d, MemoryModel.Sparsemem), pgmapChance, forceHole: true, policy: PlacementPolicy.NodeBuffer);

    public static World Build(Draw d, MachineConfig m, double pgmapChance = 0.5, int maxUserPages = 24, bool forceHole = false, PlacementPolicy? policy = null)
    {
        int nSections = d.Int(forceHole ? 2 : 1, Math.Clamp(1 + d.Size / 15, forceHole ? 2 : 1, 5));
        ulong sec = d.Chance(0.5) ? 0UL : (ulong)d.Int(1, 3);
        var sections = new List<ulong>();
        int holeAt = forceHole ? d.Int(1, nSections - 1) : -1;
        for (int i = 0; i < nSections; i++)
        {
            if (i == holeAt) sec += (ulong)d.Int(1, 2);
            sections.Add(sec);
            sec += 1 + (d.Chance(0.3) ? (ulong)d.Int(1, 2) : 0);
        }
        if (m.Model == MemoryModel.Flatmem && d.Chance(0.2))
            m = m with { ArchPfnOffset = sections[0] << m.PfnSectionShift };
        var placement = m.Model != MemoryModel.Sparsemem ? MemmapPlacement.NodeBuffer()
            : policy == PlacementPolicy.NodeBuffer ? MemmapPlacement.NodeBuffer()
            : Placement(d, m, sections.Count);
        var w = World.Create(m, sections, placement);
        w = w with { Folios = Folios(d, w).ToEqArray() };
        if (m.ZoneDevice && d.Chance(pgmapChance)) w = w with { Pgmaps = Pgmaps(d, w).ToEqArray() };
        w = w with
        {
            User = new AddressSpace(AddressSpace.DefaultUserBaseFor(m), UserPages(d, w, d.Int(1, Math.Max(1, Math.Min(maxUserPages, 2 + d.Size / 3)))).ToEqArray()),
        };
        if (d.Chance(0.5))
            w = w with { Kernel = new AddressSpace(AddressSpace.DefaultVmallocBase, UserPages(d, w, d.Int(1, 12), kinds: false).ToEqArray()) };
        if (m.XenGuest && d.Chance(0.6)) w = w with { Xen = XenRanges(d, w).ToEqArray() };
        var problems = w.Problems();
        if (problems.Count > 0)
            throw new InvalidOperationException("generator built an invalid world: " + string.Join("; ", problems.Select(p => $"{p.Path}: {p.Reason}")));
        return w;
    }

    /// <summary>
    /// A world whose sections hold 2^20 pages (4 GiB with 4 KiB pages), so a bio can reach BIO_MAX_SIZE
    /// with real bvecs.
    /// </summary>
    public static World Big(Draw d)
    {
        var m = ArchPresets.Get(d.Chance(0.5) ? "tiny-vmemmap" : "tiny-flatmem") with { SectionSizeBits = 32, MaxPageOrder = 10 };
        var w = World.Create(m, d.Chance(0.7) ? [0UL, 1UL] : [0UL]);
        var folios = new List<Folio>();
        ulong end = m.PagesPerSection;
        int o = d.Int(0, 9);
        if (o > 0) folios.Add(new Folio(end - (1UL << o), o));
        if (d.Chance(0.5)) folios.Add(new Folio(0, d.Chance(0.5) ? 19 : 18)); // a 2 GiB or 1 GiB folio
        w = w with { Folios = folios.ToEqArray() };
        if (w.Memory.PresentSections.Length > 1 && d.Chance(0.5))
            w = w with { Pgmaps = [new Pgmap(1, d.Chance(0.5) ? MemoryType.PciP2pdma : MemoryType.Generic, end, 16, "nvme0")] };
        return w;
    }

    /// <summary>
    /// A classic SPARSEMEM placement for <paramref name="nSections"/> present sections: node-buffer, padded, or
    /// independent bases that are often right after (or before) another section's memmap and otherwise apart.
    /// <paramref name="policy"/> forces the policy (the memmap/* variants).
    /// </summary>
    public static MemmapPlacement Placement(Draw d, MachineConfig m, int nSections, PlacementPolicy? policy = null)
    {
        ulong bytes = (ulong)m.StructPageSize * m.PagesPerSection;
        ulong align = Math.Min(bytes, m.PageSize);
        var policy_ = policy ?? d.Weighted((40, PlacementPolicy.NodeBuffer), (35, PlacementPolicy.Independent), (25, PlacementPolicy.Padded));
        ulong origin = MemmapPlacement.Origin + (ulong)d.Int(0, 3) * align * 16;
        if (policy_ == PlacementPolicy.NodeBuffer) return MemmapPlacement.NodeBuffer(origin);
        if (policy_ == PlacementPolicy.Padded) return MemmapPlacement.Padded(origin);
        var spans = new List<(ulong Start, ulong End)>();
        var bases = new ulong[nSections];
        ulong top = origin + 64 * bytes;
        for (int i = 0; i < nSections; i++)
        {
            ulong b;
            int choice = d.Int(0, 99);
            if (i > 0 && choice < 50) b = spans[^1].End;                                   // right after the previous one
            else if (i > 0 && choice < 65 && spans.Min(s => s.Start) >= origin + bytes) b = spans.Min(s => s.Start) - bytes; // right before the lowest
            else { b = top + (ulong)d.Int(1, 4) * align; }
            if (spans.Any(s => b < s.End && s.Start < b + bytes) || b < MemmapPlacement.Origin) b = top + align;
            spans.Add((b, b + bytes));
            top = Math.Max(top, b + bytes);
            bases[i] = b;
        }
        return MemmapPlacement.Independent(bases);
    }

    /// <summary>Carves each run of consecutive present sections into naturally aligned folios, biased to both small and maximal orders.</summary>
    private static List<Folio> Folios(Draw d, World w)
    {
        var m = w.Machine;
        var list = new List<Folio>();
        foreach (var (start, end) in Blocks(w))
        {
            ulong pos = start;
            while (pos < end)
            {
                int max = 0;
                while (max + 1 <= m.MaxFolioOrder && pos % (1UL << (max + 1)) == 0 && pos + (1UL << (max + 1)) <= end && max + 1 <= m.PfnSectionShift + 2)
                    max++;
                int order = d.Weighted((45, 0), (35, max == 0 ? 0 : d.Int(1, max)), (20, max));
                if (order > 0) list.Add(new Folio(pos, order));
                pos += 1UL << order;
            }
        }
        return list;
    }

    /// <summary>Runs of consecutive present sections as PFN ranges [start, end).</summary>
    public static List<(ulong Start, ulong End)> Blocks(World w)
    {
        var f = w.Facts;
        var blocks = new List<(ulong, ulong)>();
        var secs = w.Memory.PresentSections;
        int i = 0;
        while (i < secs.Length)
        {
            int j = i;
            while (j + 1 < secs.Length && secs[j + 1] == secs[j] + 1) j++;
            blocks.Add((f.SectionStart(secs[i]), f.SectionStart(secs[j] + 1)));
            i = j + 1;
        }
        return blocks;
    }

    /// <summary>Folio spans (order-0 pages included) in PFN order, per block.</summary>
    private static List<List<(ulong Start, ulong End)>> Spans(World w)
    {
        var f = w.Facts;
        var result = new List<List<(ulong, ulong)>>();
        foreach (var (start, end) in Blocks(w))
        {
            var spans = new List<(ulong, ulong)>();
            ulong pos = start;
            while (pos < end)
            {
                var fo = f.FolioOf(pos);
                spans.Add((pos, fo.End));
                pos = fo.End;
            }
            result.Add(spans);
        }
        return result;
    }

    private static List<Pgmap> Pgmaps(Draw d, World w)
    {
        var m = w.Machine;
        var blocks = Spans(w);
        var list = new List<Pgmap>();
        var used = new List<(ulong Start, ulong End)>();
        int n = d.Int(1, 3);
        ulong? nextStart = null;
        for (int id = 1; id <= n; id++)
        {
            var block = d.Pick(blocks);
            int i = d.Int(0, block.Count - 1);
            if (nextStart is { } ns && d.Chance(0.6))
            {
                // Make this pgmap start exactly where the previous one ended (a pgmap change inside a buffer).
                var bl = blocks.FirstOrDefault(b => b.Any(s => s.Start == ns));
                if (bl is not null) { block = bl; i = bl.FindIndex(s => s.Start == ns); }
            }
            int len = d.Int(1, 6);
            ulong s0 = block[i].Start;
            ulong e0 = block[Math.Min(block.Count - 1, i + len - 1)].End;
            if (used.Any(u => s0 < u.End && u.Start < e0)) continue;
            used.Add((s0, e0));
            var type = d.Weighted((m.PciP2pdma ? 40 : 0, MemoryType.PciP2pdma), (40, MemoryType.Generic), (20, MemoryType.FsDax));
            list.Add(new Pgmap(id, type, s0, e0 - s0, type == MemoryType.PciP2pdma ? $"nvme{d.Int(0, 1)}" : null));
            nextStart = e0;
        }
        return list;
    }

    /// <summary>PFNs worth starting a buffer at: section edges, folio edges and middles, pgmap edges.</summary>
    public static List<ulong> InterestingPfns(World w)
    {
        var f = w.Facts;
        var m = w.Machine;
        var set = new SortedSet<ulong>();
        foreach (var s in w.Memory.PresentSections)
        {
            ulong a = f.SectionStart(s);
            set.Add(a);
            set.Add(a + m.PagesPerSection - 1);
            if (m.PagesPerSection > 2) set.Add(a + m.PagesPerSection - 2);
        }
        foreach (var fo in w.Folios)
        {
            set.Add(fo.Head);
            set.Add(fo.End - 1);
            set.Add(fo.Head + fo.NrPages / 2);
        }
        foreach (var p in w.Pgmaps)
        {
            set.Add(p.Start);
            set.Add(p.End - 1);
        }
        return set.Where(f.IsPresent).ToList();
    }

    /// <summary>
    /// A world whose user buffer is a run across a section boundary with the two memmaps adjacent
    /// (FLATMEM, VMEMMAP, or classic with the memmaps placed together), or null when none exists.
    /// </summary>
    public static World? CrossSectionBuffer(Draw d)
    {
        var w = Any(d, d.Weighted((40, (MemoryModel?)MemoryModel.Sparsemem), (60, null)), pgmapChance: 0.3);
        var f = w.Facts;
        ulong sz = (ulong)w.Machine.StructPageSize;
        var edges = w.Memory.PresentSections
            .Where(s => f.IsSectionPresent(s + 1) && f.MemmapAddress(f.SectionStart(s + 1)) == f.MemmapAddress(f.SectionStart(s + 1) - 1) + sz)
            .ToList();
        if (edges.Count == 0) return null;
        ulong edge = f.SectionStart(d.Pick(edges) + 1);
        int before = d.Int(1, (int)Math.Min(3, w.Machine.PagesPerSection)), after = d.Int(1, 3);
        var pages = new List<VirtPage>();
        for (ulong p = edge - (ulong)before; p < edge + (ulong)after && f.IsPresent(p); p++) pages.Add(VirtPage.Map(p));
        return w with { User = w.User with { Pages = pages.ToEqArray() } };
    }

    /// <summary>
    /// A world made for the folio size rule (MM-4, VARIANTS.md folio/*): small sections (1, 2 or 4 pages), two or four
    /// consecutive present sections from an even one, any placement, and one folio of 2 or 4 sections' worth of
    /// pages starting at the first, so it crosses section boundaries. Under <see cref="FolioSizeRule.MaxFolioOrder"/>
    /// in classic SPARSEMEM such a world breaks the rule (and must be refused); under
    /// <see cref="FolioSizeRule.CrossSection"/> it is the pre-6.18 gigantic folio.
    /// </summary>
    public static World GiganticFolio(Draw d, MemoryModel? model = null, FolioSizeRule rule = FolioSizeRule.MaxFolioOrder)
    {
        var basis = Machine(d, model);
        int k = d.Weighted((60, 0), (25, 1), (15, 2));
        var m = basis with
        {
            SectionSizeBits = basis.PageShift + k,
            MaxPageOrder = Math.Min(basis.MaxPageOrder, k),
            GiganticFolios = true,
            FolioRule = rule,
            ArchPfnOffset = 0,
        };
        int span = d.Chance(0.75) ? 1 : 2; // the folio covers 2^span sections
        ulong s0 = (ulong)d.Int(0, 2) << span;
        var sections = Enumerable.Range(0, 1 << span).Select(i => s0 + (ulong)i).ToList();
        if (d.Chance(0.3)) sections.Add(s0 + (1UL << span) + (ulong)d.Int(0, 1));
        var placement = m.Model == MemoryModel.Sparsemem ? Placement(d, m, sections.Count) : MemmapPlacement.NodeBuffer();
        var w = World.Create(m, sections, placement);
        return w with { Folios = [new Folio(s0 << m.PfnSectionShift, k + span)] };
    }

    /// <summary>A world whose user buffer is a large folio with one page in the middle COW'd (replaced by another folio's page).</summary>
    public static World? CowBuffer(Draw d)
    {
        var w = Any(d, pgmapChance: 0.2);
        var f = w.Facts;
        var large = w.Folios.Where(fo => fo.Order >= 2).ToList();
        if (large.Count == 0) return null;
        var fo = d.Pick(large);
        var pages = new List<VirtPage>();
        for (ulong p = fo.Head; p < fo.End && pages.Count < 12; p++) pages.Add(VirtPage.Map(p));
        int cow = d.Int(1, pages.Count - 2);
        for (int tries = 0; tries < 8; tries++)
        {
            ulong q = RandomPresentPfn(d, w);
            if (!fo.Contains(q)) { pages[cow] = VirtPage.Map(q); break; }
        }
        return w with { User = w.User with { Pages = pages.ToEqArray() } };
    }

    /// <summary>One of the last two PFNs of a section whose next section is present (a run from it crosses the boundary), or null.</summary>
    public static ulong? SectionEndBeforePresent(Draw d, World w)
    {
        var f = w.Facts;
        var secs = w.Memory.PresentSections.Where(s => f.IsSectionPresent(s + 1)).ToList();
        if (secs.Count == 0) return null;
        ulong end = f.SectionStart(d.Pick(secs) + 1);
        return end - (ulong)d.Int(1, (int)Math.Min(2, w.Machine.PagesPerSection));
    }

    public static ulong RandomPresentPfn(Draw d, World w)
    {
        var f = w.Facts;
        ulong s = d.Pick(w.Memory.PresentSections.Items);
        return f.SectionStart(s) + d.U64(0, w.Machine.PagesPerSection - 1);
    }

    /// <summary>
    /// A buffer of virtual pages: runs of consecutive PFNs starting at interesting places (so they cross
    /// section, folio and pgmap boundaries), single pages, a COW'd page inside a large folio, and sometimes
    /// a page GUP cannot pin.
    /// </summary>
    public static List<VirtPage> UserPages(Draw d, World w, int n, bool kinds = true)
    {
        var f = w.Facts;
        var interesting = InterestingPfns(w);
        var pages = new List<VirtPage>();
        while (pages.Count < n)
        {
            if (d.Chance(0.75))
            {
                ulong pfn = d.Chance(0.7) && interesting.Count > 0 ? d.Pick(interesting) : RandomPresentPfn(d, w);
                if (d.Chance(0.25) && SectionEndBeforePresent(d, w) is { } edge) pfn = edge;
                if (d.Chance(0.3) && pfn > 0 && f.IsPresent(pfn - 1)) pfn--;
                int len = d.Int(1, n - pages.Count);
                for (int i = 0; i < len && f.IsPresent(pfn + (ulong)i); i++) pages.Add(VirtPage.Map(pfn + (ulong)i));
            }
            else pages.Add(VirtPage.Map(RandomPresentPfn(d, w)));
        }
        if (pages.Count > n) pages.RemoveRange(n, pages.Count - n);
        if (d.Chance(0.25))
        {
            // COW: one page in the middle of a large folio replaced by a page of another folio.
            var inLarge = Enumerable.Range(0, pages.Count).Where(i => f.FolioOf(pages[i].Pfn).Order > 0).ToList();
            if (inLarge.Count > 0)
            {
                int i = d.Pick(inLarge);
                var folio = f.FolioOf(pages[i].Pfn);
                for (int tries = 0; tries < 8; tries++)
                {
                    ulong q = RandomPresentPfn(d, w);
                    if (!folio.Contains(q) && (f.FolioOf(q).Order == 0 || tries > 4))
                    {
                        pages[i] = VirtPage.Map(q);
                        break;
                    }
                }
            }
        }
        if (kinds && d.Chance(0.12))
        {
            int i = d.Chance(0.6) ? pages.Count - 1 : d.Int(0, pages.Count - 1);
            var kind = d.Weighted((40, MappingKind.Unmapped), (30, MappingKind.ReadOnly), (30, MappingKind.NoPin));
            pages[i] = kind == MappingKind.Unmapped ? VirtPage.Hole : pages[i] with { Kind = kind };
        }
        return pages;
    }

    private static List<XenRange> XenRanges(Draw d, World w)
    {
        var list = new List<XenRange>();
        var blocks = Blocks(w);
        var (s, e) = d.Pick(blocks);
        ulong start = d.U64(s, e - 1);
        ulong count = d.U64(1, e - start);
        list.Add(new XenRange(start, count, start + d.U64(1, 64) * 2));
        return list;
    }
}
