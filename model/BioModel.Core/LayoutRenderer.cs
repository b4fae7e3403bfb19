using System.Globalization;
using System.Text;

namespace BioModel.Core;

/// <summary>
/// The one text form of worlds, operations and outcomes, used by golden files and counterexamples alike.
/// Kernel vocabulary: PFNs, sections, memmap addresses (relative to the start of the memmap space), folio
/// and pgmap boundaries, lengths and offsets, all in hex. Output is stable: LF line ends, no culture.
/// </summary>
public static class LayoutRenderer
{
    public static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    public static string Ret(long r) => Errno.Name(r) ?? (r < 0 ? "-" + Hex((ulong)-r) : Hex((ulong)r));

    /// <summary>A struct-page address relative to the memmap space origin.</summary>
    public static string MemmapRel(ulong addr) => addr >= MemmapPlacement.Origin ? "+" + Hex(addr - MemmapPlacement.Origin) : "-" + Hex(MemmapPlacement.Origin - addr);

    public static string RenderWorld(World w)
    {
        var sb = new StringBuilder();
        var m = w.Machine;
        var f = w.Facts;
        string model = m.Model switch
        {
            MemoryModel.Flatmem => "FLATMEM",
            MemoryModel.Sparsemem => "SPARSEMEM",
            _ => "SPARSEMEM_VMEMMAP",
        };
        Line(sb, "machine", $"{m.Name}: PAGE_SIZE {Hex(m.PageSize)}, {model}, SECTION_SIZE_BITS {m.SectionSizeBits} ({m.PagesPerSection} pages/section), struct page {m.StructPageSize} B, {(m.Is64Bit ? "64" : "32")}-bit, MAX_FOLIO_ORDER {m.MaxFolioOrder}{(m.FolioRule == FolioSizeRule.CrossSection ? " (pre-6.18: folios may cross sections)" : "")}");
        var sw = new List<string>();
        if (m.ZoneDevice) sw.Add("ZONE_DEVICE");
        if (m.PciP2pdma) sw.Add("PCI_P2PDMA");
        if (m.Kmsan) sw.Add("KMSAN");
        if (m.XenGuest) sw.Add(m.XenPageSizeMatches ? "XEN_GUEST" : "XEN_GUEST(XEN_PAGE_SIZE != PAGE_SIZE)");
        if (m.DebugKernel) sw.Add("DEBUG_KERNEL");
        if (m.Model == MemoryModel.Flatmem && m.ArchPfnOffset != 0) sw.Add($"ARCH_PFN_OFFSET {Hex(m.ArchPfnOffset)}");
        Line(sb, "config", sw.Count == 0 ? "-" : string.Join(" ", sw));
        if (m.Model == MemoryModel.Sparsemem)
            Line(sb, "memmap", $"{MemmapPlacement.PolicyName(w.Memory.Placement.Policy)}, {Hex(f.SectionMemmapBytes)} bytes per section");
        else
            Line(sb, "memmap", m.Model == MemoryModel.Flatmem ? "one mem_map array" : "vmemmap: one virtual array");
        var secs = w.Memory.PresentSections;
        bool first = true;
        for (int i = 0; i < secs.Length; i++)
        {
            if (i > 0 && secs[i] > secs[i - 1] + 1)
            {
                ulong a = secs[i - 1] + 1, b = secs[i] - 1;
                Line(sb, "", $"section {(a == b ? Hex(a) : Hex(a) + "-" + Hex(b))}  hole");
            }
            ulong s0 = f.SectionStart(secs[i]);
            ulong s1 = s0 + m.PagesPerSection - 1;
            var a0 = f.MemmapAddress(s0);
            var a1 = f.MemmapAddress(s1);
            string mm = a0 is null || a1 is null ? "" : $"  memmap {MemmapRel(a0.Value)}..{MemmapRel(a1.Value + (ulong)m.StructPageSize - 1)}";
            Line(sb, first ? "sections" : "", $"section {Hex(secs[i])}  pfn {Hex(s0)}-{Hex(s1)}{mm}");
            first = false;
        }
        if (w.Folios.Length == 0) Line(sb, "folios", "- (every page is an order-0 folio)");
        else
        {
            first = true;
            foreach (var fo in f.SortedFolios)
            {
                Line(sb, first ? "folios" : "", $"{Hex(fo.Head)} order {fo.Order}  pfn {Hex(fo.Head)}-{Hex(fo.End - 1)}");
                first = false;
            }
        }
        if (w.Pgmaps.Length == 0) Line(sb, "pgmaps", "-");
        else
        {
            first = true;
            foreach (var pg in f.SortedPgmaps)
            {
                Line(sb, first ? "pgmaps" : "", $"#{pg.Id} {Pgmap.TypeName(pg.Type)}{(pg.Provider is null ? "" : " (" + pg.Provider + ")")}  pfn {Hex(pg.Start)}-{Hex(pg.End - 1)}");
                first = false;
            }
        }
        if (!w.Allocator.IsNone)
        {
            var a = w.Allocator;
            Line(sb, "allocator", $"max_order {a.MaxOrder}, __GFP_NORETRY max_order {a.NoRetryMaxOrder}, {a.FreePages} free page(s)");
            first = true;
            foreach (var b in a.Free)
            {
                Line(sb, first ? "free" : "", $"{Hex(b.Head)} order {b.Order}  pfn {Hex(b.Head)}-{Hex(b.End - 1)}");
                first = false;
            }
        }
        RenderSpace(sb, "user", w.User, m);
        if (!w.Kernel.Pages.IsEmpty) RenderSpace(sb, "vmalloc", w.Kernel, m);
        foreach (var x in w.Xen)
            Line(sb, "xen", $"pfn {Hex(x.Pfn)}-{Hex(x.Pfn + x.Count - 1)} -> bfn {Hex(x.Bfn)}-{Hex(x.Bfn + x.Count - 1)}");
        return sb.ToString();
    }

