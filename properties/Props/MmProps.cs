using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>MM — memory model and sparsemem section rules (INVARIANTS.md).</summary>
public static class MmProps
{
    /// <summary>Section geometry of KERNEL-SPEC §5.3, written out here independently of <see cref="ArchPresets"/>.</summary>
    private static readonly Dictionary<string, (int PageShift, int SectionBits, ulong PagesPerSection)> Table = new()
    {
        ["x86-64"] = (12, 27, 32768),
        ["x86-32-pae"] = (12, 29, 131072),
        ["x86-32"] = (12, 26, 16384),
        ["arm64-4k"] = (12, 27, 32768),
        ["arm64-16k"] = (14, 27, 8192),
        ["arm64-64k"] = (16, 29, 8192),
        ["powerpc-4k"] = (12, 24, 4096),
        ["powerpc-64k"] = (16, 24, 256),
        ["s390"] = (12, 28, 65536),
        ["riscv"] = (12, 27, 32768),
    };

    private static World GenWorld(Draw d)
    {
        if (d.Chance(0.2))
        {
            var names = Table.Keys.ToList();
            var m = ArchPresets.Get(d.Pick(names));
            ulong s0 = (ulong)d.Int(0, 4);
            var secs = d.Chance(0.5) ? new[] { s0 } : new[] { s0, s0 + 1 + (ulong)d.Int(0, 1) };
            var w = World.Create(m, secs, m.Model == MemoryModel.Sparsemem && d.Chance(0.5) ? MemmapPlacement.Padded() : null);
            return w;
        }
        return WorldGen.Any(d, pgmapChance: 0.3, maxUserPages: 2);
    }

    /// <summary>Every PFN with a struct page when there are few, otherwise section edges and a sample.</summary>
    public static IEnumerable<ulong> SamplePfns(World w)
    {
        var f = w.Facts;
        ulong pps = w.Machine.PagesPerSection;
        foreach (var s in w.Memory.PresentSections)
        {
            ulong a = f.SectionStart(s);
            if (pps <= 64)
                for (ulong p = a; p < a + pps; p++) yield return p;
            else
            {
                foreach (var k in new ulong[] { 0, 1, pps / 2, pps - 2, pps - 1 }) yield return a + k;
                ulong step = pps / 16;
                for (ulong k = step; k < pps; k += step) yield return a + k - 1;
            }
        }
    }

    private static IEnumerable<string> Classes(Case c)
    {
        var w = c.World;
        yield return Ref.ModelName(w);
        if (w.Machine.Model == MemoryModel.Sparsemem) yield return "placement " + MemmapPlacement.PolicyName(w.Memory.Placement.Policy);
        var secs = w.Memory.PresentSections;
        for (int i = 1; i < secs.Length; i++)
            if (secs[i] > secs[i - 1] + 1) { yield return "hole between sections"; break; }
        if (AdjacentAcrossBoundary(w)) yield return "section memmaps adjacent (classic)";
        if (w.Folios.Any(fo => w.Facts.SectionNr(fo.Head) != w.Facts.SectionNr(fo.End - 1))) yield return "folio crosses a section";
        if (Table.ContainsKey(w.Machine.Name)) yield return "architecture preset";
    }

    private static bool AdjacentAcrossBoundary(World w)
    {
        if (w.Machine.Model != MemoryModel.Sparsemem) return false;
        var f = w.Facts;
        var secs = w.Memory.PresentSections;
        for (int i = 1; i < secs.Length; i++)
            if (f.SectionMemmapBase(secs[i]) == f.SectionMemmapBase(secs[i - 1]) + f.SectionMemmapBytes) return true;
        return false;
    }

    /// <summary>Whether the placement, by its own rule, puts section b's memmap right after section a's.</summary>
    private static bool PlacementAdjacent(World w, ulong a, ulong b)
    {
        var p = w.Memory.Placement;
        var secs = w.Memory.PresentSections.Items;
        int ia = secs.IndexOf(a), ib = secs.IndexOf(b);
        ulong bytes = (ulong)w.Machine.StructPageSize * w.Machine.PagesPerSection;
        return p.Policy switch
        {
            PlacementPolicy.NodeBuffer => ib == ia + 1,
            PlacementPolicy.Padded => false,
            _ => p.Bases[ib] == p.Bases[ia] + bytes,
        };
    }

