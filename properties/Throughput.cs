using System.Diagnostics;
using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// Campaign throughput (issue 7): how many conformance cases one core checks per second, per operation.
/// Cases come from CF-1's own generator (<see cref="CfProps.Gen"/>) with the profile's seed; each case is
/// generated, run on the reference and on the optimized implementation, and compared field by field,
/// exactly as CF-1 does, on one thread, and its time is booked to its operation. Timings vary from run to
/// run, so this is a separate command, and the campaign report (which must stay byte-identical) prints
/// its own per-property throughput on standard error only.
/// </summary>
public static class Throughput
{
    public sealed record Row(string Operation, int Cases, double Seconds, double[] Parts)
    {
        public double PerSecond => Seconds > 0 ? Cases / Seconds : 0;
    }

    public static IReadOnlyList<Row> Measure(Profile profile, int cases, out int differences)
    {
        var acc = new Dictionary<string, (int Cases, long[] Ticks)>();
        differences = 0;
        var parts = new long[4];
        // Warm the JIT on a few cases first so the first operation does not pay for it.
        for (int i = 0; i < 200; i++) One(profile, -1 - i, parts);
        for (int i = 0; i < cases; i++)
        {
            Array.Clear(parts);
            var (kind, same) = One(profile, i, parts);
            if (!same) differences++;
            if (!acc.TryGetValue(kind, out var cur)) cur = (0, new long[4]);
            for (int p = 0; p < 4; p++) cur.Ticks[p] += parts[p];
            acc[kind] = (cur.Cases + 1, cur.Ticks);
        }
        double Sec(long t) => t / (double)Stopwatch.Frequency;
        var rows = acc.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new Row(kv.Key, kv.Value.Cases, Sec(kv.Value.Ticks.Sum()), kv.Value.Ticks.Select(Sec).ToArray())).ToList();
        rows.Add(new Row("all operations", rows.Sum(r => r.Cases), rows.Sum(r => r.Seconds),
                         Enumerable.Range(0, 4).Select(p => rows.Sum(r => r.Parts[p])).ToArray()));
        return rows;
    }

    /// <summary>One case; <paramref name="parts"/> gets the ticks of generation, reference, optimized, comparison.</summary>
    private static (string Kind, bool Same) One(Profile profile, int i, long[] parts)
    {
        ulong seed = profile.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(uint)i + (ulong)(uint)i);
        long t0 = Stopwatch.GetTimestamp();
        var c = CfProps.Gen(new Draw(seed, 1 + (i & 0x7fffffff) % profile.EndSize));
        long t1 = Stopwatch.GetTimestamp();
        var e = ReferenceModel.Instance.Run(c.World, c.Op!);
        long t2 = Stopwatch.GetTimestamp();
        var a = OptimizedModel.Instance.Run(c.World, c.Op!);
        long t3 = Stopwatch.GetTimestamp();
        bool same = CfProps.FirstDifference(e, a) is null;
        long t4 = Stopwatch.GetTimestamp();
        parts[0] += t1 - t0; parts[1] += t2 - t1; parts[2] += t3 - t2; parts[3] += t4 - t3;
        return (c.Op!.Kind, same);
    }

    public static void Print(Profile profile, int cases, IReadOnlyList<Row> rows, int differences, TextWriter o)
    {
        o.WriteLine($"conformance throughput — CF-1's generator, profile {profile.Name}, seed 0x{profile.Seed:x}, {cases} cases, one thread");
        o.WriteLine("(each case: generate, run the reference, run the optimized implementation, compare; timings vary between runs)");
        o.WriteLine();
        o.WriteLine($"{"operation",-26} {"cases",8} {"seconds",9} {"cases/s/core",13}   µs per case: {"generate",8} {"reference",9} {"optimized",9} {"compare",8}");
        foreach (var r in rows)
            o.WriteLine($"{r.Operation,-26} {r.Cases,8} {r.Seconds,9:F3} {r.PerSecond,13:F0}   {"",12} " +
                        string.Join(" ", r.Parts.Select((p, k) => (1e6 * p / Math.Max(1, r.Cases)).ToString("F1").PadLeft(k == 1 || k == 2 ? 9 : 8))));
        o.WriteLine();
        o.WriteLine(differences == 0 ? "every case: reference and optimized agree" : $"{differences} case(s) where reference and optimized differ (run check CF-1)");
    }
}
