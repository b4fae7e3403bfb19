using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BioModel.Core;

/// <summary>
/// Reads and writes scenario files (JSON; the format is documented in docs/scenario-format.md). Reading
/// is strict and never throws: unknown fields, wrong types, values outside their range and impossible
/// worlds come back as <see cref="ScenarioError"/>s naming the JSON path. Writing produces the canonical
/// form (hex for PFNs, addresses, lengths and masks), which reads back to an equal scenario.
/// </summary>
public static class ScenarioFile
{
    private static readonly Dictionary<string, MemoryModel> Models = new()
    {
        ["flatmem"] = MemoryModel.Flatmem,
        ["sparsemem"] = MemoryModel.Sparsemem,
        ["sparsemem-vmemmap"] = MemoryModel.SparsememVmemmap,
    };

    private static readonly Dictionary<string, PlacementPolicy> Policies = new()
    {
        ["node-buffer"] = PlacementPolicy.NodeBuffer,
        ["independent"] = PlacementPolicy.Independent,
        ["padded"] = PlacementPolicy.Padded,
    };

    private static readonly Dictionary<string, FolioSizeRule> FolioRules = new()
    {
        ["max-folio-order"] = FolioSizeRule.MaxFolioOrder,
        ["cross-section"] = FolioSizeRule.CrossSection,
    };

    private static readonly Dictionary<string, MemoryType> Types = new()
    {
        ["private"] = MemoryType.Private,
        ["coherent"] = MemoryType.Coherent,
        ["fs-dax"] = MemoryType.FsDax,
        ["generic"] = MemoryType.Generic,
        ["pci-p2pdma"] = MemoryType.PciP2pdma,
    };

    private static readonly Dictionary<string, IterType> IterTypes = new()
    {
        ["ubuf"] = IterType.Ubuf,
        ["iovec"] = IterType.Iovec,
        ["kvec"] = IterType.Kvec,
        ["bvec"] = IterType.Bvec,
    };

    private static readonly Dictionary<string, bool> Dirs = new() { ["source"] = true, ["dest"] = false };

    private static readonly Dictionary<string, AddFn> AddFns = new()
    {
        ["bio_add_page"] = AddFn.BioAddPage,
        ["__bio_add_page"] = AddFn.RawBioAddPage,
        ["bio_add_folio"] = AddFn.BioAddFolio,
    };

    private static readonly Dictionary<string, BioFlags> FlagNames = new()
    {
        ["cloned"] = BioFlags.Cloned,
        ["page_pinned"] = BioFlags.PagePinned,
    };

    private static readonly string[] OpKinds =
        ["num_pages_contiguous", "bio_add_page", "iov_iter_extract_pages", "iov_iter_extract_bvecs", "bio_iov_iter_get_pages", "iov_iter",
         "biovec_phys_mergeable", "bvec_try_merge_hw_page", "folio_alloc_greedy", "bio_iov_bounce_nr_vecs", "direct_io"];

    // ------------------------------------------------------------------ reading

    /// <summary>Parses a scenario; on failure <paramref name="errors"/> lists every problem found. Never throws.</summary>
    public static bool TryParse(string json, out Scenario? scenario, out IReadOnlyList<ScenarioError> errors)
    {
        try
        {
            return TryParseCore(json, out scenario, out errors);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A reader bug must still be a clear error, never a crash of the caller.
            scenario = null;
            errors = [new ScenarioError("$", $"the reader failed on this input ({e.GetType().Name}: {e.Message}); please report it")];
            return false;
        }
    }

