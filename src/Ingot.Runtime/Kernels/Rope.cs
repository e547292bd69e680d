using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// Rotary position embedding on one head of headDim floats (in place), angles computed like ggml's
/// rope cache with ext_factor 0 and attn_factor 1: theta_0 = pos (as float), theta_{i+1} = theta_i * theta_scale with
/// theta_scale = powf(base, -2/nRot); the angle of pair i is theta_i / freqFactors[i] (if given) * freqScale;
/// cos/sin are float cosf/sinf. Only the first nRot dims rotate (partial rotary); the rest pass through.
/// NORM pairs are (2i, 2i+1); NEOX pairs are (i, i + nRot/2). Rotation: (x0 c - x1 s, x0 s + x1 c), each with one fused
/// multiply-add as llama.cpp's build computes it (GCC contracts them: fma(x0, c, -(x1 s)), fma(x0, s, x1 c)).
/// </summary>
public static unsafe class Rope
{
    public static void ApplyNorm(float* v, int headDim, int nRot, int pos, float theta, float* freqFactors)
        => ApplyNorm(v, headDim, nRot, pos, theta, freqFactors, 1.0f);

    public static void ApplyNeox(float* v, int headDim, int nRot, int pos, float theta, float* freqFactors)
        => ApplyNeox(v, headDim, nRot, pos, theta, freqFactors, 1.0f);

    /// <summary>NORM rope with a linear frequency scale (freqScale = 1/scaling factor).</summary>
    public static void ApplyNorm(float* v, int headDim, int nRot, int pos, float theta, float* freqFactors, float freqScale)
    {
        CheckDims(headDim, nRot);
        float thetaScale = MathF.Pow(theta, -2.0f / nRot);
        float t = pos;
        for (int i = 0; i < nRot / 2; i++)
        {
            float angle = Angle(t, freqFactors, i, freqScale);
            float c = MathF.Cos(angle), s = MathF.Sin(angle);
            float x0 = v[2 * i], x1 = v[2 * i + 1];
            v[2 * i] = MathF.FusedMultiplyAdd(x0, c, -(x1 * s));
            v[2 * i + 1] = MathF.FusedMultiplyAdd(x0, s, x1 * c);
            t *= thetaScale;
        }
    }

