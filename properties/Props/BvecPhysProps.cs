using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// BVP: the page-less bio_vec of VARIANTS.md bvec/phys. INVARIANTS.md has no id for it; the issue that asked for it
/// names what the model must report, and README.md lists it:
/// BVP-1 iov_iter_extract_bvecs can park its page-pointer array in the tail of the bvec array, PAGE_PTRS_PER_BVEC =
/// sizeof(struct bio_vec) / sizeof(struct page *) ≥ 2 (KERNEL-SPEC §3.6). The P2P half of the variant (a bio records
/// "non-P2P or P2P to one device") is checked by BIO-5 and BIO-6 in the verdict matrix.
/// </summary>
public static class BvecPhysProps
{
    /// <summary>extract_bvecs or get_pages on any machine: 64-bit, 32-bit with PAE (64-bit phys_addr_t) and without.</summary>
    private static Case Gen(Draw d)
    {
        var w = WorldGen.Any(d, pgmapChance: 0.3);
        if (!w.Machine.Is64Bit && d.Chance(0.5))
        {
            var narrow = w with { Machine = w.Machine with { MaxPhysmemBits = 32 } };
            if (narrow.Problems().Count == 0) w = narrow;
        }
        return new Case(w, d.Chance(0.6) ? OpGen.ExtractBvecs(d, w) : OpGen.GetPages(d, w, bvec: false));
    }

    private static IEnumerable<string> Classes(Case c)
    {
        var m = c.World.Machine;
        yield return c.Op!.Kind;
        yield return m.Is64Bit ? "64-bit" : m.PhysAddrSize == 8 ? "32-bit PAE (8-byte phys_addr_t)" : "32-bit (4-byte phys_addr_t)";
    }

    public const string TailArrayViolation = "iov_iter_extract_bvecs: the page-pointer array cannot be parked";

    public static IEnumerable<PropertyDef> All()
    {
        yield return new PropertyDef
        {
            Id = "BVP-1",
            Title = "The page-pointer array of iov_iter_extract_bvecs fits in the tail of the bvec array: PAGE_PTRS_PER_BVEC = sizeof(struct bio_vec) / sizeof(struct page *) ≥ 2",
            Generate = Gen,
            Classify = Classes,
            Required = [("64-bit", 0.5), ("32-bit PAE (8-byte phys_addr_t)", 0.03), ("32-bit (4-byte phys_addr_t)", 0.03)],
            Weight = 2,
            Check = c =>
            {
                var o = Ref.Run(c);
                var v = o.Violations.FirstOrDefault(x => x.StartsWith(TailArrayViolation, StringComparison.Ordinal));
                return v is null ? Verdict.Pass : Verdict.Fail(v);
            },
        };
    }
}
