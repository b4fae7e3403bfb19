using BioModel.Core;

namespace BioModel.Properties;

/// <summary>One piece of an iterator's byte stream, inside one page: where the bytes physically are.</summary>
public readonly record struct Chunk(ulong? Pfn, ulong Off, ulong Len, MappingKind Kind);

/// <summary>
/// Independent answers the properties compare the models with. Everything here is computed from the
/// world's layout facts (where each struct page lives, which PFN a user page maps, which folio and pgmap
/// a PFN is in) with plain arithmetic, never by calling the reference model: a property that asked the
/// model for its expectation could not fail.
/// </summary>
public static class Oracle
{
    public static ulong PageSize(World w) => w.Machine.PageSize;

    /// <summary>Physical address of byte <paramref name="off"/> counted from the start of page <paramref name="pfn"/>.</summary>
    public static ulong Phys(World w, ulong pfn, ulong off) => (pfn << w.Machine.PageShift) + off;

    /// <summary>The physical byte range a bvec describes (assuming physical contiguity, checked by <see cref="WalkProblem"/>).</summary>
    public static (ulong Start, ulong Len) Range(World w, BvecDesc b) => (Phys(w, b.Pfn, b.Offset), b.Len);

    /// <summary>Merges touching ranges and drops empty ones: two byte sequences are the same addresses iff their normalised lists are equal.</summary>
    public static List<(ulong Start, ulong Len)> Normalize(IEnumerable<(ulong Start, ulong Len)> ranges)
    {
        var list = new List<(ulong Start, ulong Len)>();
        foreach (var (s, l) in ranges)
        {
            if (l == 0) continue;
            if (list.Count > 0 && list[^1].Start + list[^1].Len == s) list[^1] = (list[^1].Start, list[^1].Len + l);
            else list.Add((s, l));
        }
        return list;
    }

    public static string RangesText(IEnumerable<(ulong Start, ulong Len)> r)
        => string.Join(" ", r.Select(x => $"[{LayoutRenderer.Hex(x.Start)}+{LayoutRenderer.Hex(x.Len)})"));

    /// <summary>
    /// Why a bvec cannot be walked with page + k (BIO-8, EX-3): bv_page + off/PS must be the struct page of
    /// the PFN holding the first byte, and each further page's struct page must follow the previous one.
    /// Checked at section boundaries only: inside one section memmap the arithmetic is linear.
    /// </summary>
    public static string? WalkProblem(World w, BvecDesc b)
    {
        var f = w.Facts;
        ulong ps = w.Machine.PageSize, sz = (ulong)w.Machine.StructPageSize;
        if (b.Len == 0) return null;
        var basePage = f.MemmapAddress(b.Pfn);
        if (basePage is null) return $"bv_page PFN 0x{b.Pfn:x} has no struct page";
        ulong first = b.Pfn + b.Offset / ps;
        ulong last = b.Pfn + ((ulong)b.Offset + b.Len - 1) / ps;
        ulong expected = basePage.Value + (b.Offset / ps) * sz;
        ulong pfn = first;
        while (true)
        {
            var a = f.MemmapAddress(pfn);
            if (a is null) return $"page {pfn - first} of the bvec: PFN 0x{pfn:x} has no struct page";
            if (a.Value != expected)
                return $"page {pfn - b.Pfn} of the bvec: bv_page + {pfn - b.Pfn} is {LayoutRenderer.MemmapRel(expected)} but PFN 0x{pfn:x}'s struct page is at {LayoutRenderer.MemmapRel(a.Value)}";
            ulong sectionEnd = f.SectionStart(f.SectionNr(pfn) + 1) - 1;
            if (sectionEnd >= last) return null;
            expected = a.Value + (sectionEnd + 1 - pfn) * sz;
            pfn = sectionEnd + 1;
        }
    }