    /// <summary>NEOX rope with a linear frequency scale.</summary>
    public static void ApplyNeox(float* v, int headDim, int nRot, int pos, float theta, float* freqFactors, float freqScale)
    {
        CheckDims(headDim, nRot);
        float thetaScale = MathF.Pow(theta, -2.0f / nRot);
        float t = pos;
        int half = nRot / 2;
        for (int i = 0; i < half; i++)
        {
            float angle = Angle(t, freqFactors, i, freqScale);
            float c = MathF.Cos(angle), s = MathF.Sin(angle);
            float x0 = v[i], x1 = v[i + half];
            v[i] = MathF.FusedMultiplyAdd(x0, c, -(x1 * s));
            v[i + half] = MathF.FusedMultiplyAdd(x0, s, x1 * c);
            t *= thetaScale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Angle(float thetaBase, float* freqFactors, int i, float freqScale)
    {
        float extrap = freqFactors != null ? thetaBase / freqFactors[i] : thetaBase;
        return freqScale * extrap;
    }

    internal static void CheckDims(int headDim, int nRot)
    {
        if (nRot <= 0 || (nRot & 1) != 0 || nRot > headDim)
            throw new ArgumentOutOfRangeException(nameof(nRot), $"rope dimensions {nRot} must be even, > 0 and <= head_dim {headDim}");
    }
}

/// <summary>
/// Context-extension parameters of ggml's rope (ggml_rope_ext): FreqScale = 1/factor (linear, YaRN); ExtFactor 1 turns on
/// YaRN's ramp between interpolated and extrapolated angles over the correction dims of [BetaFast, BetaSlow] at
/// OriginalContext; AttnFactor multiplies cos and sin (LongRoPE's and YaRN's magnitude scale; YaRN multiplies it by
/// 1 + 0.1·ln(1/FreqScale) as ggml does).
/// </summary>
public readonly record struct RopeScaling(float FreqScale = 1.0f, float ExtFactor = 0.0f, float AttnFactor = 1.0f,
    float BetaFast = 32.0f, float BetaSlow = 1.0f, int OriginalContext = 0)
{
    public static RopeScaling None => new(1.0f);

    /// <summary>ggml_rope_yarn_corr_dims: the pair range [low, high] over which YaRN ramps from extrapolation to interpolation.</summary>
    public static (float Low, float High) CorrDims(int nRot, int originalContext, float theta, float betaFast, float betaSlow)
    {
        static float Dim(int nRot, int ctx, float rot, float theta) => nRot * MathF.Log(ctx / (rot * 2 * MathF.PI)) / (2 * MathF.Log(theta));
        float start = MathF.Floor(Dim(nRot, originalContext, betaFast, theta));
        float end = MathF.Ceiling(Dim(nRot, originalContext, betaSlow, theta));
        return (MathF.Max(0, start), MathF.Min(nRot - 1, end));
    }
}

/// <summary>
/// Precomputed cos/sin for positions [0, maxPositions) and pairs [0, nRot/2), built once at load with the exact
/// same float arithmetic as <see cref="Rope"/> and ggml's rope cache (so results are bit-identical), then rope is 4
/// loads + 4 FMAs per pair. Layout: Cos[pos * (nRot/2) + i]. Memory: maxPositions * nRot * 4 bytes.
/// </summary>
public sealed unsafe class RopeTable
{
    private readonly float[] _cos;
    private readonly float[] _sin;

    public RopeTable(int maxPositions, int nRot, float theta, float* freqFactors, float freqScale = 1.0f)
        : this(maxPositions, nRot, theta, freqFactors, new RopeScaling(freqScale))
    {
    }

    /// <summary>
    /// Angles as ggml_rope_cache_init: theta_e = pos · theta_scale^i (running float product) / freqFactors[i];
    /// theta = FreqScale · theta_e, or with YaRN the ramp mix of the two; cos/sin times the magnitude scale.
    /// </summary>
    public RopeTable(int maxPositions, int nRot, float theta, float* freqFactors, RopeScaling scaling)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        Rope.CheckDims(nRot, nRot);
        MaxPositions = maxPositions;
        RotaryDims = nRot;
        int half = nRot / 2;
        _cos = new float[(long)maxPositions * half];
        _sin = new float[(long)maxPositions * half];
        float thetaScale = MathF.Pow(theta, -2.0f / nRot);
        float mscale = scaling.AttnFactor;
        float low = 0, high = 0;
        if (scaling.ExtFactor != 0.0f)
        {
            (low, high) = RopeScaling.CorrDims(nRot, scaling.OriginalContext, theta, scaling.BetaFast, scaling.BetaSlow);
            mscale *= 1.0f + 0.1f * MathF.Log(1.0f / scaling.FreqScale);
        }
        for (int p = 0; p < maxPositions; p++)
        {
            float t = p;
            for (int i = 0; i < half; i++)
            {
                float angle = Rope.Angle(t, freqFactors, i, scaling.FreqScale);
                if (scaling.ExtFactor != 0.0f)
                {
                    float extrap = freqFactors != null ? t / freqFactors[i] : t;
                    float y = (i - low) / MathF.Max(0.001f, high - low);
                    float rampMix = (1 - MathF.Min(1, MathF.Max(0, y))) * scaling.ExtFactor;
                    angle = angle * (1 - rampMix) + extrap * rampMix;
                }
                _cos[p * half + i] = MathF.Cos(angle) * mscale;
                _sin[p * half + i] = MathF.Sin(angle) * mscale;
                t *= thetaScale;
            }
        }
    }

    public int MaxPositions { get; }
    public int RotaryDims { get; }

    /// <summary>
    /// NORM rope at pos: pair i = (v[2i], v[2i+1]) → (fma(x0, c, −(x1·s)), fma(x0, s, x1·c)). Four pairs per 256-bit
    /// step with the same two roundings per element: the products x1·s (even lanes) and x1·c (odd lanes) as one
    /// multiply of the odd elements duplicated, then one FMA of the even elements duplicated with [c, s] and that
    /// product, negated in the even lanes (the scalar loop was 1 % of a batched decode step).
    /// </summary>
    public void ApplyNorm(float* v, int headDim, int pos)
    {
        Check(headDim, pos);
        int half = RotaryDims / 2;
        fixed (float* cp = &_cos[pos * half], sp = &_sin[pos * half])
        {
            int i = 0;
            if (Avx.IsSupported && Fma.IsSupported)
            {
                Vector256<float> evenSign = Vector256.Create(-0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 0.0f);
                for (; i + 4 <= half; i += 4)
                {
                    Vector128<float> c = Vector128.Load(cp + i), s = Vector128.Load(sp + i);
                    Vector256<float> cs = Vector256.Create(Sse.UnpackLow(c, s), Sse.UnpackHigh(c, s)); // [c0 s0 c1 s1 …]
                    Vector256<float> sc = Avx.Permute(cs, 0b10_11_00_01);                              // [s0 c0 s1 c1 …]
                    Vector256<float> x = Vector256.Load(v + 2 * i);
                    Vector256<float> m = Avx.Multiply(Avx.DuplicateOddIndexed(x), sc);                 // x1·s | x1·c
                    Fma.MultiplyAdd(Avx.DuplicateEvenIndexed(x), cs, Avx.Xor(m, evenSign)).Store(v + 2 * i);
                }
            }
            for (; i < half; i++)
            {
                float c = cp[i], s = sp[i];
                float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = MathF.FusedMultiplyAdd(x0, c, -(x1 * s));
                v[2 * i + 1] = MathF.FusedMultiplyAdd(x0, s, x1 * c);
            }
        }
    }

    /// <summary>NEOX rope at pos: pair i = (v[i], v[i + half]), the same roundings as <see cref="ApplyNorm"/>, 8 pairs per step.</summary>
    public void ApplyNeox(float* v, int headDim, int pos)
    {
        Check(headDim, pos);
        int half = RotaryDims / 2;
        fixed (float* cp = &_cos[pos * half], sp = &_sin[pos * half])
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= half; i += 8)
                {
                    Vector256<float> c = Vector256.Load(cp + i), s = Vector256.Load(sp + i);
                    Vector256<float> x0 = Vector256.Load(v + i), x1 = Vector256.Load(v + i + half);
                    Vector256.FusedMultiplyAdd(x0, c, -(x1 * s)).Store(v + i);
                    Vector256.FusedMultiplyAdd(x0, s, x1 * c).Store(v + i + half);
                }
            for (; i < half; i++)
            {
                float c = cp[i], s = sp[i];
                float x0 = v[i], x1 = v[i + half];
                v[i] = MathF.FusedMultiplyAdd(x0, c, -(x1 * s));
                v[i + half] = MathF.FusedMultiplyAdd(x0, s, x1 * c);
            }
        }
    }

    /// <summary>Applies NORM rope to nHeads consecutive heads of headDim floats.</summary>
    public void ApplyNormHeads(float* v, int nHeads, int headDim, int pos)
    {
        for (int h = 0; h < nHeads; h++) ApplyNorm(v + h * headDim, headDim, pos);
    }

    /// <summary>Applies NEOX rope to nHeads consecutive heads of headDim floats.</summary>
    public void ApplyNeoxHeads(float* v, int nHeads, int headDim, int pos)
    {
        for (int h = 0; h < nHeads; h++) ApplyNeox(v + h * headDim, headDim, pos);
    }

    private void Check(int headDim, int pos)
    {
        if ((uint)pos >= (uint)MaxPositions) throw new ArgumentOutOfRangeException(nameof(pos), $"position {pos} outside the rope table (0..{MaxPositions - 1})");
        if (headDim < RotaryDims) throw new ArgumentOutOfRangeException(nameof(headDim));
    }
}