    private static void RenderSpace(StringBuilder sb, string label, AddressSpace s, MachineConfig m)
    {
        if (s.Pages.IsEmpty) { Line(sb, label, "-"); return; }
        bool first = true;
        int i = 0;
        while (i < s.Pages.Length)
        {
            var p = s.Pages[i];
            int j = i + 1;
            while (j < s.Pages.Length && s.Pages[j].Kind == p.Kind &&
                   (p.Kind == MappingKind.Unmapped || s.Pages[j].Pfn == p.Pfn + (ulong)(j - i)))
                j++;
            ulong va = s.Base + (ulong)i * m.PageSize;
            string what = p.Kind switch
            {
                MappingKind.Unmapped => "unmapped",
                _ => (j - i == 1 ? $"pfn {Hex(p.Pfn)}" : $"pfn {Hex(p.Pfn)}-{Hex(p.Pfn + (ulong)(j - i - 1))}") +
                     (p.Kind == MappingKind.ReadOnly ? " read-only" : p.Kind == MappingKind.NoPin ? " not pinnable" : ""),
            };
            Line(sb, first ? label : "", $"{Hex(va)}  {(j - i == 1 ? "1 page " : $"{j - i} pages")}  {what}");
            first = false;
            i = j;
        }
    }

    public static string RenderIter(IterDesc it)
    {
        var sb = new StringBuilder();
        string dir = it.Source ? "source" : "dest";
        string nf = it.Nofault ? " nofault" : "";
        switch (it.Type)
        {
            case IterType.Ubuf:
                sb.Append($"UBUF {dir}{nf} ubuf {Hex(it.Ubuf)} iov_offset {Hex(it.IovOffset)} count {Hex(it.Count)}");
                break;
            case IterType.Bvec:
                sb.Append($"BVEC {dir}{nf} bvec {it.Index}/{it.SegmentCount} iov_offset {Hex(it.IovOffset)} count {Hex(it.Count)} nr_segs {it.NrSegs}");
                sb.Append("  [" + string.Join(" ", it.Bvecs.Select(b => $"{Hex(b.Pfn)}+{Hex(b.Offset)}:{Hex(b.Len)}")) + "]");
                break;
            default:
                sb.Append($"{(it.Type == IterType.Iovec ? "IOVEC" : "KVEC")} {dir}{nf} seg {it.Index}/{it.SegmentCount} iov_offset {Hex(it.IovOffset)} count {Hex(it.Count)} nr_segs {it.NrSegs}");
                sb.Append("  [" + string.Join(" ", it.Iov.Select(s => $"{Hex(s.Base)}:{Hex(s.Len)}")) + "]");
                break;
        }
        return sb.ToString();
    }

