using BioModel.Core;

namespace BioModel.Properties;

/// <summary>The result of checking one case.</summary>
public readonly record struct Verdict(bool Ok, string Message)
{
    /// <summary>
    /// The pages a failure is about, when the case has no operation to name them (a world-only property such as
    /// MM-4 names the folio pages it compared); null to count the pages the case's operation names.
    /// </summary>
    public IReadOnlyList<ulong>? Pfns { get; init; }

    public static readonly Verdict Pass = new(true, "");
    public static Verdict Fail(string message) => new(false, message);

    /// <summary>Passes when <paramref name="cond"/> holds, otherwise fails with the (lazily built) message.</summary>
    public static Verdict Require(bool cond, Func<string> message) => cond ? Pass : Fail(message());

    /// <summary>The first failure of several checks, or a pass.</summary>
    public static Verdict All(params Func<Verdict>[] checks)
    {
        foreach (var c in checks)
        {
            var v = c();
            if (!v.Ok) return v;
        }
        return Pass;
    }
}

/// <summary>What the suite expects of a property on the model it runs against.</summary>
public enum Expectation
{
    /// <summary>The property must hold for every generated case.</summary>
    Holds,
    /// <summary>
    /// A documented kernel behaviour breaks the property: the run must find a counterexample (and prints
    /// it). If it does not, the finding was not reproduced and the test fails.
    /// </summary>
    KnownFinding,
}

/// <summary>
/// One property of INVARIANTS.md: its id (used in test names and reports), what it says, how its cases
/// are generated, how a case is checked, how cases are classified, which classes must be reached, and
/// whether it is expected to hold.
/// </summary>
public sealed class PropertyDef
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required Func<Draw, Case> Generate { get; init; }
    /// <summary>
    /// The same generator confined to one memory model, for properties whose verdict depends on it (the verdict
    /// matrix runs them per model); null when the property has none and the matrix filters instead.
    /// </summary>
    public Func<Draw, MemoryModel, Case>? GenerateIn { get; init; }
    public required Func<Case, Verdict> Check { get; init; }
    /// <summary>
    /// The inputs the property speaks about (beyond being a valid world and operation). Shrinking never
    /// leaves it, so a counterexample is never "fixed" into a different failure outside the domain.
    /// </summary>
    public Func<Case, bool> Domain { get; init; } = _ => true;
    /// <summary>Distribution classes of a case (printed; see <see cref="Required"/>).</summary>
    public Func<Case, IEnumerable<string>> Classify { get; init; } = _ => [];
    /// <summary>Classes that must be reached by at least the given fraction of cases, or the run fails.</summary>
    public (string Class, double MinFraction)[] Required { get; init; } = [];
    public Expectation Expect { get; init; } = Expectation.Holds;
    /// <summary>For a known finding: what the kernel does and where that is documented.</summary>
    public string? Finding { get; init; }
    /// <summary>
    /// How a counterexample is shown below its scenario; null for the layout the model under test
    /// produces. Conformance shows the reference and the optimized outcome side by side.
    /// </summary>
    public Func<Case, string>? Explain { get; init; }
    /// <summary>Relative number of cases (1.0 = the profile's base count).</summary>
    public double Weight { get; init; } = 1.0;

    /// <summary>
    /// The same property restricted to a named part of its domain where it must hold: the twin of a known
    /// finding, so that the rest of the domain stays checked ("EX-2" fails on mainline for empty bvecs,
    /// "EX-2/no-empty-bvec" must hold everywhere else).
    /// </summary>
    public PropertyDef Twin(string suffix, string scope, Func<Case, bool> domain, (string Class, double MinFraction)[]? required = null)
    {
        var outer = Domain;
        return new PropertyDef
        {
            Id = $"{Id}/{suffix}",
            Title = $"{Title} — {scope}",
            Generate = Generate,
            Check = Check,
            Classify = Classify,
            Required = required ?? [],
            Domain = c => outer(c) && domain(c),
            Expect = Expectation.Holds,
            Weight = Weight,
            Explain = Explain,
        };
    }

    /// <summary>A generator that builds a case of the finding's shape with probability <paramref name="p"/>, else a general one.</summary>
    public static Func<Draw, Case> Focus(Func<Draw, Case> general, Func<Draw, Case?> focused, double p = 0.3)
        => d => d.Chance(p) && focused(d) is { } c ? c : general(d);

    /// <summary>The xunit-friendly name: "NPC-2" → "NPC_2".</summary>
    public string TestName => Id.Replace('-', '_').Replace('/', '_');
}
