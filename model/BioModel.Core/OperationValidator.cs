namespace BioModel.Core;

/// <summary>
/// Rejects operations that cannot even be written down for a world (a page that has no struct page, an
/// inconsistent bio or iterator, a value outside its C type). What a caller may write but must not do
/// (nr_vecs &gt; max_vecs, an empty page array, …) is not rejected here: the models run it and report a
/// contract violation.
/// </summary>
public static class OperationValidator
{
    /// <summary>The first PFN of a KVEC (direct map or vmalloc) or BVEC buffer that lies in a free block, if any (user pages cannot: the world forbids it).</summary>
    private static ulong? FirstFreePage(World w, IterDesc it)
    {
        var free = w.Allocator.Free;
        bool IsFree(ulong pfn) => free.Any(b => b.Contains(pfn));
        ulong ps = w.Machine.PageSize;
        if (it.Type == IterType.Bvec)
        {
            foreach (var bv in it.Bvecs)
            {
                ulong pages = ((ulong)bv.Offset + bv.Len + ps - 1) / ps;
                for (ulong k = 0; k < Math.Max(1, pages) && k < 1 << 20; k++) if (IsFree(bv.Pfn + k)) return bv.Pfn + k;
            }
        }
        else if (it.Type == IterType.Kvec)
        {
            foreach (var seg in it.Iov)
                for (ulong a = seg.Base & ~(ps - 1); a < seg.Base + seg.Len && a >= (seg.Base & ~(ps - 1)); a += ps)
                {
                    ulong? pfn = null;
                    if (a >= w.Kernel.Base && a < w.Kernel.End(ps)) { var vp = w.Kernel.At(a, w.Machine.PageShift); if (vp.HasPfn) pfn = vp.Pfn; }
                    else if (a >= AddressSpace.PageOffset) pfn = (a - AddressSpace.PageOffset) >> w.Machine.PageShift;
                    if (pfn is { } p && IsFree(p)) return p;
                    if (a + ps < a) break;
                }
        }
        return null;
    }

