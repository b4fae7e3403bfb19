using System.Runtime.InteropServices;
using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// The buddy allocator's free_area[]: one free list per order, each a native array of block head PFNs kept in
/// ascending order (so "the lowest free block of the smallest sufficient order" is element 0 of the first non-empty
/// list at or above the order, and a buddy is found by binary search). Allocation splits the block and pushes the
/// high halves down; freeing merges with the buddy while it is free, as mm/page_alloc.c expand() and
/// __free_one_page() do. Same policy as <see cref="PageAllocator"/>, which the reference model uses as a value.
/// </summary>
public sealed unsafe class FreeArea : IDisposable
{
    private const int Orders = 64;
    private readonly ulong*[] _lists = new ulong*[Orders];
    private readonly int[] _count = new int[Orders];
    private readonly int[] _cap = new int[Orders];
    private readonly int _noRetryMax, _max;

    public FreeArea(PageAllocator a)
    {
        _noRetryMax = a.NoRetryMaxOrder;
        _max = a.MaxOrder;
        foreach (var b in a.Free) Insert(b.Order, b.Head);
    }

    private Span<ulong> List(int o) => _lists[o] == null ? default : new Span<ulong>(_lists[o], _count[o]);

    private void Insert(int o, ulong head)
    {
        if (_count[o] == _cap[o])
        {
            int cap = Math.Max(16, _cap[o] * 2);
            _lists[o] = (ulong*)NativeMemory.Realloc(_lists[o], (nuint)(cap * sizeof(ulong)));
            _cap[o] = cap;
        }
        var all = new Span<ulong>(_lists[o], _count[o] + 1);
        int at = all[.._count[o]].BinarySearch(head);
        if (at < 0) at = ~at;
        all[at.._count[o]].CopyTo(all[(at + 1)..]);
        all[at] = head;
        _count[o]++;
    }

    private void RemoveAt(int o, int i)
    {
        var list = List(o);
        list[(i + 1)..].CopyTo(list[i..]);
        _count[o]--;
    }

    /// <summary>Pages free in all lists.</summary>
    public ulong FreePages
    {
        get
        {
            ulong n = 0;
            for (int o = 0; o < Orders; o++) n += (ulong)_count[o] << o;
            return n;
        }
    }

    /// <summary>
    /// folio_alloc(order) with or without __GFP_NORETRY: the head PFN of the block, or null when the order is above
    /// what this attempt gets (capped by <paramref name="maxPageOrder"/>) or no list at or above it has a block.
    /// </summary>
    public ulong? Alloc(int order, bool noRetry, int maxPageOrder)
    {
        int limit = Math.Min(noRetry ? _noRetryMax : _max, maxPageOrder);
        if (order < 0 || order > limit) return null;
        for (int o = order; o < Orders; o++)
        {
            if (_count[o] == 0) continue;
            ulong head = _lists[o][0];
            RemoveAt(o, 0);
            for (int k = o - 1; k >= order; k--) Insert(k, head + (1UL << k));
            return head;
        }
        return null;
    }

    /// <summary>Gives a block back, merging it with its buddy for as long as the buddy is free.</summary>
    public void Free(ulong head, int order)
    {
        while (order < Orders - 1)
        {
            ulong buddy = head ^ (1UL << order);
            int i = List(order).BinarySearch(buddy);
            if (i < 0) break;
            RemoveAt(order, i);
            head = Math.Min(head, buddy);
            order++;
        }
        Insert(order, head);
    }

    public void Dispose()
    {
        for (int o = 0; o < Orders; o++)
        {
            // Stryker disable once equality,statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
            if (_lists[o] != null) NativeMemory.Free(_lists[o]);
            _lists[o] = null;
        }
        // Stryker disable once statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        GC.SuppressFinalize(this);
    }

    ~FreeArea() => Dispose();
}

/// <summary>
/// Physical memory as native pages, written in place: a page gets its own native copy on its first write
/// (initialised from <see cref="PhysBytes.ByteAt"/>); reads of untouched pages compute the bytes. The optimized
/// counterpart of the reference's immutable <see cref="MemoryImage"/>.
/// </summary>
public sealed unsafe class PhysStore(int pageShift) : IDisposable
{
    private readonly Dictionary<ulong, nint> _pages = new();
    private readonly ulong _ps = 1UL << pageShift;

    private byte* PageForWrite(ulong pfn)
    {
        if (_pages.TryGetValue(pfn, out var p)) return (byte*)p;
        byte* page = (byte*)NativeMemory.Alloc((nuint)_ps);
        // Through a span of exactly the page: a bound off by one throws instead of writing past the allocation.
        var bytes = new Span<byte>(page, (int)_ps);
        for (int i = 0; i < bytes.Length; i++) bytes[i] = PhysBytes.ByteAt(pfn, (ulong)i);
        _pages[pfn] = (nint)page;
        return page;
    }

    /// <summary>Bytes [phys, phys + dst.Length) into <paramref name="dst"/>.</summary>
    public void Read(ulong phys, Span<byte> dst)
    {
        int done = 0;
        while (done < dst.Length)
        {
            ulong at = phys + (ulong)done, pfn = at / _ps, off = at % _ps;
            int n = (int)Math.Min((ulong)(dst.Length - done), _ps - off);
            if (_pages.TryGetValue(pfn, out var p)) new ReadOnlySpan<byte>((byte*)p + off, n).CopyTo(dst.Slice(done, n));
            else for (int i = 0; i < n; i++) dst[done + i] = PhysBytes.ByteAt(pfn, off + (ulong)i);
            done += n;
        }
    }

    public void Write(ulong phys, ReadOnlySpan<byte> src)
    {
        int done = 0;
        while (done < src.Length)
        {
            ulong at = phys + (ulong)done, pfn = at / _ps, off = at % _ps;
            int n = (int)Math.Min((ulong)(src.Length - done), _ps - off);
            src.Slice(done, n).CopyTo(new Span<byte>(PageForWrite(pfn) + off, n));
            done += n;
        }
    }

    /// <summary>memcpy between physical ranges that lie within one page each (the callers split at page boundaries).</summary>
    public void Copy(ulong dst, ulong src, int n)
    {
        // Stryker disable once conditional,equality : a stack or a heap scratch buffer of n bytes holds the same bytes (n is at most one page, so the stack never overflows); only where it lives changes
        Span<byte> tmp = n <= 4096 ? stackalloc byte[n] : new byte[n];
        Read(src, tmp);
        Write(dst, tmp);
    }

    public void Dispose()
    {
        // Stryker disable once statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        foreach (var p in _pages.Values) NativeMemory.Free((void*)p);
        // Stryker disable once statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        _pages.Clear();
        // Stryker disable once statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        GC.SuppressFinalize(this);
    }

    ~PhysStore() => Dispose();
}
