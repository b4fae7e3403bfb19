using BioModel.Bench;
using BioModel.Core;
using BioModel.Properties;
using BioModel.Reference;

namespace BioModel.Tests;

/// <summary>
/// The performance side of the suite (issue 7) as functional checks, never timed: the exhaustive small-scope
/// mode covers its whole bound and can fail, campaign throughput measures every operation of CF-1's
/// generator, and every benchmark's implementations agree (so the benchmarks time working code).
/// </summary>
public sealed class PerformanceModeTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = BioModel.Properties.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Exhaustive_npc_covers_every_world_of_the_bound_and_every_property_holds()
    {
        var r = Exhaustive.Npc();
        Assert.True(r.Failures == 0, r.FirstFailure);
        // The enumeration's size, pinned: 15 present-section sets × (FLATMEM, VMEMMAP, SPARSEMEM × 3 placements)
        // × folio tilings × pgmap labellings, less what the validator refuses. A change to the bound shows here.
        Assert.Equal(8886, r.Worlds);
        Assert.Equal(2659, r.Refused);
        Assert.True(r.Checks > 20_000_000, $"{r.Checks} arrays");
    }

    [Fact]
    public void Exhaustive_npc_finds_the_pointer_only_false_positive_in_classic_sparsemem()
    {
        // npc/pointer-only (VARIANTS.md) trusts page + 1 across sections: with node-buffer memmaps adjacent
        // across a hole it reports a run over unrelated PFNs, NPC-2.
        var r = Exhaustive.Npc(NpcVariant.PointerOnly, MemoryModel.Sparsemem);
        Assert.True(r.Failures > 0);
        Assert.True(r.ByProperty.ContainsKey("NPC-2"), string.Join(", ", r.ByProperty.Keys)); // the false positive
        Assert.True(r.ByProperty.ContainsKey("NPC-3"), string.Join(", ", r.ByProperty.Keys)); // a run across a section
        Assert.NotNull(r.FirstFailure);
        Assert.Contains("\"num_pages_contiguous\"", r.FirstFailure); // the counterexample is a scenario file
        Assert.True(ScenarioFile.TryParse(r.FirstFailure![(r.FirstFailure!.IndexOf('\n') + 1)..], out _, out var errors), string.Join("; ", errors));
    }

    [Fact]
    public void Exhaustive_bio_add_covers_every_world_of_the_bound_and_every_property_holds()
    {
        var r = Exhaustive.BioAdd();
        Assert.True(r.Failures == 0, r.FirstFailure);
        Assert.Equal(955, r.Worlds);
        Assert.True(r.Checks > 600_000, $"{r.Checks} sequences");
    }

    [Fact]
    public void Throughput_books_cases_to_every_operation_and_the_implementations_agree()
    {
        var rows = Throughput.Measure(Profile.Ci, 600, out int differences);
        Assert.Equal(0, differences);
        Assert.Contains(rows, r => r.Operation == "num_pages_contiguous" && r.Cases > 0 && r.Seconds > 0);
        Assert.Contains(rows, r => r.Operation == "iov_iter_extract_bvecs" && r.Cases > 0 && r.Seconds > 0);
        var all = rows.Single(r => r.Operation == "all operations");
        Assert.Equal(600, all.Cases);
        Assert.Equal(600, rows.Where(r => r != all).Sum(r => r.Cases));
    }

    [Fact]
    public void Campaign_throughput_goes_to_standard_error_and_never_into_the_report()
    {
        var (code, output, err) = Cli("check", "NPC-1");
        Assert.Equal(0, code);
        Assert.Contains("campaign throughput", err);
        Assert.Contains("NPC-1", err);
        Assert.DoesNotContain("cases/s", output);
    }

    [Theory]
    [InlineData("throughput", "0")]
    [InlineData("throughput", "many")]
    [InlineData("exhaustive", "everything")]
    public void Bad_arguments_are_usage_errors(string command, string arg)
    {
        var (code, _, err) = Cli(command, arg);
        Assert.Equal(2, code);
        Assert.Contains(command, err);
    }

    [Fact]
    public void Every_benchmark_agrees_across_reference_optimized_and_C()
    {
        var o = new StringWriter();
        int problems = Validation.Run(o);
        Assert.True(problems == 0, o.ToString());
        Assert.Contains("every benchmark agrees", o.ToString());
    }

    [Fact]
    public void The_native_baseline_is_built_wherever_a_C_compiler_is()
    {
        bool cc = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "cc")));
        if (cc) Assert.True(NativeBaseline.Available, NativeBaseline.Why);
        else Assert.Contains("not built", NativeBaseline.Why);
    }
}
