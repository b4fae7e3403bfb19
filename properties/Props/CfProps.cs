using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// CF — conformance: the optimized implementation against the reference model, operation by operation,
/// on generated worlds across memory models, placements, folio and pgmap mixes and iterator types.
/// </summary>
public static class CfProps
{
    /// <summary>Any operation on any world, weighted so every operation and every boundary is reached.</summary>
    public static Case Gen(Draw d)
    {
        int kind = d.Int(0, 111);
        if (kind >= 100)
        {
            // Bounce-buffered direct I/O and its helpers, on a world with free memory for the page allocator.
            var bw = BounceGen.World(d);
            Operation bop = kind switch
            {
                < 108 => BounceGen.DirectIo(d, bw),
                < 110 => BounceGen.Greedy(d, bw),
                _ => new BounceNrVecsOp(OpGen.AnyIter(d, bw, bvec: true), d.Chance(0.5)),
            };
            var busy = bop is DirectIoOp dio ? Oracle.Stream(bw, dio.Iter, dio.Iter.Count).Where(k => k.Pfn is not null).Select(k => k.Pfn!.Value) : [];
            return new Case(BounceGen.WithAllocator(d, bw, busy), bop);
        }
        if (kind < 6)
        {
            var big = WorldGen.Big(d);
            return new Case(big, d.Chance(0.7) ? OpGen.BioAddNearMax(d, big, raw: true) : OpGen.BioAddHuge(d, big));
        }
        if (kind < 34 && (kind < 22 ? WorldGen.CrossSectionBuffer(d) : WorldGen.CowBuffer(d)) is { } shaped)
        {
            // A user buffer across a section boundary, or over a large folio with a COW'd page: every
            // operation that reads it (extraction, get_pages, and the page list itself) meets the boundary.
            ulong size = (ulong)shaped.User.Pages.Length * shaped.Machine.PageSize;
            ulong start = d.Chance(0.5) ? 0 : OpGen.InPageOffset(d, shaped.Machine.PageSize);
            var it = IterDesc.ForUbuf(shaped.User.Base + start, size - start, source: d.Chance(0.5));
            Operation shapedOp = d.Int(0, 3) switch
            {
                0 => new NumPagesContiguousOp(shaped.User.Pages.Select(p => p.Pfn).ToEqArray()),
                1 => OpGen.ExtractBvecs(d, shaped) with { Iter = it, MaxSize = it.Count, MemAlignMask = 0 },
                2 => OpGen.GetPages(d, shaped, bvec: false) with { Iter = it, MemAlignMask = 0 },
                _ => OpGen.ExtractPages(d, shaped) with { Iter = it, MaxSize = it.Count },
            };
            if (shapedOp is GetPagesOp g && g.Bio.Vcnt > 0) shapedOp = g with { Bio = Bio.Empty(g.Bio.MaxVecs) with { Queue = g.Bio.Queue } };
            return new Case(shaped, shapedOp);
        }
        World w = kind < 16 ? WorldGen.HoleyNodeBuffer(d, 0.3) : WorldGen.Any(d, pgmapChance: 0.6);
        Operation op = kind switch
        {
            < 16 => d.Chance(0.5) ? OpGen.Npc(d, w) : OpGen.ExtractBvecs(d, w),
            < 26 => OpGen.Npc(d, w),
            < 40 => OpGen.BioAdd(d, w),
            < 50 => OpGen.ExtractPages(d, w),
            < 70 => OpGen.ExtractBvecs(d, w) with { Repeat = d.Chance(0.3) ? d.Int(2, 6) : 1 },
            < 88 => OpGen.GetPages(d, w),
            < 94 => OpGen.IterSteps(d, w),
            < 97 => OpGen.Mergeable(d, w),
            _ => OpGen.HwMerge(d, w),
        };
        return new Case(w, op);
    }

