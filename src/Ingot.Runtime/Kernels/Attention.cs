namespace Ingot.Runtime.Kernels;

/// <summary>
/// One query head over cached keys/values with an online (single-pass) softmax:
/// for each position t: s = scale * (q · k_t) [then cap * tanh(s / cap) if soft-capped];
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
    /// With soft-capping (softCap &gt; 0: s = softCap * tanh(s / softCap), applied to the scaled score as ggml does
    /// after the Q pre-scale) and a sliding window (window &gt; 0: only keys k with queryPos - k &lt; window, i.e.
    /// k in (queryPos - window, queryPos]; positions beyond nKv - 1 are never read).
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
            float s = Dot.F32(q, kCache + (nint)t * kvStride, headDim) * scale;
            if (softCap > 0.0f) s = softCap * MathF.Tanh(s / softCap);
            float* v = vCache + (nint)t * kvStride;
            if (s > m)
            {
                // New max: rescale what we have (exp(-inf) = 0 on the first key), then add this key with weight 1.
                float c = MathF.Exp(m - s);
                if (c != 1.0f)
                {
                    Vec.Scale(acc, c, acc, headDim);
                    l *= c;
                }
                m = s;
                Vec.Add(acc, v, acc, headDim);
                l += 1.0f;
            }
            else
            {
                float p = MathF.Exp(s - m);
                Vec.AddScaled(v, p, acc, headDim);
                l += p;
            }
        }
        if (l == 0.0f)
        {
            new Span<float>(outHead, headDim).Clear(); // no visible key
            return;
        }
        Vec.Scale(acc, 1.0f / l, outHead, headDim);
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
            float s = Dot.F32Scalar(q, kCache + (nint)t * kvStride, headDim) * scale;
            if (softCap > 0.0f) s = softCap * MathF.Tanh(s / softCap);
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
