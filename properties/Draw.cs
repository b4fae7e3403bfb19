namespace BioModel.Properties;

/// <summary>
/// The random source of one generated case: FsCheck draws a 64-bit seed and a size, and the generators
/// build the case from this stream (SplitMix64). Composite worlds are built imperatively so that the
/// boundary biasing (section ends, folio ends, pgmap ends, full arrays, BIO_MAX_SIZE) stays explicit and
/// readable; FsCheck's LINQ-composed generators would not shrink anyway, so every case type has a
/// hand-written shrinker (<see cref="Shrinker"/>).
/// </summary>
public sealed class Draw(ulong seed, int size)
{
    private ulong _state = seed;

    /// <summary>FsCheck's size for this case (grows from 1 to the profile's end size).</summary>
    public int Size { get; } = size;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [lo, hi] (inclusive).</summary>
    public int Int(int lo, int hi) => hi <= lo ? lo : lo + (int)(Next() % (ulong)(hi - lo + 1));

    /// <summary>Uniform in [lo, hi] (inclusive).</summary>
    public ulong U64(ulong lo, ulong hi)
    {
        if (hi <= lo) return lo;
        ulong span = hi - lo;
        return span == ulong.MaxValue ? Next() : lo + Next() % (span + 1);
    }

    public bool Chance(double p) => (Next() >> 11) * (1.0 / (1UL << 53)) < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[Int(0, items.Count - 1)];

    /// <summary>Picks by weight: (weight, value) pairs.</summary>
    public T Weighted<T>(params (int Weight, T Value)[] choices)
    {
        int total = choices.Sum(c => c.Weight);
        int x = Int(0, total - 1);
        foreach (var (w, v) in choices)
        {
            if (x < w) return v;
            x -= w;
        }
        return choices[^1].Value;
    }
}
