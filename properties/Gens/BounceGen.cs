using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// Worlds and operations for bounce-buffered direct I/O: a page allocator carved from the free RAM of a generated
/// world (sometimes fragmented, so __GFP_NORETRY attempts fail; sometimes nearly empty, so allocation fails part
/// way), user buffers with holes (so a copy faults part way), logical block sizes from 512 bytes to two pages,
/// stores into the buffer while the I/O is in flight, failing I/Os.
/// </summary>
public static class BounceGen
{
    /// <summary>A world for bounce buffering, without free memory yet (see <see cref="WithAllocator"/>).</summary>
    public static World World(Draw d)
    {
        var m = WorldGen.Machine(d);
        var w = WorldGen.Build(d, m, pgmapChance: 0.3, maxUserPages: 16);
        // Most of the time one more present section that nothing uses: room for the page allocator.
        if (d.Chance(0.7) && w.Memory.Placement.Policy != PlacementPolicy.Independent)
        {
            var more = w with { Memory = w.Memory with { PresentSections = w.Memory.PresentSections.Add(w.Memory.PresentSections[^1] + 1) } };
            if (more.Problems().Count == 0) w = more;
        }
        return w;
    }

    /// <summary>The world with an allocator whose free memory is none of the pages <paramref name="busy"/> (the I/O's buffer).</summary>
    public static World WithAllocator(Draw d, World w, IEnumerable<ulong> busy)
        => w with { Allocator = Allocator(d, w, busy.ToHashSet()) };

    /// <summary>PFNs that may be free: present RAM that no mapping, pgmap, listed folio or busy page uses.</summary>
    public static SortedSet<ulong> FreeCandidates(World w, IReadOnlySet<ulong>? busy = null)
    {
        var f = w.Facts;
        var used = new HashSet<ulong>(busy ?? new HashSet<ulong>());
        foreach (var vp in w.User.Pages.Concat(w.Kernel.Pages)) if (vp.HasPfn) used.Add(vp.Pfn);
        var set = new SortedSet<ulong>();
        foreach (var s in w.Memory.PresentSections)
            for (ulong p = f.SectionStart(s); p < f.SectionStart(s) + w.Machine.PagesPerSection && set.Count < 4096; p++)
                if (!used.Contains(p) && f.PgmapOf(p) is null && f.FolioOf(p).Order == 0) set.Add(p);
        return set;
    }

    /// <summary>
    /// Free blocks carved from <see cref="FreeCandidates"/>: naturally aligned blocks of random orders up to the
    /// allocator's max order, a budget from a couple of pages to a few hundred; the __GFP_NORETRY limit is lower
    /// than the normal one in a fragmented system. Now and then no free memory at all.
    /// </summary>
    public static PageAllocator Allocator(Draw d, World w, IReadOnlySet<ulong>? busy = null)
    {
        var m = w.Machine;
        if (d.Chance(0.02)) return PageAllocator.None;
        var cand = FreeCandidates(w, busy);
        int maxOrder = d.Chance(0.8) ? m.MaxPageOrder : d.Int(0, m.MaxPageOrder);
        int noRetry = d.Chance(0.65) ? maxOrder : d.Int(-1, maxOrder);
        ulong budget = d.Weighted((8, (ulong)d.Int(1, 3)), (30, (ulong)d.Int(4, 32)), (62, (ulong)d.Int(32, 300)));
        var free = new List<Folio>();
        ulong got = 0;
        foreach (var p in cand)
        {
            if (got >= budget) break;
            if (free.Count > 0 && p < free[^1].End) continue;
            if (d.Chance(0.08)) continue;
            int o = d.Chance(0.5) ? maxOrder : d.Int(0, maxOrder);
            while (o > 0 && (p % (1UL << o) != 0 || !Enumerable.Range(0, 1 << o).All(i => cand.Contains(p + (ulong)i)))) o--;
            free.Add(new Folio(p, o));
            got += 1UL << o;
        }
        return new PageAllocator(free.ToEqArray(), noRetry, maxOrder);
    }

    /// <summary>A logical block size: 512, 4 KiB-ish (PAGE_SIZE) or two pages.</summary>
    public static ulong MinSize(Draw d, ulong ps) => d.Weighted((40, 0x200UL), (15, 0x800UL), (35, ps), (10, 2 * ps));

