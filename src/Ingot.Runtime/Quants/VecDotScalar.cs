using System.Runtime.CompilerServices;
using Ingot.Runtime.Kernels;
namespace Ingot.Runtime.Quants;

/// <summary>
/// Scalar reference vec-dots, one per weight type: integer sums inside a block, one float scale per block,
/// accumulated in float (ggml's generic order; the F32/F16/BF16 rows sum in double, as ggml_float). w = weight row, a = activation row in the partner type
/// (<see cref="QuantTraits.ActivationType"/>), n = elements. These stay forever as the oracle for the SIMD paths.
/// </summary>
public static unsafe class VecDotScalar
{
    // Float rows: Kernels.Dot's scalar references (products in f32, summed in double as ggml's ggml_float), the same
    // ones that check Dot's SIMD paths.
    public static float F32F32(byte* w, byte* a, int n) => Dot.F32Scalar((float*)w, (float*)a, n);

    public static float F16F16(byte* w, byte* a, int n) => Dot.F16F16Scalar((Half*)w, (Half*)a, n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float BF16BF16(byte* w, byte* a, int n)
    {
        ushort* x = (ushort*)w, y = (ushort*)a;
        double s = 0;
        for (int i = 0; i < n; i++) s += HalfBits.BF16ToF32(x[i]) * HalfBits.BF16ToF32(y[i]);
        return (float)s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q8_0Q8_0(byte* w, byte* a, int n)
    {
        // llama.cpp's tinyBLAS order (Q0Order): 8 lanes of 4-byte dots, one FMA per lane and block, then hsum
        var x = (BlockQ8_0*)w; var y = (BlockQ8_0*)a;
        float* lanes = stackalloc float[8];
        new Span<float>(lanes, 8).Clear();
        for (int i = 0; i < n / 32; i++) Q0Order.Block(x[i].Qs, y[i].Qs, Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), lanes);
        return Q0Order.Hsum8(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q4_0Q8_0(byte* w, byte* a, int n)
    {
        var x = (BlockQ4_0*)w; var y = (BlockQ8_0*)a;
        float s = 0;
        for (int i = 0; i < n / 32; i++)
        {
            int sum = 0;
            for (int j = 0; j < 16; j++)
                sum += ((x[i].Qs[j] & 0xF) - 8) * y[i].Qs[j] + ((x[i].Qs[j] >> 4) - 8) * y[i].Qs[j + 16];
            // llama.cpp's repacked Q4_0 gemm/gemv (x86): one FMA per block, in block order
            s = MathF.FusedMultiplyAdd(sum, Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), s);
        }
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q4_1Q8_1(byte* w, byte* a, int n)
    {
        // ggml's x86 order: the codes' 8 lanes as Q0Order, the mins' summs = fma(m_w, s_a, summs) in block order (the
        // activation's stored s = d_a · Σq rounded to f16), then hsum + summs
        var x = (BlockQ4_1*)w; var y = (BlockQ8_1*)a;
        float* lanes = stackalloc float[8];
        new Span<float>(lanes, 8).Clear();
        sbyte* c = stackalloc sbyte[32];
        float summs = 0;
        for (int i = 0; i < n / 32; i++)
        {
            for (int j = 0; j < 16; j++) { c[j] = (sbyte)(x[i].Qs[j] & 0xF); c[j + 16] = (sbyte)(x[i].Qs[j] >> 4); }
            Q0Order.Block(c, y[i].Qs, Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), lanes);
            summs = MathF.FusedMultiplyAdd(Fp.F16ToF32(x[i].M), Fp.F16ToF32(y[i].S), summs);
        }
        return Q0Order.Hsum8(lanes) + summs;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q5_0Q8_0(byte* w, byte* a, int n)
    {
        // tinyBLAS order (Q0Order), on the decoded codes
        var x = (BlockQ5_0*)w; var y = (BlockQ8_0*)a;
        float* lanes = stackalloc float[8];
        new Span<float>(lanes, 8).Clear();
        sbyte* c = stackalloc sbyte[32];
        for (int i = 0; i < n / 32; i++)
        {
            uint qh = x[i].Qh;
            for (int j = 0; j < 16; j++)
            {
                c[j] = (sbyte)(((x[i].Qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4)) - 16);
                c[j + 16] = (sbyte)(((x[i].Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16);
            }
            Q0Order.Block(c, y[i].Qs, Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), lanes);
        }
        return Q0Order.Hsum8(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q5_1Q8_1(byte* w, byte* a, int n)
    {
        // as Q4_1Q8_1, on the 5-bit codes
        var x = (BlockQ5_1*)w; var y = (BlockQ8_1*)a;
        float* lanes = stackalloc float[8];
        new Span<float>(lanes, 8).Clear();
        sbyte* c = stackalloc sbyte[32];
        float summs = 0;
        for (int i = 0; i < n / 32; i++)
        {
            uint qh = x[i].Qh;
            for (int j = 0; j < 16; j++)
            {
                c[j] = (sbyte)((x[i].Qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4));
                c[j + 16] = (sbyte)((x[i].Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4));
            }
            Q0Order.Block(c, y[i].Qs, Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), lanes);
            summs = MathF.FusedMultiplyAdd(Fp.F16ToF32(x[i].M), Fp.F16ToF32(y[i].S), summs);
        }
        return Q0Order.Hsum8(lanes) + summs;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float IQ4_NLQ8_0(byte* w, byte* a, int n)
    {
        var x = (BlockIQ4_NL*)w; var y = (BlockQ8_0*)a;
        // tinyBLAS order (Q0Order), on the table values
        ReadOnlySpan<sbyte> k = QuantTraits.IQ4NLValues;
        float* lanes = stackalloc float[8];
        new Span<float>(lanes, 8).Clear();
        sbyte* c = stackalloc sbyte[32];
        for (int i = 0; i < n / 32; i++)
        {
            for (int j = 0; j < 16; j++) { c[j] = k[x[i].Qs[j] & 0xF]; c[j + 16] = k[x[i].Qs[j] >> 4]; }
            Q0Order.Block(c, y[i].Qs, Fp.F16ToF32(x[i].D) * Fp.F16ToF32(y[i].D), lanes);
        }
        return Q0Order.Hsum8(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q2_KQ8_K(byte* w, byte* a, int n)
    {
        // ggml's x86 order: per super-block 8 int lanes of the mins (lane l = m_2l · bsum_2l + m_2l+1 · bsum_2l+1) and 8
        // of the scaled codes (lane m = elements 4m..4m+3 of every chunk of 32), acc = fma(min lane, −d_a · dmin_w, acc)
        // then fma(lane, d_a · d_w, acc), then hsum_float_8
        var x = (BlockQ2_K*)w; var y = (BlockQ8_K*)a;
        float* acc = stackalloc float[8];
        int* lane = stackalloc int[8];
        new Span<float>(acc, 8).Clear();
        for (int i = 0; i < n / 256; i++)
        {
            new Span<int>(lane, 8).Clear();
            byte* sc = x[i].Scales; byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            for (int h = 0, c = 0; h < 2; h++, q += 32)
                for (int shift = 0; shift < 8; shift += 2, c++, q8 += 32)
                    for (int k = 0; k < 32; k++) lane[k / 4] += (sc[2 * c + k / 16] & 0xF) * ((q[k] >> shift) & 3) * q8[k];
            float d = y[i].D * Fp.F16ToF32(x[i].D), dmin = -y[i].D * Fp.F16ToF32(x[i].DMin);
            for (int l = 0; l < 8; l++)
            {
                int prod = (sc[2 * l] >> 4) * y[i].BSums[2 * l] + (sc[2 * l + 1] >> 4) * y[i].BSums[2 * l + 1];
                acc[l] = MathF.FusedMultiplyAdd(prod, dmin, acc[l]);
                acc[l] = MathF.FusedMultiplyAdd(lane[l], d, acc[l]);
            }
        }
        return Q0Order.Hsum8(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q3_KQ8_K(byte* w, byte* a, int n)
    {
        // ggml's x86 order: 8 int lanes (lane m = elements 4m..4m+3 of every chunk of 32, times its sub-block's scale,
        // value = 2 bits − (hmask bit clear ? 4 : 0)), one fma per lane and super-block, then hsum_float_8
        var x = (BlockQ3_K*)w; var y = (BlockQ8_K*)a;
        float* acc = stackalloc float[8];
        int* lane = stackalloc int[8];
        new Span<float>(acc, 8).Clear();
        for (int i = 0; i < n / 256; i++)
        {
            new Span<int>(lane, 8).Clear();
            int sub = 0, m = 1;
            byte* q = x[i].Qs; byte* hm = x[i].HMask; sbyte* q8 = y[i].Qs;
            for (int h = 0; h < 2; h++, q += 32)
                for (int shift = 0; shift < 8; shift += 2, m <<= 1, q8 += 32, sub += 2)
                {
                    int sc0 = Dequantize.Q3Scale(x[i].Scales, sub) - 32, sc1 = Dequantize.Q3Scale(x[i].Scales, sub + 1) - 32;
                    for (int k = 0; k < 32; k++)
                        lane[k / 4] += (k < 16 ? sc0 : sc1) * q8[k] * (((q[k] >> shift) & 3) - ((hm[k] & m) != 0 ? 0 : 4));
                }
            float d = Fp.F16ToF32(x[i].D) * y[i].D;
            for (int l = 0; l < 8; l++) acc[l] = MathF.FusedMultiplyAdd(lane[l], d, acc[l]);
        }
        return Q0Order.Hsum8(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q4_KQ8_K(byte* w, byte* a, int n)
    {
        // llama.cpp's x86 order: 8 int lanes (lane k = bytes 4k..4k+3 of every sub-block of 32, scaled), one FMA per
        // lane and super-block; the mins as 4 lanes (sub-block pairs) with their own FMA; hsums added at the end
        var x = (BlockQ4_K*)w; var y = (BlockQ8_K*)a;
        float* acc = stackalloc float[12];
        int* lanes = stackalloc int[8];
        new Span<float>(acc, 12).Clear();
        for (int i = 0; i < n / 256; i++)
        {
            new Span<int>(lanes, 8).Clear();
            byte* q = x[i].Qs; sbyte* q8 = y[i].Qs;
            for (int j = 0; j < 8; j += 2, q += 32, q8 += 64)
            {
                QuantizeReference.ScaleMinK4(j, x[i].Scales, out int sc1, out int m1);
                QuantizeReference.ScaleMinK4(j + 1, x[i].Scales, out int sc2, out int m2);
                for (int l = 0; l < 32; l++) lanes[l / 4] += sc1 * ((q[l] & 0xF) * q8[l]) + sc2 * ((q[l] >> 4) * q8[l + 32]);
                int mins = m1 * (y[i].BSums[2 * j] + y[i].BSums[2 * j + 1]) + m2 * (y[i].BSums[2 * j + 2] + y[i].BSums[2 * j + 3]);
                acc[8 + j / 2] = MathF.FusedMultiplyAdd(-y[i].D * Fp.F16ToF32(x[i].DMin), mins, acc[8 + j / 2]);
            }
            float d = y[i].D * Fp.F16ToF32(x[i].D);
            for (int k = 0; k < 8; k++) acc[k] = MathF.FusedMultiplyAdd(lanes[k], d, acc[k]);
        }
        return Q0Order.Hsum8(acc) + ((acc[8] + acc[10]) + (acc[9] + acc[11]));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q5_KQ8_K(byte* w, byte* a, int n)
    {
        // llama.cpp's x86 order (see VecDotQ5_KQ8_K): 8 int lanes with one FMA per super-block; the mins as one FMA
        var x = (BlockQ5_K*)w; var y = (BlockQ8_K*)a;
        float* acc = stackalloc float[8];
        int* lanes = stackalloc int[8];
        new Span<float>(acc, 8).Clear();
        float s = 0;
        for (int i = 0; i < n / 256; i++)
        {
            new Span<int>(lanes, 8).Clear();
            int summs = 0, u1 = 1, u2 = 2;
            byte* q = x[i].Qs; byte* qh = x[i].Qh; sbyte* q8 = y[i].Qs;
            for (int j = 0; j < 8; j += 2, q += 32, q8 += 64, u1 <<= 2, u2 <<= 2)
            {
                QuantizeReference.ScaleMinK4(j, x[i].Scales, out int sc1, out int m1);
                QuantizeReference.ScaleMinK4(j + 1, x[i].Scales, out int sc2, out int m2);
                for (int l = 0; l < 32; l++)
                    lanes[l / 4] += sc1 * (((q[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) * q8[l])
                                  + sc2 * (((q[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) * q8[l + 32]);
                summs += m1 * (y[i].BSums[2 * j] + y[i].BSums[2 * j + 1]) + m2 * (y[i].BSums[2 * j + 2] + y[i].BSums[2 * j + 3]);
            }
            float d = y[i].D * Fp.F16ToF32(x[i].D);
            for (int k = 0; k < 8; k++) acc[k] = MathF.FusedMultiplyAdd(lanes[k], d, acc[k]);
            s = MathF.FusedMultiplyAdd(-y[i].D * Fp.F16ToF32(x[i].DMin), summs, s);
        }
        return Q0Order.Hsum8(acc) + s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float Q6_KQ8_K(byte* w, byte* a, int n)
    {
        // llama.cpp's x86 order: 8 int lanes (lane k = bytes 4k..4k+3 of every group of 32), one FMA per lane and
        // super-block, then the hsum of Q0Order
        var x = (BlockQ6_K*)w; var y = (BlockQ8_K*)a;
        float* acc = stackalloc float[8];
        int* lanes = stackalloc int[8];
        new Span<float>(acc, 8).Clear();
        for (int i = 0; i < n / 256; i++)
        {
            new Span<int>(lanes, 8).Clear();
            byte* ql = x[i].Ql; byte* qh = x[i].Qh; sbyte* sc = x[i].Scales; sbyte* q8 = y[i].Qs;
            for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, q8 += 128)
            {
                // 4 groups of 32 (l, l+32, l+64, l+96), each split in two 16-element sub-blocks with their own scale
                for (int g = 0; g < 4; g++)
                    for (int l = 0; l < 32; l++)
                    {
                        int lo = g switch { 0 => ql[l] & 0xF, 1 => ql[l + 32] & 0xF, 2 => ql[l] >> 4, _ => ql[l + 32] >> 4 };
                        int c = (lo | (((qh[l] >> (2 * g)) & 3) << 4)) - 32;
                        lanes[l / 4] += sc[2 * g + l / 16] * (c * q8[32 * g + l]);
                    }
            }
            float d = y[i].D * Fp.F16ToF32(x[i].D);
            for (int k = 0; k < 8; k++) acc[k] = MathF.FusedMultiplyAdd(lanes[k], d, acc[k]);
        }
        return Q0Order.Hsum8(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]

    public static float IQ4_XSQ8_K(byte* w, byte* a, int n)
    {
        // ggml's x86 order: 8 int lanes (lane m = elements 4m..4m+3 of every sub-block of 32: low nibbles for m < 4,
        // high nibbles after, times ls − 32), one fma per lane and super-block, then hsum_float_8
        var x = (BlockIQ4_XS*)w; var y = (BlockQ8_K*)a;
        ReadOnlySpan<sbyte> k = QuantTraits.IQ4NLValues;
        float* acc = stackalloc float[8];
        int* lane = stackalloc int[8];
        new Span<float>(acc, 8).Clear();
        for (int i = 0; i < n / 256; i++)
        {
            new Span<int>(lane, 8).Clear();
            byte* qs = x[i].Qs; sbyte* q8 = y[i].Qs;
            for (int b = 0; b < 8; b++, qs += 16, q8 += 32)
            {
                int ls = (((x[i].ScalesL[b / 2] >> (4 * (b % 2))) & 0xF) | (((x[i].ScalesH >> (2 * b)) & 3) << 4)) - 32;
                for (int j = 0; j < 16; j++)
                {
                    lane[j / 4] += ls * k[qs[j] & 0xF] * q8[j];
                    lane[4 + j / 4] += ls * k[qs[j] >> 4] * q8[j + 16];
                }
            }
            float d = Fp.F16ToF32(x[i].D) * y[i].D;
            for (int l = 0; l < 8; l++) acc[l] = MathF.FusedMultiplyAdd(lane[l], d, acc[l]);
        }
        return Q0Order.Hsum8(acc);
    }
}
