using BioModel.Core;
using BioModel.Reference;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace BioModel.Properties;

/// <summary>A property that did not do what was expected of it; the message is the full report.</summary>
public sealed class PropertyFailedException(string report) : Exception(report);

/// <summary>A shrunk counterexample: the case, the failure message and how to replay it.</summary>
/// <summary>
/// A shrunk counterexample. <see cref="Replay"/> is "seed,gamma,size" for a generated case; a case from
/// golden/regressions has <see cref="File"/> set instead.
/// </summary>
public sealed record Counterexample(Case Shrunk, Case Original, string Message, int Shrinks, int TestNumber, string Replay)
{
    /// <summary>How many pages the counterexample is about (see <see cref="Counterexamples.PagesOf"/>).</summary>
    public int Pages { get; init; }

    public string? File { get; init; }
    public string? SavedAs { get; init; }
}

/// <summary>What running one property produced.</summary>
public sealed record PropertyRun(
    PropertyDef Def,
    int Cases,
    IReadOnlyDictionary<string, int> Classes,
    Counterexample? Counterexample,
    string? Problem)
{
    /// <summary>The property did what was expected of it (held, or reproduced its known finding) and reached its classes.</summary>
    public bool Ok => Problem is null;

    public string Status => Def.Expect == Expectation.KnownFinding
        ? (Counterexample is not null ? "KNOWN FINDING (counterexample found, as expected)" : "FAIL (known finding not reproduced)")
        : (Counterexample is not null ? "FAIL" : Problem is not null ? "FAIL (distribution)" : "PASS");
}

/// <summary>
/// Runs a property through FsCheck: the case generator wrapped in a <c>Gen</c>, the hand-written
/// shrinker in an <c>Arbitrary</c>, a fixed seed per property, and an <see cref="IRunner"/> that records
/// class distributions and the shrunk counterexample instead of printing FsCheck's own text.
/// </summary>
public static class PropertyChecker
{
    /// <summary>FsCheck's gamma for our replays (any odd number; fixed so that seeds replay).</summary>
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    public static Gen<Case> GenFor(PropertyDef def) =>
        from hi in Gen.Choose(0, int.MaxValue)
        from lo in Gen.Choose(0, int.MaxValue)
        from size in Gen.Sized(Gen.Constant)
        let c = def.Generate(new Draw(((ulong)hi << 31) ^ (ulong)lo, size))
        where def.Domain(c)
        select c;

    /// <summary>
    /// Checks one property for a test: the runner writes the report to <paramref name="report"/> (xunit's
    /// output) and a property that did not do what was expected throws <see cref="PropertyFailedException"/>
    /// with the report, counterexample and replay line in its message.
    /// </summary>
    public static PropertyRun Check(PropertyDef def, Profile profile, Action<string> report, string? replay = null, Regressions? regressions = null)
    {
        var run = Run(def, profile, replay, report, regressions);
        if (!run.Ok) throw new PropertyFailedException(Campaign.FormatRun(run));
        return run;
    }

    /// <summary>Checks one property. <paramref name="replay"/> is "seed,gamma,size" from a counterexample's replay line.</summary>
    public static PropertyRun Run(PropertyDef def, Profile profile, string? replay = null, Action<string>? report = null, Regressions? regressions = null)
    {
        bool keep = regressions is not null && def.Expect == Expectation.Holds && replay is null;
        if (keep)
        {
            // Saved counterexamples first: a bug that came back fails at once with its old example.
            foreach (var (path, c, problem) in regressions!.Load(def))
            {
                if (problem is not null)
                    return Reported(new PropertyRun(def, 0, new Dictionary<string, int>(), null, problem), report);
                var v = CheckCase(def, c!);
                if (!v.Ok)
                {
                    var cx = new Counterexample(c!, c!, v.Message, 0, 0, "") { File = regressions.Show(path), Pages = Counterexamples.PagesOf(c!, v) };
                    return Reported(new PropertyRun(def, 0, new Dictionary<string, int>(), cx, $"counterexample: {v.Message}"), report);
                }
            }
        }
        var run = RunGenerated(def, profile, replay, keep ? null : report);
        if (keep && profile.Shrinks && run.Counterexample is { } found)
            run = run with { Counterexample = found with { SavedAs = regressions!.Save(def, found) } };
        return keep ? Reported(run, report) : run;
    }

    private static PropertyRun Reported(PropertyRun run, Action<string>? report)
    {
        report?.Invoke(Campaign.FormatRun(run));
        return run;
    }

    private static PropertyRun RunGenerated(PropertyDef def, Profile profile, string? replay, Action<string>? report)
    {
        var arb = profile.Shrinks ? Arb.From(GenFor(def), c => ShrinkCandidates(def, c)) : Arb.From(GenFor(def));
        var recorder = new Recorder(def, report, profile.Shrinks);
        var prop = Prop.ForAll(arb, (Case c) => CheckCase(def, c).Ok);
        Replay rp;
        int maxTest = profile.CasesFor(def);
        if (replay is not null)
        {
            var parts = replay.Split(',');
            if (parts.Length != 3 || !Profile.TryParseSeed(parts[0], out var s) || !Profile.TryParseSeed(parts[1], out var g) || !int.TryParse(parts[2], out var size))
                throw new ArgumentException($"replay '{replay}' is not seed,gamma,size");
            rp = new Replay(new Rnd(s, g), FSharpOption<int>.Some(size));
            maxTest = 1;
        }
        else rp = new Replay(new Rnd(profile.SeedFor(def), Gamma), FSharpOption<int>.None);
        var config = Config.Quick
            .WithMaxTest(maxTest)
            .WithEndSize(profile.EndSize)
            .WithQuietOnSuccess(true)
            .WithRunner(recorder)
            .WithReplay(FSharpOption<Replay>.Some(rp));
        FsCheck.Check.One(config, prop);
        return recorder.Result(def);
    }

