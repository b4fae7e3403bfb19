using System.Text;
using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// Prints a shrunk counterexample for review: why it fails, the case as a scenario file (the golden/
/// format, so it can be saved and replayed), the layout the model produced, and the replay line.
/// </summary>
public static class Counterexamples
{
    public static string Format(PropertyDef def, Counterexample cx)
    {
        var sb = new StringBuilder();
        var c = cx.Shrunk;
        sb.Append($"       counterexample (case {cx.TestNumber}, shrunk {cx.Shrinks} times): {cx.Message}\n");
        sb.Append("       --- scenario (save under golden/regressions/ to keep it) ---\n");
        var scenario = c.ToScenario($"{def.Id}-counterexample", $"{def.Id}: {cx.Message}");
        sb.Append(Indent(ScenarioFile.Write(scenario)));
        sb.Append("       --- layout (reference model) ---\n");
        sb.Append(Indent(Layout(c)));
        sb.Append($"       replay: BIOMODEL_REPLAY=\"{def.Id}:{cx.Replay}\" dotnet test --filter \"FullyQualifiedName=BioModel.Tests.PropertyTests.{def.TestName}\"\n");
        sb.Append($"           or: dotnet run --project properties -- check {def.Id} --replay {cx.Replay}\n");
        return sb.ToString();
    }

    public static string Layout(Case c)
    {
        if (c.Op is null) return "== world ==\n" + LayoutRenderer.RenderWorld(c.World);
        try
        {
            var o = Ref.Run(c);
            return LayoutRenderer.RenderScenario(c.World, [c.Op], [o]);
        }
        catch (Exception e)
        {
            return LayoutRenderer.RenderScenario(c.World, [c.Op], []) + $"(the model threw {e.GetType().Name}: {e.Message})\n";
        }
    }

    private static string Indent(string text)
    {
        var sb = new StringBuilder();
        foreach (var line in text.TrimEnd('\n').Split('\n')) sb.Append("       ").Append(line).Append('\n');
        return sb.ToString();
    }
}
