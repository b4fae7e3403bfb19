using System.Reflection;

namespace BioModel.Tests;

/// <summary>The dependency rule of DESIGN.md: the optimized implementation can never ask the spec for the answer.</summary>
public sealed class ArchitectureTests
{
    private static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BioModel.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("BioModel.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Optimized_does_not_reference_Reference()
    {
        var csproj = File.ReadAllText(Path.Combine(Root(), "model", "BioModel.Optimized", "BioModel.Optimized.csproj"));
        Assert.DoesNotContain("BioModel.Reference", csproj);
        var asm = Assembly.Load("BioModel.Optimized");
        Assert.DoesNotContain(asm.GetReferencedAssemblies(), a => a.Name == "BioModel.Reference");
    }

    [Fact]
    public void Reference_depends_on_Core_only()
    {
        var asm = Assembly.Load("BioModel.Reference");
        var ours = asm.GetReferencedAssemblies().Where(a => a.Name!.StartsWith("BioModel", StringComparison.Ordinal)).Select(a => a.Name).ToList();
        Assert.Equal(["BioModel.Core"], ours);
    }

    [Fact]
    public void Core_depends_on_nothing_of_ours()
    {
        var asm = Assembly.Load("BioModel.Core");
        Assert.DoesNotContain(asm.GetReferencedAssemblies(), a => a.Name!.StartsWith("BioModel", StringComparison.Ordinal));
    }
}
