using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// Counterexamples kept as scenario files under golden/regressions/ (one file per shrunk failing case,
/// named after the property's test name and a hash of the case). Every later run of the property checks
/// them before any random case, so a bug that came back fails at once with its old, small example.
/// </summary>
public sealed class Regressions(string directory, string? root = null)
{
    public string Directory { get; } = directory;

    /// <summary>A path as printed: relative to the checkout when there is one.</summary>
    public string Show(string path) => root is null ? path : Path.GetRelativePath(root, path);

    /// <summary>golden/regressions of the checkout this code runs from, or null outside a checkout.</summary>
    public static Regressions? OfCheckout()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BioModel.sln"))) dir = dir.Parent;
        return dir is null ? null : new Regressions(Path.Combine(dir.FullName, "golden", "regressions"), dir.FullName);
    }

    private static string Prefix(PropertyDef def) => def.TestName + "-";

    /// <summary>The saved cases of a property, with the problems of files that no longer load.</summary>
    public IEnumerable<(string Path, Case? Case, string? Problem)> Load(PropertyDef def)
    {
        if (!System.IO.Directory.Exists(Directory)) yield break;
        foreach (var path in System.IO.Directory.GetFiles(Directory, Prefix(def) + "*.json").Order(StringComparer.Ordinal))
        {
            if (!ScenarioFile.TryLoad(path, out var s, out var errors))
            {
                yield return (path, null, $"regression file {Path.GetFileName(path)} no longer loads: {string.Join("; ", errors)}");
                continue;
            }
            yield return (path, new Case(s!.World, s.Operations.Length > 0 ? s.Operations[0] : null), null);
        }
    }

    /// <summary>Writes a counterexample; returns its path (the same case always gets the same name).</summary>
    public string Save(PropertyDef def, Counterexample cx)
    {
        var scenario = cx.Shrunk.ToScenario($"{def.Id} regression", Counterexamples.Titled(def.Id, cx.Message));
        string text = ScenarioFile.Write(scenario with { Comment = null });
        ulong h = 0xcbf29ce484222325UL;
        foreach (char ch in text) h = (h ^ ch) * 0x100000001b3UL;
        string path = Path.Combine(Directory, $"{Prefix(def)}{h:x16}.json");
        System.IO.Directory.CreateDirectory(Directory);
        if (!File.Exists(path)) File.WriteAllText(path, ScenarioFile.Write(scenario));
        return Show(path);
    }
}