    private static string OpfText(BioOpf opf)
    {
        var parts = new List<string>();
        if ((opf & BioOpf.Write) != 0) parts.Add("WRITE");
        if ((opf & BioOpf.NoMerge) != 0) parts.Add("NOMERGE");
        return parts.Count == 0 ? "-" : string.Join("|", parts);
    }

    public static string RenderBioHeader(Bio b)
    {
        var flags = new List<string>();
        if (b.Has(BioFlags.Cloned)) flags.Add("CLONED");
        if (b.Has(BioFlags.PagePinned)) flags.Add("PAGE_PINNED");
        string q = b.Queue.HasBdev ? (b.Queue.PciP2pdma ? "queue p2pdma" : "queue no-p2pdma") : "no bdev";
        string it = b.Idx != 0 || b.Done != 0 ? $" bi_idx {b.Idx} bi_offset {Hex(b.Done)}" : "";
        string p2p = b.P2pPgmap switch { null => "", 0 => " p2p-record non-P2P", { } id => $" p2p-record P2P #{id}" };
        return $"vcnt {b.Vcnt}/{b.MaxVecs} size {Hex(b.Size)}{it} flags {(flags.Count == 0 ? "-" : string.Join("|", flags))} opf {OpfText(b.Opf)} {q}{p2p}";
    }

    /// <summary>A bvec table: one row per bvec with its page, section, memmap address, folio, pgmap and byte range.</summary>
    public static void RenderBvecTable(StringBuilder sb, World w, IReadOnlyList<BvecDesc> vecs, string indent = "  ", IReadOnlyList<Folio>? taken = null)
    {
        if (vecs.Count == 0) { sb.Append(indent).Append("(no bvecs)\n"); return; }
        var f = w.Facts;
        var rows = new List<string[]> { new[] { "#", "pfn", "sect", "memmap", "folio", "pgmap", "off", "len", "phys pfns" } };
        for (int i = 0; i < vecs.Count; i++)
        {
            var v = vecs[i];
            Folio? bounce = taken?.Where(t => t.Contains(v.Pfn)).Select(t => (Folio?)t).FirstOrDefault();
            var fo = bounce ?? f.FolioOf(v.Pfn);
            var pg = f.PgmapOf(v.Pfn);
            var addr = f.MemmapAddress(v.Pfn);
            ulong firstPfn = v.Pfn + v.Offset / w.Machine.PageSize;
            ulong lastPfn = v.Len == 0 ? firstPfn : v.Pfn + (v.Offset + (ulong)v.Len - 1) / w.Machine.PageSize;
            rows.Add([
                i.ToString(CultureInfo.InvariantCulture),
                Hex(v.Pfn),
                Hex(f.SectionNr(v.Pfn)),
                addr is null ? "?" : MemmapRel(addr.Value),
                (bounce is null ? "" : "bounce ") + (fo.Order == 0 ? "o0" : $"{Hex(fo.Head)}/o{fo.Order}"),
                pg is null ? "-" : $"#{pg.Value.Id} {Pgmap.TypeName(pg.Value.Type)}",
                Hex(v.Offset),
                Hex(v.Len),
                firstPfn == lastPfn ? Hex(firstPfn) : $"{Hex(firstPfn)}-{Hex(lastPfn)}",
            ]);
        }
        Table(sb, rows, indent);
    }