    /// <summary>The PFNs a bvec spans, with their count (the pins a pinned bvec holds).</summary>
    public static IEnumerable<ulong> SpannedPfns(World w, BvecDesc b)
    {
        if (b.Len == 0) yield break;
        ulong ps = w.Machine.PageSize;
        ulong first = b.Pfn + b.Offset / ps, last = b.Pfn + ((ulong)b.Offset + b.Len - 1) / ps;
        for (ulong p = first; p <= last; p++) yield return p;
    }

    public static ulong PagesSpanned(World w, BvecDesc b)
        => b.Len == 0 ? 0 : ((ulong)b.Offset + b.Len - 1) / w.Machine.PageSize - b.Offset / w.Machine.PageSize + 1;

    /// <summary>The pgmap id of a PFN as the kernel sees it (0 for ordinary RAM or without ZONE_DEVICE).</summary>
    public static int PgmapId(World w, ulong pfn) => w.Machine.ZoneDevice ? w.Facts.PgmapOf(pfn)?.Id ?? 0 : 0;

    /// <summary>
    /// The P2P kinds of the pages a bvec spans: 0 for pages that are not P2PDMA, the pgmap id for P2PDMA
    /// ones. Computed from the pgmap ranges, so a bvec of a million pages costs nothing.
    /// </summary>
    public static SortedSet<int> P2pKinds(World w, BvecDesc b)
    {
        var kinds = new SortedSet<int>();
        if (b.Len == 0) return kinds;
        ulong ps = w.Machine.PageSize;
        ulong first = b.Pfn + b.Offset / ps, last = b.Pfn + ((ulong)b.Offset + b.Len - 1) / ps;
        ulong covered = 0;
        foreach (var pg in w.Facts.SortedPgmaps)
        {
            if (pg.End <= first || pg.Start > last) continue;
            ulong lo = Math.Max(pg.Start, first), hi = Math.Min(pg.End - 1, last);
            covered += hi - lo + 1;
            kinds.Add(IsP2p(w, lo) ? pg.Id : 0);
        }
        if (covered < last - first + 1) kinds.Add(0);
        return kinds;
    }

    public static bool IsP2p(World w, ulong pfn)
        => w.Machine.ZoneDevice && w.Machine.PciP2pdma && w.Facts.PgmapOf(pfn) is { Type: MemoryType.PciP2pdma };

    /// <summary>Absolute position of an iterator in its segment array (bytes before the current point).</summary>
    public static ulong AbsPos(IterDesc it)
    {
        if (it.Type == IterType.Ubuf) return it.IovOffset;
        ulong pos = 0;
        for (int i = 0; i < it.Index && i < it.SegmentCount; i++) pos += it.SegLen(i);
        return pos + it.IovOffset;
    }

    /// <summary>The page behind a kernel address (vmalloc mapping or direct map), or null.</summary>
    public static ulong? KernelPfn(World w, ulong kaddr)
    {
        var k = w.Kernel;
        ulong ps = w.Machine.PageSize;
        if (kaddr >= k.Base && kaddr < k.End(ps))
        {
            var vp = k.At(kaddr, w.Machine.PageShift);
            return vp.HasPfn ? vp.Pfn : null;
        }
        if (kaddr >= AddressSpace.PageOffset)
        {
            ulong pfn = (kaddr - AddressSpace.PageOffset) >> w.Machine.PageShift;
            return w.Facts.HasMemmap(pfn) ? pfn : null;
        }
        return null;
    }

