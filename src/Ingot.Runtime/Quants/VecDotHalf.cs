using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Quants;

/// <summary>Exact f16/bf16 → f32 widening in vectors (no Half vector API in net9): bit manipulation only.</summary>
internal static class HalfWiden
{
    // f16 bits (zero-extended to 32) → f32: (h & 0x7fff) << 13 reinterpreted and scaled by 2^112 is exact for normals
    // and subnormals; exponent 31 (inf/NaN) gets the f32 all-ones exponent OR-ed in; the sign is moved to bit 31.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> F16(Vector256<uint> h)
    {
        Vector256<uint> em = h & Vector256.Create(0x7fffu);
        Vector256<float> f = Vector256.ShiftLeft(em, 13).AsSingle() * Vector256.Create(5.192297e33f); // 2^112
        Vector256<uint> special = Vector256.GreaterThanOrEqual(em, Vector256.Create(0x7c00u)) & Vector256.Create(0x7f800000u);
        return (f.AsUInt32() | special | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> F16(Vector128<uint> h)
    {
        Vector128<uint> em = h & Vector128.Create(0x7fffu);
        Vector128<float> f = Vector128.ShiftLeft(em, 13).AsSingle() * Vector128.Create(5.192297e33f);
        Vector128<uint> special = Vector128.GreaterThanOrEqual(em, Vector128.Create(0x7c00u)) & Vector128.Create(0x7f800000u);
        return (f.AsUInt32() | special | Vector128.ShiftLeft(h & Vector128.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> F16(Vector512<uint> h)
    {
        Vector512<uint> em = h & Vector512.Create(0x7fffu);
        Vector512<float> f = Vector512.ShiftLeft(em, 13).AsSingle() * Vector512.Create(5.192297e33f);
        Vector512<uint> special = Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7c00u)) & Vector512.Create(0x7f800000u);
        return (f.AsUInt32() | special | Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16)).AsSingle();
    }
}

/// <summary>Block scales four at a time: the f16 d of 4 consecutive weight and activation blocks (d at offset 0).</summary>
internal static unsafe class BlockScales
{
    /// <summary>d_w[k] * d_a[k] for blocks k = 0..3 (f16 widened in one vector op instead of 8 scalar conversions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Products4(byte* w, int wStride, byte* a, int aStride)
    {
        float* t = Fp.F16Table;
        return Vector128.Create(t[*(ushort*)w], t[*(ushort*)(w + wStride)], t[*(ushort*)(w + 2 * wStride)], t[*(ushort*)(w + 3 * wStride)])
             * Vector128.Create(t[*(ushort*)a], t[*(ushort*)(a + aStride)], t[*(ushort*)(a + 2 * aStride)], t[*(ushort*)(a + 3 * aStride)]);
    }
}

/// <summary>F16 weights · F16 activations (activation rounded to f16 first, as ggml), f32 accumulation.</summary>
public static unsafe class VecDotF16F16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        // V256 first (measured faster than the 512-bit widening here); V512 stays tested
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.F16F16(w, a, n);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector128<ushort> hx = Vector128.Load(x + i), hy = Vector128.Load(y + i);
            acc0 = Vector128.FusedMultiplyAdd(HalfWiden.F16(Vector128.WidenLower(hx)), HalfWiden.F16(Vector128.WidenLower(hy)), acc0);
            acc1 = Vector128.FusedMultiplyAdd(HalfWiden.F16(Vector128.WidenUpper(hx)), HalfWiden.F16(Vector128.WidenUpper(hy)), acc1);
        }
        float s = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++) s += Fp.F16ToF32(((Half*)x)[i]) * Fp.F16ToF32(((Half*)y)[i]);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector256<ushort> hx = Vector256.Load(x + i), hy = Vector256.Load(y + i);
            acc0 = Vector256.FusedMultiplyAdd(HalfWiden.F16(Vector256.WidenLower(hx)), HalfWiden.F16(Vector256.WidenLower(hy)), acc0);
            acc1 = Vector256.FusedMultiplyAdd(HalfWiden.F16(Vector256.WidenUpper(hx)), HalfWiden.F16(Vector256.WidenUpper(hy)), acc1);
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) s += Fp.F16ToF32(((Half*)x)[i]) * Fp.F16ToF32(((Half*)y)[i]);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector512<ushort> hx = Vector512.Load(x + i), hy = Vector512.Load(y + i);
            acc0 = Vector512.FusedMultiplyAdd(HalfWiden.F16(Vector512.WidenLower(hx)), HalfWiden.F16(Vector512.WidenLower(hy)), acc0);
            acc1 = Vector512.FusedMultiplyAdd(HalfWiden.F16(Vector512.WidenUpper(hx)), HalfWiden.F16(Vector512.WidenUpper(hy)), acc1);
        }
        float s = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) s += Fp.F16ToF32(((Half*)x)[i]) * Fp.F16ToF32(((Half*)y)[i]);
        return s;
    }
}

/// <summary>BF16 weights · BF16 activations: bf16 → f32 is a 16-bit left shift; f32 accumulation.</summary>
public static unsafe class VecDotBF16BF16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(byte* w, byte* a, int n)
    {
        if (Vector512.IsHardwareAccelerated) return V512(w, a, n);
        if (Vector256.IsHardwareAccelerated) return V256(w, a, n);
        if (Vector128.IsHardwareAccelerated) return V128(w, a, n);
        return Scalar(w, a, n);
    }

    public static float Scalar(byte* w, byte* a, int n) => VecDotScalar.BF16BF16(w, a, n);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V128(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector128<ushort> hx = Vector128.Load(x + i), hy = Vector128.Load(y + i);
            acc0 = Vector128.FusedMultiplyAdd(Vector128.ShiftLeft(Vector128.WidenLower(hx), 16).AsSingle(), Vector128.ShiftLeft(Vector128.WidenLower(hy), 16).AsSingle(), acc0);
            acc1 = Vector128.FusedMultiplyAdd(Vector128.ShiftLeft(Vector128.WidenUpper(hx), 16).AsSingle(), Vector128.ShiftLeft(Vector128.WidenUpper(hy), 16).AsSingle(), acc1);
        }
        float s = Vector128.Sum(acc0 + acc1);
        for (; i < n; i++) s += Fp.BF16ToF32(x[i]) * Fp.BF16ToF32(y[i]);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V256(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector256<ushort> hx = Vector256.Load(x + i), hy = Vector256.Load(y + i);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenLower(hx), 16).AsSingle(), Vector256.ShiftLeft(Vector256.WidenLower(hy), 16).AsSingle(), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(Vector256.WidenUpper(hx), 16).AsSingle(), Vector256.ShiftLeft(Vector256.WidenUpper(hy), 16).AsSingle(), acc1);
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) s += Fp.BF16ToF32(x[i]) * Fp.BF16ToF32(y[i]);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]

    public static float V512(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector512<ushort> hx = Vector512.Load(x + i), hy = Vector512.Load(y + i);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenLower(hx), 16).AsSingle(), Vector512.ShiftLeft(Vector512.WidenLower(hy), 16).AsSingle(), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(Vector512.WidenUpper(hx), 16).AsSingle(), Vector512.ShiftLeft(Vector512.WidenUpper(hy), 16).AsSingle(), acc1);
        }
        float s = Vector512.Sum(acc0 + acc1);
        for (; i < n; i++) s += Fp.BF16ToF32(x[i]) * Fp.BF16ToF32(y[i]);
        return s;
    }
}
