using System.Runtime.InteropServices;

namespace Ingot.Kernels.Tests;

/// <summary>Native, 64-byte aligned test buffers filled from a fixed-seed generator.</summary>
internal sealed unsafe class NativeBuf<T> : IDisposable where T : unmanaged
{
    public T* P;
    public int Length;

    public NativeBuf(int length)
    {
        Length = length;
        P = (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length) * (nuint)sizeof(T), 64);
        NativeMemory.Clear(P, (nuint)Math.Max(1, length) * (nuint)sizeof(T));
    }

    public Span<T> Span => new(P, Length);

    public void Dispose()
    {
        if (P != null) NativeMemory.AlignedFree(P);
        P = null;
    }
}

internal static unsafe class TestData
{
    public static NativeBuf<float> Floats(Random rng, int n, float scale = 1f)
    {
        var b = new NativeBuf<float>(n);
        for (int i = 0; i < n; i++) b.P[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return b;
    }

    public static NativeBuf<Half> Halves(Random rng, int n)
    {
        var b = new NativeBuf<Half>(n);
        for (int i = 0; i < n; i++) b.P[i] = (Half)(float)(rng.NextDouble() * 2 - 1);
        return b;
    }

    public static NativeBuf<ushort> BFloat16s(Random rng, int n)
    {
        var b = new NativeBuf<ushort>(n);
        for (int i = 0; i < n; i++) b.P[i] = (ushort)(BitConverter.SingleToUInt32Bits((float)(rng.NextDouble() * 2 - 1)) >> 16);
        return b;
    }
}
