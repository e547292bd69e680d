using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// F16 / BF16 → F32 widening in vector registers. net9 has no Vector&lt;Half&gt; arithmetic or F16C intrinsics
/// (Half ↔ float is scalar only), so the conversion is done with integer bit tricks, exact for every input:
/// f16 bits (zero-extended to 32) with the sign cleared, shifted left by 13, are an f32 whose exponent is 112 too
/// small; multiplying by 2^112 fixes the exponent and also normalises f16 subnormals (the f32 product is exact).
/// Inf/NaN (exponent 31) get the f32 all-ones exponent OR-ed in; the sign is moved from bit 15 to bit 31.
/// Cost: 1 widen + 2 and + shift + mul + compare + 2 or per 8/16 lanes — far below the memory cost of the weights.
/// BF16 is the top half of an f32, so widening is a zero-extend and a 16-bit shift.
/// </summary>
public static class HalfBits
{
    /// <summary>2^112 (0x77800000), the exponent fix-up of the f16 bit trick; the literal rounds to exactly 2^112 as a float.</summary>
    public const float Pow2To112 = 5.192296858534828e33f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> F16ToF32(Vector128<uint> h)
    {
        Vector128<uint> em = h & Vector128.Create(0x7fffu);
        Vector128<float> f = Vector128.ShiftLeft(em, 13).AsSingle() * Vector128.Create(Pow2To112);
        Vector128<uint> special = Vector128.GreaterThanOrEqual(em, Vector128.Create(0x7c00u)) & Vector128.Create(0x7f800000u);
        return (f.AsUInt32() | special | Vector128.ShiftLeft(h & Vector128.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> F16ToF32(Vector256<uint> h)
    {
        Vector256<uint> em = h & Vector256.Create(0x7fffu);
        Vector256<float> f = Vector256.ShiftLeft(em, 13).AsSingle() * Vector256.Create(Pow2To112);
        Vector256<uint> special = Vector256.GreaterThanOrEqual(em, Vector256.Create(0x7c00u)) & Vector256.Create(0x7f800000u);
        return (f.AsUInt32() | special | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> F16ToF32(Vector512<uint> h)
    {
        Vector512<uint> em = h & Vector512.Create(0x7fffu);
        Vector512<float> f = Vector512.ShiftLeft(em, 13).AsSingle() * Vector512.Create(Pow2To112);
        Vector512<uint> special = Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7c00u)) & Vector512.Create(0x7f800000u);
        return (f.AsUInt32() | special | Vector512.ShiftLeft(h & Vector512.Create(0x8000u), 16)).AsSingle();
    }

    /// <summary>
    /// 16 halves at p → 16 floats, exact for every finite f16 (normal or subnormal: the magnitude's bits shifted into
    /// place and scaled by 2^112, the sign moved to bit 31); an infinity or a NaN comes out as a finite value of magnitude
    /// 2^16 or more instead, so the largest magnitude is kept in <paramref name="big"/> for the caller to check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> F16ToF32Finite(ushort* p, ref Vector512<float> big)
    {
        Vector512<uint> h = Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe());
        Vector512<float> magnitude = Vector512.ShiftLeft(h & Vector512.Create(0x7fffu), 13).AsSingle() * Vector512.Create(Pow2To112);
        big = Avx512F.Max(big.AsUInt32(), magnitude.AsUInt32()).AsSingle(); // vpmaxud: the order of non-negative floats (Vector512.Max adds NaN fix-ups)
        return (magnitude.AsUInt32() | (Vector512.ShiftLeft(h, 16) & Vector512.Create(0x80000000u))).AsSingle();
    }

    /// <summary>8 halves at p → two Vector128 of 4 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe (Vector128<float> Lo, Vector128<float> Hi) Load8(ushort* p)
    {
        Vector128<ushort> v = Vector128.Load(p);
        return (F16ToF32(Vector128.WidenLower(v)), F16ToF32(Vector128.WidenUpper(v)));
    }

    /// <summary>8 halves at p → one Vector256 of 8 floats (vpmovzxwd + bit trick).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Load8x256(ushort* p)
        => F16ToF32(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()));

    /// <summary>16 halves at p → one Vector512 of 16 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16x512(ushort* p)
        => F16ToF32(Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()));

    /// <summary>8 bf16 at p → two Vector128 of 4 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe (Vector128<float> Lo, Vector128<float> Hi) LoadBF16x8(ushort* p)
    {
        Vector128<ushort> v = Vector128.Load(p);
        return (Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle(), Vector128.ShiftLeft(Vector128.WidenUpper(v), 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> LoadBF16x256(ushort* p)
        => Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> LoadBF16x512(ushort* p)
        => Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()), 16).AsSingle();

    /// <summary>Scalar exact f16 → f32 (Half's own conversion is exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16ToF32(ushort h) => (float)BitConverter.UInt16BitsToHalf(h);

    /// <summary>Scalar bf16 → f32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BF16ToF32(ushort h) => BitConverter.Int32BitsToSingle(h << 16);

    /// <summary>
    /// f32 → f16 bits rounded to nearest even, as (Half) (F16C's vcvtps2ph): where the result is a normal f16, by
    /// rounding the magnitude's f32 bits at bit 13 (a carry into the exponent is the correct next binade), rebiasing the
    /// exponent by 112 and putting the sign back; anything else (zero, subnormal, overflow, inf, NaN) through the cast.
    /// .NET 10 has no F16C intrinsic and the cast is a call, per element where a row is converted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort F32ToF16Bits(float f)
    {
        uint b = BitConverter.SingleToUInt32Bits(f), sign = b & 0x80000000u, m = b ^ sign;
        // magnitude 2^-14 .. below 2^16 (f32 biased exponent 113 .. 142): the rounded result is normal, at most 65504
        // unless it rounds up past the largest f16 (the cast's inf)
        if (m - 0x38800000u < 0x47800000u - 0x38800000u)
        {
            uint r = ((m + 0x0fffu + ((m >> 13) & 1u)) >> 13) - (112u << 10);
            if (r < 0x7c00u) return (ushort)((sign >> 16) | r);
        }
        return BitConverter.HalfToUInt16Bits((Half)f);
    }
}