    public static IReadOnlyList<(string Path, string Reason)> Validate(World w, Operation op, string at)
    {
        var errors = new List<(string, string)>();
        var f = w.Facts;
        void Page(ulong pfn, string path)
        {
            if (!f.HasMemmap(pfn)) errors.Add((path, $"PFN 0x{pfn:x} has no struct page (not in a present section)"));
        }
        void Iter(IterDesc it, string path)
        {
            foreach (var (p, r) in it.Problems()) errors.Add(($"{path}.{p}", r));
            for (int i = 0; i < it.Bvecs.Length; i++) Page(it.Bvecs[i].Pfn, $"{path}.bvecs[{i}].pfn");
        }
        void BioDesc(Bio b, string path)
        {
            foreach (var (p, r) in b.Problems()) errors.Add(($"{path}.{p}", r));
            for (int i = 0; i < b.Vecs.Length; i++) Page(b.Vecs[i].Pfn, $"{path}.vecs[{i}].pfn");
        }
        switch (op)
        {
            case NumPagesContiguousOp n:
                for (int i = 0; i < n.Pfns.Length; i++) Page(n.Pfns[i], $"{at}.pages[{i}]");
                break;
            case BioAddOp a:
                BioDesc(a.Bio, $"{at}.bio");
                for (int i = 0; i < a.Calls.Length; i++)
                {
                    var c = a.Calls[i];
                    string cp = $"{at}.calls[{i}]";
                    if (!Enum.IsDefined(c.Fn)) { errors.Add(($"{cp}.fn", "unknown add function")); continue; }
                    Page(c.Pfn, $"{cp}.pfn");
                    if (c.Fn != AddFn.BioAddFolio)
                    {
                        if (c.Len > uint.MaxValue) errors.Add(($"{cp}.len", $"len 0x{c.Len:x} does not fit the unsigned int parameter of {AddCall.FnName(c.Fn)}"));
                        if (c.Off > uint.MaxValue) errors.Add(($"{cp}.off", $"off 0x{c.Off:x} does not fit the unsigned int parameter of {AddCall.FnName(c.Fn)}"));
                    }
                    else
                    {
                        if (f.HasMemmap(c.Pfn) && f.FolioOf(c.Pfn).Head != c.Pfn)
                            errors.Add(($"{cp}.pfn", $"bio_add_folio takes a folio: PFN 0x{c.Pfn:x} is not a folio head (its folio starts at 0x{f.FolioOf(c.Pfn).Head:x})"));
                        // size_t len, off: 32 bits on a 32-bit kernel (found by the bad-input campaign: a 64-bit off
                        // made the two implementations wrap the page pointer differently).
                        if (!w.Machine.Is64Bit && c.Len > uint.MaxValue) errors.Add(($"{cp}.len", $"len 0x{c.Len:x} does not fit the size_t parameter of bio_add_folio on a 32-bit kernel"));
                        if (!w.Machine.Is64Bit && c.Off > uint.MaxValue) errors.Add(($"{cp}.off", $"off 0x{c.Off:x} does not fit the size_t parameter of bio_add_folio on a 32-bit kernel"));
                    }
                }
                break;
            case ExtractPagesOp e:
                Iter(e.Iter, $"{at}.iter");
                break;
            case ExtractBvecsOp x:
                Iter(x.Iter, $"{at}.iter");
                for (int i = 0; i < x.Entry.Length; i++) Page(x.Entry[i].Pfn, $"{at}.bvecs[{i}].pfn");
                if (x.Entry.Length > ushort.MaxValue) errors.Add(($"{at}.bvecs", "nr_vecs is an unsigned short"));
                break;
            case GetPagesOp g:
                BioDesc(g.Bio, $"{at}.bio");
                Iter(g.Iter, $"{at}.iter");
                break;
            case IterOp io:
                Iter(io.Iter, $"{at}.iter");
                break;
            case MergeableOp mo:
                for (int i = 0; i < mo.Pairs.Length; i++)
                {
                    Page(mo.Pairs[i].A.Pfn, $"{at}.pairs[{i}][0].pfn");
                    Page(mo.Pairs[i].B.Pfn, $"{at}.pairs[{i}][1].pfn");
                }
                break;
            case HwMergeOp hm:
                Page(hm.Bvec.Pfn, $"{at}.bvec.pfn");
                for (int i = 0; i < hm.Calls.Length; i++)
                {
                    Page(hm.Calls[i].Pfn, $"{at}.calls[{i}].pfn");
                    if (hm.Calls[i].Fn != AddFn.BioAddPage) errors.Add(($"{at}.calls[{i}].fn", "bvec_try_merge_hw_page takes (page, len, off) calls only"));
                    if (hm.Calls[i].Len > uint.MaxValue) errors.Add(($"{at}.calls[{i}].len", "len is an unsigned int"));
                    if (hm.Calls[i].Off > uint.MaxValue) errors.Add(($"{at}.calls[{i}].off", "off is an unsigned int"));
                }
                break;
            case FolioAllocGreedyOp fa:
                if (fa.MinSize == 0 || (fa.MinSize & (fa.MinSize - 1)) != 0)
                    errors.Add(($"{at}.minsize", $"minsize 0x{fa.MinSize:x} is not a power of two (a logical block size)"));
                if (fa.Size == 0) errors.Add(($"{at}.size", "size is 0: nothing to allocate"));
                break;
            case BounceNrVecsOp nv:
                Iter(nv.Iter, $"{at}.iter");
                break;
            case DirectIoOp d:
                BioDesc(d.Bio, $"{at}.bio");
                Iter(d.Iter, $"{at}.iter");
                if (!w.Allocator.IsNone && FirstFreePage(w, d.Iter) is { } freePfn)
                    errors.Add(($"{at}.iter", $"the buffer uses PFN 0x{freePfn:x}, which the allocator lists as free: memory nobody owns cannot be an I/O buffer"));
                if (d.MinSize == 0 || (d.MinSize & (d.MinSize - 1)) != 0 || d.MinSize > uint.MaxValue)
                    errors.Add(($"{at}.minsize", $"minsize 0x{d.MinSize:x} is not a power of two of at most 32 bits (a logical block size)"));
                // bio_iov_iter_bounce_read (block/bio.c [BIO-70]) puts the bounce folio in bi_io_vec[0] and extracts
                // after bi_io_vec[1 .. bi_vcnt]: with bvecs in use, bi_io_vec[bi_vcnt] is read as a user bvec, and
                // a bio that owns its table does not describe it. (The write side WARNs and is modelled.)
                if (!d.Write && d.Bio.Vcnt > 0 && d.Bio.Vecs.Length <= d.Bio.Vcnt)
                    errors.Add(($"{at}.bio.vcnt", $"a read through bounce buffers into a bio with {d.Bio.Vcnt} bvec(s) in use: bio_iov_iter_bounce_read takes bi_io_vec[1 .. bi_vcnt] as user bvecs already there, and bvec {d.Bio.Vcnt} is not described (give an empty bio)"));
                for (int i = 0; i < d.InFlight.Length; i++)
                {
                    var uw = d.InFlight[i];
                    if (uw.Len == 0 || uw.Len > 1UL << 24) { errors.Add(($"{at}.in_flight[{i}].len", $"a store of 0x{uw.Len:x} bytes: give 1 to 0x1000000")); continue; }
                    ulong ps = w.Machine.PageSize;
                    for (ulong a = uw.Addr & ~(ps - 1); a < uw.Addr + uw.Len; a += ps)
                        if (w.User.At(a, w.Machine.PageShift).Kind is MappingKind.Unmapped or MappingKind.ReadOnly)
                        {
                            errors.Add(($"{at}.in_flight[{i}].addr", $"the store touches {LayoutRenderer.Hex(a)}, which the user cannot write (unmapped or read-only: the process would fault)"));
                            break;
                        }
                }
                break;
            default:
                errors.Add((at, $"unknown operation {op.GetType().Name}"));
                break;
        }
        return errors;
    }
}
