using BioModel.Core;

namespace BioModel.Tests;

/// <summary>
/// Malformed scenario files kept as test data (tests/data/malformed/). Each starts with a comment
/// `// expect: <JSON path> | <words of the reason>`; loading must fail with exactly that error among
/// its errors, and must never throw.
/// </summary>
public sealed class MalformedScenarioTests
{
    private static string Dir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BioModel.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, "tests", "data", "malformed");
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Dir(), "*.json").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Is_refused_with_its_named_error(string file)
    {
        var text = File.ReadAllText(Path.Combine(Dir(), file));
        var first = text.Split('\n')[0];
        Assert.StartsWith("// expect: ", first);
        var parts = first["// expect: ".Length..].Split(" | ", 2);
        bool ok = ScenarioFile.TryParse(text, out var scenario, out var errors);
        Assert.False(ok, $"{file} was accepted");
        Assert.Null(scenario);
        Assert.True(errors.Any(e => e.Path == parts[0] && e.Reason.Contains(parts[1], StringComparison.Ordinal)),
            $"{file}: expected {parts[0]}: …{parts[1]}…, got:\n  " + string.Join("\n  ", errors));
    }

    [Fact]
    public void At_least_40_malformed_files_are_kept()
        => Assert.True(Directory.GetFiles(Dir(), "*.json").Length >= 40);

    [Fact]
    public void The_base_they_are_made_from_is_valid()
    {
        // Every malformed file is one change away from this scenario.
        var text = """
            { "name": "base", "machine": { "preset": "tiny-sparsemem" }, "memory": { "sections": [0, 1, 3] },
              "folios": [{ "head": "0x10", "order": 2 }],
              "pgmaps": [{ "id": 1, "type": "pci-p2pdma", "start": "0x30", "pages": 8, "provider": "nvme0" }],
              "user": { "pages": ["0x10..0x13", "0x14"] },
              "operations": [
                { "op": "bio_add_page", "bio": { "max_vecs": 2 }, "calls": [{ "pfn": "0x10", "len": "0x1000", "off": "0x0" }] },
                { "op": "iov_iter_extract_bvecs", "iter": { "type": "ubuf", "dir": "source", "ubuf": "0x7f0000000000", "count": "0x2000" }, "max_vecs": 4, "max_size": "0x2000" } ] }
            """;
        Assert.True(ScenarioFile.TryParse(text, out _, out var errors), string.Join("; ", errors));
    }
}
