using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Reference weight quantizers: the algorithms of ggml's quantize_row_*_ref (and the IQ4 best-scale search)
/// re-implemented in plain float32 arithmetic in the same operation order, so the output bytes equal
/// ggml_quantize_chunk(type, …, imatrix = NULL). Slow on purpose; these stay forever as the oracle.
/// </summary>
public static unsafe partial class QuantizeReference
{
    private const float GroupMaxEps = 1e-15f;

    /// <summary>Quantize one row of n floats (n a multiple of the type's block size) into dst.</summary>
    public static void Row(GgmlType type, float* x, byte* dst, int n)
    {
        Quantize.CheckBlocks(n, QuantTraits.BlockSize(type));
        switch (type)
        {
            case GgmlType.F32: Buffer.MemoryCopy(x, dst, (long)n * 4, (long)n * 4); break;
            case GgmlType.F16: Quantize.RowF16(x, dst, n); break;
            case GgmlType.BF16: Quantize.RowBF16(x, dst, n); break;
            case GgmlType.Q4_0: Q4_0(x, (BlockQ4_0*)dst, n / 32); break;
            case GgmlType.Q4_1: Q4_1(x, (BlockQ4_1*)dst, n / 32); break;
            case GgmlType.Q5_0: Q5_0(x, (BlockQ5_0*)dst, n / 32); break;
            case GgmlType.Q5_1: Q5_1(x, (BlockQ5_1*)dst, n / 32); break;
            case GgmlType.Q8_0: Q8_0(x, (BlockQ8_0*)dst, n / 32); break;
            case GgmlType.Q8_1: Quantize.RowQ8_1(x, dst, n); break;
            case GgmlType.Q8_K: Quantize.RowQ8_K(x, dst, n); break;
            case GgmlType.Q2_K: Q2_K(x, (BlockQ2_K*)dst, n / 256); break;
            case GgmlType.Q3_K: Q3_K(x, (BlockQ3_K*)dst, n / 256); break;
            case GgmlType.Q4_K: Q4_K(x, (BlockQ4_K*)dst, n / 256); break;
            case GgmlType.Q5_K: Q5_K(x, (BlockQ5_K*)dst, n / 256); break;
            case GgmlType.Q6_K: Q6_K(x, (BlockQ6_K*)dst, n / 256); break;
            case GgmlType.IQ4_NL: IQ4_NL(x, (BlockIQ4_NL*)dst, n / 32); break;
            case GgmlType.IQ4_XS: IQ4_XS(x, (BlockIQ4_XS*)dst, n / 256); break;
            default: throw new NotSupportedException($"quantizing to {type} is not supported");
        }
    }

