using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// Hand-written shrinking for <see cref="Case"/> (FsCheck cannot shrink values built from a seed or by
/// LINQ). Candidates go from large steps to small ones: shorter page lists and add sequences, fewer
/// segments, smaller counts and sizes, offsets toward 0, masks and flags off; then a simpler world:
/// fewer pgmaps, folios and sections, smaller folios, simpler placement, switches off, a shorter user
/// mapping. Only candidates that are still valid worlds and operations are offered.
/// </summary>
public static class Shrinker
{
    public static IEnumerable<Case> Shrink(Case c)
    {
        var seen = new HashSet<Case> { c };
        foreach (var cand in Candidates(c))
            if (seen.Add(cand) && cand.IsValid())
                yield return cand;
    }

    private static IEnumerable<Case> Candidates(Case c)
    {
        if (c.Op is not null)
            foreach (var op in ShrinkOp(c.World, c.Op))
                yield return c with { Op = op };
        foreach (var w in ShrinkWorld(c.World))
            yield return c with { World = w };
    }

    // ------------------------------------------------------------------ operations

    private static IEnumerable<Operation> ShrinkOp(World w, Operation op)
    {
        ulong ps = w.Machine.PageSize;
        switch (op)
        {
            case NumPagesContiguousOp n:
                foreach (var l in ShrinkList(n.Pfns, minLength: 1)) yield return new NumPagesContiguousOp(l);
                break;
            case BioAddOp a:
                foreach (var l in ShrinkList(a.Calls, minLength: 1)) yield return a with { Calls = l };
                foreach (var b in ShrinkBio(a.Bio)) yield return a with { Bio = b };
                for (int i = 0; i < a.Calls.Length; i++)
                    foreach (var cc in ShrinkCall(a.Calls[i], ps)) yield return a with { Calls = a.Calls.SetItem(i, cc) };
                break;
            case ExtractPagesOp e:
                foreach (var it in ShrinkIter(e.Iter, ps)) yield return e with { Iter = it, MaxSize = Math.Min(e.MaxSize, Math.Max(it.Count, 1)) };
                if (e.MaxSize > e.Iter.Count) yield return e with { MaxSize = e.Iter.Count };
                foreach (var m in Smaller(e.MaxPages)) yield return e with { MaxPages = m };
                if (e.AllowP2p) yield return e with { AllowP2p = false };
                break;
            case ExtractBvecsOp x:
                for (int i = 0; i < x.Entry.Length; i++) yield return x with { Entry = x.Entry.RemoveAt(i), MaxVecs = (ushort)Math.Max(0, x.MaxVecs - 1) };
                foreach (var it in ShrinkIter(x.Iter, ps)) yield return x with { Iter = it, MaxSize = Math.Min(x.MaxSize, Math.Max(it.Count, 1)) };
                if (x.MaxSize > x.Iter.Count) yield return x with { MaxSize = x.Iter.Count };
                if (x.MemAlignMask != 0) yield return x with { MemAlignMask = 0 };
                foreach (var m in Smaller(x.MaxVecs)) yield return x with { MaxVecs = (ushort)m };
                if (x.AllowP2p) yield return x with { AllowP2p = false };
                for (int i = 0; i < x.Entry.Length; i++)
                    foreach (var b in ShrinkBvec(x.Entry[i], ps)) yield return x with { Entry = x.Entry.SetItem(i, b) };
                break;
            case GetPagesOp g:
                foreach (var b in ShrinkBio(g.Bio)) yield return g with { Bio = b };
                foreach (var it in ShrinkIter(g.Iter, ps)) yield return g with { Iter = it };
                if (g.MemAlignMask != 0) yield return g with { MemAlignMask = 0 };
                if (g.LenAlignMask != 0)
                {
                    yield return g with { LenAlignMask = 0 };
                    if (g.LenAlignMask > ps - 1) yield return g with { LenAlignMask = (uint)(ps - 1) };
                }
                if (g.Bio.Queue.PciP2pdma) yield return g with { Bio = g.Bio with { Queue = g.Bio.Queue with { PciP2pdma = false } } };
                break;
            case IterOp io:
                foreach (var l in ShrinkList(io.Steps, minLength: 1)) yield return io with { Steps = l };
                foreach (var it in ShrinkIter(io.Iter, ps)) yield return io with { Iter = it };
                break;
            case DirectIoOp d:
                foreach (var it in ShrinkIter(d.Iter, ps)) yield return d with { Iter = it };
                foreach (var l in ShrinkList(d.InFlight, minLength: 0)) yield return d with { InFlight = l };
                for (int i = 0; i < d.InFlight.Length; i++)
                    if (d.InFlight[i].Len > 1) yield return d with { InFlight = d.InFlight.SetItem(i, d.InFlight[i] with { Len = 1 }) };
                if (d.IoError) yield return d with { IoError = false };
                if (d.MarkDirty != (!d.Write && d.Iter.UserBacked)) yield return d with { MarkDirty = !d.Write && d.Iter.UserBacked };
                if (d.MaxLen != ulong.MaxValue) yield return d with { MaxLen = ulong.MaxValue };
                foreach (var m in Smaller(d.Bio.MaxVecs)) yield return d with { Bio = d.Bio with { MaxVecs = (ushort)Math.Max(1, m) } };
                if (d.MinSize != ps && d.MinSize > 0x200) yield return d with { MinSize = d.MinSize / 2 };
                if (d.Bio.Queue.PciP2pdma) yield return d with { Bio = d.Bio with { Queue = d.Bio.Queue with { PciP2pdma = false } } };
                break;
            case FolioAllocGreedyOp fa:
                if (fa.Size > 1) yield return fa with { Size = fa.Size / 2 };
                if (fa.Size > 1) yield return fa with { Size = fa.Size - 1 };
                if (fa.MinSize > 0x200) yield return fa with { MinSize = fa.MinSize / 2 };
                break;
            case MergeableOp mo:
                foreach (var l in ShrinkList(mo.Pairs, minLength: 1)) yield return mo with { Pairs = l };
                if (mo.Queue.SegBoundaryMask != 0xffff_ffffUL) yield return mo with { Queue = mo.Queue with { SegBoundaryMask = 0xffff_ffffUL } };
                for (int i = 0; i < mo.Pairs.Length; i++)
                {
                    foreach (var a in ShrinkBvec(mo.Pairs[i].A, ps)) yield return mo with { Pairs = mo.Pairs.SetItem(i, mo.Pairs[i] with { A = a }) };
                    foreach (var b in ShrinkBvec(mo.Pairs[i].B, ps)) yield return mo with { Pairs = mo.Pairs.SetItem(i, mo.Pairs[i] with { B = b }) };
                }
                break;
        }
    }

