using System.Runtime.CompilerServices;
using Ingot.Runtime.Kernels;

namespace Ingot.Runtime.Quants;

/// <summary>Scalar conversions with ggml's rounding: f16 and bf16 both round to nearest-even.</summary>
public static unsafe class Fp
{
    /// <summary>
    /// f16 bits → f32, all 65536 patterns (256 KB, stays in L2): what ggml does on x86 without F16C. One load instead
    /// of ~8 integer/float operations per scale; with one or two f16 scales per 32 weights this was measured to make
    /// the Q4_0 vec-dot 1.5× faster. Built from <see cref="F16ToF32Computed"/>, so values are bit-identical.
    /// </summary>
    public static readonly float* F16Table = BuildF16Table();

    private static float* BuildF16Table()
    {
        var t = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int i = 0; i < 65536; i++) t[i] = F16ToF32Computed((ushort)i);
        return t;
    }

    /// <summary>f32 → bf16, round to nearest-even; NaNs stay NaN (quiet bit forced) as ggml does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort F32ToBF16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>
    /// f16 → f32, exact for every bit pattern, branch-free: the scalar form of <see cref="HalfBits"/>' vector bit trick
    /// ((h &amp; 0x7fff) &lt;&lt; 13 read as f32 and scaled by 2^112 for normals and subnormals, exponent forced to all-ones
    /// for inf/NaN, sign moved to bit 31). Several times faster than the (float)Half cast, which matters with one or
    /// two f16 scales per 32 weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16ToF32Computed(ushort h)
    {
        uint em = h & 0x7fffu;
        uint bits = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(em << 13) * HalfBits.Pow2To112);
        // em >= 0x7c00 (inf/NaN) ⇔ 0x7bff - em < 0: an arithmetic shift turns that sign into a mask, no branch
        bits |= ((uint)((int)(0x7bffu - em) >> 31) & 0x7f800000u) | ((uint)(h & 0x8000) << 16);
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>f16 → f32 through <see cref="F16Table"/> (exact for every bit pattern).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16ToF32(ushort h) => F16Table[h];

    /// <summary>f16 → f32 (see <see cref="F16ToF32(ushort)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16ToF32(Half h) => F16ToF32(BitConverter.HalfToUInt16Bits(h));

    /// <summary>ggml's nearest_int: round half to even for |x| &lt;= 2^22 (adds 1.5*2^23 and reads the mantissa).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float x)
    {
        float v = x + 12582912f;
        return (BitConverter.SingleToInt32Bits(v) & 0x007fffff) - 0x00400000;
    }
}
