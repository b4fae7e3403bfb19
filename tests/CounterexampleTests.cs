using BioModel.Core;
using BioModel.Properties;

namespace BioModel.Tests;

/// <summary>
/// What a reviewer gets when a property fails: a shrunk case, printed as a scenario file that reads back,
/// the layout with PFNs in hex and the bvec table, and a replay line that reproduces the same case.
/// A deliberately wrong property stands in for a broken model here.
/// </summary>
public sealed class CounterexampleTests
{
    /// <summary>"Every non-empty bio_add_page succeeds": false as soon as the array is full.</summary>
    private static readonly PropertyDef Wrong = new()
    {
        Id = "WRONG-1",
        Title = "every non-empty add succeeds (deliberately false)",
        Generate = d =>
        {
            var w = WorldGen.Any(d);
            return new Case(w, OpGen.BioAdd(d, w, allowFolio: false, allowRaw: false));
        },
        Check = c =>
        {
            var o = Ref.Run(c);
            var a = (BioAddOp)c.Op!;
            for (int i = 0; i < o.Returns.Length; i++)
                if (a.Calls[i].Len > 0 && o.Returns[i] == 0) return Verdict.Fail($"{a.Calls[i]} returned 0");
            return Verdict.Pass;
        },
    };

    [Fact]
    public void A_failing_property_prints_a_shrunk_replayable_counterexample()
    {
        var run = PropertyChecker.Run(Wrong, Profile.Dev);
        Assert.False(run.Ok);
        var cx = run.Counterexample!;
        var a = (BioAddOp)cx.Shrunk.Op!;
        Assert.True(a.Calls.Length <= 2, "shrunk to at most two calls: " + string.Join(", ", a.Calls));
        Assert.True(a.Bio.MaxVecs <= 1 || a.Bio.Vcnt == a.Bio.MaxVecs - 1 || a.Calls.Length == 1, "the shrinker should reach a tiny bio");

        var text = Campaign.FormatRun(run);
        Assert.Contains("returned 0", text);
        Assert.Contains("\"op\": \"bio_add_page\"", text);
        Assert.Contains("#  pfn", text);
        Assert.Matches(@"pfn 0x[0-9a-f]+", text);
        Assert.Contains("replay: BIOMODEL_REPLAY=\"WRONG-1:", text);

        // The printed scenario reads back to the same case.
        Assert.True(ScenarioFile.TryParse(ScenarioFile.Write(cx.Shrunk.ToScenario("x")), out var s, out _));
        Assert.Equal(cx.Shrunk.World, s!.World);

        // The replay line reproduces the same shrunk case.
        var again = PropertyChecker.Run(Wrong, Profile.Dev, cx.Replay);
        Assert.Equal(cx.Shrunk, again.Counterexample!.Shrunk);
    }

    [Fact]
    public void A_failing_case_is_saved_and_checked_first_on_the_next_run()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"biomodel-regressions-{Guid.NewGuid():N}");
        try
        {
            var store = new Regressions(dir);
            var first = PropertyChecker.Run(Wrong, Profile.Dev, regressions: store);
            var saved = Path.Combine(dir, first.Counterexample!.SavedAs!);
            Assert.True(File.Exists(saved));
            Assert.StartsWith("WRONG_1-", Path.GetFileName(saved));
            Assert.True(ScenarioFile.TryLoad(saved, out var s, out _));
            Assert.Equal(first.Counterexample.Shrunk.World, s!.World);

            // The next run fails on the saved file before generating anything.
            var second = PropertyChecker.Run(Wrong, Profile.Dev with { Seed = 7 }, regressions: store);
            Assert.Equal(saved, Path.Combine(dir, second.Counterexample!.File!));
            Assert.Equal(0, second.Cases);
            Assert.Contains("replay: dotnet run --project properties -- case WRONG-1", Campaign.FormatRun(second));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_regression_file_that_no_longer_loads_fails_the_property()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"biomodel-regressions-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "WRONG_1-broken.json"), "{ \"name\": \"x\" }");
            var run = PropertyChecker.Run(Wrong, Profile.Dev, regressions: new Regressions(dir));
            Assert.False(run.Ok);
            Assert.Contains("no longer loads", run.Problem);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Check_throws_with_the_report_when_a_property_does_not_hold()
    {
        var lines = new List<string>();
        var e = Assert.Throws<PropertyFailedException>(() => PropertyChecker.Check(Wrong, Profile.Dev, lines.Add));
        Assert.Contains("WRONG-1", e.Message);
        Assert.Contains("counterexample", e.Message);
        Assert.NotEmpty(lines);
    }

    [Fact]
    public void A_known_finding_that_is_not_reproduced_fails()
    {
        var never = new PropertyDef
        {
            Id = "NEVER-1",
            Title = "always true, but declared a known finding",
            Generate = d => new Case(WorldGen.Any(d), null),
            Check = _ => Verdict.Pass,
            Expect = Expectation.KnownFinding,
            Finding = "none",
        };
        var run = PropertyChecker.Run(never, Profile.Dev);
        Assert.False(run.Ok);
        Assert.Contains("not reproduced", run.Problem);
    }

    [Fact]
    public void An_under_represented_class_fails_a_property_that_holds()
    {
        var rare = new PropertyDef
        {
            Id = "RARE-1",
            Title = "holds, but a required class is never reached",
            Generate = d => new Case(WorldGen.Any(d), null),
            Check = _ => Verdict.Pass,
            Classify = _ => ["common"],
            Required = [("rare", 0.01)],
        };
        var run = PropertyChecker.Run(rare, Profile.Dev);
        Assert.False(run.Ok);
        Assert.Contains("under-represented", run.Problem);
    }
}

public sealed class SideBySideTests
{
    [Fact]
    public void A_row_missing_on_one_side_does_not_shift_the_rows_after_it()
    {
        var text = Counterexamples.SideBySide("reference", "bvecs\n  0 a\n  1 b\nwarnings -\n", "optimized", "bvecs\n  0 a\nwarnings -\n");
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("≠ ", lines[3]);             // "  1 b" is only on the left
        Assert.StartsWith("  warnings -", lines[4]);   // and the rows after it still line up, unmarked
        Assert.EndsWith("| warnings -", lines[4]);
    }

    [Theory]
    [InlineData("CF-2", "CF-2: trap byte -8 was overwritten", "CF-2: trap byte -8 was overwritten")]
    [InlineData("BIO-6", "compatible page refused", "BIO-6: compatible page refused")]
    public void A_title_names_the_property_once(string id, string message, string expected)
        => Assert.Equal(expected, Counterexamples.Titled(id, message));
}
