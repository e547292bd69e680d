using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ingot.Formats;
using Ingot.Runtime.Kernels;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Activation quantizers (ggml's CPU from_float for the vec_dot types), bit-exact with llama.cpp's x86 AVX2 build.
/// Every function takes n = elements, a multiple of the block size; dst holds n/QK blocks.
/// </summary>
public static unsafe class Quantize
{
    /// <summary>
    /// f32 → Q8_0 blocks as ggml's AVX2 quantize_row_q8_0: amax = max |x|, d = amax/127 stored as f16,
    /// q = round-half-even(x * (127/amax)). (The portable reference uses 1/d and round-half-away; see QuantizeReference.)
    /// </summary>
    public static void RowQ8_0(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        if (Vector256.IsHardwareAccelerated) { RowQ8_0V256(x, dst, n, sums: null); return; }
        RowQ8_0Scalar(x, dst, n);
    }

    /// <summary>Scalar form of <see cref="RowQ8_0"/> (same bytes).</summary>
    public static void RowQ8_0Scalar(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        var y = (BlockQ8_0*)dst;
        for (int i = 0; i < n / 32; i++, x += 32)
        {
            float amax = AbsMax32(x);
            float d = amax / 127f;
            float id = amax != 0f ? 127f / amax : 0f;
            y[i].D = (Half)d;
            sbyte* q = y[i].Qs;
            for (int j = 0; j < 32; j++) q[j] = SaturateToSByte(MathF.Round(x[j] * id));
        }
    }

    // Vector256 form shared by Q8_0 and Q8_1 (blockBytes 34 or 36; q at blockBytes-32). Round() is round-half-even,
    // as _mm256_round_ps(_MM_ROUND_NEAREST); |x*id| <= 127 so the int narrowing never wraps.
    // sums != null: Q8_1, write s = f16(d * Σq) after d.
    private static void RowQ8_0V256(float* x, byte* dst, int n, int* sums)
    {
        int bb = sums == null ? 34 : 36;
        for (int i = 0; i < n / 32; i++, x += 32, dst += bb)
        {
            Vector256<float> v0 = Vector256.Load(x), v1 = Vector256.Load(x + 8), v2 = Vector256.Load(x + 16), v3 = Vector256.Load(x + 24);
            Vector256<float> m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            Vector128<float> m4 = Vector128.Max(m.GetLower(), m.GetUpper());
            m4 = Vector128.Max(m4, Vector128.Shuffle(m4, Vector128.Create(2, 3, 0, 1)));
            m4 = Vector128.Max(m4, Vector128.Shuffle(m4, Vector128.Create(1, 0, 3, 2)));
            float amax = m4.ToScalar();
            float d = amax / 127f;
            float id = amax != 0f ? 127f / amax : 0f;
            *(Half*)dst = (Half)d;
            Vector256<float> mul = Vector256.Create(id);
            Vector256<int> i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * mul));
            Vector256<int> i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * mul));
            Vector256<int> i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * mul));
            Vector256<int> i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * mul));
            Vector256<sbyte> q = Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3));
            q.Store((sbyte*)(dst + bb - 32));
            if (sums != null)
            {
                int sum = Vector256.Sum(i0 + i1 + i2 + i3);
                ((Half*)dst)[1] = (Half)(d * sum);
            }
        }
    }

    /// <summary>f32 → Q8_1 blocks as ggml's AVX2 quantize_row_q8_1: Q8_0's rounding plus s = f16(d * sum(q)).</summary>
    public static void RowQ8_1(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        int dummy;
        if (Vector256.IsHardwareAccelerated) { RowQ8_0V256(x, dst, n, &dummy); return; }
        RowQ8_1Scalar(x, dst, n);
    }

    /// <summary>Scalar form of <see cref="RowQ8_1"/> (same bytes).</summary>
    public static void RowQ8_1Scalar(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 32);
        var y = (BlockQ8_1*)dst;
        for (int i = 0; i < n / 32; i++, x += 32)
        {
            float amax = AbsMax32(x);
            float d = amax / 127f;
            float id = amax != 0f ? 127f / amax : 0f;
            y[i].D = (Half)d;
            sbyte* q = y[i].Qs;
            int sum = 0;
            for (int j = 0; j < 32; j++) { q[j] = SaturateToSByte(MathF.Round(x[j] * id)); sum += q[j]; }
            y[i].S = (Half)(d * sum);
        }
    }

    /// <summary>
    /// f32 → Q8_K blocks (ggml quantize_row_q8_K_ref, which the x86 build uses): max = the element of largest
    /// magnitude with its sign, iscale = -127/max, q = min(127, nearest_int(iscale*x)), d = 1/iscale, bsums per 16.
    /// </summary>
    public static void RowQ8_K(float* x, byte* dst, int n)
    {
        CheckBlocks(n, 256);
        if (Vector256.IsHardwareAccelerated) { RowQ8_KV256(x, dst, n); return; }
        RowQ8_KScalar(x, dst, n);
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

    // Vector256 form: max |x| by vector, then the first element with that magnitude gives the sign (ggml keeps the
    // first of equal magnitudes); Round() = round-half-even = nearest_int for |v| < 2^22.
    private static void RowQ8_KV256(float* x, byte* dst, int n)
    {
        var y = (BlockQ8_K*)dst;
        for (int i = 0; i < n / 256; i++, x += 256)
        {
            Vector256<float> m = Vector256<float>.Zero;
            for (int j = 0; j < 256; j += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + j)));
            Vector128<float> m4 = Vector128.Max(m.GetLower(), m.GetUpper());
            m4 = Vector128.Max(m4, Vector128.Shuffle(m4, Vector128.Create(2, 3, 0, 1)));
            m4 = Vector128.Max(m4, Vector128.Shuffle(m4, Vector128.Create(1, 0, 3, 2)));
            float amax = m4.ToScalar();
            if (!(amax > 0f))
            {
                RowQ8_KScalar(x, (byte*)&y[i], 256); // all zero (or NaN): the scalar path defines the bytes
                continue;
            }
            float max = 0;
            for (int j = 0; j < 256; j++) if (MathF.Abs(x[j]) == amax) { max = x[j]; break; }
            float iscale = -127f / max;
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
