using System.Runtime.Intrinsics;

namespace Ingot.Runtime.Kernels;

/// <summary>
/// One query head over cached keys/values with an online (single-pass) softmax:
/// for each position t: s = q · k_t, soft-capped as ggml does when cap &gt; 0 (s = tanh(s · (1/cap)) · cap, on the raw score),
/// then s · scale (ggml_soft_max_ext's scale);
/// running max m, running sum l and accumulator acc are rescaled by exp(m_old - m_new) whenever the max grows,
/// then acc += exp(s - m) * v_t, l += exp(s - m); out = acc / l. Differs from llama.cpp's two-pass softmax only by
/// rounding (~1e-6 relative). q: (headDim); kCache/vCache: position t of this KV head at + t * kvStride;
/// outHead: (headDim); scratch: at least headDim floats (the accumulator, so outHead may alias q).
/// </summary>
public static unsafe class Attention
{
    public static void Head(float* q, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale, float* outHead, float* scratch)
        => Head(q, kCache, vCache, kvStride, nKv, headDim, scale, outHead, scratch, 0.0f, 0, nKv - 1);

    /// <summary>
    /// With soft-capping (softCap &gt; 0: s = tanh(s · (1/softCap)) · softCap on the raw score q · k, before the scale —
    /// llama.cpp's scale, tanh, scale ops; Gemma 2 pre-scales Q and passes scale 1) and a sliding window (window &gt; 0:
    /// only keys k with queryPos - k &lt; window, i.e. k in (queryPos - window, queryPos]; positions beyond nKv - 1 are
    /// never read).
    /// </summary>
    public static void Head(float* q, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale,
        float* outHead, float* scratch, float softCap, int window, int queryPos)
    {
        int first = 0;
        int last = Math.Min(nKv - 1, queryPos);
        if (window > 0) first = Math.Max(0, queryPos - window + 1);
        float* acc = scratch;
        new Span<float>(acc, headDim).Clear();
        float m = float.NegativeInfinity;
        float l = 0.0f;
        for (int t = first; t <= last; t++)
        {
            float s = Score(DotHead(q, kCache + (nint)t * kvStride, headDim), scale, softCap);
            float* v = vCache + (nint)t * kvStride;
            if (s > m)
            {
                // New max: rescale what we have (exp(-inf) = 0 on the first key), then add this key with weight 1.
                float c = MathF.Exp(m - s);
                l = l * c + 1.0f;
                ScaleAdd(acc, c, 1.0f, v, headDim);
                m = s;
            }
            else
            {
                float p = MathF.Exp(s - m);
                l += p;
                ScaleAdd(acc, 1.0f, p, v, headDim);
            }
        }
        if (l == 0.0f)
        {
            new Span<float>(outHead, headDim).Clear(); // no visible key
            return;
        }
        Vec.Scale(acc, 1.0f / l, outHead, headDim);
    }

    /// <summary>q · k over one head: one accumulator of the widest vector, multiply then add (no FMA), then the lane sum.</summary>
    private static float DotHead(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) acc += Vector512.Load(a + i) * Vector512.Load(b + i);
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) acc += Vector256.Load(a + i) * Vector256.Load(b + i);
            sum = Vector256.Sum(acc);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (; i <= n - 4; i += 4) acc += Vector128.Load(a + i) * Vector128.Load(b + i);
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>acc = acc·c + p·v, two roundings per element (multiply, multiply, add; no fused multiply-add).</summary>
    private static void ScaleAdd(float* acc, float c, float p, float* v, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vc = Vector512.Create(c); var vp = Vector512.Create(p);
            for (; i <= n - 16; i += 16) (Vector512.Load(acc + i) * vc + vp * Vector512.Load(v + i)).Store(acc + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vc = Vector256.Create(c); var vp = Vector256.Create(p);
            for (; i <= n - 8; i += 8) (Vector256.Load(acc + i) * vc + vp * Vector256.Load(v + i)).Store(acc + i);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vc = Vector128.Create(c); var vp = Vector128.Create(p);
            for (; i <= n - 4; i += 4) (Vector128.Load(acc + i) * vc + vp * Vector128.Load(v + i)).Store(acc + i);
        }
        for (; i < n; i++) acc[i] = acc[i] * c + p * v[i];
    }

    /// <summary>The score of one key as ggml computes it: soft-cap on the raw dot product, then the softmax scale.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static float Score(float dot, float scale, float softCap)
    {
        if (softCap > 0.0f) dot = MathF.Tanh(dot * (1.0f / softCap)) * softCap;
        return dot * scale;
    }

    /// <summary>Reference: two-pass softmax (scores into scratch of nKv floats), as llama.cpp. For tests.</summary>
    public static void HeadTwoPass(float* q, float* kCache, float* vCache, int kvStride, int nKv, int headDim, float scale,
        float* outHead, float* scores, float softCap, int window, int queryPos)
    {
        int first = window > 0 ? Math.Max(0, queryPos - window + 1) : 0;
        int last = Math.Min(nKv - 1, queryPos);
        int n = last - first + 1;
        new Span<float>(outHead, headDim).Clear();
        if (n <= 0) return;
        for (int t = first; t <= last; t++)
        {
            float s = Score(Dot.F32Scalar(q, kCache + (nint)t * kvStride, headDim), scale, softCap);
            scores[t - first] = s;
        }
        Softmax.InPlace(scores, n);
        for (int t = first; t <= last; t++)
        {
            float p = scores[t - first];
            float* v = vCache + (nint)t * kvStride;
            for (int d = 0; d < headDim; d++) outHead[d] += p * v[d];
        }
    }
}