    public static string RenderOperation(World w, Operation op)
    {
        var sb = new StringBuilder();
        switch (op)
        {
            case NumPagesContiguousOp n:
                Line(sb, "op", $"num_pages_contiguous(nr_pages {n.Pfns.Length})");
                Line(sb, "pages", n.Pfns.Length == 0 ? "(empty)" : string.Join(" ", n.Pfns.Select(p => Hex(p))));
                break;
            case BioAddOp a:
                Line(sb, "op", $"{a.Calls.Length} add call(s) on a bio");
                Line(sb, "bio in", RenderBioHeader(a.Bio));
                if (a.Bio.Vecs.Length > 0) RenderBvecTable(sb, w, a.Bio.Vecs.Items, "          ");
                for (int i = 0; i < a.Calls.Length; i++) Line(sb, i == 0 ? "calls" : "", $"[{i}] {a.Calls[i]}");
                break;
            case ExtractPagesOp e:
                Line(sb, "op", $"iov_iter_extract_pages(maxsize {Hex(e.MaxSize)}, maxpages {e.MaxPages}{(e.AllowP2p ? ", ITER_ALLOW_P2PDMA" : "")})");
                Line(sb, "iter in", RenderIter(e.Iter));
                break;
            case ExtractBvecsOp x:
                Line(sb, "op", $"iov_iter_extract_bvecs(max_size {Hex(x.MaxSize)}, nr_vecs {x.Entry.Length}, max_vecs {x.MaxVecs}, mem_align_mask {Hex(x.MemAlignMask)}{(x.AllowP2p ? ", ITER_ALLOW_P2PDMA" : "")}){(x.Repeat > 1 ? $" repeated up to {x.Repeat} times" : "")}");
                Line(sb, "iter in", RenderIter(x.Iter));
                if (x.Entry.Length > 0) { Line(sb, "bvecs in", ""); RenderBvecTable(sb, w, x.Entry.Items, "          "); }
                break;
            case GetPagesOp g:
                Line(sb, "op", $"bio_iov_iter_get_pages(mem_align_mask {Hex(g.MemAlignMask)}, len_align_mask {Hex(g.LenAlignMask)})");
                Line(sb, "bio in", RenderBioHeader(g.Bio));
                if (g.Bio.Vecs.Length > 0) RenderBvecTable(sb, w, g.Bio.Vecs.Items, "          ");
                Line(sb, "iter in", RenderIter(g.Iter));
                break;
            case MergeableOp mo:
                Line(sb, "op", $"biovec_phys_mergeable × {mo.Pairs.Length} (seg_boundary_mask {Hex(mo.Queue.SegBoundaryMask)})");
                for (int i = 0; i < mo.Pairs.Length; i++) Line(sb, i == 0 ? "pairs" : "", $"[{i}] {mo.Pairs[i].A} + {mo.Pairs[i].B}");
                break;
            case HwMergeOp hm:
                Line(sb, "op", $"bvec_try_merge_hw_page × {hm.Calls.Length} (seg_boundary_mask {Hex(hm.Queue.SegBoundaryMask)}, max_segment_size {Hex(hm.Queue.MaxSegmentSize)})");
                Line(sb, "bvec in", hm.Bvec.ToString());
                for (int i = 0; i < hm.Calls.Length; i++) Line(sb, i == 0 ? "calls" : "", $"[{i}] {hm.Calls[i]}");
                break;
            case FolioAllocGreedyOp fa:
                Line(sb, "op", $"folio_alloc_greedy(size {Hex(fa.Size)}, minsize {Hex(fa.MinSize)})");
                break;
            case BounceNrVecsOp nv:
                Line(sb, "op", $"bio_iov_bounce_nr_vecs({(nv.Write ? "write" : "read")})");
                Line(sb, "iter in", RenderIter(nv.Iter));
                break;
            case DirectIoOp d:
                Line(sb, "op", $"direct_io {(d.Write ? "write" : "read")} on a stable-pages device (maxlen {(d.MaxLen == ulong.MaxValue ? "-" : Hex(d.MaxLen))}, minsize {Hex(d.MinSize)}{(d.IoError ? ", the I/O fails" : "")}{(d.MarkDirty ? ", mark_dirty" : "")})");
                Line(sb, "bio in", RenderBioHeader(d.Bio));
                if (d.Bio.Vecs.Length > 0) RenderBvecTable(sb, w, d.Bio.Vecs.Items, "          ");
                Line(sb, "iter in", RenderIter(d.Iter));
                for (int i = 0; i < d.InFlight.Length; i++) Line(sb, i == 0 ? "in flight" : "", $"user {d.InFlight[i]}");
                break;
            case IterOp io:
                Line(sb, "op", "iov_iter " + string.Join(", ", io.Steps.Select(s => s.Kind == IterStepKind.Alignment ? "alignment" : $"{IterStep.StepName(s.Kind)}({Hex(s.N)})")));
                Line(sb, "iter in", RenderIter(io.Iter));
                break;
        }
        return sb.ToString();
    }

