using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace BioModel.Bench;

public static class Categories
{
    /// <summary>Benchmarks of the native C baseline (left out, with a message, when it is unavailable).</summary>
    public const string Native = "native";
}

/// <summary>A benchmark class whose operation handles a fixed number of pages.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PagesPerOperationAttribute(int pages) : Attribute
{
    public int Pages { get; } = pages;
}

/// <summary>A benchmark class whose operation handles as many pages as its <c>Pages</c> parameter says.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PagesFromParamAttribute : Attribute;

/// <summary>The column "ns/page": the mean time of one operation divided by the pages it handles.</summary>
public sealed class NsPerPageColumn : IColumn
{
    public string Id => "NsPerPage";
    public string ColumnName => "ns/page";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Mean time per operation divided by the pages the operation handles";

    public static int? PagesOf(BenchmarkCase c)
    {
        var type = c.Descriptor.Type;
        if (type.GetCustomAttributes(typeof(PagesPerOperationAttribute), true).FirstOrDefault() is PagesPerOperationAttribute a) return a.Pages;
        if (type.GetCustomAttributes(typeof(PagesFromParamAttribute), true).Length > 0)
            return c.Parameters.Items.FirstOrDefault(p => p.Name == "Pages")?.Value is int n ? n : null;
        return null;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        var pages = PagesOf(benchmarkCase);
        if (stats is null || pages is null or 0) return "-";
        double ns = stats.Mean / pages.Value;
        return ns >= 100 ? ns.ToString("F0") : ns >= 10 ? ns.ToString("F1") : ns.ToString("F2");
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