    /// <summary>
    /// A direct I/O: any iterator over the world's buffers, aligned to the block size most of the time (as iomap
    /// passes it), maxlen unlimited or a few blocks, a bio sized by bio_iov_bounce_nr_vecs or small, stores into
    /// the I/O's user range while it is in flight, a failing I/O now and then, mark_dirty as iomap sets it (user-backed
    /// reads) and sometimes not.
    /// </summary>
    public static DirectIoOp DirectIo(Draw d, World w)
    {
        ulong ps = w.Machine.PageSize;
        var it = OpGen.AnyIter(d, w, bvec: true);
        ulong minsize = MinSize(d, ps);
        if (d.Chance(0.65) && it.Count >= minsize) it = Aligned(it, minsize);
        ulong maxlen = d.Weighted((65, ulong.MaxValue), (25, minsize * (ulong)d.Int(1, 8)), (10, d.U64(1, Math.Max(1, it.Count))));
        ulong nr = (ulong)ReferenceModel.Instance.Run(w, new BounceNrVecsOp(it, it.Source)).Returns[0];
        // A read needs bvec 0 for the bounce folio and at least one user bvec (bio_iov_bounce_nr_vecs gives ≥ 2).
        ushort maxVecs = (ushort)(d.Chance(0.5) ? Math.Clamp(nr, 1UL, 256UL) : (ulong)d.Int(it.Source ? 1 : 2, 6));
        var bio = Bio.Empty(maxVecs) with { Queue = new QueueLimits { PciP2pdma = d.Chance(0.3) } };
        var stores = new List<UserWrite>();
        int n = d.Weighted((35, 0), (40, 1), (25, d.Int(2, 3)));
        for (int i = 0; i < n; i++)
            if (Store(d, w, it) is { } s) stores.Add(s);
        bool error = d.Chance(0.2);
        bool dirty = d.Chance(0.85) ? !it.Source && it.UserBacked : d.Chance(0.5);
        return new DirectIoOp(bio, it, maxlen, minsize, stores.ToEqArray(), error, dirty);
    }

    /// <summary>The iterator with its count cut to a multiple of <paramref name="unit"/>.</summary>
    private static IterDesc Aligned(IterDesc it, ulong unit) => it with { Count = it.Count / unit * unit };

    /// <summary>A user store: mostly inside the I/O's user range (what breaks stable pages), else anywhere writable.</summary>
    private static UserWrite? Store(Draw d, World w, IterDesc it)
    {
        ulong ps = w.Machine.PageSize;
        ulong addr;
        if (it.UserBacked && it.Count > 0 && d.Chance(0.8))
        {
            ulong start = it.Type == IterType.Ubuf ? it.Ubuf + it.IovOffset
                : it.Index < it.SegmentCount ? it.Iov[it.Index].Base + it.IovOffset : 0;
            if (start == 0) return null;
            addr = start + d.U64(0, Math.Min(it.Count, it.Type == IterType.Ubuf ? it.Count : it.Iov[it.Index].Len - it.IovOffset) - 1);
        }
        else
        {
            if (w.User.Pages.IsEmpty) return null;
            addr = w.User.Base + d.U64(0, (ulong)w.User.Pages.Length * ps - 1);
        }
        ulong len = d.Weighted((50, 1UL), (35, d.U64(2, 64)), (15, d.U64(65, 2 * ps)));
        // Only writable pages: cut the store at the first page the user cannot write.
        ulong ok = 0;
        while (ok < len)
        {
            var vp = w.User.At(addr + ok, w.Machine.PageShift);
            if (vp.Kind is MappingKind.Unmapped or MappingKind.ReadOnly) break;
            ok += Math.Min(len - ok, ps - (addr + ok) % ps);
        }
        return ok == 0 ? null : new UserWrite(addr, ok, (byte)d.Int(0, 255));
    }

    /// <summary>folio_alloc_greedy requests: sizes from a byte to 1 MiB and beyond, block sizes as above.</summary>
    public static FolioAllocGreedyOp Greedy(Draw d, World w)
    {
        // (the world's allocator is made by the caller)
        ulong ps = w.Machine.PageSize;
        ulong size = d.Weighted((30, d.U64(1, 4 * ps)), (40, d.U64(1, 64) * 0x200), (20, ps << d.Int(0, 8)), (10, d.U64(1, Bounce.OneMiB)));
        return new FolioAllocGreedyOp(size, MinSize(d, ps));
    }
}
