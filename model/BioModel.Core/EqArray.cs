using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace BioModel.Core;

/// <summary>
/// An immutable array with structural equality, so that records holding lists (worlds, bios, outcomes)
/// compare by content. Conformance (CF-1) and golden files rely on that equality.
/// </summary>
[CollectionBuilder(typeof(EqArray), nameof(EqArray.Create))]
public readonly struct EqArray<T> : IEquatable<EqArray<T>>, IReadOnlyList<T>
{
    private readonly ImmutableArray<T> _items;

    public EqArray(ImmutableArray<T> items) => _items = items.IsDefault ? [] : items;

    public static EqArray<T> Empty => new([]);

    public ImmutableArray<T> Items => _items.IsDefault ? [] : _items;
    public int Length => Items.Length;
    public int Count => Items.Length;
    public bool IsEmpty => Items.IsEmpty;
    public T this[int index] => Items[index];

    public EqArray<T> Add(T item) => new(Items.Add(item));
    public EqArray<T> SetItem(int index, T item) => new(Items.SetItem(index, item));
    public EqArray<T> Take(int count) => new(Items.Take(count).ToImmutableArray());
    public EqArray<T> Skip(int count) => new(Items.Skip(count).ToImmutableArray());
    public EqArray<T> RemoveAt(int index) => new(Items.RemoveAt(index));
    public EqArray<T> Insert(int index, T item) => new(Items.Insert(index, item));

    /// <summary>Both wrap the very same immutable array (a cheap identity test, not equality).</summary>
    public bool SameInstance(EqArray<T> other) => Items == other.Items;

    public bool Equals(EqArray<T> other)
    {
        var a = Items;
        var b = other.Items;
        if (a.Length != b.Length) return false;
        var cmp = EqualityComparer<T>.Default;
        for (int i = 0; i < a.Length; i++)
            if (!cmp.Equals(a[i], b[i])) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is EqArray<T> o && Equals(o);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var x in Items) h.Add(x);
        return h.ToHashCode();
    }

    public static bool operator ==(EqArray<T> a, EqArray<T> b) => a.Equals(b);
    public static bool operator !=(EqArray<T> a, EqArray<T> b) => !a.Equals(b);

    public static implicit operator EqArray<T>(ImmutableArray<T> items) => new(items);
    public static implicit operator EqArray<T>(T[] items) => new([.. items]);
    public static implicit operator EqArray<T>(List<T> items) => new([.. items]);

    public ImmutableArray<T>.Enumerator GetEnumerator() => Items.GetEnumerator();
    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable)Items).GetEnumerator();

    public override string ToString() => "[" + string.Join(", ", Items) + "]";
}

public static class EqArray
{
    public static EqArray<T> Create<T>(ReadOnlySpan<T> items) => new([.. items]);
    public static EqArray<T> ToEqArray<T>(this IEnumerable<T> items) => new([.. items]);
}