    private static IEnumerable<uint> Smaller(uint v)
    {
        if (v > 1) yield return 1;
        if (v > 2) yield return v / 2;
        if (v > 0) yield return v - 1;
    }

    /// <summary>Halves, then single elements removed (keeping at least <paramref name="minLength"/>).</summary>
    public static IEnumerable<EqArray<T>> ShrinkList<T>(EqArray<T> list, int minLength)
    {
        int n = list.Length;
        for (int k = n / 2; k >= 1; k /= 2)
        {
            if (n - k >= minLength) yield return list.Take(n - k);
            if (n - k >= minLength) yield return list.Skip(k);
        }
        for (int i = n - 1; i >= 0; i--)
            if (n - 1 >= minLength) yield return list.RemoveAt(i);
    }

    private static IEnumerable<AddCall> ShrinkCall(AddCall c, ulong ps)
    {
        if (c.Fn == AddFn.BioAddPage && c.Off >= ps) yield return c with { Pfn = c.Pfn + c.Off / ps, Off = c.Off % ps };
        if (c.Fn != AddFn.BioAddPage) yield return c with { Fn = AddFn.BioAddPage, Pfn = c.Pfn + c.Off / ps, Off = c.Off % ps };
        if (c.Off % ps != 0) yield return c with { Off = c.Off - c.Off % ps };
        ulong toEnd = ps - c.Off % ps;
        if (c.Len > toEnd) yield return c with { Len = toEnd };
        if (c.Len > 1) yield return c with { Len = c.Len / 2 };
        if (c.Len > 1) yield return c with { Len = 1 };
    }