    public static string RenderOutcome(World w, Operation op, Outcome o)
    {
        var sb = new StringBuilder();
        Line(sb, "returns", o.Returns.Length == 0 ? "-" : string.Join(" ", o.Returns.Select(Ret)));
        if (op is ExtractPagesOp)
        {
            Line(sb, "offset0", o.Offset0 is null ? "(not written)" : Hex(o.Offset0.Value));
            Line(sb, "pages", o.Pages.Length == 0 ? "-" : string.Join(" ", o.Pages.Select(p => Hex(p))));
        }
        if (op is ExtractBvecsOp or HwMergeOp)
        {
            Line(sb, "bvecs", $"nr_vecs {o.Bvecs.Length}");
            RenderBvecTable(sb, w, o.Bvecs.Items);
        }
        if (o.Bio is { } bio)
        {
            Line(sb, "bio", RenderBioHeader(bio));
            bool bouncedRead = op is DirectIoOp { Write: false } && o.Taken.Length > 0 && bio.Vecs.Length == bio.Vcnt + 1;
            if (bouncedRead) Line(sb, "", "bvec 0 is the bounce folio the device sees; bi_vcnt counts the user bvecs after it");
            RenderBvecTable(sb, w, bouncedRead ? bio.Vecs.Items : bio.InUse.ToList(), "  ", o.Taken.Items);
        }
        if (o.Iter is { } it) Line(sb, "iter", RenderIter(it));
        if (op is FolioAllocGreedyOp || o.Taken.Length > 0)
            Line(sb, "taken", o.Taken.Length == 0 ? "-" : string.Join(" ", o.Taken.Select(t => $"{Hex(t.Head)}/o{t.Order}")));
        if (op is DirectIoOp d)
        {
            Line(sb, "submitted", Bytes(o.Submitted.Items));
            if (d.Write)
                Line(sb, "device", o.Device.Length == 0 ? "- (the bio never reached the device)" : $"read {Bytes(o.Device.Items)}: {Compare(o.Device.Items, o.Submitted.Items, "the buffer at submission")}");
            else
                Line(sb, "device", o.Device.Length == 0 ? "- (nothing written)" : $"wrote {Bytes(o.Device.Items)}");
            Line(sb, "buffer", Bytes(o.Buffer.Items) + (!d.Write && o.Device.Length > 0 ? ": " + Compare(o.Buffer.Items.Take(o.Device.Length).ToArray(), o.Device.Items, "the device's bytes") + " in the first " + Hex((ulong)o.Device.Length) : ""));
        }
        if (op is DirectIoOp || op is FolioAllocGreedyOp)
        {
            Line(sb, "held", o.Allocated.Length == 0 ? "-" : string.Join(" ", o.Allocated.Select(t => $"{Hex(t.Head)}/o{t.Order}")) + " (still allocated at the end)");
            Line(sb, "dirty", o.Dirty.Length == 0 ? "-" : string.Join(" ", o.Dirty.Select(p => Hex(p))));
        }
        Line(sb, "pins", o.Pins.Length == 0 ? "-" : string.Join(" ", o.Pins.Select(p => $"{Hex(p.Pfn)}x{p.Count}")));
        Line(sb, "warnings", o.Warnings.Length == 0 ? "-" : string.Join("; ", o.Warnings));
        Line(sb, "contract", o.Violations.Length == 0 ? "-" : string.Join("; ", o.Violations));
        return sb.ToString();
    }

