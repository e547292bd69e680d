using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>The K-quant reference quantizers (Q2_K … Q6_K) and the scale searches they share, in ggml's operation order.</summary>
public static unsafe partial class QuantizeReference
{
    /// <summary>Q2_K: per 16-group make_qkx2 (nmax 3, |x| weights, MAD), 4-bit scales and mins, then re-quantize.</summary>
    public static void Q2_K(float* x, BlockQ2_K* y, int nb)
    {
        byte* L = stackalloc byte[256];
        byte* laux = stackalloc byte[16];
        float* weights = stackalloc float[16];
        float* mins = stackalloc float[16];
        float* scales = stackalloc float[16];
        const float q4scale = 15f;
        for (int i = 0; i < nb; i++, x += 256)
        {
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; j++)
            {
                for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(x[16 * j + l]);
                scales[j] = MakeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, out mins[j], laux, -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            if (maxScale > 0)
            {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; j++) y[i].Scales[j] = (byte)Fp.NearestInt(iscale * scales[j]);
                y[i].D = (Half)(maxScale / q4scale);
            }
            else
            {
                for (int j = 0; j < 16; j++) y[i].Scales[j] = 0;
                y[i].D = (Half)0f;
            }
            if (maxMin > 0)
            {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; j++) y[i].Scales[j] |= (byte)(Fp.NearestInt(iscale * mins[j]) << 4);
                y[i].DMin = (Half)(maxMin / q4scale);
            }
            else
            {
                y[i].DMin = (Half)0f;
            }
            for (int j = 0; j < 16; j++)
            {
                float d = Fp.F16ToF32(y[i].D) * (y[i].Scales[j] & 0xF);
                if (d == 0) continue;
                float dm = Fp.F16ToF32(y[i].DMin) * (y[i].Scales[j] >> 4);
                for (int ii = 0; ii < 16; ii++)
                {
                    int l = Fp.NearestInt((x[16 * j + ii] + dm) / d);
                    L[16 * j + ii] = (byte)Math.Clamp(l, 0, 3);
                }
            }
            for (int j = 0; j < 256; j += 128)
                for (int l = 0; l < 32; l++)
                    y[i].Qs[j / 4 + l] = (byte)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        }
    }

    /// <summary>Q3_K: per 16-group make_q3_quants (rmse refinement), 6-bit signed scales, then re-quantize to -4..3.</summary>
    public static void Q3_K(float* x, BlockQ3_K* y, int nb)
    {
        sbyte* L = stackalloc sbyte[256];
        float* scales = stackalloc float[16];
        for (int i = 0; i < nb; i++, x += 256)
        {
            float maxScale = 0, amax = 0;
            for (int j = 0; j < 16; j++)
            {
                scales[j] = MakeQ3Quants(16, 4, x + 16 * j, L + 16 * j, true);
                float s = MathF.Abs(scales[j]);
                if (s > amax) { amax = s; maxScale = scales[j]; }
            }
            for (int j = 0; j < 12; j++) y[i].Scales[j] = 0;
            if (maxScale != 0)
            {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; j++)
                {
                    int l = (sbyte)Fp.NearestInt(iscale * scales[j]);
                    l = Math.Clamp(l, -32, 31) + 32;
                    if (j < 8) y[i].Scales[j] = (byte)(l & 0xF);
                    else y[i].Scales[j - 8] |= (byte)((l & 0xF) << 4);
                    l >>= 4;
                    y[i].Scales[j % 4 + 8] |= (byte)(l << (2 * (j / 4)));
                }
                y[i].D = (Half)(1f / iscale);
            }
            else
            {
                y[i].D = (Half)0f;
            }
            for (int j = 0; j < 16; j++)
            {
                int sc = j < 8 ? y[i].Scales[j] & 0xF : y[i].Scales[j - 8] >> 4;
                sc = (sc | (((y[i].Scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
                float d = Fp.F16ToF32(y[i].D) * sc;
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++)
                {
                    int l = Fp.NearestInt(x[16 * j + ii] / d);
                    L[16 * j + ii] = (sbyte)(Math.Clamp(l, -4, 3) + 4);
                }
            }
            for (int j = 0; j < 32; j++) y[i].HMask[j] = 0;
            int m = 0;
            byte hm = 1;
            for (int j = 0; j < 256; j++)
            {
                if (L[j] > 3) { y[i].HMask[m] |= hm; L[j] -= 4; }
                if (++m == 32) { m = 0; hm <<= 1; }
            }
            for (int j = 0; j < 256; j += 128)
                for (int l = 0; l < 32; l++)
                    y[i].Qs[j / 4 + l] = (byte)((byte)L[j + l] | ((byte)L[j + l + 32] << 2) | ((byte)L[j + l + 64] << 4) | ((byte)L[j + l + 96] << 6));
        }
    }

    /// <summary>Q4_K: per 32-group make_qkx2 (nmax 15, weights av|x|+|x|), 6-bit scales/mins, re-quantize.</summary>
    public static void Q4_K(float* x, BlockQ4_K* y, int nb)
    {
        byte* L = stackalloc byte[256];
        byte* laux = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        for (int i = 0; i < nb; i++, x += 256)
        {
            ScalesMinsK(x, 15, -1f, 0.1f, 20, L, laux, weights, scales, mins, y[i].Scales, out float maxScale, out float maxMin);
            y[i].D = (Half)(maxScale / 63f);
            y[i].DMin = (Half)(maxMin / 63f);
            RequantizeK(x, 15, y[i].Scales, Fp.F16ToF32(y[i].D), Fp.F16ToF32(y[i].DMin), L);
            byte* q = y[i].Qs;
            for (int j = 0; j < 256; j += 64, q += 32)
                for (int l = 0; l < 32; l++) q[l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
        }
    }

    /// <summary>Q5_K: as Q4_K with nmax 31 (rmin -0.5, 15 steps) and the fifth bit in qh.</summary>
    public static void Q5_K(float* x, BlockQ5_K* y, int nb)
    {
        byte* L = stackalloc byte[256];
        byte* laux = stackalloc byte[32];
        float* weights = stackalloc float[32];
        float* mins = stackalloc float[8];
        float* scales = stackalloc float[8];
        for (int i = 0; i < nb; i++, x += 256)
        {
            ScalesMinsK(x, 31, -0.5f, 0.1f, 15, L, laux, weights, scales, mins, y[i].Scales, out float maxScale, out float maxMin);
            y[i].D = (Half)(maxScale / 63f);
            y[i].DMin = (Half)(maxMin / 63f);
            RequantizeK(x, 31, y[i].Scales, Fp.F16ToF32(y[i].D), Fp.F16ToF32(y[i].DMin), L);
            byte* qh = y[i].Qh;
            byte* ql = y[i].Qs;
            for (int j = 0; j < 32; j++) qh[j] = 0;
            int m1 = 1, m2 = 2;
            for (int n = 0; n < 256; n += 64, ql += 32, m1 <<= 2, m2 <<= 2)
            {
                for (int j = 0; j < 32; j++)
                {
                    int l1 = L[n + j];
                    if (l1 > 15) { l1 -= 16; qh[j] |= (byte)m1; }
                    int l2 = L[n + j + 32];
                    if (l2 > 15) { l2 -= 16; qh[j] |= (byte)m2; }
                    ql[j] = (byte)(l1 | (l2 << 4));
                }
            }
        }
    }

    /// <summary>Q6_K: per 16-group make_qx_quants (nmax 32, rmse_type 1), int8 scales, re-quantize to -32..31.</summary>
    public static void Q6_K(float* x, BlockQ6_K* y, int nb)
    {
        sbyte* L = stackalloc sbyte[256];
        float* scales = stackalloc float[16];
        for (int i = 0; i < nb; i++, x += 256)
        {
            float maxScale = 0, maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++)
            {
                float scale = MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib, 1);
                scales[ib] = scale;
                float a = MathF.Abs(scale);
                if (a > maxAbsScale) { maxAbsScale = a; maxScale = scale; }
            }
            if (maxAbsScale < GroupMaxEps)
            {
                y[i] = default;
                continue;
            }
            float iscale = -128f / maxScale;
            y[i].D = (Half)(1f / iscale);
            for (int ib = 0; ib < 16; ib++) y[i].Scales[ib] = (sbyte)Math.Min(127, Fp.NearestInt(iscale * scales[ib]));
            for (int j = 0; j < 16; j++)
            {
                float d = Fp.F16ToF32(y[i].D) * y[i].Scales[j];
                if (d == 0) continue;
                for (int ii = 0; ii < 16; ii++)
                {
                    int l = Fp.NearestInt(x[16 * j + ii] / d);
                    L[16 * j + ii] = (sbyte)(Math.Clamp(l, -32, 31) + 32);
                }
            }
            byte* ql = y[i].Ql;
            byte* qh = y[i].Qh;
            for (int j = 0; j < 256; j += 128, ql += 64, qh += 32)
            {
                for (int l = 0; l < 32; l++)
                {
                    int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                    ql[l] = (byte)(q1 | (q3 << 4));
                    ql[l + 32] = (byte)(q2 | (q4 << 4));
                    qh[l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
            }
        }
    }

    // Q4_K/Q5_K first pass: 8 sub-blocks of 32 → float scales/mins → packed 6-bit (12 bytes).
    private static void ScalesMinsK(float* x, int nmax, float rmin, float rdelta, int nstep, byte* L, byte* laux, float* weights,
        float* scales, float* mins, byte* packed, out float maxScale, out float maxMin)
    {
        maxScale = 0; maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[32 * j + l] * x[32 * j + l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(x[32 * j + l]);
            scales[j] = MakeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, out mins[j], laux, rmin, rdelta, nstep, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++)
        {
            int ls = Math.Min(63, (int)(byte)Fp.NearestInt(invScale * scales[j]));
            int lm = Math.Min(63, (int)(byte)Fp.NearestInt(invMin * mins[j]));
            if (j < 4)
            {
                packed[j] = (byte)ls;
                packed[j + 4] = (byte)lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }

    private static void RequantizeK(float* x, int nmax, byte* packed, float dAll, float dMinAll, byte* L)
    {
        for (int j = 0; j < 8; j++)
        {
            ScaleMinK4(j, packed, out int sc, out int m);
            float d = dAll * sc;
            if (d == 0) continue;
            float dm = dMinAll * m;
            for (int ii = 0; ii < 32; ii++)
            {
                int l = Fp.NearestInt((x[32 * j + ii] + dm) / d);
                L[32 * j + ii] = (byte)Math.Clamp(l, 0, nmax);
            }
        }
    }

    /// <summary>Unpack the 6-bit scale and min of sub-block j (0..7) from Q4_K/Q5_K's 12 packed bytes.</summary>
    internal static void ScaleMinK4(int j, byte* q, out int d, out int m)
    {
        if (j < 4) { d = q[j] & 63; m = q[j + 4] & 63; }
        else { d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4); m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
    }

    private static float MakeQxQuants(int n, int nmax, float* x, sbyte* L, int rmseType)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; i++) L[i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        if (rmseType == 0)
        {
            for (int i = 0; i < n; i++) L[i] = (sbyte)(nmax + Math.Clamp(Fp.NearestInt(iscale * x[i]), -nmax, nmax - 1));
            return 1 / iscale;
        }
        bool returnEarly = false;
        if (rmseType < 0) { rmseType = -rmseType; returnEarly = true; }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(Fp.NearestInt(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (sbyte)(l + nmax);
            float w = RmseWeight(rmseType, x[i]);
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        if (returnEarly) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
        float best = scale * sumlx;
        for (int s = -9; s <= 9; s++)
        {
            if (s == 0) continue;
            iscale = -(nmax + 0.1f * s) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(Fp.NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = RmseWeight(rmseType, x[i]);
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++) L[i] = (sbyte)(nmax + Math.Clamp(Fp.NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    private static float RmseWeight(int rmseType, float x) => rmseType switch
    {
        1 => x * x,
        2 => 1f,
        3 => MathF.Abs(x),
        _ => MathF.Sqrt(MathF.Abs(x)),
    };

    private static float MakeQ3Quants(int n, int nmax, float* x, sbyte* L, bool doRmse)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            for (int i = 0; i < n; i++) L[i] = 0;
            return 0f;
        }
        float iscale = -nmax / max;
        if (doRmse)
        {
            float sumlx = 0, suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(Fp.NearestInt(iscale * x[i]), -nmax, nmax - 1);
                L[i] = (sbyte)l;
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            for (int itry = 0; itry < 5; itry++)
            {
                int nChanged = 0;
                for (int i = 0; i < n; i++)
                {
                    float w = x[i] * x[i];
                    float slx = sumlx - w * x[i] * L[i];
                    if (slx > 0)
                    {
                        float sl2 = suml2 - w * L[i] * L[i];
                        int newL = Math.Clamp(Fp.NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                        if (newL != L[i])
                        {
                            slx += w * x[i] * newL;
                            sl2 += w * newL * newL;
                            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                            {
                                L[i] = (sbyte)newL; sumlx = slx; suml2 = sl2;
                                nChanged++;
                            }
                        }
                    }
                }
                if (nChanged == 0) break;
            }
            for (int i = 0; i < n; i++) L[i] += (sbyte)nmax;
            return sumlx / suml2;
        }
        for (int i = 0; i < n; i++) L[i] = (sbyte)(Math.Clamp(Fp.NearestInt(iscale * x[i]), -nmax, nmax - 1) + nmax);
        return 1 / iscale;
    }

    private static float MakeQkx2Quants(int n, int nmax, float* x, float* weights, byte* L, out float theMin, byte* laux,
        float rmin, float rdelta, int nstep, bool useMad)
    {
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            for (int i = 0; i < n; i++) L[i] = 0;
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Fp.NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Math.Clamp(l, 0, nmax);
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestMad += weights[i] * diff;
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int s = 0; s <= nstep; s++)
        {
            iscale = (rmin + rdelta * s + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(Fp.NearestInt(iscale * (x[i] - min)), 0, nmax);
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    mad += weights[i] * diff;
                }
                if (mad < bestMad)
                {
                    for (int i = 0; i < n; i++) L[i] = laux[i];
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }
}