    private static IEnumerable<Bio> ShrinkBio(Bio b)
    {
        if (b.Has(BioFlags.Cloned) && b.Vcnt == b.Vecs.Length) yield return b with { Flags = b.Flags & ~BioFlags.Cloned };
        if (b.Vcnt > 0)
        {
            for (int i = 0; i < b.Vecs.Length; i++)
            {
                var v = b.Vecs.RemoveAt(i);
                yield return b with { Vecs = v, Vcnt = (ushort)v.Length, Size = b.Size - b.Vecs[i].Len, MaxVecs = (ushort)Math.Max(1, b.MaxVecs - 1) };
                yield return b with { Vecs = v, Vcnt = (ushort)v.Length, Size = b.Size - b.Vecs[i].Len };
            }
        }
        if (b.MaxVecs > Math.Max(b.Vcnt, (ushort)1)) yield return b with { MaxVecs = Math.Max(b.Vcnt, (ushort)1) };
        if (b.MaxVecs > b.Vcnt + 1) yield return b with { MaxVecs = (ushort)(b.Vcnt + 1) };
        if (b.MaxVecs > 1) yield return b with { MaxVecs = (ushort)(b.MaxVecs - 1) };
        if (b.Has(BioFlags.PagePinned) && b.Vcnt == 0) yield return b with { Flags = b.Flags & ~BioFlags.PagePinned };
    }

    private static IEnumerable<BvecDesc> ShrinkBvec(BvecDesc b, ulong ps)
    {
        if (b.Offset >= ps) yield return b with { Pfn = b.Pfn + b.Offset / ps, Offset = (uint)(b.Offset % ps) };
        if (b.Offset != 0 && b.Len <= ps) yield return b with { Offset = 0 };
        if (b.Len > ps - b.Offset % ps) yield return b with { Len = (uint)(ps - b.Offset % ps) };
        if (b.Len > 1) yield return b with { Len = b.Len / 2 };
    }

    /// <summary>
    /// Smaller iterators: less count, fewer segments, start at the beginning, offsets toward page starts.
    /// Never a used-up array iterator (segment pointer past the array): the generators do not build one,
    /// and the extraction probes would read past the array.
    /// </summary>
    public static IEnumerable<IterDesc> ShrinkIter(IterDesc it, ulong ps)
        => ShrinkIterAll(it, ps).Where(x => x.Type == IterType.Ubuf || x.Index < x.SegmentCount);

