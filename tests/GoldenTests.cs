using BioModel.Properties;

namespace BioModel.Tests;

/// <summary>
/// The golden scenarios: each runs on the reference and the optimized implementation (they must agree)
/// and its layout must equal golden/&lt;Name&gt;.verified.txt. A mismatch writes golden/&lt;Name&gt;.received.txt
/// and fails with a unified diff; `dotnet run --project properties -- accept` accepts after review.
/// </summary>
public sealed class GoldenTests
{
    private static GoldenFiles Golden => GoldenFiles.OfCheckout() ?? throw new InvalidOperationException("golden/ not found above " + AppContext.BaseDirectory);

    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var n in GoldenScenarios.Names(Golden)) data.Add(n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario(string name)
    {
        var r = GoldenScenarios.Run(Golden, name);
        Assert.True(r.Ok, r.Report());
    }

    [Fact]
    public void At_least_30_golden_scenarios_are_verified()
    {
        var names = GoldenScenarios.Names(Golden);
        Assert.True(names.Count >= 30, $"{names.Count} golden scenarios");
        foreach (var n in names) Assert.True(File.Exists(Golden.VerifiedPath(n)), $"{n} has no verified layout");
    }

    [Fact]
    public void A_changed_layout_leaves_a_received_file_with_a_unified_diff_and_accept_turns_it_into_the_verified_one()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"biomodel-golden-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var g = new GoldenFiles(dir, autoAccept: false);
            File.WriteAllText(g.VerifiedPath("x"), "a\nb\nc\n");
            Assert.True(g.Verify("x", "a\nb\nc").Ok); // LF and trailing newline are normalised
            var r = g.Verify("x", "a\nB\nc\n");
            Assert.False(r.Ok);
            Assert.Contains("--- x.verified.txt", r.Diff);
            Assert.Contains("+++ x.received.txt", r.Diff);
            Assert.Contains("-b\n+B\n", r.Diff);
            Assert.True(File.Exists(g.ReceivedPath("x")));
            Assert.Equal(["x"], g.Accept());
            Assert.Equal("a\nB\nc\n", File.ReadAllText(g.VerifiedPath("x")));
            Assert.False(File.Exists(g.ReceivedPath("x")));
            Assert.True(g.Verify("x", "a\nB\nc\n").Ok);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Unified_diffs_show_context_and_hunk_headers()
    {
        string a = string.Join("\n", Enumerable.Range(1, 20).Select(i => $"line {i}")) + "\n";
        string b = a.Replace("line 10\n", "line ten\n");
        var d = UnifiedDiff.Format(a, b, "old", "new");
        Assert.Contains("@@ -7,7 +7,7 @@", d);
        Assert.Contains(" line 9\n-line 10\n+line ten\n line 11\n", d);
        Assert.DoesNotContain("line 3\n", d);
    }
}
