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
    /// <summary>Every folio the operation allocated (bounce folios), in allocation order.</summary>
    public EqArray<Folio> Taken { get; init; } = [];
    /// <summary>Folios the operation allocated and still holds when it ends (bounce folios not put), ascending.</summary>
    public EqArray<Folio> Allocated { get; init; } = [];
    /// <summary>PFNs marked dirty, ascending.</summary>
    public EqArray<ulong> Dirty { get; init; } = [];
    /// <summary>direct_io: the bytes the device read (a write) or wrote (a read), in bio order.</summary>
    public EqArray<byte> Device { get; init; } = [];
    /// <summary>direct_io: the bytes of the iterator's range (from its position on entry, its count on entry) after completion.</summary>
    public EqArray<byte> Buffer { get; init; } = [];
    /// <summary>direct_io: the bytes of the iterator's range when the bio was submitted (before the in-flight stores).</summary>
    public EqArray<byte> Submitted { get; init; } = [];
    /// <summary>direct_io: the bytes of the iterator's range after the in-flight stores, before the device moved data.</summary>
    public EqArray<byte> Stored { get; init; } = [];

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