    /// <summary>
    /// The next <paramref name="limit"/> bytes of the iterator as page pieces: user pages through the user
    /// mapping, kernel addresses through the vmalloc mapping or the direct map, bvecs through struct-page
    /// arithmetic on the memmap layout (bv_page + (bv_offset + done) / PAGE_SIZE).
    /// </summary>
    public static List<Chunk> Stream(World w, IterDesc it, ulong limit)
    {
        var chunks = new List<Chunk>();
        ulong ps = w.Machine.PageSize;
        limit = Math.Min(limit, it.Count);
        void Virt(ulong addr, ulong len, bool kernel)
        {
            while (len > 0)
            {
                ulong off = addr % ps;
                ulong n = Math.Min(len, ps - off);
                if (kernel)
                {
                    var pfn = KernelPfn(w, addr);
                    chunks.Add(new Chunk(pfn, off, n, pfn is null ? MappingKind.Unmapped : MappingKind.Mapped));
                }
                else
                {
                    var vp = w.User.At(addr, w.Machine.PageShift);
                    chunks.Add(new Chunk(vp.HasPfn ? vp.Pfn : null, off, n, vp.Kind));
                }
                addr += n;
                len -= n;
            }
        }
        if (it.Type == IterType.Ubuf)
        {
            Virt(it.Ubuf + it.IovOffset, limit, false);
            return chunks;
        }
        ulong skip = it.IovOffset;
        for (int i = it.Index; limit > 0 && i < it.SegmentCount; i++, skip = 0)
        {
            ulong len = Math.Min(it.SegLen(i) - skip, limit);
            if (it.Type == IterType.Bvec)
            {
                var bv = it.Bvecs[i];
                var basePage = w.Facts.MemmapAddress(bv.Pfn);
                ulong pos = bv.Offset + skip, left = len;
                while (left > 0)
                {
                    ulong off = pos % ps, n = Math.Min(left, ps - off);
                    ulong? pfn = basePage is null ? null : w.Facts.PfnAtAddress(basePage.Value + (pos / ps) * (ulong)w.Machine.StructPageSize);
                    chunks.Add(new Chunk(pfn, off, n, pfn is null ? MappingKind.Unmapped : MappingKind.Mapped));
                    pos += n;
                    left -= n;
                }
            }
            else Virt(it.Iov[i].Base + skip, len, it.Type == IterType.Kvec);
            limit -= len;
        }
        return chunks;
    }

    /// <summary>Physical ranges of a stream (chunks without a page are skipped: callers check for them first).</summary>
    public static IEnumerable<(ulong, ulong)> StreamRanges(World w, IEnumerable<Chunk> chunks)
        => chunks.Where(c => c.Pfn is not null).Select(c => (Phys(w, c.Pfn!.Value, c.Off), c.Len));

    /// <summary>Is the merge of a new range (page, off, len) into bvec <paramref name="last"/> allowed by every rule of BIO-3?</summary>
    public static bool MergeAllowed(World w, BvecDesc last, ulong pfn, ulong off, out string why)
    {
        var m = w.Machine;
        var f = w.Facts;
        ulong ps = m.PageSize, sz = (ulong)m.StructPageSize;
        ulong lastEnd = Phys(w, last.Pfn, last.Offset) + last.Len; // one past bv's last byte
        ulong newStart = Phys(w, pfn, off);
        if (lastEnd != newStart) { why = $"not physically adjacent: bvec ends at {LayoutRenderer.Hex(lastEnd)}, new data starts at {LayoutRenderer.Hex(newStart)}"; return false; }
        if (PgmapId(w, last.Pfn) != PgmapId(w, pfn)) { why = "different pgmaps"; return false; }
        if (m.XenGuest)
        {
            bool ok = m.XenPageSizeMatches && f.Bfn(last.Pfn) + ((ulong)last.Offset + last.Len) / ps == f.Bfn(pfn);
            if (!ok) { why = "the Xen bus frames are not consecutive"; return false; }
        }
        bool crossesPage = (lastEnd - 1) / ps != newStart / ps;
        if (crossesPage)
        {
            if (m.Kmsan) { why = "KMSAN refuses a merge across a page boundary"; return false; }
            ulong a = f.MemmapAddress(last.Pfn)!.Value + ((ulong)last.Offset + last.Len) / ps * sz;
            ulong b = f.MemmapAddress(pfn)!.Value + off / ps * sz;
            if (a != b) { why = $"struct pages not adjacent at the join ({LayoutRenderer.MemmapRel(a)} vs {LayoutRenderer.MemmapRel(b)})"; return false; }
        }
        why = "";
        return true;
    }
}
