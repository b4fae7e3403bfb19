using BioModel.Core;
using static BioModel.Tests.TestWorlds;

namespace BioModel.Tests;

/// <summary>
/// The KVEC and BVEC range tables of the kernel's KUnit iov_iter tests (lib/tests/kunit_iov_iter.c at
/// 0913b7554726, KERNEL-SPEC §6.1) reproduced on the model: a 1 MiB buffer of 256 order-0 pages whose
/// first quarter is swapped with the third (so it is not physically contiguous), vmapped for the KVEC
/// cases; extraction loops with maxsize 100 KiB and 8 page slots, checking every page entry against the
/// buffer page that holds the byte, as iov_kunit_extract_pages_kvec/_bvec do.
/// </summary>
public sealed class KunitIovIterTests
{
    private const int NPages = 256;
    private const ulong BufferPfn = 0x1000;

    /// <summary>kvec_test_ranges: byte ranges [from, to) of the buffer.</summary>
    private static readonly (ulong From, ulong To)[] KvecRanges =
    [
        (0x2, 0x2), (0x27, 0x3000), (0x5193, 0x18794), (0x20000, 0x20000), (0x20000, 0x24000),
        (0x24000, 0x27001), (0x29000, 0xffffb), (0xffffd, 0xffffe),
    ];

    /// <summary>bvec_test_ranges: (buffer page, from, to) inside that page.</summary>
    private static readonly (int Page, ulong From, ulong To)[] BvecRanges =
    [
        (0, 0x2, 0x2), (1, 0x27, 0x893), (2, 0x193, 0x794), (3, 0, 0x1000), (4, 0, 0x1000), (5, 0, 0x1000),
        (6, 0, 0xffb), (6, 0xffd, 0xffe),
    ];

    /// <summary>iov_kunit_create_buffer: 256 pages, first quarter swapped with the third; vmapped.</summary>
    private static (World World, ulong[] Pages) Buffer()
    {
        var pages = Enumerable.Range(0, NPages).Select(i => BufferPfn + (ulong)i).ToArray();
        for (int i = 0; i < NPages / 4; i++)
            (pages[i], pages[i + NPages / 2]) = (pages[i + NPages / 2], pages[i]);
        var w = World.Create(ArchPresets.Get("x86-64"), [0UL]);
        w = w with { Kernel = new AddressSpace(AddressSpace.DefaultVmallocBase, pages.Select(VirtPage.Map).ToEqArray()) };
        Assert.Empty(w.Problems());
        return (w, pages);
    }

    private static IterDesc KvecIter()
        => IterDesc.ForIovec(KvecRanges.Select(r => new IoVec(AddressSpace.DefaultVmallocBase + r.From, r.To - r.From)), type: IterType.Kvec);

    /// <summary>iov_kunit_load_bvec: a new bvec per range, except that a range starting at 0 on the struct page right after the previous bvec's end extends it.</summary>
    private static IterDesc BvecIter(World w, ulong[] pages)
    {
        var f = w.Facts;
        var bvecs = new List<BvecDesc>();
        ulong? canMerge = null; // struct-page address the next range must start at to merge
        ulong size = 0;
        foreach (var (page, from, to) in BvecRanges)
        {
            ulong pfn = pages[page];
            if (from == 0 && from != to && f.MemmapAddress(pfn) == canMerge)
                bvecs[^1] = bvecs[^1] with { Len = bvecs[^1].Len + (uint)to };
            else
                bvecs.Add(new BvecDesc(pfn, (uint)(to - from), (uint)from));
            size += to - from;
            canMerge = to % PS == 0 ? f.MemmapAddress(pfn) + to / PS * (ulong)w.Machine.StructPageSize : null;
        }
        return IterDesc.ForBvec(bvecs);
    }

    [Fact]
    public void Bvec_loader_merges_pointer_adjacent_pages_as_the_kunit_loader_does()
    {
        var (w, pages) = Buffer();
        var it = BvecIter(w, pages);
        // Pages 3..6 of the buffer are PFN-consecutive after the quarter swap, so ranges 3, 4, 5 and 6 become one bvec.
        Assert.Equal([new BvecDesc(pages[0], 0, 2), new BvecDesc(pages[1], 0x86c, 0x27), new BvecDesc(pages[2], 0x601, 0x193),
                      new BvecDesc(pages[3], 0x3ffb, 0), new BvecDesc(pages[6], 1, 0xffd)], it.Bvecs);
        Assert.Equal((ulong)(0x86c + 0x601 + 0x3ffb + 1), it.Count);
    }

