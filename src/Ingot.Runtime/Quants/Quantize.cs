using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Formats;
using Ingot.Runtime.Kernels;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Activation quantizers (ggml's CPU from_float for the vec_dot types), bit-exact with llama.cpp's x86 build (AVX2 and
/// AVX-512 builds run the same code for these). Every function takes n = elements, a multiple of the block size; dst
/// holds n/QK blocks. Each has a scalar form and Vector128/256/512 forms that write the same bytes (tested on every
/// path); the dispatching entry takes Vector256, then Vector512, then Vector128, then scalar (Q8_0 and Q8_1 first an AVX-512
/// form where AVX-512F is on).
/// <para>
/// Q8_0/Q8_1 follow ggml-cpu-quants.c quantize_row_q8_0/q8_1 under __AVX2__ (the SIMD rule, not the portable
/// quantize_row_q8_0_ref): amax = max |x|, d = amax/127 stored as f16, id = 127/amax (0 when amax is 0), and
/// q = _mm256_round_ps(x·id, _MM_ROUND_NEAREST), i.e. round half to even. The reference (and the weight quantizer
/// <see cref="QuantizeReference.Q8_0"/>, which llama-quantize uses) instead takes id = 1/d and roundf (half away from
/// zero); the two give different bytes on exact ties and where 127/amax and 1/(amax/127) differ in the last bit.
/// Q8_K is ggml's scalar quantize_row_q8_K_ref on x86: iscale = −127/max (max = the first element of largest
/// magnitude, with its sign), q = min(127, nearest_int(iscale·x)) with nearest_int = round half to even, d = 1/iscale.
/// </para>
/// </summary>
public static unsafe class Quantize
{
    /// <summary>f32 → Q8_0 blocks (see the class summary for the rule).</summary>
    public static void RowQ8_0(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) Q8Avx512(x, dst, n, sums: false);
        else if (Vector256.IsHardwareAccelerated) RowQ8_0V256(x, dst, n);
        else if (Vector512.IsHardwareAccelerated) RowQ8_0V512(x, dst, n);
        else if (Vector128.IsHardwareAccelerated) RowQ8_0V128(x, dst, n);
        else RowQ8_0Scalar(x, dst, n);
    }

    /// <summary>Scalar form of <see cref="RowQ8_0"/> (same bytes).</summary>
    public static void RowQ8_0Scalar(float* x, byte* dst, int n) => Q8Scalar(x, dst, n, sums: false);

    /// <summary>Vector128 form of <see cref="RowQ8_0"/> (same bytes).</summary>
    public static void RowQ8_0V128(float* x, byte* dst, int n) => Q8V128(x, dst, n, sums: false);

    /// <summary>Vector256 form of <see cref="RowQ8_0"/> (same bytes).</summary>
    public static void RowQ8_0V256(float* x, byte* dst, int n) => Q8V256(x, dst, n, sums: false);

    /// <summary>Vector512 form of <see cref="RowQ8_0"/> (same bytes).</summary>
    public static void RowQ8_0V512(float* x, byte* dst, int n) => Q8V512(x, dst, n, sums: false);

    /// <summary>AVX-512F form of <see cref="RowQ8_0"/> (same bytes), where <see cref="Avx512F"/> is supported.</summary>
    public static void RowQ8_0Avx512(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        Q8Avx512(x, dst, n, sums: false);
    }

    /// <summary>f32 → Q8_1 blocks as ggml's AVX2 quantize_row_q8_1: Q8_0's rounding plus s = f16(d * Σq).</summary>
    public static void RowQ8_1(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) Q8Avx512(x, dst, n, sums: true);
        else if (Vector256.IsHardwareAccelerated) RowQ8_1V256(x, dst, n);
        else if (Vector512.IsHardwareAccelerated) RowQ8_1V512(x, dst, n);
        else if (Vector128.IsHardwareAccelerated) RowQ8_1V128(x, dst, n);
        else RowQ8_1Scalar(x, dst, n);
    }

    /// <summary>Scalar form of <see cref="RowQ8_1"/> (same bytes).</summary>
    public static void RowQ8_1Scalar(float* x, byte* dst, int n) => Q8Scalar(x, dst, n, sums: true);

    /// <summary>Vector128 form of <see cref="RowQ8_1"/> (same bytes).</summary>
    public static void RowQ8_1V128(float* x, byte* dst, int n) => Q8V128(x, dst, n, sums: true);

    /// <summary>Vector256 form of <see cref="RowQ8_1"/> (same bytes).</summary>
    public static void RowQ8_1V256(float* x, byte* dst, int n) => Q8V256(x, dst, n, sums: true);

    /// <summary>Vector512 form of <see cref="RowQ8_1"/> (same bytes).</summary>
    public static void RowQ8_1V512(float* x, byte* dst, int n) => Q8V512(x, dst, n, sums: true);

    /// <summary>AVX-512F form of <see cref="RowQ8_1"/> (same bytes), where <see cref="Avx512F"/> is supported.</summary>
    public static void RowQ8_1Avx512(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        Q8Avx512(x, dst, n, sums: true);
    }

    // Q8_0 (34-byte blocks: f16 d, q[32]) or Q8_1 (36: f16 d, f16 s, q[32]). |round(x·id)| <= 127 (x·id <= 127 up to one
    // rounding), so the int narrowing never wraps; ConvertToInt32 of an already integral value is exact.

    private static void Q8Scalar(float* x, byte* dst, int n, bool sums)
    {
        CheckBlocks(n, 32);
        int bb = sums ? 36 : 34;
        for (int i = 0; i < n / 32; i++, x += 32, dst += bb)
        {
            float amax = AbsMax32(x);
            float d = amax / 127f;
            float id = amax != 0f ? 127f / amax : 0f;
            sbyte* q = (sbyte*)(dst + bb - 32);
            int sum = 0;
            for (int j = 0; j < 32; j++) { q[j] = SaturateToSByte(MathF.Round(x[j] * id)); sum += q[j]; } // MathF.Round: half to even
            Finish(dst, d, sum, sums);
        }
    }

    private static void Q8V128(float* x, byte* dst, int n, bool sums)
    {
        CheckBlocks(n, 32);
        int bb = sums ? 36 : 34;
        for (int i = 0; i < n / 32; i++, x += 32, dst += bb)
        {
            Vector128<float> m = Vector128<float>.Zero;
            for (int j = 0; j < 32; j += 4) m = Vector128.Max(m, Vector128.Abs(Vector128.Load(x + j)));
            float amax = MaxLanes(m);
            float d = amax / 127f;
            Vector128<float> mul = Vector128.Create(amax != 0f ? 127f / amax : 0f);
            sbyte* q = (sbyte*)(dst + bb - 32);
            Vector128<int> total = Vector128<int>.Zero;
            for (int j = 0; j < 32; j += 16)
            {
                Vector128<int> i0 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j) * mul));
                Vector128<int> i1 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j + 4) * mul));
                Vector128<int> i2 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j + 8) * mul));
                Vector128<int> i3 = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j + 12) * mul));
                Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).Store(q + j);
                total += i0 + i1 + i2 + i3;
            }
            Finish(dst, d, Vector128.Sum(total), sums);
        }
    }

    private static void Q8V256(float* x, byte* dst, int n, bool sums)
    {
        CheckBlocks(n, 32);
        int bb = sums ? 36 : 34;
        for (int i = 0; i < n / 32; i++, x += 32, dst += bb)
        {
            Vector256<float> v0 = Vector256.Load(x), v1 = Vector256.Load(x + 8), v2 = Vector256.Load(x + 16), v3 = Vector256.Load(x + 24);
            Vector256<float> m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            float amax = MaxLanes(Vector128.Max(m.GetLower(), m.GetUpper()));
            float d = amax / 127f;
            Vector256<float> mul = Vector256.Create(amax != 0f ? 127f / amax : 0f);
            Vector256<int> i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * mul));
            Vector256<int> i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * mul));
            Vector256<int> i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * mul));
            Vector256<int> i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * mul));
            Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store((sbyte*)(dst + bb - 32));
            Finish(dst, d, sums ? Vector256.Sum(i0 + i1 + i2 + i3) : 0, sums);
        }
    }

    private static void Q8V512(float* x, byte* dst, int n, bool sums)
    {
        CheckBlocks(n, 32);
        int bb = sums ? 36 : 34;
        for (int i = 0; i < n / 32; i++, x += 32, dst += bb)
        {
            Vector512<float> v0 = Vector512.Load(x), v1 = Vector512.Load(x + 16);
            Vector512<float> m = Vector512.Max(Vector512.Abs(v0), Vector512.Abs(v1));
            Vector256<float> m8 = Vector256.Max(m.GetLower(), m.GetUpper());
            float amax = MaxLanes(Vector128.Max(m8.GetLower(), m8.GetUpper()));
            float d = amax / 127f;
            Vector512<float> mul = Vector512.Create(amax != 0f ? 127f / amax : 0f);
            Vector512<int> i0 = Vector512.ConvertToInt32(Vector512.Round(v0 * mul));
            Vector512<int> i1 = Vector512.ConvertToInt32(Vector512.Round(v1 * mul));
            Vector256<sbyte> q = Vector512.Narrow(Vector512.Narrow(i0, i1), Vector512<short>.Zero).GetLower();
            q.Store((sbyte*)(dst + bb - 32));
            Finish(dst, d, sums ? Vector512.Sum(i0 + i1) : 0, sums);
        }
    }

    /// <summary>
    /// The AVX-512 form the entries take where they can (same bytes): ggml's own instructions (vmaxps, not
    /// Vector512.Max's IEEE NaN and ±0 fix-ups; vcvtps2dq, which rounds half to even as _mm256_round_ps then converts;
    /// vpmovdb, exact for |q| ≤ 127) and the f16 scale by <see cref="HalfBits.F32ToF16Bits"/>. In batched decode the rows of a few
    /// tokens are quantized on one thread, and the IEEE forms and the f16 conversion call were 3 % of the step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q8Avx512(float* x, byte* dst, int n, bool sums)
    {
        int bb = sums ? 36 : 34;
        Vector512<uint> signless = Vector512.Create(0x7fffffffu);
        for (int i = 0; i < n / 32; i++, x += 32, dst += bb)
        {
            Vector512<float> v0 = Avx512F.LoadVector512(x), v1 = Avx512F.LoadVector512(x + 16);
            Vector512<float> m = Avx512F.Max((v0.AsUInt32() & signless).AsSingle(), (v1.AsUInt32() & signless).AsSingle());
            Vector256<float> m8 = Avx.Max(m.GetLower(), m.GetUpper());
            Vector128<float> m4 = Sse.Max(m8.GetLower(), m8.GetUpper());
            m4 = Sse.Max(m4, Sse.MoveHighToLow(m4, m4));
            float amax = Sse.MaxScalar(m4, Sse.Shuffle(m4, m4, 1)).ToScalar();
            float d = amax / 127f;
            Vector512<float> mul = Vector512.Create(amax != 0f ? 127f / amax : 0f);
            Vector512<int> i0 = Avx512F.ConvertToVector512Int32(Avx512F.Multiply(v0, mul));
            Vector512<int> i1 = Avx512F.ConvertToVector512Int32(Avx512F.Multiply(v1, mul));
            sbyte* q = (sbyte*)(dst + bb - 32);
            Avx512F.ConvertToVector128SByte(i0).Store(q);
            Avx512F.ConvertToVector128SByte(i1).Store(q + 16);
            Finish(dst, d, sums ? Vector512.Sum(i0 + i1) : 0, sums);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(byte* dst, float d, int sum, bool sums)
    {
        *(ushort*)dst = HalfBits.F32ToF16Bits(d);                          // f16 rounding to nearest even, as F16C's vcvtps2ph
        if (sums) ((ushort*)dst)[1] = HalfBits.F32ToF16Bits(d * sum);      // Q8_1: s = f16(d * Σq) with the unrounded d
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxLanes(Vector128<float> m)
    {
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    /// <summary>f32 → Q8_K blocks (see the class summary for the rule).</summary>
    public static void RowQ8_K(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 256);
        if (Vector256.IsHardwareAccelerated) RowQ8_KV256(x, dst, n);
        else if (Vector512.IsHardwareAccelerated) RowQ8_KV512(x, dst, n);
        else if (Vector128.IsHardwareAccelerated) RowQ8_KV128(x, dst, n);
        else RowQ8_KScalar(x, dst, n);
    }

    /// <summary>Scalar form of <see cref="RowQ8_K"/> (same bytes).</summary>
    public static void RowQ8_KScalar(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 256);
        var y = (BlockQ8_K*)dst;
        for (int i = 0; i < n / 256; i++, x += 256)
        {
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            if (amax == 0f)
            {
                y[i] = default;
                continue;
            }
            float iscale = -127f / max;
            sbyte* q = y[i].Qs;
            for (int j = 0; j < 256; j++) q[j] = (sbyte)Math.Min(127, Fp.NearestInt(iscale * x[j]));
            for (int g = 0; g < 16; g++)
            {
                int s = 0;
                for (int k = 0; k < 16; k++) s += q[16 * g + k];
                y[i].BSums[g] = (short)s;
            }
            y[i].D = 1f / iscale;
        }
    }

    // Vector forms: max |x| by vector, then the first element with that magnitude gives the sign (ggml keeps the
    // first of equal magnitudes); Round() = round-half-even = nearest_int for |v| < 2^22.

    /// <summary>Vector128 form of <see cref="RowQ8_K"/> (same bytes).</summary>
    public static void RowQ8_KV128(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 256);
        var y = (BlockQ8_K*)dst;
        for (int i = 0; i < n / 256; i++, x += 256)
        {
            Vector128<float> m = Vector128<float>.Zero;
            for (int j = 0; j < 256; j += 4) m = Vector128.Max(m, Vector128.Abs(Vector128.Load(x + j)));
            if (!Q8KScale(x, MaxLanes(m), (byte*)&y[i], out float iscale)) continue;
            Vector128<float> mul = Vector128.Create(iscale);
            Vector128<int> cap = Vector128.Create(127);
            sbyte* q = y[i].Qs;
            for (int j = 0; j < 256; j += 16)
            {
                Vector128<int> i0 = Vector128.Min(Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j) * mul)), cap);
                Vector128<int> i1 = Vector128.Min(Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j + 4) * mul)), cap);
                Vector128<int> i2 = Vector128.Min(Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j + 8) * mul)), cap);
                Vector128<int> i3 = Vector128.Min(Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(x + j + 12) * mul)), cap);
                Vector128.Narrow(Vector128.Narrow(i0, i1), Vector128.Narrow(i2, i3)).Store(q + j);
                y[i].BSums[j / 16] = (short)Vector128.Sum(i0 + i1 + i2 + i3);
            }
            y[i].D = 1f / iscale;
        }
    }

    /// <summary>Vector256 form of <see cref="RowQ8_K"/> (same bytes).</summary>
    public static void RowQ8_KV256(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 256);
        var y = (BlockQ8_K*)dst;
        for (int i = 0; i < n / 256; i++, x += 256)
        {
            Vector256<float> m = Vector256<float>.Zero;
            for (int j = 0; j < 256; j += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + j)));
            if (!Q8KScale(x, MaxLanes(Vector128.Max(m.GetLower(), m.GetUpper())), (byte*)&y[i], out float iscale)) continue;
            Vector256<float> mul = Vector256.Create(iscale);
            Vector256<int> cap = Vector256.Create(127);
            sbyte* q = y[i].Qs;
            for (int j = 0; j < 256; j += 32)
            {
                Vector256<int> i0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + j) * mul)), cap);
                Vector256<int> i1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + j + 8) * mul)), cap);
                Vector256<int> i2 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + j + 16) * mul)), cap);
                Vector256<int> i3 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + j + 24) * mul)), cap);
                Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store(q + j);
                y[i].BSums[j / 16] = (short)Vector256.Sum(i0 + i1);
                y[i].BSums[j / 16 + 1] = (short)Vector256.Sum(i2 + i3);
            }
            y[i].D = 1f / iscale;
        }
    }

    /// <summary>Vector512 form of <see cref="RowQ8_K"/> (same bytes).</summary>
    public static void RowQ8_KV512(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 256);
        var y = (BlockQ8_K*)dst;
        for (int i = 0; i < n / 256; i++, x += 256)
        {
            Vector512<float> m = Vector512<float>.Zero;
            for (int j = 0; j < 256; j += 16) m = Vector512.Max(m, Vector512.Abs(Vector512.Load(x + j)));
            Vector256<float> m8 = Vector256.Max(m.GetLower(), m.GetUpper());
            if (!Q8KScale(x, MaxLanes(Vector128.Max(m8.GetLower(), m8.GetUpper())), (byte*)&y[i], out float iscale)) continue;
            Vector512<float> mul = Vector512.Create(iscale);
            Vector512<int> cap = Vector512.Create(127);
            sbyte* q = y[i].Qs;
            for (int j = 0; j < 256; j += 32)
            {
                Vector512<int> i0 = Vector512.Min(Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(x + j) * mul)), cap);
                Vector512<int> i1 = Vector512.Min(Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(x + j + 16) * mul)), cap);
                Vector512.Narrow(Vector512.Narrow(i0, i1), Vector512<short>.Zero).GetLower().Store(q + j);
                y[i].BSums[j / 16] = (short)Vector512.Sum(i0);
                y[i].BSums[j / 16 + 1] = (short)Vector512.Sum(i1);
            }
            y[i].D = 1f / iscale;
        }
    }

    /// <summary>The signed max of a Q8_K block from its |max|; false (block written by the scalar path) when it is 0 or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Q8KScale(float* x, float amax, byte* block, out float iscale)
    {
        iscale = 0;
        if (!(amax > 0f))
        {
            RowQ8_KScalar(x, block, 256); // all zero (or NaN): the scalar path defines the bytes
            return false;
        }
        float max = 0;
        for (int j = 0; j < 256; j++) if (MathF.Abs(x[j]) == amax) { max = x[j]; break; }
        iscale = -127f / max;
        return true;
    }

    /// <summary>f32 → f16 row (round to nearest-even), the F16 weights' activation format.</summary>
    public static void RowF16(float* x, byte* dst, int n) => Vec.Convert.F32ToF16(x, (Half*)dst, n);

    /// <summary>f32 → bf16 row (round to nearest-even), the BF16 weights' activation format.</summary>
    public static void RowBF16(float* x, byte* dst, int n)
    {
        var y = (ushort*)dst;
        for (int j = 0; j < n; j++) y[j] = Fp.F32ToBF16(x[j]);
    }

    /// <summary>Quantize an activation row to <paramref name="actType"/> (Q8_0, Q8_1, Q8_K, F16, BF16 or F32 = copy).</summary>
    public static void ActivationRow(GgmlType actType, float* x, byte* dst, int n)
    {
        switch (actType)
        {
            case GgmlType.Q8_0: RowQ8_0(x, dst, n); break;
            case GgmlType.Q8_1: RowQ8_1(x, dst, n); break;
            case GgmlType.Q8_K: RowQ8_K(x, dst, n); break;
            case GgmlType.F16: RowF16(x, dst, n); break;
            case GgmlType.BF16: RowBF16(x, dst, n); break;
            case GgmlType.F32: Buffer.MemoryCopy(x, dst, (long)n * 4, (long)n * 4); break;
            default: throw new NotSupportedException($"{actType} is not an activation type");
        }
    }

    /// <summary>
    /// Weight quantization of one row with ggml's reference algorithms (ggml_quantize_chunk without an importance
    /// matrix): bit-identical files to llama-quantize for every type in <see cref="QuantTraits.WeightTypes"/>.
    /// </summary>
    public static void WeightRow(GgmlType type, float* x, byte* dst, int n) => QuantizeReference.Row(type, x, dst, n);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float AbsMax32(float* x)
    {
        float amax = 0;
        for (int j = 0; j < 32; j++) { float a = MathF.Abs(x[j]); if (a > amax) amax = a; }
        return amax;
    }

    // cvtps_epi32 + packs: values are within ±127 up to rounding, saturate anyway.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static sbyte SaturateToSByte(float r) => r >= 127f ? (sbyte)127 : r <= -128f ? (sbyte)-128 : (sbyte)(int)r;

    internal static void CheckBlocks(int n, int qk)
    {
        if (n < 0 || n % qk != 0) throw new ArgumentException($"row length {n} is not a multiple of the block size {qk}", nameof(n));
    }
}
