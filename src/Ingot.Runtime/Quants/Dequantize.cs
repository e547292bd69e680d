using Ingot.Formats;
using Ingot.Runtime.Kernels;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Block → f32 decoders, bit-exact with ggml's to_float (scale products in float32 first: dl = d*scale, then dl*c - ml).
/// Used for token_embd row lookup and as the reference for everything else.
/// </summary>
public static unsafe class Dequantize
{
    /// <summary>Decode n elements (a multiple of the type's block size) of <paramref name="type"/> from src into dst.</summary>
    public static void Row(GgmlType type, byte* src, float* dst, int n)
    {
        Quantize.CheckBlocks(n, QuantTraits.BlockSize(type));
        switch (type)
        {
            case GgmlType.F32: Buffer.MemoryCopy(src, dst, (long)n * 4, (long)n * 4); break;
            case GgmlType.F16: { var h = (Half*)src; for (int i = 0; i < n; i++) dst[i] = Fp.F16ToF32(h[i]); break; }
            case GgmlType.BF16: Vec.Convert.BF16ToF32((ushort*)src, dst, n); break;
            case GgmlType.Q4_0: Q4_0((BlockQ4_0*)src, dst, n / 32); break;
            case GgmlType.Q4_1: Q4_1((BlockQ4_1*)src, dst, n / 32); break;
            case GgmlType.Q5_0: Q5_0((BlockQ5_0*)src, dst, n / 32); break;
            case GgmlType.Q5_1: Q5_1((BlockQ5_1*)src, dst, n / 32); break;
            case GgmlType.Q8_0: Q8_0((BlockQ8_0*)src, dst, n / 32); break;
            case GgmlType.Q8_1: Q8_1((BlockQ8_1*)src, dst, n / 32); break;
            case GgmlType.Q8_K: Q8_K((BlockQ8_K*)src, dst, n / 256); break;
            case GgmlType.Q2_K: Q2_K((BlockQ2_K*)src, dst, n / 256); break;
            case GgmlType.Q3_K: Q3_K((BlockQ3_K*)src, dst, n / 256); break;
            case GgmlType.Q4_K: Q4_K((BlockQ4_K*)src, dst, n / 256); break;
            case GgmlType.Q5_K: Q5_K((BlockQ5_K*)src, dst, n / 256); break;
            case GgmlType.Q6_K: Q6_K((BlockQ6_K*)src, dst, n / 256); break;
            case GgmlType.IQ4_NL: IQ4_NL((BlockIQ4_NL*)src, dst, n / 32); break;
            case GgmlType.IQ4_XS: IQ4_XS((BlockIQ4_XS*)src, dst, n / 256); break;
            default: throw new NotSupportedException($"dequantizing {type} is not supported");
        }
    }

