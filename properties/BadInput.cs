using System.Text.Json.Nodes;
using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// The bad-input campaign (issue 8, item 4): scenario files broken on purpose, and the out-of-contract
/// operations they turn into, fed to the loader and to both implementations.
///
/// Each input starts from a valid generated case (CF-1's generator), written as a scenario file. Then
/// one or two mutations are applied to its JSON:
/// * a field removed;
/// * a value replaced by another type (null, bool, string, array, object);
/// * a number or hex string replaced by a boundary value (0, −1, 2^32 − 1, 2^32, 2^64 − 1, 2^64, a page size
///   and one more, garbage digits), which reaches offsets ≥ PAGE_SIZE, lengths of 0 and 2^32, nr_vecs above
///   max_vecs, iterators past their end and reverts past their start;
/// * an unknown field added;
/// * the text cut short.
///
/// Every input must end in one of two ways. Either the loader refuses it with named errors (a JSON path
/// starting with "$" and a reason), or it loads and both implementations run every operation to an outcome.
/// In that outcome, a broken kernel precondition is a contract violation, not an exception. An exception
/// escaping the loader or a model is a crash. A trap byte touched (CF-2) is a failure. Runs where the two
/// implementations disagree are counted and shown, for review.
/// </summary>
public static class BadInput
{
    public sealed class Report
    {
        public int Inputs, Refused, Loaded, Crashes, TrapsTouched, Disagreements, WithViolation;
        public readonly SortedDictionary<string, int> RefusalsByField = new(StringComparer.Ordinal);
        public string? FirstCrash, FirstTrap, FirstDisagreement, Slowest;
        public double SlowestSeconds;
    }

    private static readonly string[] Boundaries =
    [
        "0", "-1", "4294967295", "4294967296", "18446744073709551615", "18446744073709551616", "4096", "4097", "65536",
        "\"0x0\"", "\"0xffffffff\"", "\"0x100000000\"", "\"0xffffffffffffffff\"", "\"0x10000000000000000\"", "\"0x1000\"",
        "\"0x1001\"", "\"-0x1\"", "\"12abc\"", "\"0x\"", "1.5", "1e400",
    ];

    private static readonly string[] OtherTypes = ["null", "true", "\"text\"", "[]", "{}", "[1,2]", "{\"a\":1}"];

    /// <summary>Inputs per profile: 100,000 in nightly, 5,000 in ci, fewer in dev and mutation.</summary>
    public static int DefaultInputs(Profile p) => p.Name switch { "nightly" => 100_000, "ci" => 5_000, _ => 1_000 };

    public static Report Run(Profile profile, int inputs)
    {
        var rep = new Report();
        for (int i = 0; i < inputs; i++)
        {
            ulong seed = profile.Seed ^ (0xD1B54A32D192ED03UL * (ulong)(i + 1));
            var d = new Draw(seed, 1 + i % profile.EndSize);
            string text = Mutated(d, out string what);
            rep.Inputs++;
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            if (Environment.GetEnvironmentVariable("BIOMODEL_BADINPUT_TRACE") is "1") Console.Error.WriteLine($"input {i}: {what}");
            if (Environment.GetEnvironmentVariable("BIOMODEL_BADINPUT_DUMP") is { } dump && dump == i.ToString()) File.WriteAllText($"/tmp/badinput-{i}.json", text);
            One(rep, text, what);
            double sec = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (sec > rep.SlowestSeconds) { rep.SlowestSeconds = sec; rep.Slowest = $"input {i}: {what}"; }
        }
        return rep;
    }

    /// <summary>A valid generated scenario with one or two mutations applied; <paramref name="what"/> says which.</summary>
    public static string Mutated(Draw d, out string what)
    {
        var c = CfProps.Gen(d);
        string valid = ScenarioFile.Write(c.ToScenario("bad-input"));
        var root = JsonNode.Parse(valid)!;
        var steps = new List<string>();
        int n = d.Chance(0.7) ? 1 : 2;
        for (int k = 0; k < n; k++)
        {
            int kind = d.Int(0, 9);
            if (kind == 9)
            {
                string s = root.ToJsonString();
                int cut = d.Int(1, Math.Max(1, s.Length - 1));
                what = string.Join("; ", steps.Append($"text cut at byte {cut}"));
                return s[..cut];
            }
            var nodes = new List<(JsonNode Parent, string? Key, int Index, string Path)>();
            Collect(root, "$", nodes);
            if (nodes.Count == 0) break;
            // Half the mutations go into the operation, so many inputs load and run out of contract.
            var inOp = nodes.Where(x => x.Path.StartsWith("$.operations", StringComparison.Ordinal)).ToList();
            var pool = inOp.Count > 0 && d.Chance(0.5) ? inOp : nodes;
            var (parent, key, index, path) = pool[d.Int(0, pool.Count - 1)];
            switch (kind)
            {
                case 0 or 1 when key is not null:
                    ((JsonObject)parent).Remove(key);
                    steps.Add($"removed {path}");
                    break;
                case 2 or 3:
                {
                    string v = OtherTypes[d.Int(0, OtherTypes.Length - 1)];
                    Set(parent, key, index, JsonNode.Parse(v));
                    steps.Add($"{path} = {v}");
                    break;
                }
                case 8 when parent is JsonObject obj:
                {
                    string name = d.Pick(["bogus", "max_vec", "Pfn", "offset", "lenght"]);
                    if (!obj.ContainsKey(name)) obj[name] = 1;
                    steps.Add($"unknown field {name} next to {path}");
                    break;
                }
                default:
                {
                    string v = Boundaries[d.Int(0, Boundaries.Length - 1)];
                    JsonNode? node = v == "1e400" ? JsonValue.Create("1e400") : JsonNode.Parse(v);
                    Set(parent, key, index, node);
                    steps.Add($"{path} = {v}");
                    break;
                }
            }
        }
        what = string.Join("; ", steps);
        return root.ToJsonString();
    }

