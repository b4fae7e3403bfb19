using BioModel.Core;
using BioModel.Optimized;
using BioModel.Reference;

namespace BioModel.Properties;

/// <summary>
/// The named scenarios of golden/scenarios/: each is run by the reference model and by the optimized
/// implementation (they must agree), and the reference layout is the golden text.
/// </summary>
public static class GoldenScenarios
{
    public static string ScenarioDirectory(GoldenFiles g) => Path.Combine(g.Directory, "scenarios");

    /// <summary>The scenario names (file names without .json), in order.</summary>
    public static IReadOnlyList<string> Names(GoldenFiles g)
        => System.IO.Directory.Exists(ScenarioDirectory(g))
            ? System.IO.Directory.GetFiles(ScenarioDirectory(g), "*.json").Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>The golden text of a scenario: its name and comment, the world, every operation with its outcome.</summary>
    public static string Render(Scenario s, IReadOnlyList<Outcome> outcomes)
        => $"# {s.Name}\n" + (s.Comment is null ? "" : $"# {s.Comment}\n") + LayoutRenderer.RenderScenario(s.World, s.Operations.Items, outcomes);

    /// <summary>The result of one golden scenario: problems (load errors, disagreements) and the golden comparison.</summary>
    public sealed record Check(string Name, IReadOnlyList<string> Problems, GoldenResult? Golden)
    {
        public bool Ok => Problems.Count == 0 && Golden is { Ok: true };

        public string Report()
        {
            var parts = new List<string>(Problems);
            if (Golden is { Ok: false, Diff: { } diff }) parts.Add($"layout differs from the verified file (received: {Golden.ReceivedPath}):\n{diff}");
            return $"golden scenario {Name}: " + (parts.Count == 0 ? "ok" : string.Join("\n", parts));
        }
    }

    public static Check Run(GoldenFiles g, string name)
    {
        var path = Path.Combine(ScenarioDirectory(g), name + ".json");
        if (!ScenarioFile.TryLoad(path, out var s, out var errors))
            return new Check(name, errors.Select(e => $"{Path.GetFileName(path)}: {e}").ToList(), null);
        var problems = new List<string>();
        if (s!.Name != name) problems.Add($"{Path.GetFileName(path)}: \"name\" is '{s.Name}', the file is {name}.json");
        var outcomes = new List<Outcome>();
        for (int i = 0; i < s.Operations.Length; i++)
        {
            var op = s.Operations[i];
            var e = ReferenceModel.Instance.Run(s.World, op);
            var a = OptimizedModel.Instance.Run(s.World, op);
            if (CfProps.FirstDifference(e, a) is { } diff)
                problems.Add($"operation {i}: the optimized implementation disagrees with the reference: {diff}\n" +
                             Counterexamples.SideBySide("reference", LayoutRenderer.RenderOutcome(s.World, op, e), "optimized", LayoutRenderer.RenderOutcome(s.World, op, a)));
            outcomes.Add(e);
        }
        var golden = g.Verify(name, Render(s, outcomes));
        return new Check(name, problems, golden);
    }
}
