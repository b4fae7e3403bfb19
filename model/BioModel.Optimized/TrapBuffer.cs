using System.Runtime.InteropServices;
using BioModel.Core;

namespace BioModel.Optimized;

/// <summary>
/// A native buffer with poison padding before and after it (CF-2). Everything the optimized code writes
/// — bvec arrays, page arrays — lives in one; after every operation the padding is checked, and a
/// touched trap byte is reported as a contract violation naming the buffer and the byte.
/// </summary>
public sealed unsafe class TrapBuffer : IDisposable
{
    public const int Pad = 64;
    public const byte Poison = 0xA5;
    /// <summary>Fill of the usable part before use, so a read of a slot never written is recognisable.</summary>
    public const byte Fill = 0xCC;

    private byte* _mem;
    public string Name { get; }
    public int Length { get; }

    public TrapBuffer(string name, int length)
    {
        Name = name;
        Length = length;
        _mem = (byte*)NativeMemory.AlignedAlloc((nuint)(Pad + length + Pad), 64);
        new Span<byte>(_mem, Pad).Fill(Poison);
        new Span<byte>(_mem + Pad, length).Fill(Fill);
        new Span<byte>(_mem + Pad + length, Pad).Fill(Poison);
    }

    public Span<byte> Bytes => new(_mem + Pad, Length);

    public Span<T> As<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes);

    /// <summary>Reports each trap byte that is no longer poison (offset relative to the usable part).</summary>
    public void Check(List<string> violations)
    {
        for (int i = 0; i < Pad; i++)
            if (_mem[i] != Poison) { violations.Add(Diag.TrapTouched(Name, i - Pad)); return; }
        for (int i = 0; i < Pad; i++)
            if (_mem[Pad + Length + i] != Poison) { violations.Add(Diag.TrapTouched(Name, Length + i)); return; }
    }

    public void Dispose()
    {
        // Stryker disable once equality,statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        if (_mem != null) NativeMemory.AlignedFree(_mem);
        _mem = null;
        // Stryker disable once statement : freeing native memory in Dispose: a leak or a skipped free is not observable in any outcome
        GC.SuppressFinalize(this);
    }

    ~TrapBuffer() => Dispose();
}
