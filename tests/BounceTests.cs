using BioModel.Core;
using BioModel.Properties;
using BioModel.Reference;
using Xunit.Abstractions;

namespace BioModel.Tests;

/// <summary>
/// The BNC properties catch the bounce bugs the issue names: a bounce write that forgets to revert the iterator
/// after a short copy, and a read completion that marks pages dirty after an I/O error. Each bug is seeded into the
/// reference model (<see cref="SeededBounceBug"/>), the property is run at the ci profile with its fixed seed, and
/// the shrunk counterexample must be about at most 3 pages.
/// </summary>
public sealed class BounceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SeededBounceBug.NoRevertOnShortCopy, "BNC-3/aligned", "iterator moved")]
    [InlineData(SeededBounceBug.DirtyOnError, "BNC-4", "the I/O failed")]
    public void A_seeded_bounce_bug_fails_its_property_with_at_most_3_pages(SeededBounceBug bug, string property, string says)
    {
        var model = new ReferenceModel(KernelVariants.Mainline with { SeededBug = bug }, $"reference [seeded: {bug}]");
        PropertyRun run;
        using (Ref.Use(model)) run = PropertyChecker.Run(Campaign.Get(property), Profile.Ci);
        output.WriteLine(Campaign.FormatRun(run));
        Assert.NotNull(run.Counterexample);
        Assert.Contains(says, run.Counterexample!.Message);
        Assert.InRange(run.Counterexample.Pages, 1, 3);
    }

    [Theory]
    [InlineData("BNC-3/aligned")]
    [InlineData("BNC-4")]
    public void Without_the_seeded_bug_the_same_property_holds(string property)
    {
        var run = PropertyChecker.Run(Campaign.Get(property), Profile.Ci);
        output.WriteLine(Campaign.FormatRun(run));
        Assert.Null(run.Counterexample);
        Assert.True(run.Ok, run.Problem);
    }
}