    /// <summary>
    /// The shared loop of iov_kunit_extract_pages_kvec/_bvec: extract (100 KiB, 8 pages) until the
    /// iterator is empty; check len, offset0 and count after each call, and each page entry against the
    /// buffer page of the next byte of the range list.
    /// </summary>
    private static int ExtractLoop(World w, IterDesc it, IReadOnlyList<(ulong Page, ulong From, ulong To)> ranges, ulong[] pages)
    {
        int r = 0, calls = 0;
        ulong from = ranges[0].From, to = ranges[0].To;
        ulong size = it.Count;
        while (it.Count > 0)
        {
            var o = Run(w, new ExtractPagesOp(it, 100 * 1024, 8, false));
            Assert.Empty(o.Violations);
            long len = o.Returns[0];
            Assert.True(len >= 0, $"call {calls}: returned {len}");
            Assert.True(o.Offset0 < PS, $"call {calls}: offset0 {o.Offset0}");
            Assert.True((ulong)len <= size);
            Assert.Equal(size - (ulong)len, o.Iter!.Count);
            size -= (ulong)len;
            it = o.Iter;
            calls++;
            if (len == 0) break;
            ulong offset0 = o.Offset0!.Value;
            for (int i = 0; i < 8; i++)
            {
                ulong part = Math.Min((ulong)len, PS - offset0);
                while (from == to)
                {
                    r++;
                    Assert.True(r < ranges.Count, "ran out of ranges with bytes still extracted");
                    (from, to) = (ranges[r].From, ranges[r].To);
                }
                ulong ix = ranges[r].Page + from / PS;
                Assert.True(ix < NPages);
                Assert.True(i < o.Pages.Length, $"call {calls}: page entry {i} missing");
                Assert.Equal(pages[ix], o.Pages[i]);
                Assert.Equal(from % PS, offset0);
                from += part;
                len -= (long)part;
                Assert.True(len >= 0);
                if (len == 0) break;
                offset0 = 0;
            }
        }
        Assert.Equal(0UL, it.Count);
        Assert.Empty(Run(w, new IterOp(it, [])).Pins);
        return calls;
    }

    [Fact]
    public void Extract_pages_kvec()
    {
        var (w, pages) = Buffer();
        int calls = ExtractLoop(w, KvecIter(), KvecRanges.Select(r => (0UL, r.From, r.To)).ToList(), pages);
        Assert.True(calls > KvecRanges.Length, "the 8-page limit must split the long ranges");
    }

    [Fact]
    public void Extract_pages_bvec()
    {
        var (w, pages) = Buffer();
        ExtractLoop(w, BvecIter(w, pages), BvecRanges.Select(r => ((ulong)r.Page, r.From, r.To)).ToList(), pages);
    }

    /// <summary>The bytes of the buffer at byte offset x, through the page array (what copy_from_iter would read).</summary>
    private static byte BufferByte(ulong[] pages, ulong x) => PhysBytes.ByteAt(pages[x / PS], x % PS);

    /// <summary>Extracts the whole iterator with iov_iter_extract_bvecs (8 bvecs, 100 KiB a call) and returns the bytes of all bvecs in order.</summary>
    private static List<byte> ExtractAllBytes(World w, IterDesc it)
    {
        var got = new List<byte>();
        for (int calls = 0; it.Count > 0; calls++)
        {
            Assert.True(calls < 1000, "extraction does not finish");
            var o = Run(w, new ExtractBvecsOp(it, [], 8, 100 * 1024, 0, false));
            Assert.True(o.Returns[0] > 0, $"returned {o.Returns[0]}");
            foreach (var b in o.Bvecs)
                for (ulong k = 0; k < b.Len; k++)
                    got.Add(PhysBytes.ByteAtPhys((b.Pfn << 12) + b.Offset + k, 12));
            it = o.Iter!;
        }
        return got;
    }

    /// <summary>
    /// iov_kunit_copy_from_kvec's expectation, through iov_iter_extract_bvecs instead of copy_from_iter:
    /// the bytes of all bvecs, in order, are the concatenation of the ranges' bytes.
    /// </summary>
    [Fact]
    public void Extract_bvecs_kvec_bytes_are_the_ranges_concatenated()
    {
        var (w, pages) = Buffer();
        var want = KvecRanges.SelectMany(r => Range(r.From, r.To).Select(x => BufferByte(pages, x))).ToList();
        Assert.Equal(want, ExtractAllBytes(w, KvecIter()));
    }

    [Fact]
    public void Extract_bvecs_bvec_bytes_are_the_ranges_concatenated()
    {
        var (w, pages) = Buffer();
        var want = BvecRanges.SelectMany(r => Range(r.From, r.To).Select(x => BufferByte(pages, (ulong)r.Page * PS + x))).ToList();
        Assert.Equal(want, ExtractAllBytes(w, BvecIter(w, pages)));
    }

    private static IEnumerable<ulong> Range(ulong from, ulong to)
    {
        for (ulong x = from; x < to; x++) yield return x;
    }

    [Fact]
    public void Kvec_extraction_of_the_swapped_buffer_never_merges_across_the_swap()
    {
        // Buffer page 63 is PFN 0x10bf and page 64 is PFN 0x1040: a kvec over the boundary must give two bvecs.
        var (w, pages) = Buffer();
        var it = IterDesc.ForIovec([new IoVec(AddressSpace.DefaultVmallocBase + 63 * PS + 0x800, 0x1000)], type: IterType.Kvec);
        var o = Run(w, new ExtractBvecsOp(it, [], 4, 0x1000, 0, false));
        Assert.Equal([new BvecDesc(pages[63], 0x800, 0x800), new BvecDesc(pages[64], 0x800, 0)], o.Bvecs);
        Assert.Empty(o.Pins);
    }
}
