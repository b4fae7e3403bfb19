namespace BioModel.Core;

/// <summary>
/// A named world and the operations to run on it: the one format for golden scenarios, counterexamples
/// and the main job (read and written by <see cref="ScenarioFile"/>).
/// </summary>
public sealed record Scenario(string Name, string? Comment, World World, EqArray<Operation> Operations);

/// <summary>One reason a scenario file was refused: the JSON path of the value and what is wrong with it.</summary>
public sealed record ScenarioError(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}
