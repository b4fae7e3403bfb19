using System.Text;
using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// The property campaign: every property of INVARIANTS.md that applies to the reference model, run with
/// one profile, and the report of what happened (cases, verdict, class distribution, counterexamples).
/// The report has no timings in it, so the same profile and seed give the same bytes (DET-1).
/// </summary>
public static class Campaign
{
    public static IReadOnlyList<PropertyDef> Properties { get; } =
    [
        .. MmProps.All(),
        .. NpcProps.All(),
        .. BioProps.All(),
        .. ExProps.All(),
        .. GpProps.All(),
        .. BounceProps.All(),
        .. BvecPhysProps.All(),
        .. CfProps.All(),
    ];

    public static PropertyDef Get(string id)
        => Properties.FirstOrDefault(p => p.Id == id || p.TestName == id)
           ?? throw new ArgumentException($"no property '{id}' (known: {string.Join(", ", Properties.Select(p => p.Id))})");

    /// <summary>The replay BIOMODEL_REPLAY ("ID:seed,gamma,size") asks for this property, if it names it.</summary>
    public static string? ReplayFor(PropertyDef def)
    {
        var env = Environment.GetEnvironmentVariable("BIOMODEL_REPLAY");
        if (env is not { Length: > 0 }) return null;
        int colon = env.IndexOf(':');
        return colon > 0 && (env[..colon] == def.Id || env[..colon] == def.TestName) ? env[(colon + 1)..] : null;
    }

    /// <summary>Runs one property, honouring BIOMODEL_REPLAY, checking and keeping golden/regressions.</summary>
    public static PropertyRun Run(PropertyDef def, Profile profile)
        => PropertyChecker.Run(def, profile, ReplayFor(def), regressions: Regressions.OfCheckout());

    public static string FormatRun(PropertyRun r)
    {
        var sb = new StringBuilder();
        sb.Append($"{r.Def.Id,-6} {r.Status}  ({r.Cases} cases)\n");
        sb.Append($"       {r.Def.Title}\n");
        if (r.Classes.Count > 0)
        {
            var parts = r.Classes.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{kv.Key} {100.0 * kv.Value / Math.Max(1, r.Cases):0.0}%");
            sb.Append("       classes: ").Append(string.Join(", ", parts)).Append('\n');
        }
        if (r.Def.Required.Length > 0)
            sb.Append("       required: ").Append(string.Join(", ", r.Def.Required.Select(q => $"{q.Class} ≥ {q.MinFraction:P0}"))).Append('\n');
        if (r.Def.Expect == Expectation.KnownFinding)
            sb.Append("       known finding: ").Append(r.Def.Finding).Append('\n');
        if (r.Problem is not null && r.Counterexample is null)
            sb.Append("       problem: ").Append(r.Problem).Append('\n');
        if (r.Counterexample is { } cx) sb.Append(Counterexamples.Format(r.Def, cx));
        return sb.ToString();
    }

    /// <summary>Runs every property and writes the report; returns whether every property did what was expected.</summary>
    /// <remarks>
    /// With <paramref name="timings"/> (the main job passes standard error), each property's generated cases per
    /// second are written there as a table at the end: throughput, kept out of the report so the report stays
    /// byte-identical for the same seed.
    /// </remarks>
    public static bool RunAll(Profile profile, TextWriter output, IEnumerable<PropertyDef>? only = null, TextWriter? timings = null)
    {
        var times = new List<(string Id, int Cases, double Seconds)>();
        var props = (only ?? Properties).ToList();
        output.Write($"BioModel property campaign — profile {profile.Name}, seed 0x{profile.Seed:x}, {props.Count} properties, reference model\n\n");
        int ok = 0, cases = 0;
        var failed = new List<string>();
        foreach (var def in props)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            var r = Run(def, profile);
            times.Add((def.Id, r.Cases, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds));
            cases += r.Cases;
            if (r.Ok) ok++;
            else failed.Add(def.Id);
            output.Write(FormatRun(r));
            output.Write('\n');
        }
        output.Write($"summary: {ok}/{props.Count} properties as expected, {cases} generated cases");
        output.Write(failed.Count == 0 ? "\n" : $"; NOT as expected: {string.Join(", ", failed)}\n");
        if (timings is not null)
        {
            timings.WriteLine($"campaign throughput (one thread; timings vary, so not part of the report): property, cases, seconds, cases/s");
            foreach (var (id, n, s) in times)
                timings.WriteLine($"  {id,-22} {n,7} {s,8:F2} {(s > 0 ? n / s : 0),9:F0}");
            double total = times.Sum(t => t.Seconds);
            timings.WriteLine($"  {"all",-22} {cases,7} {total,8:F2} {(total > 0 ? cases / total : 0),9:F0}");
        }
        return failed.Count == 0;
    }
}
