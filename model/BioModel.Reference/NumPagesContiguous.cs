using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// num_pages_contiguous(pages, nr_pages), include/linux/mm_inline.h, mainline 929bf010e0599ddef6b640cd314f1de65dd1ca3e
/// (6.18, "mm: introduce num_pages_contiguous()"); the newest text only changes how the section is read
/// (memdesc_section taking a pointer). KERNEL-SPEC §4.1, VARIANTS.md npc/section-compare.
/// </summary>
public static class NumPagesContiguous
{
    /// <summary>
    /// The largest m ≤ nr_pages such that every pages[i], 0 &lt; i &lt; m, is the struct page exactly i
    /// places after pages[0] by pointer arithmetic and lies in the same section as pages[0] (the section
    /// test only bites with SECTION_IN_PAGE_FLAGS). pages[0] is read unconditionally: an empty array is a
    /// contract violation. The section of the advanced pointer is read only after it compared equal to
    /// pages[i], so no wild struct page is dereferenced.
    /// </summary>
    public static int Run(MemoryModelRules mm, IReadOnlyList<ulong> pages, Effects fx)
    {
        if (pages.Count == 0)
            throw fx.Fatal(Diag.NpcEmpty);
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
}