    /// <summary>The first field in which two outcomes differ, named, with both values.</summary>
    public static string? FirstDifference(Outcome expected, Outcome actual)
    {
        static string S<T>(EqArray<T> a) => a.ToString();
        if (!expected.Returns.Equals(actual.Returns)) return $"returns: reference {string.Join(" ", expected.Returns.Select(LayoutRenderer.Ret))}, optimized {string.Join(" ", actual.Returns.Select(LayoutRenderer.Ret))}";
        if (!expected.Violations.Equals(actual.Violations)) return $"contract violations: reference {S(expected.Violations)}, optimized {S(actual.Violations)}";
        if (!expected.Warnings.Equals(actual.Warnings)) return $"warnings: reference {S(expected.Warnings)}, optimized {S(actual.Warnings)}";
        if (!expected.Bvecs.Equals(actual.Bvecs)) return FirstBvec("bvecs", expected.Bvecs, actual.Bvecs);
        if (!Equals(expected.Bio, actual.Bio))
        {
            if (expected.Bio is null || actual.Bio is null) return $"bio: reference {(expected.Bio is null ? "none" : "present")}, optimized {(actual.Bio is null ? "none" : "present")}";
            if (!expected.Bio.Vecs.Equals(actual.Bio.Vecs)) return FirstBvec("bio bvecs", expected.Bio.Vecs, actual.Bio.Vecs);
            return $"bio: reference {LayoutRenderer.RenderBioHeader(expected.Bio)}, optimized {LayoutRenderer.RenderBioHeader(actual.Bio)}";
        }
        if (!expected.Pages.Equals(actual.Pages)) return $"pages: reference {string.Join(" ", expected.Pages.Select(LayoutRenderer.Hex))}, optimized {string.Join(" ", actual.Pages.Select(LayoutRenderer.Hex))}";
        if (expected.Offset0 != actual.Offset0) return $"offset0: reference {expected.Offset0?.ToString("x") ?? "-"}, optimized {actual.Offset0?.ToString("x") ?? "-"}";
        if (!Equals(expected.Iter, actual.Iter)) return $"iterator: reference {(expected.Iter is null ? "-" : LayoutRenderer.RenderIter(expected.Iter))}, optimized {(actual.Iter is null ? "-" : LayoutRenderer.RenderIter(actual.Iter))}";
        if (!expected.Pins.Equals(actual.Pins)) return $"pins: reference {S(expected.Pins)}, optimized {S(actual.Pins)}";
        if (!expected.Taken.Equals(actual.Taken)) return $"folios allocated: reference {S(expected.Taken)}, optimized {S(actual.Taken)}";
        if (!expected.Allocated.Equals(actual.Allocated)) return $"folios still held: reference {S(expected.Allocated)}, optimized {S(actual.Allocated)}";
        if (!expected.Dirty.Equals(actual.Dirty)) return $"folios dirtied: reference {S(expected.Dirty)}, optimized {S(actual.Dirty)}";
        foreach (var (name, e, a) in new[] { ("bytes at submission", expected.Submitted, actual.Submitted), ("bytes after the stores", expected.Stored, actual.Stored),
                     ("device bytes", expected.Device, actual.Device), ("buffer after completion", expected.Buffer, actual.Buffer) })
            if (!e.Equals(a)) return $"{name}: {FirstByte(e, a)}";
        return null;
    }

    private static string FirstByte(EqArray<byte> e, EqArray<byte> a)
    {
        for (int i = 0; i < Math.Min(e.Length, a.Length); i++)
            if (e[i] != a[i]) return $"byte 0x{i:x}: reference 0x{e[i]:x2}, optimized 0x{a[i]:x2}";
        return $"reference 0x{e.Length:x} byte(s), optimized 0x{a.Length:x}";
    }

