namespace BioModel.Core;

/// <summary>
/// A folio: head PFN and order (1 &lt;&lt; order pages). Pages not covered by a listed folio are order-0
/// folios of their own. A COW'd page inside a large folio is expressed by the user mapping, which maps a
/// page of another folio at that virtual address.
/// </summary>
public readonly record struct Folio(ulong Head, int Order)
{
    public ulong NrPages => 1UL << Order;
    /// <summary>One past the last PFN.</summary>
    public ulong End => Head + NrPages;
    public bool Contains(ulong pfn) => pfn >= Head && pfn < End;
}
