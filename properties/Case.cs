using BioModel.Core;

namespace BioModel.Properties;

/// <summary>
/// One generated input: a world and the operation to run on it (null for properties of the world itself,
/// such as the memory-model rules). Printed as a scenario file, so every counterexample can be replayed.
/// </summary>
public sealed record Case(World World, Operation? Op)
{
    public Scenario ToScenario(string name, string? comment = null)
        => new(name, comment, World, Op is null ? [] : [Op]);

    /// <summary>True when the world and the operation can be written down (validators find nothing).</summary>
    public bool IsValid()
    {
        if (World.Problems().Count > 0) return false;
        return Op is null || OperationValidator.Validate(World, Op, "$.operations[0]").Count == 0;
    }
}
