using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>A fatal contract violation inside one optimized run; caught by <see cref="OptimizedModel"/>.</summary>
public sealed class OptViolation(string message) : Exception(message);

/// <summary>Warnings and contract violations of one optimized run (pins live in the struct pages themselves).</summary>
public sealed class RunLog
{
    public List<string> Warnings { get; } = [];
    public List<string> Violations { get; } = [];

    public void Warn(string what) => Warnings.Add(what);
    public void Breach(string what) => Violations.Add(what);

    public OptViolation Fatal(string what)
    {
        Violations.Add(what);
        return new OptViolation(what);
    }
}
