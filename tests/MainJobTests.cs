using BioModel.Core;
using BioModel.Properties;

namespace BioModel.Tests;

/// <summary>The main job (the README's first command) and its other commands, run in-process.</summary>
public sealed class MainJobTests
{
    /// <summary>A command of the main job in the default profile (as the README runs it), whatever BIOMODEL_PROFILE says.</summary>
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = BioModel.Properties.Cli.Run(args, o, e, Profile.Ci);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Check_reports_every_property_and_exits_0()
    {
        var (code, output, err) = Cli("check");
        Assert.True(code == 0, output + err);
        foreach (var p in Campaign.Properties)
            Assert.Contains($"\n{p.Id} ", "\n" + output);
        Assert.Contains($"summary: {Campaign.Properties.Count}/{Campaign.Properties.Count} properties as expected", output);
        Assert.Contains("classes: ", output);
        Assert.Contains("KNOWN FINDING (counterexample found, as expected)", output);
        Assert.Contains("BioModel verdict matrix", output);
        Assert.Contains("cells as expected", output);
    }

    [Fact]
    public void The_default_profile_checks_at_least_50000_cases()
    {
        var p = Profile.Ci;
        int total = Campaign.Properties.Sum(p.CasesFor);
        Assert.True(total >= 50_000, $"{total} cases");
    }

    [Fact]
    public void Same_seed_same_report()
    {
        var a = new StringWriter();
        var b = new StringWriter();
        Campaign.RunAll(Profile.Dev, a);
        Campaign.RunAll(Profile.Dev, b);
        Assert.Equal(a.ToString(), b.ToString());
        var c = new StringWriter();
        Campaign.RunAll(Profile.Dev with { Seed = 42 }, c);
        Assert.NotEqual(a.ToString(), c.ToString());
    }

    [Fact]
    public void List_names_every_property()
    {
        var (code, output, _) = Cli("list");
        Assert.Equal(0, code);
        var parts = output.Split("\n\n");
        Assert.Equal(Campaign.Properties.Count, parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("[known finding]", output);
        Assert.Equal(VerdictMatrix.Rows.Count(), parts[1].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Explain_renders_a_scenario_file()
    {
        var w = TestWorlds.Tiny(user: [0x20, 0x21]);
        var s = new Scenario("two-pages", "two adjacent order-0 folios", w, [new ExtractBvecsOp(TestWorlds.Ubuf(0, 0x2000), [], 4, 0x2000, 0, false)]);
        var path = Path.Combine(Path.GetTempPath(), $"biomodel-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, ScenarioFile.Write(s));
        try
        {
            var (code, output, err) = Cli("explain", path);
            Assert.True(code == 0, err);
            Assert.Contains("# two-pages", output);
            Assert.Contains("returns   0x2000", output);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Explain_runs_a_scenario_with_the_code_of_a_variant()
    {
        var golden = GoldenFiles.OfCheckout()!;
        var path = Path.Combine(GoldenScenarios.ScenarioDirectory(golden), "mshv-vtl-generic-chunks.json");
        var (code, output, err) = Cli("explain", path, "--variant", "extract/add-folio");
        Assert.True(code == 0, err);
        Assert.Contains("# run with extract/add-folio", output);
        Assert.Contains(Diag.AddFolioRoundRefused, output); // the 6.17/6.18 loop refuses the second GENERIC chunk
        var (code2, output2, _) = Cli("explain", path);
        Assert.Equal(0, code2);
        Assert.DoesNotContain(Diag.AddFolioRoundRefused, output2);
        Assert.Equal(2, Cli("explain", path, "--variant", "npc/no-such").Code);
    }

    [Fact]
    public void Explain_of_a_bad_file_names_the_problem_and_exits_1()
    {
        var path = Path.Combine(Path.GetTempPath(), $"biomodel-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ \"name\": \"x\", \"machine\": {}, \"memory\": { \"sections\": [] }, \"operations\": [] }");
        try
        {
            var (code, _, err) = Cli("explain", path);
            Assert.Equal(1, code);
            Assert.Contains("$.memory.sections: no present section", err);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Unknown_commands_and_properties_are_usage_errors()
    {
        Assert.Equal(2, Cli("frobnicate").Code);
        Assert.Equal(2, Cli("check", "NOPE-1").Code);
        Assert.Equal(2, Cli().Code);
    }
}