    private static bool TryParseCore(string json, out Scenario? scenario, out IReadOnlyList<ScenarioError> errors)
    {
        var errs = new List<ScenarioError>();
        scenario = null;
        errors = errs;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            errs.Add(new("$", $"not valid JSON: {e.Message}"));
            return false;
        }
        using (doc)
        {
            var root = JsonFields.Of(doc.RootElement, "$", errs);
            if (root is null) return false;
            var s = ReadScenario(root, errs);
            if (errs.Count > 0 || s is null) return false;
            foreach (var (p, r) in s.World.Problems()) errs.Add(new(p, r));
            if (errs.Count > 0) return false;
            for (int i = 0; i < s.Operations.Length; i++)
                foreach (var (p, r) in OperationValidator.Validate(s.World, s.Operations[i], $"$.operations[{i}]"))
                    errs.Add(new(p, r));
            if (errs.Count > 0) return false;
            scenario = s;
            return true;
        }
    }

    /// <summary>Parses a scenario or throws <see cref="FormatException"/> listing every problem.</summary>
    public static Scenario Parse(string json)
        => TryParse(json, out var s, out var errors)
            ? s!
            : throw new FormatException("invalid scenario:\n  " + string.Join("\n  ", errors));

    /// <summary>Loads a file; the errors name the file.</summary>
    public static bool TryLoad(string path, out Scenario? scenario, out IReadOnlyList<ScenarioError> errors)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            scenario = null;
            errors = [new ScenarioError(path, $"cannot read the file: {e.Message}")];
            return false;
        }
        return TryParse(text, out scenario, out errors);
    }

    private static Scenario? ReadScenario(JsonFields root, List<ScenarioError> errs)
    {
        string name = root.Str("name", required: true) ?? "";
        string? comment = root.Str("comment");
        var machineObj = root.Obj("machine", required: true);
        var machine = machineObj is null ? new MachineConfig() : ReadMachine(machineObj);
        var memObj = root.Obj("memory", required: true);
        var memory = memObj is null ? new PhysicalMemory([], MemmapPlacement.NodeBuffer()) : ReadMemory(memObj);
        var folios = new List<Folio>();
        foreach (var (v, p) in root.Arr("folios"))
        {
            var o = JsonFields.Of(v, p, errs);
            if (o is null) continue;
            folios.Add(new Folio(o.U64("head", required: true), o.Int("order", 0, 0, 40, required: true)));
            o.Done();
        }
        var pgmaps = new List<Pgmap>();
        foreach (var (v, p) in root.Arr("pgmaps"))
        {
            var o = JsonFields.Of(v, p, errs);
            if (o is null) continue;
            pgmaps.Add(new Pgmap(o.Int("id", 0, 1, int.MaxValue, required: true), o.Choice("type", Types, MemoryType.Generic, required: true),
                o.U64("start", required: true), o.U64("pages", required: true), o.Str("provider")));
            o.Done();
        }
        var user = ReadSpace(root.Obj("user"), AddressSpace.DefaultUserBaseFor(machine), errs);
        var kernel = ReadSpace(root.Obj("kernel"), AddressSpace.DefaultVmallocBase, errs);
        var xen = new List<XenRange>();
        foreach (var (v, p) in root.Arr("xen"))
        {
            var o = JsonFields.Of(v, p, errs);
            if (o is null) continue;
            xen.Add(new XenRange(o.U64("pfn", required: true), o.U64("count", required: true), o.U64("bfn", required: true)));
            o.Done();
        }
        var allocator = ReadAllocator(root.Obj("allocator"), errs);
        var ops = new List<Operation>();
        foreach (var (v, p) in root.Arr("operations", required: true))
        {
            var o = JsonFields.Of(v, p, errs);
            if (o is null) continue;
            var op = ReadOperation(o, machine, errs);
            if (op is not null) ops.Add(op);
        }
        root.Done();
        var world = new World(machine, memory, folios.ToEqArray(), pgmaps.ToEqArray(), user, kernel, xen.ToEqArray()) { Allocator = allocator };
        return new Scenario(name, comment, world, ops.ToEqArray());
    }

    /// <summary>{"free": [{"head": pfn, "order": n}, ...], "noretry_max_order": n, "max_order": n}; absent: no free memory.</summary>
    private static PageAllocator ReadAllocator(JsonFields? o, List<ScenarioError> errs)
    {
        if (o is null) return PageAllocator.None;
        var free = new List<Folio>();
        foreach (var (v, p) in o.Arr("free"))
        {
            var b = JsonFields.Of(v, p, errs);
            if (b is null) continue;
            free.Add(new Folio(b.U64("head", required: true), b.Int("order", 0, 0, 40, required: true)));
            b.Done();
        }
        int maxOrder = o.Int("max_order", -1, -1, 40, required: true);
        int noRetry = o.Int("noretry_max_order", maxOrder, -1, 40);
        o.Done();
        return new PageAllocator(free.OrderBy(f => f.Head).ToEqArray(), noRetry, maxOrder);
    }

    private static MachineConfig ReadMachine(JsonFields o)
    {
        var presetName = o.Str("preset");
        MachineConfig m = new();
        if (presetName is not null)
        {
            if (ArchPresets.All.TryGetValue(presetName, out var pre)) m = pre;
            else o.Error("preset", $"unknown preset '{presetName}' (known: {string.Join(", ", ArchPresets.All.Keys)})");
        }
        int bits = o.Int("bits", m.Is64Bit ? 64 : 32, 32, 64);
        if (bits is not (32 or 64)) o.Error("bits", $"{bits} is neither 32 nor 64");
        m = m with
        {
            PageShift = o.Int("page_shift", m.PageShift, 0, 63),
            SectionSizeBits = o.Int("section_size_bits", m.SectionSizeBits, 0, 63),
            Model = o.Choice("model", Models, m.Model),
            StructPageSize = o.Int("struct_page_size", m.StructPageSize, 0, 4096),
            Is64Bit = bits == 64,
            MaxPhysmemBits = o.Int("max_physmem_bits", m.MaxPhysmemBits, 0, 64),
            MaxPageOrder = o.Int("max_page_order", m.MaxPageOrder, 0, 63),
            GiganticFolios = o.Bool("gigantic_folios", m.GiganticFolios),
            FolioRule = o.Choice("folio_rule", FolioRules, m.FolioRule),
            ArchPfnOffset = o.U64("arch_pfn_offset", m.ArchPfnOffset),
            ZoneDevice = o.Bool("zone_device", m.ZoneDevice),
            PciP2pdma = o.Bool("pci_p2pdma", m.PciP2pdma),
            Kmsan = o.Bool("kmsan", m.Kmsan),
            XenGuest = o.Bool("xen_guest", m.XenGuest),
            XenPageSizeMatches = o.Bool("xen_page_size_matches", m.XenPageSizeMatches),
            DebugKernel = o.Bool("debug_kernel", m.DebugKernel),
        };
        o.Done();
        return m;
    }

    private static PhysicalMemory ReadMemory(JsonFields o)
    {
        var secs = new List<ulong>();
        foreach (var (v, p) in o.Arr("sections", required: true))
        {
            var u = o.U64Of(v, p);
            if (u is not null) secs.Add(u.Value);
        }
        var placement = MemmapPlacement.NodeBuffer();
        var po = o.Obj("placement");
        if (po is not null)
        {
            var policy = po.Choice("policy", Policies, PlacementPolicy.NodeBuffer, required: true);
            ulong b = po.U64("base", MemmapPlacement.Origin);
            var bases = new List<ulong>();
            foreach (var (v, p) in po.Arr("bases"))
            {
                var u = po.U64Of(v, p);
                if (u is not null) bases.Add(u.Value);
            }
            if (policy == PlacementPolicy.Independent && po.Has("base"))
                po.Error("base", "independent placement takes one base per section in 'bases', not 'base'");
            placement = new MemmapPlacement(policy, policy == PlacementPolicy.Independent ? 0 : b, bases.ToEqArray());
            po.Done();
        }
        o.Done();
        return new PhysicalMemory(secs.ToEqArray(), placement);
    }

    /// <summary>
    /// A mapping: {"base": addr, "pages": [...]} where each entry is "0x10" (mapped), "ro:0x10",
    /// "nopin:0x10", "-" (unmapped) or a run "0x10..0x1f" (with the same prefixes).
    /// </summary>
    private static AddressSpace ReadSpace(JsonFields? o, ulong defBase, List<ScenarioError> errs)
    {
        if (o is null) return AddressSpace.Empty(defBase);
        ulong b = o.U64("base", defBase);
        var pages = new List<VirtPage>();
        foreach (var (v, p) in o.Arr("pages"))
        {
            if (v.ValueKind != JsonValueKind.String)
            {
                errs.Add(new(p, $"expected a page string like \"0x10\", \"ro:0x10\", \"nopin:0x10\", \"0x10..0x1f\" or \"-\", got {JsonFields.Describe(v)}"));
                continue;
            }
            var s = v.GetString()!.Trim();
            if (s == "-") { pages.Add(VirtPage.Hole); continue; }
            var kind = MappingKind.Mapped;
            if (s.StartsWith("ro:", StringComparison.Ordinal)) { kind = MappingKind.ReadOnly; s = s[3..]; }
            else if (s.StartsWith("nopin:", StringComparison.Ordinal)) { kind = MappingKind.NoPin; s = s[6..]; }
            int dots = s.IndexOf("..", StringComparison.Ordinal);
            if (dots >= 0)
            {
                if (!JsonFields.TryParseU64(s[..dots], out var a) || !JsonFields.TryParseU64(s[(dots + 2)..], out var z) || z < a || z - a >= 1 << 20)
                {
                    errs.Add(new(p, $"'{v.GetString()}' is not a PFN run 'first..last' with first ≤ last (at most 2^20 pages)"));
                    continue;
                }
                for (ulong x = a; x <= z; x++) pages.Add(new VirtPage(kind, x));
            }
            else if (JsonFields.TryParseU64(s, out var pfn)) pages.Add(new VirtPage(kind, pfn));
            else errs.Add(new(p, $"'{v.GetString()}' is not a PFN (\"0x10\"), a run (\"0x10..0x1f\") or \"-\""));
        }
        o.Done();
        return new AddressSpace(b, pages.ToEqArray());
    }

    private static Operation? ReadOperation(JsonFields o, MachineConfig m, List<ScenarioError> errs)
    {
        var kind = o.Str("op", required: true);
        if (kind is null) return null;
        Operation? op;
        switch (kind)
        {
            case "num_pages_contiguous":
            {
                var pfns = new List<ulong>();
                foreach (var (v, p) in o.Arr("pages", required: true))
                {
                    if (v.ValueKind == JsonValueKind.String && v.GetString()!.Contains("..", StringComparison.Ordinal))
                    {
                        var s = v.GetString()!;
                        int d = s.IndexOf("..", StringComparison.Ordinal);
                        if (JsonFields.TryParseU64(s[..d], out var a) && JsonFields.TryParseU64(s[(d + 2)..], out var z) && z >= a && z - a < 1 << 20)
                            for (ulong x = a; x <= z; x++) pfns.Add(x);
                        else errs.Add(new(p, $"'{s}' is not a PFN run 'first..last'"));
                        continue;
                    }
                    var u = JsonFields.ParseU64(v, p, errs);
                    if (u is not null) pfns.Add(u.Value);
                }
                op = new NumPagesContiguousOp(pfns.ToEqArray());
                break;
            }
            case "bio_add_page":
            {
                var bio = ReadBio(o.Obj("bio", required: true), errs);
                var calls = new List<AddCall>();
                foreach (var (v, p) in o.Arr("calls", required: true))
                {
                    var c = JsonFields.Of(v, p, errs);
                    if (c is null) continue;
                    calls.Add(new AddCall(c.Choice("fn", AddFns, AddFn.BioAddPage), c.U64("pfn", required: true), c.U64("len", required: true), c.U64("off")));
                    c.Done();
                }
                op = new BioAddOp(bio, calls.ToEqArray());
                break;
            }
            case "iov_iter_extract_pages":
            {
                var it = ReadIter(o.Obj("iter", required: true), errs);
                ulong max = o.U64("maxsize", required: true);
                ulong maxPages = o.U64("maxpages", required: true);
                if (maxPages > uint.MaxValue) o.Error("maxpages", "maxpages is an unsigned int");
                op = new ExtractPagesOp(it, max, (uint)Math.Min(maxPages, uint.MaxValue), o.Bool("p2pdma", false));
                break;
            }
            case "iov_iter_extract_bvecs":
            {
                var it = ReadIter(o.Obj("iter", required: true), errs);
                var entry = ReadBvecs(o, "bvecs", errs);
                int maxVecs = o.Int("max_vecs", 0, 0, ushort.MaxValue, required: true);
                ulong maxSize = o.U64("max_size", required: true);
                ulong mask = o.U64("mem_align_mask");
                if (mask > uint.MaxValue) o.Error("mem_align_mask", "mem_align_mask is an unsigned int");
                op = new ExtractBvecsOp(it, entry, (ushort)maxVecs, maxSize, (uint)mask, o.Bool("p2pdma", false)) { Repeat = o.Int("repeat", 1, 1, 4096) };
                break;
            }
            case "bio_iov_iter_get_pages":
            {
                var bio = ReadBio(o.Obj("bio", required: true), errs);
                var it = ReadIter(o.Obj("iter", required: true), errs);
                ulong mem = o.U64("mem_align_mask");
                ulong len = o.U64("len_align_mask");
                if (mem > uint.MaxValue) o.Error("mem_align_mask", "mem_align_mask is an unsigned int");
                if (len > uint.MaxValue) o.Error("len_align_mask", "len_align_mask is an unsigned int");
                op = new GetPagesOp(bio, it, (uint)mem, (uint)len);
                break;
            }
            case "iov_iter":
            {
                var it = ReadIter(o.Obj("iter", required: true), errs);
                var steps = new List<IterStep>();
                foreach (var (v, p) in o.Arr("steps", required: true))
                {
                    var s = JsonFields.Of(v, p, errs);
                    if (s is null) continue;
                    int n = 0;
                    foreach (var k in new[] { IterStepKind.Advance, IterStepKind.Revert, IterStepKind.Npages })
                        if (s.Has(IterStep.StepName(k))) { steps.Add(new IterStep(k, s.U64(IterStep.StepName(k)))); n++; }
                    if (s.Has("alignment")) { s.Bool("alignment", true); steps.Add(new IterStep(IterStepKind.Alignment, 0)); n++; }
                    if (n != 1) errs.Add(new(p, "a step is exactly one of {\"advance\": n}, {\"revert\": n}, {\"npages\": maxpages}, {\"alignment\": true}"));
                    s.Done();
                }
                op = new IterOp(it, steps.ToEqArray());
                break;
            }
            case "biovec_phys_mergeable":
            {
                var q = ReadQueue(o.Obj("queue"));
                var pairs = new List<BvecPair>();
                foreach (var (v, p) in o.Arr("pairs", required: true))
                {
                    var po = JsonFields.Of(v, p, errs);
                    if (po is null) continue;
                    var a = ReadBvec(po.Obj("a", required: true), errs);
                    var b = ReadBvec(po.Obj("b", required: true), errs);
                    pairs.Add(new BvecPair(a, b));
                    po.Done();
                }
                op = new MergeableOp(q, pairs.ToEqArray());
                break;
            }
            case "bvec_try_merge_hw_page":
            {
                var q = ReadQueue(o.Obj("queue"));
                var bv = ReadBvec(o.Obj("bvec", required: true), errs);
                var calls = new List<AddCall>();
                foreach (var (v, p) in o.Arr("calls", required: true))
                {
                    var c = JsonFields.Of(v, p, errs);
                    if (c is null) continue;
                    calls.Add(new AddCall(AddFn.BioAddPage, c.U64("pfn", required: true), c.U64("len", required: true), c.U64("off")));
                    c.Done();
                }
                op = new HwMergeOp(q, bv, calls.ToEqArray());
                break;
            }
            case "folio_alloc_greedy":
                op = new FolioAllocGreedyOp(o.U64("size", required: true), o.U64("minsize", m.PageSize));
                break;
            case "bio_iov_bounce_nr_vecs":
            {
                var it = ReadIter(o.Obj("iter", required: true), errs);
                op = new BounceNrVecsOp(it, o.Bool("write", it.Source));
                break;
            }
            case "direct_io":
            {
                var bio = ReadBio(o.Obj("bio", required: true), errs);
                var it = ReadIter(o.Obj("iter", required: true), errs);
                var writes = new List<UserWrite>();
                foreach (var (v, p) in o.Arr("in_flight"))
                {
                    var w = JsonFields.Of(v, p, errs);
                    if (w is null) continue;
                    writes.Add(new UserWrite(w.U64("addr", required: true), w.U64("len", required: true), (byte)w.Int("value", 0, 0, 255)));
                    w.Done();
                }
                op = new DirectIoOp(bio, it, o.U64("maxlen", ulong.MaxValue), o.U64("minsize", m.PageSize), writes.ToEqArray(),
                    o.Bool("io_error", false), o.Bool("mark_dirty", !it.Source));
                break;
            }
            default:
                o.Error("op", $"unknown operation '{kind}' (known: {string.Join(", ", OpKinds)})");
                op = null;
                break;
        }
        o.Done();
        return op;
    }

    private static EqArray<BvecDesc> ReadBvecs(JsonFields o, string name, List<ScenarioError> errs)
    {
        var list = new List<BvecDesc>();
        foreach (var (v, p) in o.Arr(name))
        {
            var b = JsonFields.Of(v, p, errs);
            if (b is not null) list.Add(ReadBvec(b, errs));
        }
        return list.ToEqArray();
    }

    private static BvecDesc ReadBvec(JsonFields? b, List<ScenarioError> errs)
    {
        if (b is null) return default;
        ulong pfn = b.U64("pfn", required: true), len = b.U64("len", required: true), off = b.U64("off");
        if (len > uint.MaxValue) b.Error("len", $"bv_len 0x{len:x} does not fit 32 bits");
        if (off > uint.MaxValue) b.Error("off", $"bv_offset 0x{off:x} does not fit 32 bits");
        b.Done();
        return new BvecDesc(pfn, (uint)len, (uint)off);
    }

    private static QueueLimits ReadQueue(JsonFields? qo)
    {
        var q = new QueueLimits();
        if (qo is null) return q;
        ulong mss = qo.U64("max_segment_size", q.MaxSegmentSize);
        if (mss > uint.MaxValue) qo.Error("max_segment_size", "max_segment_size is 32 bits");
        q = new QueueLimits
        {
            HasBdev = qo.Bool("bdev", q.HasBdev),
            PciP2pdma = qo.Bool("p2pdma", q.PciP2pdma),
            SegBoundaryMask = qo.U64("seg_boundary_mask", q.SegBoundaryMask),
            MaxSegmentSize = (uint)Math.Min(mss, uint.MaxValue),
            VirtBoundaryMask = qo.U64("virt_boundary_mask", q.VirtBoundaryMask),
        };
        qo.Done();
        return q;
    }

    private static Bio ReadBio(JsonFields? o, List<ScenarioError> errs)
    {
        if (o is null) return Bio.Empty(0);
        int maxVecs = o.Int("max_vecs", 0, 0, ushort.MaxValue, required: true);
        var vecs = ReadBvecs(o, "vecs", errs);
        ulong sum = 0;
        foreach (var v in vecs) sum += v.Len;
        int vcnt = o.Int("vcnt", vecs.Length, 0, ushort.MaxValue);
        ulong size = o.U64("size", sum);
        if (size > uint.MaxValue) o.Error("size", "bi_size is 32 bits");
        var flags = BioFlags.None;
        foreach (var (v, p) in o.Arr("flags"))
        {
            if (v.ValueKind == JsonValueKind.String && FlagNames.TryGetValue(v.GetString()!, out var fl)) flags |= fl;
            else errs.Add(new(p, $"{JsonFields.Describe(v)} is not a bio flag ({string.Join(", ", FlagNames.Keys)})"));
        }
        var opf = BioOpf.None;
        foreach (var (v, p) in o.Arr("opf"))
        {
            if (v.ValueKind == JsonValueKind.String && v.GetString() == "nomerge") opf |= BioOpf.NoMerge;
            else if (v.ValueKind == JsonValueKind.String && v.GetString() == "write") opf |= BioOpf.Write;
            else errs.Add(new(p, $"{JsonFields.Describe(v)} is not an opf bit (write, nomerge)"));
        }
        var q = ReadQueue(o.Obj("queue"));
        int idx = o.Int("idx", 0, 0, ushort.MaxValue);
        ulong done = o.U64("offset");
        if (done > uint.MaxValue) o.Error("offset", "bi_offset is 32 bits");
        int? p2p = o.Has("p2p_pgmap") ? o.Int("p2p_pgmap", 0, 0, int.MaxValue) : null;
        o.Done();
        return new Bio
        {
            MaxVecs = (ushort)maxVecs, Vecs = vecs, Vcnt = (ushort)vcnt, Size = (uint)Math.Min(size, uint.MaxValue),
            Flags = flags, Opf = opf, Queue = q, Idx = idx, Done = (uint)Math.Min(done, uint.MaxValue), P2pPgmap = p2p,
        };
    }

    private static IterDesc ReadIter(JsonFields? o, List<ScenarioError> errs)
    {
        if (o is null) return IterDesc.ForUbuf(0, 0);
        var type = o.Choice("type", IterTypes, IterType.Ubuf, required: true);
        bool source = o.Choice("dir", Dirs, true, required: true);
        bool nofault = o.Bool("nofault", false);
        ulong ubuf = o.U64("ubuf", 0, required: type == IterType.Ubuf);
        if (type != IterType.Ubuf && o.Has("ubuf")) o.Error("ubuf", $"only a UBUF iterator has 'ubuf'");
        var segs = new List<IoVec>();
        foreach (var (v, p) in o.Arr("segments"))
        {
            var s = JsonFields.Of(v, p, errs);
            if (s is null) continue;
            segs.Add(new IoVec(s.U64("base", required: true), s.U64("len", required: true)));
            s.Done();
        }
        var bvecs = ReadBvecs(o, "bvecs", errs);
        int index = o.Int("index", 0, 0, 1 << 20);
        ulong iovOffset = o.U64("iov_offset");
        ulong rest = 0;
        if (type == IterType.Bvec) for (int i = index; i < bvecs.Length; i++) rest += bvecs[i].Len;
        else for (int i = index; i < segs.Count; i++) rest += segs[i].Len;
        ulong count = o.U64("count", rest >= iovOffset ? rest - iovOffset : 0, required: type == IterType.Ubuf);
        o.Done();
        return new IterDesc
        {
            Type = type, Source = source, Nofault = nofault, Ubuf = ubuf, Iov = segs.ToEqArray(), Bvecs = bvecs,
            Index = index, IovOffset = iovOffset, Count = count,
        };
    }

    // ------------------------------------------------------------------ writing

    /// <summary>The canonical text of a scenario (LF line ends, trailing newline).</summary>
    public static string Write(Scenario s)
    {
        var root = new JsonObject { ["name"] = s.Name };
        if (s.Comment is not null) root["comment"] = s.Comment;
        var w = s.World;
        root["machine"] = WriteMachine(w.Machine);
        var mem = new JsonObject { ["sections"] = Arr(w.Memory.PresentSections.Select(x => (JsonNode)H(x))) };
        if (w.Memory.Placement != MemmapPlacement.NodeBuffer())
        {
            var p = w.Memory.Placement;
            var po = new JsonObject { ["policy"] = MemmapPlacement.PolicyName(p.Policy) };
            if (p.Policy == PlacementPolicy.Independent) po["bases"] = Arr(p.Bases.Select(b => (JsonNode)H(b)));
            else po["base"] = H(p.Base);
            mem["placement"] = po;
        }
        root["memory"] = mem;
        if (!w.Folios.IsEmpty)
            root["folios"] = Arr(w.Folios.Select(f => (JsonNode)new JsonObject { ["head"] = H(f.Head), ["order"] = f.Order }));
        if (!w.Pgmaps.IsEmpty)
            root["pgmaps"] = Arr(w.Pgmaps.Select(p =>
            {
                var o = new JsonObject { ["id"] = p.Id, ["type"] = Pgmap.TypeName(p.Type), ["start"] = H(p.Start), ["pages"] = H(p.NrPages) };
                if (p.Provider is not null) o["provider"] = p.Provider;
                return (JsonNode)o;
            }));
        if (!w.User.Pages.IsEmpty || w.User.Base != AddressSpace.DefaultUserBaseFor(w.Machine)) root["user"] = WriteSpace(w.User, w.Machine);
        if (!w.Kernel.Pages.IsEmpty || w.Kernel.Base != AddressSpace.DefaultVmallocBase) root["kernel"] = WriteSpace(w.Kernel, w.Machine);
        if (!w.Xen.IsEmpty)
            root["xen"] = Arr(w.Xen.Select(x => (JsonNode)new JsonObject { ["pfn"] = H(x.Pfn), ["count"] = H(x.Count), ["bfn"] = H(x.Bfn) }));
        if (!w.Allocator.IsNone)
        {
            var a = new JsonObject { ["free"] = Arr(w.Allocator.Free.Select(f => (JsonNode)new JsonObject { ["head"] = H(f.Head), ["order"] = f.Order })) };
            if (w.Allocator.NoRetryMaxOrder != w.Allocator.MaxOrder) a["noretry_max_order"] = w.Allocator.NoRetryMaxOrder;
            a["max_order"] = w.Allocator.MaxOrder;
            root["allocator"] = a;
        }
        root["operations"] = Arr(s.Operations.Select(WriteOperation));
        var sb = new StringBuilder();
        Format(sb, root, 0);
        sb.Append('\n');
        return sb.ToString();
    }

    private static JsonObject WriteMachine(MachineConfig m)
    {
        var o = new JsonObject();
        bool preset = ArchPresets.All.TryGetValue(m.Name, out var basis);
        basis ??= new MachineConfig();
        if (preset) o["preset"] = m.Name;
        void F<T>(string name, T v, T b, Func<T, JsonNode> f)
        {
            if (!preset || !EqualityComparer<T>.Default.Equals(v, b)) o[name] = f(v);
        }
        F("page_shift", m.PageShift, basis.PageShift, v => v);
        F("section_size_bits", m.SectionSizeBits, basis.SectionSizeBits, v => v);
        F("model", m.Model, basis.Model, v => Models.First(kv => kv.Value == v).Key);
        F("struct_page_size", m.StructPageSize, basis.StructPageSize, v => v);
        F("bits", m.Is64Bit ? 64 : 32, basis.Is64Bit ? 64 : 32, v => v);
        F("max_physmem_bits", m.MaxPhysmemBits, basis.MaxPhysmemBits, v => v);
        F("max_page_order", m.MaxPageOrder, basis.MaxPageOrder, v => v);
        F("gigantic_folios", m.GiganticFolios, basis.GiganticFolios, v => v);
        F("folio_rule", m.FolioRule, basis.FolioRule, v => FolioRules.First(kv => kv.Value == v).Key);
        F("arch_pfn_offset", m.ArchPfnOffset, basis.ArchPfnOffset, v => H(v));
        F("zone_device", m.ZoneDevice, basis.ZoneDevice, v => v);
        F("pci_p2pdma", m.PciP2pdma, basis.PciP2pdma, v => v);
        F("kmsan", m.Kmsan, basis.Kmsan, v => v);
        F("xen_guest", m.XenGuest, basis.XenGuest, v => v);
        F("xen_page_size_matches", m.XenPageSizeMatches, basis.XenPageSizeMatches, v => v);
        F("debug_kernel", m.DebugKernel, basis.DebugKernel, v => v);
        return o;
    }

    private static JsonObject WriteSpace(AddressSpace s, MachineConfig m)
    {
        var pages = new List<JsonNode>();
        int i = 0;
        while (i < s.Pages.Length)
        {
            var p = s.Pages[i];
            string prefix = p.Kind switch { MappingKind.ReadOnly => "ro:", MappingKind.NoPin => "nopin:", _ => "" };
            if (p.Kind == MappingKind.Unmapped) { pages.Add("-"); i++; continue; }
            int j = i + 1;
            while (j < s.Pages.Length && s.Pages[j].Kind == p.Kind && s.Pages[j].Pfn == p.Pfn + (ulong)(j - i)) j++;
            if (j - i >= 3) pages.Add($"{prefix}{H(p.Pfn)}..{H(p.Pfn + (ulong)(j - i - 1))}");
            else for (int k = i; k < j; k++) pages.Add(prefix + H(s.Pages[k].Pfn));
            i = j;
        }
        return new JsonObject { ["base"] = H(s.Base), ["pages"] = Arr(pages) };
    }

    private static JsonNode WriteOperation(Operation op)
    {
        var o = new JsonObject { ["op"] = op.Kind };
        switch (op)
        {
            case NumPagesContiguousOp n:
                o["pages"] = Arr(n.Pfns.Select(p => (JsonNode)H(p)));
                break;
            case BioAddOp a:
                o["bio"] = WriteBio(a.Bio);
                o["calls"] = Arr(a.Calls.Select(c =>
                {
                    var co = new JsonObject();
                    if (c.Fn != AddFn.BioAddPage) co["fn"] = AddCall.FnName(c.Fn);
                    co["pfn"] = H(c.Pfn);
                    co["len"] = H(c.Len);
                    co["off"] = H(c.Off);
                    return (JsonNode)co;
                }));
                break;
            case ExtractPagesOp e:
                o["iter"] = WriteIter(e.Iter);
                o["maxsize"] = H(e.MaxSize);
                o["maxpages"] = e.MaxPages;
                if (e.AllowP2p) o["p2pdma"] = true;
                break;
            case ExtractBvecsOp x:
                o["iter"] = WriteIter(x.Iter);
                if (!x.Entry.IsEmpty) o["bvecs"] = Arr(x.Entry.Select(WriteBvec));
                o["max_vecs"] = x.MaxVecs;
                o["max_size"] = H(x.MaxSize);
                if (x.MemAlignMask != 0) o["mem_align_mask"] = H(x.MemAlignMask);
                if (x.AllowP2p) o["p2pdma"] = true;
                if (x.Repeat != 1) o["repeat"] = x.Repeat;
                break;
            case GetPagesOp g:
                o["bio"] = WriteBio(g.Bio);
                o["iter"] = WriteIter(g.Iter);
                if (g.MemAlignMask != 0) o["mem_align_mask"] = H(g.MemAlignMask);
                if (g.LenAlignMask != 0) o["len_align_mask"] = H(g.LenAlignMask);
                break;
            case IterOp io:
                o["iter"] = WriteIter(io.Iter);
                o["steps"] = Arr(io.Steps.Select(s => (JsonNode)(s.Kind == IterStepKind.Alignment
                    ? new JsonObject { ["alignment"] = true }
                    : new JsonObject { [IterStep.StepName(s.Kind)] = H(s.N) })));
                break;
            case MergeableOp mo:
                if (mo.Queue != new QueueLimits()) o["queue"] = WriteQueue(mo.Queue);
                o["pairs"] = Arr(mo.Pairs.Select(p => (JsonNode)new JsonObject { ["a"] = WriteBvec(p.A), ["b"] = WriteBvec(p.B) }));
                break;
            case FolioAllocGreedyOp fa:
                o["size"] = H(fa.Size);
                o["minsize"] = H(fa.MinSize);
                break;
            case BounceNrVecsOp nv:
                o["iter"] = WriteIter(nv.Iter);
                if (nv.Write != nv.Iter.Source) o["write"] = nv.Write;
                break;
            case DirectIoOp d:
                o["bio"] = WriteBio(d.Bio);
                o["iter"] = WriteIter(d.Iter);
                if (d.MaxLen != ulong.MaxValue) o["maxlen"] = H(d.MaxLen);
                o["minsize"] = H(d.MinSize);
                if (!d.InFlight.IsEmpty)
                    o["in_flight"] = Arr(d.InFlight.Select(x => (JsonNode)new JsonObject { ["addr"] = H(x.Addr), ["len"] = H(x.Len), ["value"] = (int)x.Value }));
                if (d.IoError) o["io_error"] = true;
                if (d.MarkDirty != !d.Write) o["mark_dirty"] = d.MarkDirty;
                break;
            case HwMergeOp hm:
                if (hm.Queue != new QueueLimits()) o["queue"] = WriteQueue(hm.Queue);
                o["bvec"] = WriteBvec(hm.Bvec);
                o["calls"] = Arr(hm.Calls.Select(c => (JsonNode)new JsonObject { ["pfn"] = H(c.Pfn), ["len"] = H(c.Len), ["off"] = H(c.Off) }));
                break;
        }
        return o;
    }

    private static JsonNode WriteBvec(BvecDesc b) => new JsonObject { ["pfn"] = H(b.Pfn), ["off"] = H(b.Offset), ["len"] = H(b.Len) };

    private static JsonObject WriteBio(Bio b)
    {
        var o = new JsonObject { ["max_vecs"] = b.MaxVecs };
        if (!b.Vecs.IsEmpty) o["vecs"] = Arr(b.Vecs.Select(WriteBvec));
        ulong sum = 0;
        foreach (var v in b.Vecs) sum += v.Len;
        if (b.Vcnt != b.Vecs.Length) o["vcnt"] = b.Vcnt;
        if (b.Size != sum) o["size"] = H(b.Size);
        if (b.Idx != 0) o["idx"] = b.Idx;
        if (b.Done != 0) o["offset"] = H(b.Done);
        var flags = new List<JsonNode>();
        if (b.Has(BioFlags.Cloned)) flags.Add("cloned");
        if (b.Has(BioFlags.PagePinned)) flags.Add("page_pinned");
        if (flags.Count > 0) o["flags"] = Arr(flags);
        var opf = new List<JsonNode>();
        if ((b.Opf & BioOpf.Write) != 0) opf.Add("write");
        if ((b.Opf & BioOpf.NoMerge) != 0) opf.Add("nomerge");
        if (opf.Count > 0) o["opf"] = Arr(opf);
        if (b.Queue != new QueueLimits()) o["queue"] = WriteQueue(b.Queue);
        if (b.P2pPgmap is { } p2p) o["p2p_pgmap"] = p2p;
        return o;
    }

    private static JsonObject WriteQueue(QueueLimits queue)
    {
        var d = new QueueLimits();
        var q = new JsonObject();
        if (queue.HasBdev != d.HasBdev) q["bdev"] = queue.HasBdev;
        if (queue.PciP2pdma != d.PciP2pdma) q["p2pdma"] = queue.PciP2pdma;
        if (queue.SegBoundaryMask != d.SegBoundaryMask) q["seg_boundary_mask"] = H(queue.SegBoundaryMask);
        if (queue.MaxSegmentSize != d.MaxSegmentSize) q["max_segment_size"] = H(queue.MaxSegmentSize);
        if (queue.VirtBoundaryMask != d.VirtBoundaryMask) q["virt_boundary_mask"] = H(queue.VirtBoundaryMask);
        return q;
    }

    private static JsonObject WriteIter(IterDesc it)
    {
        var o = new JsonObject
        {
            ["type"] = IterTypes.First(kv => kv.Value == it.Type).Key,
            ["dir"] = it.Source ? "source" : "dest",
        };
        if (it.Nofault) o["nofault"] = true;
        if (it.Type == IterType.Ubuf) o["ubuf"] = H(it.Ubuf);
        if (!it.Iov.IsEmpty) o["segments"] = Arr(it.Iov.Select(s => (JsonNode)new JsonObject { ["base"] = H(s.Base), ["len"] = H(s.Len) }));
        if (!it.Bvecs.IsEmpty) o["bvecs"] = Arr(it.Bvecs.Select(WriteBvec));
        if (it.Index != 0) o["index"] = it.Index;
        if (it.IovOffset != 0) o["iov_offset"] = H(it.IovOffset);
        o["count"] = H(it.Count);
        return o;
    }

    private static string H(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static JsonArray Arr(IEnumerable<JsonNode> items) => new([.. items]);

    /// <summary>Pretty-prints: a value whose compact form fits in 100 columns stays on one line.</summary>
    private static void Format(StringBuilder sb, JsonNode node, int indent)
    {
        string compact = Compact(node);
        if (compact.Length + indent <= 100 || node is JsonValue)
        {
            sb.Append(compact);
            return;
        }
        string pad = new(' ', indent + 2);
        if (node is JsonObject obj)
        {
            sb.Append("{\n");
            int i = 0;
            foreach (var (k, v) in obj)
            {
                sb.Append(pad).Append(JsonSerializer.Serialize(k)).Append(": ");
                Format(sb, v!, indent + 2);
                sb.Append(++i < obj.Count ? ",\n" : "\n");
            }
            sb.Append(' ', indent).Append('}');
        }
        else if (node is JsonArray arr)
        {
            sb.Append("[\n");
            for (int i = 0; i < arr.Count; i++)
            {
                sb.Append(pad);
                Format(sb, arr[i]!, indent + 2);
                sb.Append(i + 1 < arr.Count ? ",\n" : "\n");
            }
            sb.Append(' ', indent).Append(']');
        }
    }

    private static string Compact(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o.Count == 0) return "{}";
                return "{ " + string.Join(", ", o.Select(kv => JsonSerializer.Serialize(kv.Key) + ": " + Compact(kv.Value!))) + " }";
            case JsonArray a:
                return a.Count == 0 ? "[]" : "[" + string.Join(", ", a.Select(x => Compact(x!))) + "]";
            default:
                return node.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }
    }
}
