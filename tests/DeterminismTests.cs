using System.Diagnostics;

namespace BioModel.Tests;

/// <summary>
/// DET-1 for the main job as a user runs it (issue 8, item 3): the README's first command, started as its own
/// process twice with the same profile and seed, prints the same report byte for byte — the property campaign,
/// the counterexamples of the known findings and the verdict matrix — and exits with the same code. The dev
/// profile keeps it to about ten seconds a run (its 200 cases a cell miss one matrix finding, so it exits 1 by
/// design; that the default profile exits 0 is <see cref="MainJobTests.Check_reports_every_property_and_exits_0"/>).
/// </summary>
public sealed class DeterminismTests
{
    private static (int Code, byte[] Out, string Err) MainJob(string? seed)
    {
        // The main job's assembly is built next to the tests (the test project references it).
        var dll = Path.Combine(AppContext.BaseDirectory, "BioModel.Properties.dll");
        Assert.True(File.Exists(dll), dll);
        var psi = new ProcessStartInfo("dotnet", [dll, "check"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.Environment["BIOMODEL_PROFILE"] = "dev";
        if (seed is null) psi.Environment.Remove("BIOMODEL_SEED");
        else psi.Environment["BIOMODEL_SEED"] = seed;
        psi.Environment.Remove("BIOMODEL_REPLAY");
        using var p = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var err = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(4)), "the main job did not finish within 4 minutes");
        copy.Wait();
        return (p.ExitCode, stdout.ToArray(), err.Result);
    }

    [Fact]
    public void The_main_job_twice_with_one_seed_prints_the_same_bytes()
    {
        var a = MainJob(null);
        var b = MainJob(null);
        Assert.True(a.Code is 0 or 1, a.Err);
        Assert.Equal(a.Code, b.Code);
        var text = System.Text.Encoding.UTF8.GetString(a.Out);
        Assert.Contains("summary: ", text);
        Assert.Contains("BioModel verdict matrix", text);
        Assert.Contains("counterexample", text);
        int at = Enumerable.Range(0, Math.Min(a.Out.Length, b.Out.Length)).FirstOrDefault(i => a.Out[i] != b.Out[i], -1);
        Assert.True(a.Out.Length == b.Out.Length && at < 0,
            $"the reports differ (lengths {a.Out.Length} and {b.Out.Length}, first difference at byte {at})");
        // ... and the seed is what decides: another seed gives another report.
        var c = MainJob("0x5eed");
        Assert.False(a.Out.AsSpan().SequenceEqual(c.Out), "a different seed printed the same report");
    }
}
