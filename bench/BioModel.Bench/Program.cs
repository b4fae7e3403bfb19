using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace BioModel.Bench;

/// <summary>
/// The benchmarks (issue 7). Run them with
///   dotnet run -c Release --project bench/BioModel.Bench -- --filter '*'
/// (any BenchmarkDotNet option works; --quick for a short job), or check that every benchmark's three
/// implementations agree with --validate (what the test suite runs).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--validate"))
        {
            var problems = Validation.Run(Console.Out);
            return problems == 0 ? 0 : 1;
        }
        bool quick = args.Contains("--quick");
        args = args.Where(a => a != "--quick").ToArray();
        Console.WriteLine(NativeBaseline.Available
            ? "native C baseline: bench/native/baseline.c, built with the system C compiler at -O2"
            : "native C baseline: baseline unavailable (" + NativeBaseline.Why + "); the C benchmarks are left out");
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, Config(quick));
        return 0;
    }

    /// <summary>
    /// In-process runs (no per-benchmark project build: the machines have two cores), memory diagnoser
    /// (allocations per operation), the ns/page column, and the C benchmarks only when the baseline loads.
    /// </summary>
    public static IConfig Config(bool quick)
    {
        var job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance);
        job = quick ? job.WithWarmupCount(2).WithIterationCount(5).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
                    : job.WithWarmupCount(4).WithIterationCount(12).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250));
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(new NsPerPageColumn())
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared))
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
        if (!NativeBaseline.Available)
            config = config.AddFilter(new SimpleFilter(b => !b.Descriptor.Categories.Contains(Categories.Native)));
        return config;
    }
}