    private static IEnumerable<IterDesc> ShrinkIterAll(IterDesc it, ulong ps)
    {
        if (it.Count > 1)
        {
            ulong inPage = it.Type == IterType.Ubuf ? (it.Ubuf + it.IovOffset) % ps : 0;
            ulong onePage = ps - inPage;
            if (it.Count > onePage) yield return it with { Count = onePage };
            if (it.Count > onePage + ps) yield return it with { Count = onePage + ps };
            yield return it with { Count = it.Count / 2 };
            // Big steps before single bytes: a page, a 512-byte block, then one byte.
            if (it.Count > ps) yield return it with { Count = it.Count - ps };
            if (it.Count > 0x200 && it.Count % 0x200 != 0) yield return it with { Count = it.Count - it.Count % 0x200 };
            if (it.Count > 0x200) yield return it with { Count = it.Count - 0x200 };
            yield return it with { Count = it.Count - 1 };
        }
        if (it.Type == IterType.Ubuf)
        {
            if (it.IovOffset != 0) yield return it with { Ubuf = it.Ubuf + it.IovOffset, IovOffset = 0 };
            if (it.Ubuf % ps != 0) yield return it with { Ubuf = it.Ubuf - it.Ubuf % ps };
            if (!it.Source) yield return it with { Source = true };
            if (it.Nofault) yield return it with { Nofault = false };
            yield break;
        }
        if (it.Index > 0 || it.IovOffset > 0)
        {
            // Drop what is already consumed.
            var rest = it.Type == IterType.Bvec
                ? it with { Bvecs = it.Bvecs.Skip(it.Index), Index = 0 }
                : it with { Iov = it.Iov.Skip(it.Index), Index = 0 };
            yield return rest;
        }
        int n = it.SegmentCount;
        for (int i = n - 1; i >= 0; i--)
        {
            if (i < it.Index) continue;
            if (i == it.Index && it.IovOffset != 0) continue;
            var removed = it.Type == IterType.Bvec ? it with { Bvecs = it.Bvecs.RemoveAt(i) } : it with { Iov = it.Iov.RemoveAt(i) };
            ulong rest = 0;
            for (int k = removed.Index; k < removed.SegmentCount; k++) rest += removed.SegLen(k);
            yield return removed with { Count = Math.Min(removed.Count, rest - Math.Min(rest, removed.IovOffset)) };
        }
        if (it.Type == IterType.Bvec)
            for (int i = 0; i < n; i++)
                foreach (var b in ShrinkBvec(it.Bvecs[i], ps))
                {
                    var changed = it with { Bvecs = it.Bvecs.SetItem(i, b) };
                    ulong rest = 0;
                    for (int k = changed.Index; k < changed.SegmentCount; k++) rest += changed.SegLen(k);
                    if (changed.IovOffset <= rest) yield return changed with { Count = Math.Min(changed.Count, rest - changed.IovOffset) };
                }
        if (!it.Source) yield return it with { Source = true };
    }

    // ------------------------------------------------------------------ worlds

