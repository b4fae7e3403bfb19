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

    public void SetPins(ulong pfn, long n)
    {
        if (n == 0) _pins.Remove(pfn);
        else _pins[pfn] = n;
    }

    public EqArray<PinCount> PinTable() => _pins.Select(kv => new PinCount(kv.Key, kv.Value)).ToEqArray();
}
