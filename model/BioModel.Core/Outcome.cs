namespace BioModel.Core;

/// <summary>The pin count of one PFN.</summary>
public readonly record struct PinCount(ulong Pfn, long Count)
{
    public override string ToString() => $"{LayoutRenderer.Hex(Pfn)}x{Count}";
}

/// <summary>
/// What an operation did: return value(s) (bytes, 0 or a negative errno, one per call), the bio after,
/// the bvec array after (extract_bvecs), the page list and offset0 (extract_pages), the iterator after,
/// pins per PFN, warnings (WARN_ON_ONCE equivalents) and contract violations (a caller broke a kernel
/// precondition). One outcome type for the reference and the optimized implementation (CF-1).
/// </summary>
public sealed record Outcome
{
    public EqArray<long> Returns { get; init; } = [];
    public Bio? Bio { get; init; }
    public EqArray<BvecDesc> Bvecs { get; init; } = [];
    public EqArray<ulong> Pages { get; init; } = [];
    public ulong? Offset0 { get; init; }
    public IterDesc? Iter { get; init; }
    /// <summary>Non-zero pin counts, ascending by PFN.</summary>
    public EqArray<PinCount> Pins { get; init; } = [];
    public EqArray<string> Warnings { get; init; } = [];
    public EqArray<string> Violations { get; init; } = [];

    public long PinsOf(ulong pfn)
    {
        foreach (var p in Pins) if (p.Pfn == pfn) return p.Count;
        return 0;
    }

    public long TotalPins => Pins.Sum(p => p.Count);
}

/// <summary>An implementation of the modelled kernel functions: the reference model or the optimized one.</summary>
public interface IKernelModel
{
    string Name { get; }
    Outcome Run(World world, Operation op);
}