    public static void Q4_0(BlockQ4_0* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((x[i].Qs[j] & 0xF) - 8) * d;
                y[j + 16] = ((x[i].Qs[j] >> 4) - 8) * d;
            }
        }
    }

    public static void Q4_1(BlockQ4_1* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D), m = Fp.F16ToF32(x[i].M);
            for (int j = 0; j < 16; j++)
            {
                y[j] = (x[i].Qs[j] & 0xF) * d + m;
                y[j + 16] = (x[i].Qs[j] >> 4) * d + m;
            }
        }
    }

    public static void Q5_0(BlockQ5_0* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D);
            uint qh = x[i].Qh;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = (((x[i].Qs[j] & 0xF) | h0) - 16) * d;
                y[j + 16] = (((x[i].Qs[j] >> 4) | h1) - 16) * d;
            }
        }
    }

    public static void Q5_1(BlockQ5_1* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D), m = Fp.F16ToF32(x[i].M);
            uint qh = x[i].Qh;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
                y[j] = ((x[i].Qs[j] & 0xF) | h0) * d + m;
                y[j + 16] = ((x[i].Qs[j] >> 4) | h1) * d + m;
            }
        }
    }

    public static void Q8_0(BlockQ8_0* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D);
            for (int j = 0; j < 32; j++) y[j] = x[i].Qs[j] * d;
        }
    }

    public static void Q8_1(BlockQ8_1* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D);
            for (int j = 0; j < 32; j++) y[j] = x[i].Qs[j] * d;
        }
    }

    public static void Q8_K(BlockQ8_K* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++, y += 256)
            for (int j = 0; j < 256; j++) y[j] = x[i].D * x[i].Qs[j];
    }

    public static void Q2_K(BlockQ2_K* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++)
        {
            float d = Fp.F16ToF32(x[i].D), min = Fp.F16ToF32(x[i].DMin);
            byte* q = x[i].Qs;
            int s = 0;
            for (int n = 0; n < 256; n += 128, q += 32)
            {
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int half = 0; half < 2; half++)
                    {
                        byte sc = x[i].Scales[s++];
                        float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                        for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    public static void Q3_K(BlockQ3_K* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++)
        {
            float dAll = Fp.F16ToF32(x[i].D);
            byte* q = x[i].Qs;
            byte* hm = x[i].HMask;
            int m = 1, s = 0;
            for (int n = 0; n < 256; n += 128, q += 32)
            {
                for (int shift = 0; shift < 8; shift += 2, m <<= 1)
                {
                    for (int half = 0; half < 2; half++)
                    {
                        float dl = dAll * (Q3Scale(x[i].Scales, s++) - 32);
                        for (int l = 0; l < 16; l++)
                        {
                            int k = l + 16 * half;
                            *y++ = dl * (((q[k] >> shift) & 3) - ((hm[k] & m) != 0 ? 0 : 4));
                        }
                    }
                }
            }
        }
    }

    /// <summary>The unsigned 6-bit scale (0..63; subtract 32 for the signed value) of Q3_K sub-block i.</summary>
    internal static int Q3Scale(byte* scales, int i)
    {
        int low = i < 8 ? scales[i] & 15 : scales[i - 8] >> 4;
        int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
        return low | (high << 4);
    }

    public static void Q4_K(BlockQ4_K* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++)
        {
            float d = Fp.F16ToF32(x[i].D), min = Fp.F16ToF32(x[i].DMin);
            byte* q = x[i].Qs;
            for (int j = 0; j < 8; j += 2, q += 32)
            {
                QuantizeReference.ScaleMinK4(j, x[i].Scales, out int sc1, out int m1);
                QuantizeReference.ScaleMinK4(j + 1, x[i].Scales, out int sc2, out int m2);
                float d1 = d * sc1, mm1 = min * m1, d2 = d * sc2, mm2 = min * m2;
                for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - mm1;
                for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - mm2;
            }
        }
    }

    public static void Q5_K(BlockQ5_K* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++)
        {
            float d = Fp.F16ToF32(x[i].D), min = Fp.F16ToF32(x[i].DMin);
            byte* ql = x[i].Qs;
            byte* qh = x[i].Qh;
            int u1 = 1, u2 = 2;
            for (int j = 0; j < 8; j += 2, ql += 32, u1 <<= 2, u2 <<= 2)
            {
                QuantizeReference.ScaleMinK4(j, x[i].Scales, out int sc1, out int m1);
                QuantizeReference.ScaleMinK4(j + 1, x[i].Scales, out int sc2, out int m2);
                float d1 = d * sc1, mm1 = min * m1, d2 = d * sc2, mm2 = min * m2;
                for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - mm1;
                for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - mm2;
            }
        }
    }

    public static void Q6_K(BlockQ6_K* x, float* y, int nb)
    {
        for (int i = 0; i < nb; i++)
        {
            float d = Fp.F16ToF32(x[i].D);
            byte* ql = x[i].Ql;
            byte* qh = x[i].Qh;
            sbyte* sc = x[i].Scales;
            for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
            {
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[s] * q1;
                    y[l + 32] = d * sc[s + 2] * q2;
                    y[l + 64] = d * sc[s + 4] * q3;
                    y[l + 96] = d * sc[s + 6] * q4;
                }
            }
        }
    }

    public static void IQ4_NL(BlockIQ4_NL* x, float* y, int nb)
    {
        ReadOnlySpan<sbyte> k = QuantTraits.IQ4NLValues;
        for (int i = 0; i < nb; i++, y += 32)
        {
            float d = Fp.F16ToF32(x[i].D);
            for (int j = 0; j < 16; j++)
            {
                y[j] = d * k[x[i].Qs[j] & 0xF];
                y[j + 16] = d * k[x[i].Qs[j] >> 4];
            }
        }
    }

    public static void IQ4_XS(BlockIQ4_XS* x, float* y, int nb)
    {
        ReadOnlySpan<sbyte> k = QuantTraits.IQ4NLValues;
        for (int i = 0; i < nb; i++)
        {
            float d = Fp.F16ToF32(x[i].D);
            byte* qs = x[i].Qs;
            for (int b = 0; b < 8; b++, qs += 16, y += 32)
            {
                int ls = ((x[i].ScalesL[b / 2] >> (4 * (b % 2))) & 0xF) | (((x[i].ScalesH >> (2 * b)) & 3) << 4);
                float dl = d * (ls - 32);
                for (int j = 0; j < 16; j++)
                {
                    y[j] = dl * k[qs[j] & 0xF];
                    y[j + 16] = dl * k[qs[j] >> 4];
                }
            }
        }
    }
}
