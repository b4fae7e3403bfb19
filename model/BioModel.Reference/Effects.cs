using BioModel.Core;

namespace BioModel.Reference;

/// <summary>
/// A caller broke a kernel precondition in a way the kernel cannot survive (an out-of-bounds write, a
/// wild struct-page dereference, a BUG()). Thrown inside one run and turned into an
/// <see cref="Outcome.Violations"/> entry by <see cref="ReferenceModel"/>; it never escapes a run.
/// </summary>
public sealed class ContractViolation(string message) : Exception(message);

/// <summary>
/// What one run does besides returning values: pins per PFN, warnings (WARN_ON / WARN_ON_ONCE at the
/// places the kernel has them) and contract violations. One instance per run, so the model stays pure
/// from the outside: the same world and operation always give the same outcome.
/// </summary>
public sealed class Effects
{
    private readonly SortedDictionary<ulong, long> _pins = new();
    public List<string> Warnings { get; } = [];
    public List<string> Violations { get; } = [];

    public void Warn(string what) => Warnings.Add(what);

    /// <summary>A broken precondition the kernel lives through (it warns, or the result is still defined).</summary>
    public void Breach(string what) => Violations.Add(what);

    /// <summary>A broken precondition after which the kernel's behaviour is undefined: the run stops here.</summary>
    public ContractViolation Fatal(string what)
    {
        Violations.Add(what);
        return new ContractViolation(what);
    }

    /// <summary>One FOLL_PIN reference on a page (pin_user_pages_fast).</summary>
    public void Pin(ulong pfn) => _pins[pfn] = _pins.GetValueOrDefault(pfn) + 1;

    /// <summary>unpin_user_page: drops one pin; a page that holds none is a refcount underflow.</summary>
    public void Unpin(ulong pfn)
    {
        long n = _pins.GetValueOrDefault(pfn) - 1;
        if (n < 0) Breach(Diag.UnpinWithoutPin(pfn));
        if (n == 0) _pins.Remove(pfn);
        else _pins[pfn] = n;
    }

    public EqArray<PinCount> PinTable() => _pins.Select(kv => new PinCount(kv.Key, kv.Value)).ToEqArray();

    // ---------------------------------------------------------------- memory over time (direct_io)

    /// <summary>The bytes of physical memory as the operation changes them (stores, copies, DMA).</summary>
    public MemoryImage Memory { get; set; } = null!;

    /// <summary>The page allocator's free memory as the operation takes and gives back folios.</summary>
    public PageAllocator Allocator { get; set; } = PageAllocator.None;

    private readonly SortedDictionary<ulong, int> _held = new();
    private readonly SortedSet<ulong> _dirty = new();

    private readonly List<Folio> _taken = [];

    /// <summary>A folio the operation got from the allocator (folio_alloc).</summary>
    public void Took(Folio f)
    {
        _held[f.Head] = f.Order;
        _taken.Add(f);
    }

    /// <summary>Every folio the operation allocated, in order.</summary>
    public EqArray<Folio> TakenTable() => _taken.ToEqArray();

    /// <summary>The order of a folio the operation holds, or null.</summary>
    public int? HeldOrder(ulong head) => _held.TryGetValue(head, out var o) ? o : null;

    /// <summary>folio_put of the last reference: back to the allocator. Putting a folio not held is a double free.</summary>
    public void Put(ulong head)
    {
        if (!_held.Remove(head, out int order))
        {
            Breach(Diag.FolioPutNotHeld(head));
            return;
        }
        Allocator = Allocator.Put(new Folio(head, order));
    }

    /// <summary>folio_mark_dirty on the folio headed by <paramref name="head"/>.</summary>
    public void MarkDirty(ulong head) => _dirty.Add(head);

    public EqArray<Folio> HeldTable() => _held.Select(kv => new Folio(kv.Key, kv.Value)).ToEqArray();

    public EqArray<ulong> DirtyTable() => _dirty.ToEqArray();
}
