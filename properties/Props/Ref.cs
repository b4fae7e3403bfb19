using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>Running the model under test from a property, and small helpers shared by the properties.</summary>
public static class Ref
{
    private static readonly AsyncLocal<IKernelModel?> Current = new();

    /// <summary>
    /// The model the properties are checked against: the mainline reference model, or, inside <see cref="Use"/>,
    /// the model of one kernel variant (the verdict matrix). Conformance compares other models with it.
    /// </summary>
    public static IKernelModel Model => Current.Value ?? ReferenceModel.Instance;

    /// <summary>Runs the properties against <paramref name="model"/> on this flow until the result is disposed.</summary>
    public static IDisposable Use(IKernelModel model)
    {
        var before = Current.Value;
        Current.Value = model;
        return new Restore(() => Current.Value = before);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    public static Outcome Run(World w, Operation op) => Model.Run(w, op);

    public static Outcome Run(Case c) => Model.Run(c.World, c.Op!);

    public static string Hex(ulong v) => LayoutRenderer.Hex(v);

    public static string ModelName(World w) => w.Machine.Model switch
    {
        MemoryModel.Flatmem => "FLATMEM",
        MemoryModel.Sparsemem => "SPARSEMEM",
        _ => "VMEMMAP",
    };

    /// <summary>No contract violation was reported (the generators only build valid inputs for these properties).</summary>
    public static Verdict NoViolation(Outcome o)
        => Verdict.Require(o.Violations.Length == 0, () => UnexpectedViolation + ": " + string.Join("; ", o.Violations));

    /// <summary>How a failure caused by a contract violation the generators never meant to build begins.</summary>
    public const string UnexpectedViolation = "unexpected contract violation";

    /// <summary>The pin table a set of pinned bvecs should leave: one pin per page each bvec spans.</summary>
    public static SortedDictionary<ulong, long> ExpectedPins(World w, IEnumerable<BvecDesc> bvecs)
    {
        var d = new SortedDictionary<ulong, long>();
        foreach (var b in bvecs)
            foreach (var p in Oracle.SpannedPfns(w, b)) d[p] = d.GetValueOrDefault(p) + 1;
        return d;
    }

    public static string PinText(IEnumerable<KeyValuePair<ulong, long>> pins)
        => pins.Any() ? string.Join(" ", pins.Select(kv => $"{Hex(kv.Key)}x{kv.Value}")) : "none";

    public static Verdict PinsEqual(SortedDictionary<ulong, long> expected, Outcome o, string what)
    {
        var actual = new SortedDictionary<ulong, long>(o.Pins.ToDictionary(p => p.Pfn, p => p.Count));
        bool eq = expected.Count == actual.Count && expected.All(kv => actual.TryGetValue(kv.Key, out var v) && v == kv.Value);
        return Verdict.Require(eq, () => $"{what}: pins held {PinText(actual)}, expected {PinText(expected)}");
    }

    /// <summary>
    /// Is a bvec table homogeneous in P2P terms (BIO-5): every page of every bvec non-P2PDMA, or every page
    /// P2PDMA of one pgmap? A bvec whose pages straddle a pgmap boundary counts with both sides.
    /// </summary>
    public static Verdict P2pHomogeneous(World w, IEnumerable<BvecDesc> vecs)
    {
        var kinds = new SortedSet<int>(); // 0 = not P2PDMA, else the P2PDMA pgmap id
        foreach (var b in vecs)
            foreach (var k in Oracle.P2pKinds(w, b)) kinds.Add(k);
        if (kinds.Count <= 1) return Verdict.Pass;
        return Verdict.Fail("the bio mixes " + string.Join(" and ", kinds.Select(id => id == 0 ? "non-P2PDMA pages" : $"P2PDMA pgmap #{id}")));
    }
}