    public static IEnumerable<PropertyDef> All()
    {
        yield return new PropertyDef
        {
            Id = "MM-1",
            Title = "PageToPfn(PfnToPage(p)) == p for every PFN with a struct page, in every memory model",
            Generate = d => new Case(GenWorld(d), null),
            Classify = Classes,
            Required = [("SPARSEMEM", 0.2), ("FLATMEM", 0.1), ("VMEMMAP", 0.1)],
            Weight = 0.5,
            Check = c =>
            {
                var mm = new MemoryModelRules(c.World);
                foreach (var pfn in SamplePfns(c.World))
                {
                    ulong back = mm.PageToPfn(mm.PfnToPage(pfn));
                    if (back != pfn) return Verdict.Fail($"pfn_to_page(0x{pfn:x}) = {LayoutRenderer.MemmapRel(mm.PfnToPage(pfn))}, page_to_pfn of that = 0x{back:x}");
                }
                return Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "MM-2",
            Title = "PfnToPage(p+1) == PfnToPage(p)+1 inside a section; across one always in FLATMEM/VMEMMAP, in SPARSEMEM only when the placement made the memmaps adjacent",
            Generate = d => new Case(GenWorld(d), null),
            GenerateIn = (d, model) => new Case(WorldGen.Any(d, model, pgmapChance: 0.3, maxUserPages: 2), null),
            Classify = Classes,
            Required = [("section memmaps adjacent (classic)", 0.05), ("hole between sections", 0.1)],
            Weight = 0.5,
            Check = c =>
            {
                var w = c.World;
                var mm = new MemoryModelRules(w);
                var f = w.Facts;
                foreach (var p in SamplePfns(w))
                {
                    if (!f.HasMemmap(p + 1)) continue;
                    bool same = f.SectionNr(p) == f.SectionNr(p + 1);
                    bool expected = same || w.Machine.Model != MemoryModel.Sparsemem || PlacementAdjacent(w, f.SectionNr(p), f.SectionNr(p + 1));
                    bool actual = mm.PfnToPage(p + 1) == mm.PageAdd(mm.PfnToPage(p), 1);
                    if (actual != expected)
                        return Verdict.Fail($"PFN 0x{p:x} → 0x{p + 1:x} ({(same ? "same section" : "section boundary")}): struct pages {(actual ? "adjacent" : "not adjacent")}, the {MemmapPlacement.PolicyName(w.Memory.Placement.Policy)} placement says {(expected ? "adjacent" : "not adjacent")}");
                }
                return Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "MM-3",
            Title = "Section geometry: PAGES_PER_SECTION = 2^(SECTION_SIZE_BITS − PAGE_SHIFT), pfn_to_section_nr / section_nr_to_pfn inverse, presets match KERNEL-SPEC §5.3",
            Generate = d => new Case(GenWorld(d), null),
            Classify = Classes,
            Required = [("architecture preset", 0.1)],
            Weight = 0.5,
            Check = c =>
            {
                var w = c.World;
                var m = w.Machine;
                var mm = new MemoryModelRules(w);
                foreach (var (name, (ps, sb, pps)) in Table)
                {
                    var pre = ArchPresets.Get(name);
                    if (pre.PageShift != ps || pre.SectionSizeBits != sb || pre.PagesPerSection != pps)
                        return Verdict.Fail($"preset {name}: PAGE_SHIFT {pre.PageShift}, SECTION_SIZE_BITS {pre.SectionSizeBits}, {pre.PagesPerSection} pages/section; §5.3 says {ps}, {sb}, {pps}");
                }
                if (m.PagesPerSection != 1UL << (m.SectionSizeBits - m.PageShift))
                    return Verdict.Fail($"PAGES_PER_SECTION {m.PagesPerSection} != 2^({m.SectionSizeBits} − {m.PageShift})");
                foreach (var s in w.Memory.PresentSections.Concat([0UL, 1UL, 7UL]))
                {
                    ulong start = mm.SectionNrToPfn(s);
                    if (start != s * m.PagesPerSection) return Verdict.Fail($"section_nr_to_pfn({s}) = 0x{start:x}, expected 0x{s * m.PagesPerSection:x}");
                    if (mm.PfnToSectionNr(start) != s) return Verdict.Fail($"pfn_to_section_nr(section_nr_to_pfn({s})) = {mm.PfnToSectionNr(start)}");
                    if (mm.PfnToSectionNr(start + m.PagesPerSection - 1) != s) return Verdict.Fail($"the last PFN of section {s} is not in section {s}");
                }
                return Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "MM-4",
            Title = "FolioPage(f, k) is the struct page of head+k and FolioPageIdx(f, FolioPage(f, k)) == k; a classic-SPARSEMEM folio that crosses a section is refused (MAX_FOLIO_ORDER)",
            Generate = d => new Case(d.Chance(0.2)
                // A gigantic folio over sections: in classic SPARSEMEM under the 6.18 rule the world breaks MAX_FOLIO_ORDER.
                ? WorldGen.GiganticFolio(d, d.Weighted((60, (MemoryModel?)MemoryModel.Sparsemem), (40, null)))
                : WorldGen.Any(d, pgmapChance: 0.2, maxUserPages: 2), null),
            GenerateIn = (d, model) => new Case(d.Chance(0.3) ? WorldGen.GiganticFolio(d, model) : WorldGen.Any(d, model, pgmapChance: 0.2, maxUserPages: 2), null),
            Classify = c => Classes(c).Append(c.World.Problems().Count > 0 ? "rule-breaking world" : "valid world"),
            Required = [("folio crosses a section", 0.05), ("rule-breaking world", 0.05)],
            Check = c =>
            {
                var w = c.World;
                var problems = w.Problems();
                if (w.Machine.Model == MemoryModel.Sparsemem && w.Machine.FolioRule == FolioSizeRule.MaxFolioOrder &&
                    w.Folios.Any(fo => w.Facts.SectionNr(fo.Head) != w.Facts.SectionNr(fo.End - 1)))
                    return Verdict.Require(problems.Any(p => p.Path.StartsWith("$.folios", StringComparison.Ordinal) && p.Reason.Contains("MAX_FOLIO_ORDER", StringComparison.Ordinal)),
                        () => "a folio crosses a section in classic SPARSEMEM but the world was accepted");
                if (problems.Count > 0) return Verdict.Fail("generated world is invalid: " + problems[0].Reason);
                var mm = new MemoryModelRules(w);
                foreach (var fo in w.Folios)
                {
                    ulong head = mm.PfnToPage(fo.Head);
                    for (ulong k = 0; k < fo.NrPages; k++)
                    {
                        ulong page = mm.FolioPage(head, k);
                        ulong expect = w.Facts.MemmapAddress(fo.Head + k)!.Value;
                        if (page != expect)
                            return Verdict.Fail($"folio_page(folio 0x{fo.Head:x}, {k}) = {LayoutRenderer.MemmapRel(page)}, but PFN 0x{fo.Head + k:x}'s struct page is at {LayoutRenderer.MemmapRel(expect)}")
                                with { Pfns = [fo.Head, fo.Head + k] };
                        long idx = mm.FolioPageIdx(head, page);
                        if (idx != (long)k) return Verdict.Fail($"folio_page_idx(folio 0x{fo.Head:x}, folio_page(.., {k})) = {idx}") with { Pfns = [fo.Head, fo.Head + k] };
                    }
                }
                return Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "MM-5",
            Title = "The section read from a struct page's flags (SECTION_IN_PAGE_FLAGS) is the section of its PFN",
            Generate = d => new Case(GenWorld(d), null),
            Classify = Classes,
            Required = [("SPARSEMEM", 0.2)],
            Weight = 0.5,
            Check = c =>
            {
                var w = c.World;
                var mm = new MemoryModelRules(w);
                foreach (var p in SamplePfns(w))
                {
                    ulong s = mm.PageToSection(mm.PfnToPage(p));
                    ulong expected = w.Machine.SectionInPageFlags ? p / w.Machine.PagesPerSection : 0;
                    if (s != expected) return Verdict.Fail($"page_to_section(pfn_to_page(0x{p:x})) = {s}, expected {expected}");
                }
                return Verdict.Pass;
            },
        };
    }
}