    /// <summary>Q8_0 weights: d = amax/127, q = round-half-away(x/d).</summary>
    public static void Q8_0(float* x, BlockQ8_0* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += 32)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) { float a = MathF.Abs(x[j]); amax = amax > a ? amax : a; }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            y[i].D = (Half)d;
            for (int j = 0; j < 32; j++) y[i].Qs[j] = (sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    /// <summary>Q4_0: d = max/-8 (max = signed element of largest magnitude), c = min(15, trunc(x/d + 8.5)).</summary>
    public static void Q4_0(float* x, BlockQ4_0* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += 32)
        {
            SignedAbsMax(x, 32, out float max);
            float d = max / -8f;
            float id = d != 0 ? 1f / d : 0f;
            y[i].D = (Half)d;
            for (int j = 0; j < 16; j++)
            {
                int c0 = Math.Min(15, (int)(x[j] * id + 8.5f));
                int c1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
                y[i].Qs[j] = (byte)(c0 | (c1 << 4));
            }
        }
    }

    /// <summary>Q4_1: d = (max-min)/15, m = min, c = min(15, trunc((x-min)/d + 0.5)).</summary>
    public static void Q4_1(float* x, BlockQ4_1* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += 32)
        {
            MinMax(x, 32, out float min, out float max);
            float d = (max - min) / 15f;
            float id = d != 0 ? 1f / d : 0f;
            y[i].D = (Half)d;
            y[i].M = (Half)min;
            for (int j = 0; j < 16; j++)
            {
                int c0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
                int c1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
                y[i].Qs[j] = (byte)(c0 | (c1 << 4));
            }
        }
    }

    /// <summary>Q5_0: d = max/-16, c = min(31, trunc(x/d + 16.5)), bit 4 of element j in qh bit j.</summary>
    public static void Q5_0(float* x, BlockQ5_0* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += 32)
        {
            SignedAbsMax(x, 32, out float max);
            float d = max / -16f;
            float id = d != 0 ? 1f / d : 0f;
            y[i].D = (Half)d;
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int c0 = Math.Min(31, (int)(x[j] * id + 16.5f));
                int c1 = Math.Min(31, (int)(x[j + 16] * id + 16.5f));
                y[i].Qs[j] = (byte)((c0 & 15) | ((c1 & 15) << 4));
                qh |= (uint)((c0 >> 4) & 1) << j;
                qh |= (uint)((c1 >> 4) & 1) << (j + 16);
            }
            y[i].Qh = qh;
        }
    }

    /// <summary>Q5_1: d = (max-min)/31, m = min, c = trunc((x-min)/d + 0.5).</summary>
    public static void Q5_1(float* x, BlockQ5_1* y, int nb)
    {
        for (int i = 0; i < nb; i++, x += 32)
        {
            MinMax(x, 32, out float min, out float max);
            float d = (max - min) / 31f;
            float id = d != 0 ? 1f / d : 0f;
            y[i].D = (Half)d;
            y[i].M = (Half)min;
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int c0 = (byte)(int)((x[j] - min) * id + 0.5f);
                int c1 = (byte)(int)((x[j + 16] - min) * id + 0.5f);
                y[i].Qs[j] = (byte)((c0 & 15) | ((c1 & 15) << 4));
                qh |= (uint)((c0 >> 4) & 1) << j;
                qh |= (uint)((c1 >> 4) & 1) << (j + 16);
            }
            y[i].Qh = qh;
        }
    }

    /// <summary>IQ4_NL: per 32-block best-scale search over 15 candidate scales (weights x²), nearest code-book index.</summary>
    public static void IQ4_NL(float* x, BlockIQ4_NL* y, int nb)
    {
        byte* L = stackalloc byte[32];
        float* weight = stackalloc float[32];
        float scale;
        for (int i = 0; i < nb; i++, x += 32)
        {
            IQ4Impl(32, x, &y[i].D, y[i].Qs, null, null, &scale, weight, L, 7);
        }
    }

    /// <summary>IQ4_XS: IQ4_NL's search per 32-sub-block, then one f16 super-scale and 6-bit sub-scales.</summary>
    public static void IQ4_XS(float* x, BlockIQ4_XS* y, int nb)
    {
        byte* L = stackalloc byte[256];
        float* weight = stackalloc float[32];
        float* scales = stackalloc float[8];
        for (int i = 0; i < nb; i++, x += 256)
        {
            IQ4Impl(256, x, &y[i].D, y[i].Qs, &y[i].ScalesH, y[i].ScalesL, scales, weight, L, 7);
        }
    }

    // ---- helpers (same arithmetic order as ggml; float32 throughout) ----

    private static void SignedAbsMax(float* x, int n, out float max)
    {
        float amax = 0; max = 0;
        for (int j = 0; j < n; j++)
        {
            float a = MathF.Abs(x[j]);
            if (amax < a) { amax = a; max = x[j]; }
        }
    }

    private static void MinMax(float* x, int n, out float min, out float max)
    {
        min = float.MaxValue; max = -float.MaxValue;
        for (int j = 0; j < n; j++)
        {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
    }

    private static int BestIndexIQ4(float x)
    {
        ReadOnlySpan<sbyte> val = QuantTraits.IQ4NLValues;
        if (x <= val[0]) return 0;
        if (x >= val[15]) return 15;
        int ml = 0, mu = 15;
        while (mu - ml > 1)
        {
            int mav = (ml + mu) / 2;
            if (x < val[mav]) mu = mav; else ml = mav;
        }
        return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
    }

    // ggml's quantize_row_iq4_nl_impl without an importance matrix (weights = x²), block_size 32.
    private static void IQ4Impl(int superBlockSize, float* x, Half* dh, byte* q4, ushort* scalesH, byte* scalesL,
        float* scales, float* weight, byte* L, int ntry)
    {
        ReadOnlySpan<sbyte> values = QuantTraits.IQ4NLValues;
        const int blockSize = 32;
        for (int j = 0; j < superBlockSize / 2; j++) q4[j] = 0;
        *dh = (Half)0f;
        float maxScale = 0, amaxScale = 0;
        int nblocks = superBlockSize / blockSize;
        for (int ib = 0; ib < nblocks; ib++)
        {
            float* xb = x + ib * blockSize;
            byte* lb = L + ib * blockSize;
            for (int j = 0; j < blockSize; j++) weight[j] = xb[j] * xb[j];
            float amax = 0, max = 0;
            for (int j = 0; j < blockSize; j++)
            {
                float ax = MathF.Abs(xb[j]);
                if (ax > amax) { amax = ax; max = xb[j]; }
            }
            if (amax < GroupMaxEps)
            {
                scales[ib] = 0;
                continue;
            }
            float d = ntry > 0 ? -max / values[0] : max / values[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < blockSize; j++)
            {
                float al = id * xb[j];
                int l = BestIndexIQ4(al);
                lb[j] = (byte)l;
                float q = values[l];
                float w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -ntry; itry <= ntry; itry++)
            {
                id = (itry + values[0]) / max;
                sumqx = sumq2 = 0;
                for (int j = 0; j < blockSize; j++)
                {
                    float al = id * xb[j];
                    int l = BestIndexIQ4(al);
                    float q = values[l];
                    float w = weight[j];
                    sumqx += w * q * xb[j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
                {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scales[ib] = d;
            float absD = MathF.Abs(d);
            if (absD > amaxScale) { amaxScale = absD; maxScale = d; }
        }

        if (nblocks > 1)
        {
            *scalesH = 0;
            float d = -maxScale / 32;
            *dh = (Half)d;
            float id = d != 0 ? 1 / d : 0f;
            for (int ib = 0; ib < nblocks; ib++)
            {
                int l = Math.Clamp(Fp.NearestInt(id * scales[ib]), -32, 31);
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0f;
                byte* lb = L + ib * blockSize;
                float* xb = x + ib * blockSize;
                for (int j = 0; j < blockSize; j++) lb[j] = (byte)BestIndexIQ4(idl * xb[j]);
                l += 32;
                int lLow = l & 0xF, lHigh = l >> 4;
                if (ib % 2 == 0) scalesL[ib / 2] = (byte)lLow;
                else scalesL[ib / 2] |= (byte)(lLow << 4);
                *scalesH |= (ushort)(lHigh << (2 * (ib % 8)));
            }
        }
        else
        {
            *dh = (Half)scales[0];
            if (ntry > 0)
            {
                float id = scales[0] != 0 ? 1 / scales[0] : 0;
                for (int j = 0; j < superBlockSize; j++) L[j] = (byte)BestIndexIQ4(id * x[j]);
            }
        }

        for (int i = 0; i < superBlockSize / 32; i++)
            for (int j = 0; j < 16; j++)
                q4[16 * i + j] = (byte)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
    }
}
