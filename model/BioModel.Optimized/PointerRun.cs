using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace BioModel.Optimized;

/// <summary>
/// The pointer half of num_pages_contiguous (include/linux/mm_inline.h 929bf010): how long the run of
/// <c>pages[i] == pages[0] + i</c> is, with the word size's wrap-around. The kernel compares one pointer
/// per iteration; here whole vectors of page pointers are compared with the pointers the run would hold
/// (pages[0] + i·sizeof(struct page)), because an array of 64K page pointers is 512 KiB the scalar loop
/// would walk one load and one branch at a time. The answer is the same index: the block holding the first
/// pointer that differs is walked pointer by pointer. The step vectors are made once per run.
/// </summary>
internal readonly struct PointerRun<T> where T : unmanaged, IBinaryInteger<T>
{
    private readonly T _step;
    private readonly Vector256<T> _offsets; // (1 .. Count)·step
    private readonly Vector256<T> _stride;  // Count·step

    public PointerRun(T step)
    {
        _step = step;
        _offsets = (Vector256<T>.Indices + Vector256<T>.One) * Vector256.Create(step);
        _stride = Vector256.Create(step * T.CreateTruncating(Vector256<T>.Count));
    }

    /// <summary>The largest m ≤ pages.Length with pages[i] == pages[0] + i·step (mod 2^bits of T) for all 0 &lt; i &lt; m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Length(ReadOnlySpan<T> pages)
    {
        ref T r = ref MemoryMarshal.GetReference(pages);
        int n = pages.Length, i = 1;
        T cur = r;
        // Stryker disable once logical,boolean,equality : the guard only chooses between the vector blocks and the scalar walk, which give the same index (with n <= Count the vector loop runs no block)
        if (Vector256.IsHardwareAccelerated && n > Vector256<T>.Count)
        {
            var want = Vector256.Create(cur) + _offsets; // the pointers of the block that starts at i
            // Stryker disable once equality,arithmetic : fewer blocks leave more to the exact scalar walk; blocks past n compare trap poison (odd, never a page pointer) or the caller's next pages, whose index the chunked caller re-checks; the first failing index is the same
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                if (!Vector256.EqualsAll(Vector256.LoadUnsafe(ref r, (nuint)i), want)) break;
                want += _stride;
            }
            cur = Unsafe.Add(ref r, i - 1); // every lane so far matched: the last one is pages[0] + (i − 1)·step
        }
        // The block that differs (or the tail) pointer by pointer: the index returned comes out of predicted
        // branches, not out of the vector compare, so a caller's next call need not wait for the loads.
        // (Taken from the mask, it put ~15 cycles of dependent latency between consecutive calls.)
        for (; i < n; i++)
        {
            cur += _step;
            if (Unsafe.Add(ref r, i) != cur) break;
        }
        return i;
    }
}