    private static void Collect(JsonNode node, string path, List<(JsonNode, string?, int, string)> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    into.Add((o, k, -1, $"{path}.{k}"));
                    if (v is not null) Collect(v, $"{path}.{k}", into);
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    into.Add((a, null, i, $"{path}[{i}]"));
                    if (a[i] is { } v) Collect(v, $"{path}[{i}]", into);
                }
                break;
        }
    }

    private static void Set(JsonNode parent, string? key, int index, JsonNode? value)
    {
        if (parent is JsonObject o && key is not null) o[key] = value;
        else if (parent is JsonArray a && index >= 0) a[index] = value;
    }

    /// <summary>Load one input and, when it loads, run it on both implementations.</summary>
    public static void One(Report rep, string text, string what)
    {
        Scenario? s;
        IReadOnlyList<ScenarioError> errors;
        try
        {
            ScenarioFile.TryParse(text, out s, out errors);
        }
        catch (Exception e)
        {
            rep.Crashes++;
            rep.FirstCrash ??= $"loader threw {e.GetType().Name}: {e.Message}\n  mutation: {what}\n{text}";
            return;
        }
        if (s is null)
        {
            rep.Refused++;
            bool named = errors.Count > 0 && errors.All(e => e.Path.StartsWith('$') && e.Reason.Length > 0);
            if (!named)
            {
                rep.Crashes++;
                rep.FirstCrash ??= $"refused without a named error ({errors.Count} errors)\n  mutation: {what}\n{text}";
            }
            foreach (var e in errors.Take(1))
            {
                string field = FieldOf(e.Path);
                rep.RefusalsByField[field] = rep.RefusalsByField.GetValueOrDefault(field) + 1;
            }
            return;
        }
        rep.Loaded++;
        foreach (var op in s.Operations)
        {
            Outcome e, a;
            try
            {
                e = ReferenceModel.Instance.Run(s.World, op);
                a = OptimizedModel.Instance.Run(s.World, op);
            }
            catch (Exception ex)
            {
                rep.Crashes++;
                rep.FirstCrash ??= $"{op.Kind} threw {ex.GetType().Name}: {ex.Message}\n  mutation: {what}\n{text}";
                continue;
            }
            if (e.Violations.Length > 0 || a.Violations.Length > 0) rep.WithViolation++;
            if (a.Violations.FirstOrDefault(v => v.StartsWith("CF-2:", StringComparison.Ordinal)) is { } trap)
            {
                rep.TrapsTouched++;
                rep.FirstTrap ??= $"{trap}\n  mutation: {what}\n{text}";
            }
            if (CfProps.FirstDifference(e, a) is { } diff)
            {
                rep.Disagreements++;
                rep.FirstDisagreement ??= $"{diff}\n  mutation: {what}\n{text}";
            }
        }
    }

    /// <summary>"$.operations[0].calls[2].len" → "operations[].calls[].len": the field, without indices.</summary>
    private static string FieldOf(string path)
        => System.Text.RegularExpressions.Regex.Replace(path.TrimStart('$', '.'), @"\[\d+\]", "[]") is { Length: > 0 } f ? f : "(document)";

    public static void Print(Report r, TextWriter o, int top = 12)
    {
        o.WriteLine($"bad-input campaign: {r.Inputs} inputs — {r.Refused} refused with named errors, {r.Loaded} loaded and run " +
                    $"({r.WithViolation} operations reported a contract violation); crashes {r.Crashes}, trap bytes touched {r.TrapsTouched}, " +
                    $"reference/optimized disagreements {r.Disagreements}");
        o.WriteLine("  refusals by field (first error of each input): " +
                    string.Join(", ", r.RefusalsByField.OrderByDescending(kv => kv.Value).Take(top).Select(kv => $"{kv.Key} {kv.Value}")));
        if (r.Slowest is not null) o.WriteLine($"  slowest input: {r.SlowestSeconds * 1000:F0} ms ({r.Slowest})");
        if (r.FirstCrash is not null) o.WriteLine("first crash: " + r.FirstCrash);
        if (r.FirstTrap is not null) o.WriteLine("first trap touched: " + r.FirstTrap);
        if (r.FirstDisagreement is not null) o.WriteLine("first disagreement: " + r.FirstDisagreement);
    }
}
