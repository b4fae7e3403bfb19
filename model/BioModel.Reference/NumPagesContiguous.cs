using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// num_pages_contiguous(pages, nr_pages), include/linux/mm_inline.h, mainline 929bf010e0599ddef6b640cd314f1de65dd1ca3e
/// (6.18, "mm: introduce num_pages_contiguous()"); the newest text only changes how the section is read
/// (memdesc_section taking a pointer). KERNEL-SPEC §4.1, VARIANTS.md npc/section-compare. The three versions
/// argued on the list before it (npc/nth-page, npc/pointer-only, npc/draft-section-mask) are selected with
/// <see cref="NpcVariant"/>; their provenance is on the enum values.
/// </summary>
public static class NumPagesContiguous
{
    public static int Run(MemoryModelRules mm, IReadOnlyList<ulong> pages, Effects fx, NpcVariant variant = NpcVariant.SectionCompare)
    {
        if (pages.Count == 0)
            throw fx.Fatal(Diag.NpcEmpty);
        return variant switch
        {
            NpcVariant.NthPage => NthPage(mm, pages, fx),
            NpcVariant.PointerOnly => PointerOnly(mm, pages, pages.Count),
            NpcVariant.DraftSectionMask => DraftSectionMask(mm, pages),
            _ => SectionCompare(mm, pages),
        };
    }

    /// <summary>
    /// Mainline: the largest m ≤ nr_pages such that every pages[i], 0 &lt; i &lt; m, is the struct page exactly i
    /// places after pages[0] by pointer arithmetic and lies in the same section as pages[0] (the section test
    /// only bites with SECTION_IN_PAGE_FLAGS). pages[0] is read unconditionally: an empty array is a contract
    /// violation. The section of the advanced pointer is read only after it compared equal to pages[i], so no
    /// wild struct page is dereferenced.
    /// </summary>
    private static int SectionCompare(MemoryModelRules mm, IReadOnlyList<ulong> pages)
    {
        ulong cur = pages[0];
        ulong section = mm.PageToSection(cur);
        int i;
        for (i = 1; i < pages.Count; i++)
        {
            cur = mm.PageAdd(cur, 1);
            if (cur != pages[i]) break;
            if (mm.PageToSection(cur) != section) break;
        }
        return i;
    }

    /// <summary>
    /// npc/nth-page (Li Zhe v1–v4): compare pages[i] with nth_page(pages[0], i). In classic SPARSEMEM nth_page goes
    /// through the PFN (pfn_to_page(page_to_pfn(pages[0]) + i)), so it is exact across sections; a PFN with no memmap
    /// (a hole section, or past the last present one) has no defined struct page and is reported, as VARIANTS.md asks.
    /// That is stricter than the kernel: with SPARSEMEM_EXTREME a missing section root is a NULL dereference, but a
    /// present root with no memmap yields a bogus pointer that simply compares unequal. Elsewhere nth_page was plain
    /// pointer arithmetic (include/linux/mm.h before 84efbefa26df).
    /// </summary>
    private static int NthPage(MemoryModelRules mm, IReadOnlyList<ulong> pages, Effects fx)
    {
        if (mm.World.Machine.Model != MemoryModel.Sparsemem) return PointerFromFirst(mm, pages);
        ulong pfn0 = mm.PageToPfn(pages[0]);
        int i;
        for (i = 1; i < pages.Count; i++)
        {
            ulong pfn = pfn0 + (ulong)i;
            if (!mm.World.Facts.HasMemmap(pfn))
                throw fx.Fatal(Diag.NthPageIntoHole(pfn0, i, pfn));
            if (pages[i] != mm.PfnToPage(pfn)) break;
        }
        return i;
    }

    /// <summary>pages[i] == pages[0] + i (nth_page outside classic SPARSEMEM).</summary>
    private static int PointerFromFirst(MemoryModelRules mm, IReadOnlyList<ulong> pages)
    {
        int i;
        for (i = 1; i < pages.Count; i++)
            if (pages[i] != mm.PageAdd(pages[0], i)) break;
        return i;
    }

    /// <summary>npc/pointer-only (Linus Torvalds, 4 Aug 2025): pages[i] == pages[i − 1] + 1 for i &lt; n, nothing else.</summary>
    private static int PointerOnly(MemoryModelRules mm, IReadOnlyList<ulong> pages, int n)
    {
        int i;
        for (i = 1; i < n; i++)
            if (pages[i] != mm.PageAdd(pages[i - 1], 1)) break;
        return i;
    }

    /// <summary>
    /// npc/draft-section-mask (David Hildenbrand, 5 Aug 2025): in classic SPARSEMEM, n = min(nr_pages,
    /// PAGES_PER_SECTION − (pfn(pages[0]) &amp; PAGES_PER_SECTION)), then the pointer-only loop up to n, returning at
    /// least 1. The mask keeps the lowest bit of the section number: from an even section n is not capped at the
    /// section end, from an odd one it is 0 and the result is always 1. FLATMEM and VMEMMAP run the loop uncapped.
    /// </summary>
    private static int DraftSectionMask(MemoryModelRules mm, IReadOnlyList<ulong> pages)
    {
        var m = mm.World.Machine;
        int n = pages.Count;
        if (m.Model == MemoryModel.Sparsemem)
        {
            ulong pfn = mm.PageToPfn(pages[0]);
            ulong cap = m.PagesPerSection - (pfn & m.PagesPerSection);
            n = (int)Math.Min((ulong)n, cap);
        }
        return PointerOnly(mm, pages, n);
    }
}