    private static IEnumerable<World> ShrinkWorld(World w)
    {
        var m = w.Machine;
        for (int i = 0; i < w.Pgmaps.Length; i++) yield return w with { Pgmaps = w.Pgmaps.RemoveAt(i) };
        if (w.User.Pages.Length > 0) yield return w with { User = w.User with { Pages = [] } };
        if (w.User.Pages.Length > 1)
        {
            yield return w with { User = w.User with { Pages = w.User.Pages.Take(w.User.Pages.Length / 2) } };
            yield return w with { User = w.User with { Pages = w.User.Pages.Take(w.User.Pages.Length - 1) } };
        }
        if (!w.Kernel.Pages.IsEmpty) yield return w with { Kernel = AddressSpace.Empty(w.Kernel.Base) };
        var a = w.Allocator;
        if (!a.IsNone)
        {
            for (int i = 0; i < a.Free.Length; i++) yield return w with { Allocator = a with { Free = a.Free.RemoveAt(i) } };
            for (int i = 0; i < a.Free.Length; i++)
                if (a.Free[i].Order > 0) yield return w with { Allocator = a with { Free = a.Free.SetItem(i, a.Free[i] with { Order = a.Free[i].Order - 1 }) } };
            if (a.NoRetryMaxOrder != a.MaxOrder) yield return w with { Allocator = a with { NoRetryMaxOrder = a.MaxOrder } };
        }
        for (int i = 0; i < w.Folios.Length; i++)
        {
            var fo = w.Folios[i];
            yield return w with { Folios = w.Folios.RemoveAt(i) };
            if (fo.Order > 1)
            {
                // Split into two halves (the pages keep their identity, the folio boundary moves).
                var half = new Folio(fo.Head, fo.Order - 1);
                yield return w with { Folios = w.Folios.SetItem(i, half).Add(new Folio(fo.Head + half.NrPages, fo.Order - 1)) };
            }
        }
        var secs = w.Memory.PresentSections;
        for (int i = secs.Length - 1; i >= 0 && secs.Length > 1; i--)
        {
            var p = w.Memory.Placement;
            var placement = p.Policy == PlacementPolicy.Independent ? p with { Bases = p.Bases.RemoveAt(i) } : p;
            yield return w with { Memory = new PhysicalMemory(secs.RemoveAt(i), placement) };
        }
        if (m.Kmsan) yield return w with { Machine = m with { Kmsan = false } };
        if (m.StructPageSize != (m.Is64Bit ? 64 : 32)) yield return w with { Machine = m with { StructPageSize = m.Is64Bit ? 64 : 32 } };
        if (m.XenGuest) yield return w with { Machine = m with { XenGuest = false }, Xen = [] };
        if (!w.Xen.IsEmpty) yield return w with { Xen = [] };
        if (m.DebugKernel) yield return w with { Machine = m with { DebugKernel = false } };
        if (m.Model == MemoryModel.Sparsemem && w.Memory.Placement.Policy != PlacementPolicy.NodeBuffer)
            yield return w with { Memory = w.Memory with { Placement = MemmapPlacement.NodeBuffer() } };
        // Explicit bases are the most to read; padded keeps what they may have been about (memmaps apart).
        if (m.Model == MemoryModel.Sparsemem && w.Memory.Placement.Policy == PlacementPolicy.Independent)
            yield return w with { Memory = w.Memory with { Placement = MemmapPlacement.Padded() } };
        if (m.Model == MemoryModel.Sparsemem && w.Memory.Placement.Policy == PlacementPolicy.NodeBuffer && w.Memory.Placement.Base != MemmapPlacement.Origin)
            yield return w with { Memory = w.Memory with { Placement = MemmapPlacement.NodeBuffer() } };
        if (m.Model == MemoryModel.Flatmem && m.ArchPfnOffset != 0) yield return w with { Machine = m with { ArchPfnOffset = 0 } };
        if (m.PageShift != 12) yield return w with { Machine = m with { PageShift = 12, SectionSizeBits = m.SectionSizeBits - m.PageShift + 12 } };
        if (HalveSections(w) is { } halved) yield return halved;
    }

    /// <summary>
    /// The same memory with sections half as large: every PFN, folio, pgmap and mapping stays where it is, each
    /// present section becomes two, and each memmap is split in two halves at the same addresses (node-buffer
    /// carving gives the same addresses by itself; independent bases are split; padded stays padded). A folio
    /// that crossed one boundary may now cross three and can then be split; this is how a gigantic-folio
    /// counterexample gets down to two one-page sections. Offered only for worlds with such a folio.
    /// </summary>
    private static World? HalveSections(World w)
    {
        var m = w.Machine;
        bool realArch = ArchPresets.All.ContainsKey(m.Name) && !m.Name.StartsWith("tiny-", StringComparison.Ordinal);
        if (m.PfnSectionShift == 0 || realArch) return null;
        // Only where it helps: a folio over a section boundary. Elsewhere smaller sections only make the
        // example harder to read (every page its own section).
        var f = w.Facts;
        if (!w.Folios.Any(fo => f.SectionNr(fo.Head) != f.SectionNr(fo.End - 1))) return null;
        var half = m with { SectionSizeBits = m.SectionSizeBits - 1, MaxPageOrder = Math.Min(m.MaxPageOrder, m.PfnSectionShift - 1) };
        var secs = w.Memory.PresentSections.SelectMany(s => new[] { 2 * s, 2 * s + 1 }).ToEqArray();
        var p = w.Memory.Placement;
        ulong halfBytes = (ulong)m.StructPageSize * m.PagesPerSection / 2;
        var placement = p.Policy == PlacementPolicy.Independent
            ? p with { Bases = p.Bases.SelectMany(b => new[] { b, b + halfBytes }).ToEqArray() }
            : p;
        return w with { Machine = half, Memory = new PhysicalMemory(secs, placement) };
    }
}