    /// <summary>
    /// Shrink candidates of a failing case: inside the property's domain, and never trading the failure for an
    /// unexpected contract violation (a smaller world that no longer maps the iterator's memory, say) unless the
    /// case already failed that way: a counterexample stays an example of the failure that was found.
    /// </summary>
    public static IEnumerable<Case> ShrinkCandidates(PropertyDef def, Case c)
    {
        bool violationAlready = IsViolationFailure(CheckCase(def, c));
        foreach (var cand in Shrinker.Shrink(c))
            if (def.Domain(cand) && (violationAlready || !IsViolationFailure(CheckCase(def, cand))))
                yield return cand;
    }

    /// <summary>
    /// Finishes the shrinking FsCheck did: FsCheck can stop with a case that still has failing shrink candidates,
    /// so keep moving to the first failing candidate until none fails (at most <paramref name="limit"/> steps).
    /// The result is a local minimum of <see cref="ShrinkCandidates"/>, and deterministic.
    /// </summary>
    public static (Case Case, int Steps) Minimize(PropertyDef def, Case c, int limit = 20_000)
    {
        int steps = 0;
        while (steps < limit)
        {
            Case? next = null;
            foreach (var cand in ShrinkCandidates(def, c))
                if (!CheckCase(def, cand).Ok) { next = cand; break; }
            if (next is null) break;
            c = next;
            steps++;
        }
        return (c, steps);
    }

    private static bool IsViolationFailure(Verdict v) => !v.Ok && v.Message.Contains(Ref.UnexpectedViolation, StringComparison.Ordinal);

    /// <summary>Checks a property on one given case (a saved counterexample or a scenario file).</summary>
    public static Verdict CheckCase(PropertyDef def, Case c)
    {
        try { return def.Check(c); }
        catch (Exception e) { return Verdict.Fail($"the check threw {e.GetType().Name}: {e.Message} at {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}"); }
    }

    private sealed class Recorder(PropertyDef def, Action<string>? report, bool shrinks) : IRunner
    {
        private readonly Dictionary<string, int> _classes = new(StringComparer.Ordinal);
        private int _tests;
        private TestResult? _result;

        public void OnStartFixture(Type t) { }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every)
        {
            _tests = ntest;
            if (args.Length > 0 && args.Head is Case c)
                foreach (var k in def.Classify(c).Distinct())
                    _classes[k] = _classes.GetValueOrDefault(k) + 1;
        }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) { }

        public void OnFinished(string name, TestResult testResult)
        {
            _result = testResult;
            report?.Invoke(Campaign.FormatRun(Result(def)));
        }

        public PropertyRun Result(PropertyDef d)
        {
            Counterexample? cx = null;
            int cases = _tests;
            string? problem = null;
            switch (_result)
            {
                case TestResult.Passed p:
                    cases = p.Item1.NumberOfTests;
                    break;
                case TestResult.Failed f:
                {
                    cases = f.Item1.NumberOfTests;
                    var original = (Case)f.Item2.Head;
                    var (shrunk, more) = shrinks ? Minimize(d, (Case)f.Item3.Head) : ((Case)f.Item3.Head, 0);
                    var verdict = CheckCase(d, shrunk);
                    var rnd = f.Item6; // the seed of the failing test (Item5 is the run's first seed)
                    cx = new Counterexample(shrunk, original, verdict.Message, f.Item1.NumberOfShrinks + more, f.Item1.NumberOfTests,
                        $"0x{rnd.Seed:x},0x{rnd.Gamma:x},{f.Item7}") { Pages = Counterexamples.PagesOf(shrunk, verdict) };
                    break;
                }
                case TestResult.Exhausted e:
                    cases = e.Item.NumberOfTests;
                    problem = $"gave up: too many discarded cases after {cases}";
                    break;
                default:
                    problem = "FsCheck reported nothing";
                    break;
            }
            if (d.Expect == Expectation.Holds)
            {
                if (cx is not null) problem = $"counterexample: {cx.Message}";
                else if (problem is null)
                    foreach (var (cls, min) in d.Required)
                    {
                        double frac = cases == 0 ? 0 : _classes.GetValueOrDefault(cls) / (double)cases;
                        if (frac < min)
                            problem = $"class '{cls}' under-represented: {frac:P1} of {cases} cases, needs {min:P1}";
                    }
            }
            else if (cx is null && problem is null)
                problem = $"known finding not reproduced: no counterexample in {cases} cases ({d.Finding})";
            return new PropertyRun(d, cases, new Dictionary<string, int>(_classes), cx, problem);
        }
    }
}
