using BioModel.Core;
using BioModel.Properties;
using BioModel.Reference;

namespace BioModel.Tests;

/// <summary>The bad-input campaign (issue 8, item 4) at the ci size, and what it found.</summary>
public sealed class BadInputTests
{
    /// <summary>Runs <paramref name="f"/> on the pool; a run past 10 s fails the test instead of hanging the suite.</summary>
    private static async Task<T> WithDeadline<T>(Func<T> f)
    {
        var task = Task.Run(f);
        Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))) == task, "did not return within 10 s");
        return await task;
    }

    [Fact]
    public async Task Mutated_scenarios_and_out_of_contract_operations_never_crash_or_touch_a_trap()
    {
        // Run with a deadline: an input that makes a model loop forever (as one did, see below) fails the
        // test instead of holding CI.
        var task = Task.Run(() => BadInput.Run(Profile.Ci, 3000));
        var first = await Task.WhenAny(task, Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.True(first == task, "the campaign did not finish: an input makes a model hang");
        var r = await task;
        var o = new StringWriter();
        BadInput.Print(r, o);
        Assert.True(r.Crashes == 0 && r.TrapsTouched == 0 && r.Disagreements == 0, o.ToString());
        Assert.Equal(3000, r.Refused + r.Loaded);
        Assert.True(r.Refused > 1000, o.ToString());          // most mutations break the file ...
        Assert.True(r.Loaded > 100, o.ToString());            // ... many still load and run out of contract ...
        Assert.True(r.WithViolation > 5, o.ToString());       // ... and some of those report a contract violation
        Assert.True(r.RefusalsByField.ContainsKey("(document)"), o.ToString()); // truncated text is refused by name too
    }

    [Fact]
    public void The_campaign_is_deterministic()
    {
        var a = new StringWriter();
        var b = new StringWriter();
        BadInput.Print(BadInput.Run(Profile.Dev, 300), a);
        BadInput.Print(BadInput.Run(Profile.Dev, 300), b);
        static string Stable(string s) => string.Join('\n', s.Split('\n').Where(l => !l.Contains("slowest input")));
        Assert.Equal(Stable(a.ToString()), Stable(b.ToString()));
    }

    [Theory]
    [InlineData(1UL, 0)]
    [InlineData(0x1000UL, 0)]
    [InlineData(0x1001UL, 1)]
    [InlineData(0x100000UL, 8)]
    [InlineData(0x8000_0000_0000_0000UL, 51)]
    [InlineData(ulong.MaxValue, 52)]
    public async Task Get_order_follows_fls_and_ends_for_every_size(ulong size, int order)
    {
        // The first model doubled PAGE_SIZE until it held the size; above 2^63 the shift wrapped and
        // folio_alloc_greedy never returned (found by the bad-input campaign).
        var w = TestWorlds.Tiny();
        var b = new Bounce(new MemoryModelRules(w), new Effects());
        Assert.Equal(order, await WithDeadline(() => b.GetOrder(size)));
    }

    [Fact]
    public async Task Folio_alloc_greedy_of_the_largest_size_returns_on_both_implementations()
    {
        var w = TestWorlds.Tiny() with { Allocator = new PageAllocator([new Folio(0x20, 3)], 3, 3) };
        var op = new FolioAllocGreedyOp(ulong.MaxValue, 0x1000);
        var e = await WithDeadline(() => ReferenceModel.Instance.Run(w, op));
        var a = await WithDeadline(() => BioModel.Optimized.OptimizedModel.Instance.Run(w, op));
        Assert.Null(CfProps.FirstDifference(e, a));
        // The size shrinks from 2^64 − 1 to the order-3 block the allocator has: 32 KiB.
        Assert.Equal(0x8000L, e.Returns[^1]);
    }
}