    private static string FirstBvec(string what, EqArray<BvecDesc> e, EqArray<BvecDesc> a)
    {
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string ev = i < e.Length ? e[i].ToString() : "none", av = i < a.Length ? a[i].ToString() : "none";
            if (ev != av) return $"{what}[{i}]: reference {ev}, optimized {av}";
        }
        return $"{what} differ";
    }

    /// <summary>The world, the operation, then both outcomes side by side (differing lines marked ≠).</summary>
    public static string Explain(Case c)
    {
        var e = ReferenceModel.Instance.Run(c.World, c.Op!);
        var a = OptimizedModel.Instance.Run(c.World, c.Op!);
        return "--- world and operation ---\n" + "== world ==\n" + LayoutRenderer.RenderWorld(c.World) + LayoutRenderer.RenderOperation(c.World, c.Op!) +
               "--- outcomes ---\n" + Counterexamples.SideBySide("reference", LayoutRenderer.RenderOutcome(c.World, c.Op!, e), "optimized", LayoutRenderer.RenderOutcome(c.World, c.Op!, a));
    }

    public static IEnumerable<string> Classes(Case c)
    {
        var w = c.World;
        var f = w.Facts;
        yield return c.Op!.Kind;
        yield return Ref.ModelName(w);
        if (!w.Machine.Is64Bit) yield return "32-bit (PAGE_PTRS_PER_BVEC 3)";
        if (!ulong.IsPow2((ulong)w.Machine.StructPageSize)) yield return "sizeof(struct page) not a power of two";
        var o = ReferenceModel.Instance.Run(w, c.Op);
        // Pages the operation touches, in order: its page list, its bvecs' pages, the iterator's pages.
        var pfns = new List<ulong>();
        switch (c.Op)
        {
            case NumPagesContiguousOp n: pfns.AddRange(n.Pfns); break;
            case BioAddOp a: foreach (var x in a.Calls) pfns.Add(x.Pfn + x.Off / w.Machine.PageSize); break;
        }
        IterDesc? it = c.Op switch { ExtractPagesOp e => e.Iter, ExtractBvecsOp x => x.Iter, GetPagesOp g => g.Iter, DirectIoOp dio => dio.Iter, _ => null };
        if (it is not null)
            foreach (var k in Oracle.Stream(w, it, Math.Min(it.Count, 64 * w.Machine.PageSize)))
                if (k.Pfn is { } p && (pfns.Count == 0 || pfns[^1] != p)) pfns.Add(p);
        ulong sz = (ulong)w.Machine.StructPageSize;
        for (int i = 1; i < pfns.Count; i++)
        {
            if (pfns[i] == pfns[i - 1] + 1 && f.SectionNr(pfns[i]) != f.SectionNr(pfns[i - 1]) && f.MemmapAddress(pfns[i]) == f.MemmapAddress(pfns[i - 1]) + sz)
            { yield return "crosses a section with adjacent memmaps"; break; }
        }
        for (int i = 1; i < pfns.Count; i++)
            if (Oracle.PgmapId(w, pfns[i]) != Oracle.PgmapId(w, pfns[i - 1])) { yield return "pgmap change"; break; }
        for (int i = 1; i + 1 < pfns.Count; i++)
        {
            var fo = f.FolioOf(pfns[i - 1]);
            if (fo.Order > 0 && fo.Contains(pfns[i - 1] + 1) && !fo.Contains(pfns[i]) && fo.Contains(pfns[i + 1]))
            { yield return "COW'd page inside a large folio"; break; }
        }
        int max = c.Op switch { ExtractBvecsOp x => x.MaxVecs, GetPagesOp g => g.Bio.MaxVecs, BioAddOp a => a.Bio.MaxVecs, _ => -1 };
        int after = c.Op switch { ExtractBvecsOp => o.Bvecs.Length, GetPagesOp or BioAddOp => o.Bio?.Vcnt ?? -1, _ => -2 };
        if (max > 0 && after == max) yield return "ends with a full bvec array";
        if (o.Violations.Length > 0) yield return "contract violation";
    }

    public static IEnumerable<PropertyDef> All()
    {
        yield return new PropertyDef
        {
            Id = "EX-10",
            Title = "Tail array (optimized implementation): writing bvec j never overwrites a page pointer not yet read",
            Generate = d =>
            {
                var w = d.Chance(0.3) && WorldGen.CowBuffer(d) is { } cow ? cow : WorldGen.Any(d, pgmapChance: 0.5);
                return new Case(w, d.Chance(0.6) ? OpGen.ExtractBvecs(d, w) : OpGen.GetPages(d, w, bvec: false));
            },
            Classify = c => Classes(c).Append(((c.Op is ExtractBvecsOp x ? x.MaxVecs - x.Entry.Length : c.Op is GetPagesOp g ? g.Bio.MaxVecs - g.Bio.Vcnt : 0) switch
            {
                <= 0 => "no room",
                1 => "one free bvec",
                <= 3 => "2-3 free bvecs",
                _ => "4+ free bvecs",
            })),
            Required = [("ends with a full bvec array", 0.05), ("one free bvec", 0.05)],
            Weight = 2,
            Explain = Explain,
            Check = c =>
            {
                var a = OptimizedModel.Instance.Run(c.World, c.Op!);
                var v = a.Violations.FirstOrDefault(x => x.StartsWith("EX-10:", StringComparison.Ordinal));
                return v is null ? Verdict.Pass : Verdict.Fail(v);
            },
        };
        yield return new PropertyDef
        {
            Id = "CF-1",
            Title = "Optimized and reference outcomes are equal: returns, bvec tables, bio, iterator, pins, warnings, contract violations",
            Generate = Gen,
            Classify = Classes,
            Required = [("crosses a section with adjacent memmaps", 0.05), ("COW'd page inside a large folio", 0.05), ("pgmap change", 0.05), ("ends with a full bvec array", 0.05), ("direct_io", 0.04), ("sizeof(struct page) not a power of two", 0.01)],
            Weight = 24,
            Explain = Explain,
            Check = c =>
            {
                var e = ReferenceModel.Instance.Run(c.World, c.Op!);
                var a = OptimizedModel.Instance.Run(c.World, c.Op!);
                return FirstDifference(e, a) is { } diff ? Verdict.Fail(diff) : Verdict.Pass;
            },
        };
        yield return new PropertyDef
        {
            Id = "CF-2",
            Title = "The optimized implementation leaves every trap byte around its buffers untouched",
            Generate = Gen,
            Classify = Classes,
            Weight = 16,
            Explain = Explain,
            Check = c =>
            {
                var a = OptimizedModel.Instance.Run(c.World, c.Op!);
                var trap = a.Violations.FirstOrDefault(v => v.StartsWith("CF-2:", StringComparison.Ordinal));
                return trap is null ? Verdict.Pass : Verdict.Fail(trap);
            },
        };
    }
}