    /// <summary>A whole scenario: world, then each operation with its outcome.</summary>
    public static string RenderScenario(World w, IReadOnlyList<Operation> ops, IReadOnlyList<Outcome> outcomes)
    {
        var sb = new StringBuilder();
        sb.Append("== world ==\n").Append(RenderWorld(w));
        for (int i = 0; i < ops.Count; i++)
        {
            sb.Append($"== operation {i} ==\n");
            sb.Append(RenderOperation(w, ops[i]));
            if (i < outcomes.Count) sb.Append(RenderOutcome(w, ops[i], outcomes[i]));
        }
        return sb.ToString();
    }

    /// <summary>A byte string in short: its length, an FNV-1a digest and its first bytes.</summary>
    public static string Bytes(IReadOnlyList<byte> b)
    {
        if (b.Count == 0) return "0 bytes";
        ulong h = 0xcbf29ce484222325UL;
        foreach (var x in b) h = (h ^ x) * 0x100000001b3UL;
        var head = string.Join(" ", b.Take(8).Select(x => x.ToString("x2", CultureInfo.InvariantCulture)));
        return $"{Hex((ulong)b.Count)} bytes, fnv {h:x16}, {head}{(b.Count > 8 ? " .." : "")}";
    }

    /// <summary>"same as …", or where and how the first two byte strings differ.</summary>
    public static string Compare(IReadOnlyList<byte> a, IReadOnlyList<byte> b, string what)
    {
        int n = Math.Min(a.Count, b.Count), diff = 0, first = -1;
        for (int i = 0; i < n; i++)
            if (a[i] != b[i]) { diff++; if (first < 0) first = i; }
        if (diff == 0 && a.Count == b.Count) return "same as " + what;
        if (diff == 0) return $"same as {what} in the first {Hex((ulong)n)} bytes, lengths {Hex((ulong)a.Count)} and {Hex((ulong)b.Count)}";
        return $"differs from {what} in {Hex((ulong)diff)} byte(s), first at +{Hex((ulong)first)} ({a[first]:x2}, {what} has {b[first]:x2})";
    }

    private static void Line(StringBuilder sb, string label, string text)
    {
        sb.Append(label.PadRight(10)).Append(text).Append('\n');
        // Trailing spaces never appear: golden diffs stay clean.
        while (sb.Length > 1 && sb[^2] == ' ') sb.Remove(sb.Length - 2, 1);
    }

    private static void Table(StringBuilder sb, List<string[]> rows, string indent)
    {
        int cols = rows[0].Length;
        var width = new int[cols];
        foreach (var r in rows)
            for (int c = 0; c < cols; c++) width[c] = Math.Max(width[c], r[c].Length);
        foreach (var r in rows)
        {
            var line = new StringBuilder(indent);
            for (int c = 0; c < cols; c++)
            {
                line.Append(c == cols - 1 ? r[c] : r[c].PadRight(width[c] + 2));
            }
            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
    }
}
