using BioModel.Core;
using BioModel.Properties;

namespace BioModel.Tests;

/// <summary>The one scenario format: generated worlds and operations round-trip, and bad input is refused with a JSON path.</summary>
public sealed class ScenarioFormatTests
{
    /// <summary>Every property's generator, 30 cases each: write, read back, compare.</summary>
    [Fact]
    public void Generated_cases_round_trip_through_the_scenario_format()
    {
        int n = 0;
        foreach (var def in Campaign.Properties)
        {
            for (int i = 0; i < 30; i++)
            {
                var c = def.Generate(new Draw((ulong)(i * 7919 + def.Id.Length), 10 + i * 3));
                if (!c.IsValid()) continue; // MM-4 builds rule-breaking worlds on purpose
                var s = c.ToScenario($"{def.Id}-{i}", "round trip");
                string text = ScenarioFile.Write(s);
                Assert.True(ScenarioFile.TryParse(text, out var back, out var errors), def.Id + ": " + string.Join("; ", errors) + "\n" + text);
                Assert.Equal(s.World, back!.World);
                Assert.Equal(s.Operations, back.Operations);
                Assert.Equal(text, ScenarioFile.Write(back));
                n++;
            }
        }
        Assert.True(n > 500, $"only {n} cases round-tripped");
    }

    [Fact]
    public void Written_files_use_LF_and_hex_for_pfns()
    {
        var w = TestWorlds.Tiny(folios: [new Folio(0x10, 2)], user: [0x10, 0x11, 0x12, 0x13]);
        var text = ScenarioFile.Write(new Scenario("x", null, w, [new NumPagesContiguousOp([0x10, 0x11])]));
        Assert.DoesNotContain('\r', text);
        Assert.Contains("\"head\": \"0x10\"", text);
        Assert.Contains("\"0x10..0x13\"", text);
        Assert.Contains("\"preset\": \"tiny-sparsemem\"", text);
    }

    private const string Valid = """
        {
          "name": "ok",
          "machine": { "preset": "tiny-sparsemem" },
          "memory": { "sections": [0, 1] },
          "user": { "pages": ["0x10", "ro:0x11", "-"] },
          "operations": [ { "op": "num_pages_contiguous", "pages": ["0x10", "0x11"] } ]
        }
        """;

    [Fact]
    public void A_valid_hand_written_file_loads()
    {
        Assert.True(ScenarioFile.TryParse(Valid, out var s, out var errors), string.Join("; ", errors));
        Assert.Equal(MappingKind.ReadOnly, s!.World.User.Pages[1].Kind);
        Assert.False(s.World.User.Pages[2].HasPfn);
    }

    [Theory]
    [InlineData("\"sections\": [0, 1]", "\"sections\": [0, 1], \"colour\": 3", "$.memory.colour", "unknown field")]
    [InlineData("\"preset\": \"tiny-sparsemem\"", "\"preset\": \"tiny-sparsemem\", \"page_shift\": \"big\"", "$.machine.page_shift", "not a number")]
    [InlineData("\"preset\": \"tiny-sparsemem\"", "\"preset\": \"vax\"", "$.machine.preset", "unknown preset")]
    [InlineData("\"sections\": [0, 1]", "\"sections\": [1, 0]", "$.memory.sections[1]", "ascending")]
    [InlineData("[\"0x10\", \"0x11\"] }", "[\"0x10\", \"0x99\"] }", "$.operations[0].pages[1]", "no struct page")]
    [InlineData("\"op\": \"num_pages_contiguous\"", "\"op\": \"frobnicate\"", "$.operations[0].op", "unknown operation")]
    [InlineData("\"pages\": [\"0x10\", \"ro:0x11\", \"-\"]", "\"pages\": [\"0x10\", \"0x300\"]", "$.user.pages[1]", "not in a present section")]
    [InlineData("\"name\": \"ok\",", "", "$.name", "required")]
    public void Bad_input_is_refused_with_its_path_and_reason(string find, string replace, string path, string reason)
    {
        var text = Valid.Replace(find, replace);
        Assert.NotEqual(Valid, text);
        Assert.False(ScenarioFile.TryParse(text, out _, out var errors));
        Assert.Contains(errors, e => e.Path == path && e.Reason.Contains(reason, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void A_folio_across_a_classic_section_is_an_impossible_world()
    {
        var text = Valid.Replace("\"memory\": { \"sections\": [0, 1] },", "\"memory\": { \"sections\": [0, 1] }, \"folios\": [{ \"head\": \"0x0\", \"order\": 5 }],");
        Assert.False(ScenarioFile.TryParse(text, out _, out var errors));
        Assert.Contains(errors, e => e.Path == "$.folios[0].order" && e.Reason.Contains("MAX_FOLIO_ORDER"));
    }

    [Fact]
    public void Broken_json_is_an_error_not_an_exception()
    {
        Assert.False(ScenarioFile.TryParse("{ \"name\": ", out _, out var errors));
        Assert.Equal("$", errors[0].Path);
        Assert.Contains("not valid JSON", errors[0].Reason);
    }
}
