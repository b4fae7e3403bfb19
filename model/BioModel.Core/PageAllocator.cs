namespace BioModel.Core;

/// <summary>
/// The page allocator as far as folio_alloc is concerned (KERNEL-SPEC §3.9): the free blocks it can hand out
/// (naturally aligned runs of present, unmapped RAM, given as head PFN and order, like buddy free lists), and
/// the largest order an attempt gets: <see cref="NoRetryMaxOrder"/> for a __GFP_NORETRY attempt (no reclaim,
/// no compaction: fails early under fragmentation), <see cref="MaxOrder"/> for a normal one. Both are capped
/// by MAX_PAGE_ORDER. An allocation takes the lowest free block large enough and splits it buddy-style; a
/// folio_put gives the pages back. The generated worlds make allocation failures part of the world: a
/// fragmented allocator, or too little free memory for the whole I/O.
/// </summary>
public sealed record PageAllocator(EqArray<Folio> Free, int NoRetryMaxOrder, int MaxOrder)
{
    /// <summary>No free memory at all: every allocation fails.</summary>
    public static readonly PageAllocator None = new([], -1, -1);

    public bool IsNone => Free.IsEmpty && NoRetryMaxOrder < 0 && MaxOrder < 0;

    public ulong FreePages => Free.Aggregate(0UL, (s, f) => s + f.NrPages);

    /// <summary>
    /// folio_alloc(order) with or without __GFP_NORETRY: the new allocator state and the folio, or null when the
    /// order is above what this attempt gets (or above <paramref name="maxPageOrder"/>) or no free block is large
    /// enough. The lowest-PFN block of the smallest sufficient order is split; the halves not taken go back.
    /// </summary>
    public (PageAllocator After, Folio? Folio) Alloc(int order, bool noRetry, int maxPageOrder)
    {
        int limit = Math.Min(noRetry ? NoRetryMaxOrder : MaxOrder, maxPageOrder);
        if (order < 0 || order > limit) return (this, null);
        int best = -1;
        for (int i = 0; i < Free.Length; i++)
        {
            var b = Free[i];
            if (b.Order < order) continue;
            if (best < 0 || b.Order < Free[best].Order || (b.Order == Free[best].Order && b.Head < Free[best].Head)) best = i;
        }
        if (best < 0) return (this, null);
        var block = Free[best];
        var rest = Free.RemoveAt(best);
        // Split: keep the low half each time, give the high halves back.
        for (int o = block.Order - 1; o >= order; o--)
            rest = rest.Add(new Folio(block.Head + (1UL << o), o));
        return (this with { Free = Sorted(rest) }, new Folio(block.Head, order));
    }

    /// <summary>folio_put of a folio this allocator handed out: its pages are free again (merged with a free buddy when possible).</summary>
    public PageAllocator Put(Folio folio)
    {
        var free = Free.ToList();
        var cur = folio;
        while (true)
        {
            ulong buddy = cur.Head ^ cur.NrPages;
            int i = free.FindIndex(b => b.Head == buddy && b.Order == cur.Order);
            if (i < 0) break;
            free.RemoveAt(i);
            cur = new Folio(Math.Min(cur.Head, buddy), cur.Order + 1);
        }
        free.Add(cur);
        return this with { Free = Sorted(free) };
    }

    /// <summary>Free blocks in PFN order (the canonical form: two allocators with the same free memory compare equal).</summary>
    private static EqArray<Folio> Sorted(IEnumerable<Folio> blocks) => blocks.OrderBy(b => b.Head).ToEqArray();

    /// <summary>The canonical form of this allocator's free list.</summary>
    public PageAllocator Normalized() => this with { Free = Sorted(Free) };
}

/// <summary>
/// The bytes of physical memory as they change over an operation: every byte is
/// <see cref="PhysBytes.ByteAt"/> until something writes it (a user store while an I/O is in flight, a copy into
/// a bounce folio, the device's DMA). Immutable; a write returns a new image that shares every page it did not
/// touch (pages are copied on write, so a 1 MiB copy costs 1 MiB, not a copy of everything written before).
/// </summary>
public sealed class MemoryImage
{
    private readonly System.Collections.Immutable.ImmutableDictionary<ulong, byte[]> _pages;
    private readonly int _pageShift;

    private MemoryImage(System.Collections.Immutable.ImmutableDictionary<ulong, byte[]> pages, int pageShift)
    {
        _pages = pages;
        _pageShift = pageShift;
    }

    /// <summary>Memory as the world describes it: nothing written yet.</summary>
    public static MemoryImage Initial(MachineConfig m) => new(System.Collections.Immutable.ImmutableDictionary<ulong, byte[]>.Empty, m.PageShift);

    private ulong PageSize => 1UL << _pageShift;

    public byte Read(ulong phys)
    {
        ulong pfn = phys >> _pageShift, off = phys & (PageSize - 1);
        return _pages.TryGetValue(pfn, out var page) ? page[off] : PhysBytes.ByteAt(pfn, off);
    }

    /// <summary>Bytes [phys, phys + dst.Length) into <paramref name="dst"/>.</summary>
    public void Read(ulong phys, Span<byte> dst)
    {
        int done = 0;
        while (done < dst.Length)
        {
            ulong at = phys + (ulong)done;
            ulong pfn = at >> _pageShift, off = at & (PageSize - 1);
            int n = (int)Math.Min((ulong)(dst.Length - done), PageSize - off);
            if (_pages.TryGetValue(pfn, out var page)) page.AsSpan((int)off, n).CopyTo(dst.Slice(done, n));
            else for (int i = 0; i < n; i++) dst[done + i] = PhysBytes.ByteAt(pfn, off + (ulong)i);
            done += n;
        }
    }

    public MemoryImage Write(ulong phys, ReadOnlySpan<byte> bytes)
    {
        var b = _pages.ToBuilder();
        int done = 0;
        while (done < bytes.Length)
        {
            ulong at = phys + (ulong)done;
            ulong pfn = at >> _pageShift, off = at & (PageSize - 1);
            int n = (int)Math.Min((ulong)(bytes.Length - done), PageSize - off);
            byte[] page;
            if (b.TryGetValue(pfn, out var old)) page = (byte[])old.Clone();
            else
            {
                page = new byte[PageSize];
                for (ulong i = 0; i < PageSize; i++) page[i] = PhysBytes.ByteAt(pfn, i);
            }
            bytes.Slice(done, n).CopyTo(page.AsSpan((int)off, n));
            b[pfn] = page;
            done += n;
        }
        return new MemoryImage(b.ToImmutable(), _pageShift);
    }
}

/// <summary>
/// A store by the user process into its buffer while the I/O is in flight: <see cref="Len"/> bytes from virtual
/// address <see cref="Addr"/>, byte i getting the value (<see cref="Value"/> + i) mod 256. Only mapped pages can
/// be written.
/// </summary>
public readonly record struct UserWrite(ulong Addr, ulong Len, byte Value)
{
    public byte ByteAt(ulong i) => unchecked((byte)(Value + i));

    public override string ToString() => $"store 0x{Len:x} byte(s) at {LayoutRenderer.Hex(Addr)} (values from 0x{Value:x2})";
}

/// <summary>The byte the simulated device returns at offset <paramref name="i"/> of a read: a pattern no page holds.</summary>
public static class DeviceBytes
{
    public static byte ReadData(ulong i)
    {
        ulong z = (i + 0x51ED_B10CUL) * 0x9E3779B97F4A7C15UL;
        z ^= z >> 29;
        return (byte)(z * 0xBF58476D1CE4E5B9UL >> 56);
    }
}
