using BioModel.Core;
using BioModel.Reference;

namespace BioModel.Tests;

/// <summary>Small worlds for hand-written tests: 4 KiB pages, 16-page sections, explicit everything else.</summary>
public static class TestWorlds
{
    public const ulong PS = 0x1000;
    public const ulong UserBase = AddressSpace.DefaultUserBase;

    public static World Tiny(
        MemoryModel model = MemoryModel.Sparsemem,
        ulong[]? sections = null,
        MemmapPlacement? placement = null,
        Folio[]? folios = null,
        Pgmap[]? pgmaps = null,
        ulong[]? user = null,
        Func<MachineConfig, MachineConfig>? config = null)
    {
        var preset = model switch
        {
            MemoryModel.Flatmem => "tiny-flatmem",
            MemoryModel.Sparsemem => "tiny-sparsemem",
            _ => "tiny-vmemmap",
        };
        var m = ArchPresets.Get(preset);
        if (config is not null) m = config(m);
        var w = World.Create(m, sections ?? [0, 1, 2, 3], placement);
        w = w with
        {
            Folios = folios ?? [],
            Pgmaps = pgmaps ?? [],
            User = new AddressSpace(UserBase, (user ?? []).Select(VirtPage.Map).ToEqArray()),
        };
        return Valid(w);
    }

    /// <summary>The world, after asserting that the validator accepts it.</summary>
    public static World Valid(World w)
    {
        var problems = w.Problems();
        Assert.True(problems.Count == 0, "test world is invalid: " + string.Join("; ", problems));
        return w;
    }

    public static Outcome Run(World w, Operation op) => ReferenceModel.Instance.Run(w, op);

    /// <summary>The operation in both implementations: asserts the outcomes are equal and returns it.</summary>
    public static Outcome RunBoth(World w, Operation op)
    {
        var reference = ReferenceModel.Instance.Run(w, op);
        Assert.Equal(reference, BioModel.Optimized.OptimizedModel.Instance.Run(w, op));
        return reference;
    }

    public static BioAddOp Adds(Bio bio, params (ulong Pfn, ulong Off, ulong Len)[] calls)
        => new(bio, calls.Select(c => new AddCall(AddFn.BioAddPage, c.Pfn, c.Len, c.Off)).ToEqArray());

    public static IterDesc Ubuf(ulong offset, ulong count, bool source = true) => IterDesc.ForUbuf(UserBase + offset, count, source);
}
