using BioModel.Properties;
using Xunit.Abstractions;

namespace BioModel.Tests;

/// <summary>
/// Every property of the campaign as its own test, named by its id (NPC-2 → NPC_2), run through FsCheck
/// with the profile of BIOMODEL_PROFILE (default ci). The report goes to the test output; a property
/// that does not do what is expected (hold, or reproduce its known finding) fails the test with the
/// shrunk counterexample, its scenario file and the replay line.
/// </summary>
public sealed class PropertyTests(ITestOutputHelper output)
{
    private void Check(string id)
    {
        var def = Campaign.Get(id);
        PropertyChecker.Check(def, Profile.FromEnvironment(), output.WriteLine, Campaign.ReplayFor(def), Regressions.OfCheckout());
    }

    [Fact] public void MM_1() => Check("MM-1");
    [Fact] public void MM_2() => Check("MM-2");
    [Fact] public void MM_3() => Check("MM-3");
    [Fact] public void MM_4() => Check("MM-4");
    [Fact] public void MM_5() => Check("MM-5");
    [Fact] public void NPC_1() => Check("NPC-1");
    [Fact] public void NPC_2() => Check("NPC-2");
    [Fact] public void NPC_3() => Check("NPC-3");
    [Fact] public void NPC_4() => Check("NPC-4");
    [Fact] public void NPC_5() => Check("NPC-5");
    [Fact] public void BIO_1() => Check("BIO-1");
    [Fact] public void BIO_1_below_2g() => Check("BIO-1/below-2g");
    [Fact] public void BIO_2() => Check("BIO-2");
    [Fact] public void BIO_3() => Check("BIO-3");
    [Fact] public void BIO_3_segments() => Check("BIO-3/segments");
    [Fact] public void BIO_4() => Check("BIO-4");
    [Fact] public void BIO_5() => Check("BIO-5");
    [Fact] public void BIO_5_page_offsets() => Check("BIO-5/page-offsets");
    [Fact] public void BIO_6() => Check("BIO-6");
    [Fact] public void BIO_7() => Check("BIO-7");
    [Fact] public void BIO_8() => Check("BIO-8");
    [Fact] public void BIO_9() => Check("BIO-9");
    [Fact] public void BIO_9_same_pgmap() => Check("BIO-9/same-pgmap");
    [Fact] public void EX_1() => Check("EX-1");
    [Fact] public void EX_1_no_empty_bvec() => Check("EX-1/no-empty-bvec");
    [Fact] public void EX_2() => Check("EX-2");
    [Fact] public void EX_2_no_empty_bvec() => Check("EX-2/no-empty-bvec");
    [Fact] public void EX_3() => Check("EX-3");
    [Fact] public void EX_4() => Check("EX-4");
    [Fact] public void EX_5() => Check("EX-5");
    [Fact] public void EX_6() => Check("EX-6");
    [Fact] public void EX_7() => Check("EX-7");
    [Fact] public void EX_8() => Check("EX-8");
    [Fact] public void EX_8_iovec_kvec() => Check("EX-8/iovec-kvec");
    [Fact] public void EX_9() => Check("EX-9");
    [Fact] public void EX_10() => Check("EX-10");
    [Fact] public void GP_1() => Check("GP-1");
    [Fact] public void GP_1_one_round() => Check("GP-1/one-round");
    [Fact] public void GP_1_single_page() => Check("GP-1/single-page");
    [Fact] public void GP_2() => Check("GP-2");
    [Fact] public void GP_3() => Check("GP-3");
    [Fact] public void GP_4() => Check("GP-4");
    [Fact] public void GP_4_no_align_down() => Check("GP-4/no-align-down");
    [Fact] public void GP_5() => Check("GP-5");
    [Fact] public void BNC_1() => Check("BNC-1");
    [Fact] public void BNC_2() => Check("BNC-2");
    [Fact] public void BNC_3() => Check("BNC-3");
    [Fact] public void BNC_3_aligned() => Check("BNC-3/aligned");
    [Fact] public void BNC_4() => Check("BNC-4");
    [Fact] public void BNC_5() => Check("BNC-5");
    [Fact] public void BVP_1() => Check("BVP-1");
    [Fact] public void CF_1() => Check("CF-1");
    [Fact] public void CF_2() => Check("CF-2");

    /// <summary>Every property of the campaign has a test above (a new property cannot be forgotten).</summary>
    [Fact]
    public void Every_property_has_a_test()
    {
        var methods = typeof(PropertyTests).GetMethods().Select(m => m.Name).ToHashSet();
        var missing = Campaign.Properties.Where(p => !methods.Contains(p.TestName)).Select(p => p.Id).ToList();
        Assert.True(missing.Count == 0, "properties without a test: " + string.Join(", ", missing));
    }
}
