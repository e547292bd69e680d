using System.Runtime.Intrinsics;
using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Kernels.Tests;

/// <summary>
/// GgmlMath and AttentionGgml: llama.cpp's float kernels replayed in their order. What pins them to llama.cpp is the
/// end-to-end comparison (EndToEnd ShapesTests: most sequences bit-identical to llama.cpp's logits); here: accuracy of
/// the exp approximation, special values, and that every path and both attention forms give the same bits.
/// </summary>
public unsafe class GgmlMathTests
{
    [Fact]
    public void ExpIsWithinTwoAndAHalfUlpsOfExpAndHandlesSpecialValues()
    {
        Assert.Equal(1f, GgmlMath.Exp(0f));
        Assert.Equal(0f, GgmlMath.Exp(float.NegativeInfinity));
        Assert.Equal(float.PositiveInfinity, GgmlMath.Exp(float.PositiveInfinity));
        Assert.Equal(float.PositiveInfinity, GgmlMath.Exp(200f));
        Assert.Equal(0f, GgmlMath.Exp(-200f));
        Assert.True(float.IsNaN(GgmlMath.Exp(float.NaN)));
        for (float x = -87f; x < 88f; x += 0.0137f)
        {
            double e = Math.Exp(x);
            float got = GgmlMath.Exp(x);
            double ulp = Math.Abs(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits((float)e) + 1) - (float)e);
            Assert.True(Math.Abs(got - e) <= 2.5 * ulp, $"exp({x:R}) = {got:R}, expected {e:R}");
        }
        // subnormal results: scalef rounds once (no double rounding through a normal intermediate)
        for (float x = -103f; x < -87.5f; x += 0.25f)
            Assert.True(Math.Abs(GgmlMath.Exp(x) - Math.Exp(x)) <= 1.5e-45 + 2e-7 * Math.Exp(x), $"exp({x:R}) = {GgmlMath.Exp(x):R}");
    }

    /// <summary>The fast scaling (exponent bits, |n| ≤ 125) gives the general scalef's bits for every input it takes.</summary>
    [Fact]
    public void Exp_FastScalingGivesTheGeneralScalefsBits()
    {
        // every 613th float bit pattern over both signs (7 M values: all exponents, spread mantissas), and the edges
        for (long bits = 0; bits <= uint.MaxValue; bits += 613)
            Check(BitConverter.UInt32BitsToSingle((uint)bits));
        foreach (float x in new[] { -87.33655f, -86.64f, -86.6f, 86.6f, 86.64f, 88.7f, 0f, -0f, float.Epsilon, -float.Epsilon })
            Check(x);

        static void Check(float x)
        {
            float fast = GgmlMath.Exp(x), general = GgmlMath.ExpThroughScaleB(x);
            if (float.IsNaN(general)) Assert.True(float.IsNaN(fast), $"exp({x:R})");
            else if (BitConverter.SingleToInt32Bits(fast) != BitConverter.SingleToInt32Bits(general))
                Assert.Fail($"exp({x:R}) = {fast:R}, the general scalef gives {general:R}");
        }
    }

    /// <summary>
    /// The 8- and 16-lane exps give every lane the scalar form's bits, on the fast path and through the lane-by-lane
    /// fallback.
    /// </summary>
    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Exp_VectorLanes_GiveTheScalarBits(int lanes)
    {
        var x = new float[lanes];
        var e = new float[lanes];
        void Check()
        {
            if (lanes == 8) GgmlMath.Exp8(Vector256.Create(x)).CopyTo(e);
            else GgmlMath.Exp16(Vector512.Create(x)).CopyTo(e);
            for (int l = 0; l < lanes; l++)
            {
                float want = GgmlMath.Exp(x[l]);
                Assert.True(BitConverter.SingleToInt32Bits(e[l]) == BitConverter.SingleToInt32Bits(want) || (float.IsNaN(want) && float.IsNaN(e[l])),
                    $"exp({x[l]:R}) lane {l} of {lanes}: {e[l]:R}, scalar {want:R}");
            }
        }
        // bit patterns in groups of the lane count (most groups hold a lane beyond the fast range: the fallback), then
        // groups drawn within the fast range
        int k = 0;
        for (long bits = 0; bits <= uint.MaxValue; bits += 4099)
        {
            x[k++] = BitConverter.UInt32BitsToSingle((uint)bits);
            if (k == lanes) { Check(); k = 0; }
        }
        var rng = new Random(5);
        for (int i = 0; i < 20000; i++)
        {
            for (int l = 0; l < lanes; l++) x[l] = (float)(rng.NextDouble() * 172 - 86);
            Check();
        }
    }

    [Fact]
    public void SiluIsXOverOnePlusExpOfMinusX()
    {
        for (float x = -20f; x < 20f; x += 0.173f)
        {
            Assert.Equal(x / (1f + GgmlMath.Exp(-x)), GgmlMath.Silu(x));
            Assert.True(Math.Abs(GgmlMath.Silu(x) - x / (1 + Math.Exp(-x))) <= 1e-6 * (1 + Math.Abs(x)));
        }
        // 61 = three groups of 16, one of 8 and 5 left (the 16-lane, 8-lane and scalar loops where 512-bit vectors are
        // on; seven groups of 8 where only 256-bit are)
        var g = new float[61];
        var u = new float[61];
        var y = new float[61];
        var rng = new Random(7);
        for (int i = 0; i < g.Length; i++) { g[i] = (float)(rng.NextDouble() * 8 - 4); u[i] = (float)(rng.NextDouble() * 2 - 1); }
        g[3] = 120f; g[12] = -150f; g[30] = float.NaN; g[52] = -200f; // lanes beyond the fast exp range, in vector groups
        fixed (float* pg = g, pu = u, py = y) GgmlMath.SiluMul(pg, pu, py, g.Length);
        for (int i = 0; i < g.Length; i++) Assert.Equal(GgmlMath.Silu(g[i]) * u[i], y[i]);
    }

    [Fact]
    public void DotF32PathsAreBitIdentical()
    {
        var rng = new Random(20250220);
        for (int n = 0; n <= 300; n += n < 140 ? 1 : 16)
        {
            var x = new float[n + 1];
            var y = new float[n + 1];
            for (int i = 0; i < n; i++) { x[i] = (float)(rng.NextDouble() * 2 - 1); y[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 11 == 0 ? 30 : 1); }
            fixed (float* px = x, py = y)
            {
                float s = GgmlMath.DotF32Scalar(px, py, n);
                Assert.Equal(s, GgmlMath.DotF32V128(px, py, n));
                Assert.Equal(s, GgmlMath.DotF32V256(px, py, n));
                Assert.Equal(s, GgmlMath.DotF32V512(px, py, n));
                Assert.Equal(s, GgmlMath.DotF32(px, py, n));
                double d = 0;
                for (int i = 0; i < n; i++) d += (double)x[i] * y[i];
                Assert.True(Math.Abs(s - d) <= 1e-5 * (1 + Math.Abs(d)), $"n={n}: {s:R} vs {d:R}");
            }
        }
    }

    /// <summary>
    /// The algorithm of AttentionGgml written out in scalar code for the last position's query over positions
    /// [first, nKv): the kernel must give exactly these bits (lanes follow absolute positions; the masked ones are zeros).
    /// </summary>
    private static float[] AttentionScalar(float[] q, float[] k, float[] v, int stride, int nKv, int hd, float scale, int first = 0, bool f16 = false)
    {
        int nPad = (nKv + 15) & ~15;
        var p = new float[nPad];
        float max = float.NegativeInfinity;
        if (f16) q = q.Select(x => (float)(Half)x).ToArray(); // ggml converts q to F16 for kq
        fixed (float* pq = q, pk = k)
            for (int c = first; c < nKv; c++) { p[c] = (f16 ? DotF16Cache(pk + c * stride, pq, hd) : GgmlMath.DotF32Scalar(pk + c * stride, pq, hd)) * scale; if (p[c] > max) max = p[c]; }
        double sum = 0;
        fixed (float* pp = p)
            for (int c0 = first & ~15; c0 < nPad; c0 += 16)
            {
                for (int c = c0; c < c0 + 16; c++) p[c] = c >= first && c < nKv ? GgmlMath.Exp(p[c] - max) : 0f;
                sum += GgmlMath.Reduce16(pp + c0);
            }
        float inv = (float)(1.0 / sum);
        for (int c = first; c < nKv; c++) p[c] = f16 ? (float)(Half)(p[c] * inv) : p[c] * inv; // and kq to F16 for kqv
        var outp = new float[hd];
        var lanes = new float[16];
        for (int d = 0; d < hd; d++)
        {
            Array.Clear(lanes);
            for (int c = first; c < nKv; c++) lanes[c & 15] = MathF.FusedMultiplyAdd(v[c * stride + d], p[c], lanes[c & 15]);
            fixed (float* pl = lanes) outp[d] = GgmlMath.Reduce16(pl);
        }
        return outp;
    }

    /// <summary>kq over an F16 cache: tinyBLAS's one 16-lane accumulator when hd is a multiple of 16, else ggml_vec_dot_f16.</summary>
    private static float DotF16Cache(float* k, float* q, int hd)
    {
        if (hd % 16 != 0)
        {
            int np = hd & ~63;
            double sum = GgmlMath.DotF32Scalar(k, q, np);
            for (int i = np; i < hd; i++) sum += k[i] * q[i];
            return (float)sum;
        }
        float* lanes = stackalloc float[16];
        for (int l = 0; l < 16; l++)
        {
            lanes[l] = 0f;
            for (int i = l; i < hd; i += 16) lanes[l] = MathF.FusedMultiplyAdd(k[i], q[i], lanes[l]);
        }
        return GgmlMath.Reduce16(lanes);
    }

    /// <summary>
    /// The F16 cache's attention: keys and values stored as halves, the same bits as the scalar form with q and the
    /// weights rounded to F16 and the dots in <see cref="DotF16Cache"/>'s order; Heads over 3 queries gives each Head's bits.
    /// </summary>
    [Theory]
    [InlineData(64, 1, 0)]
    [InlineData(64, 23, 0)]
    [InlineData(64, 100, 0)]
    [InlineData(64, 133, 37)]
    [InlineData(128, 70, 50)]
    [InlineData(80, 75, 0)]
    [InlineData(96, 48, 19)]
    [InlineData(72, 40, 0)]
    [InlineData(40, 300, 0)]
    public void AttentionOverAnF16CacheMatchesItsScalarForm(int hd, int nKv, int window)
    {
        int stride = 2 * hd;
        var rng = new Random(hd * 1000 + nKv);
        var q = new float[3 * hd];
        var kh = new Half[nKv * stride];
        var vh = new Half[nKv * stride];
        for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 4 - 2);
        for (int i = 0; i < kh.Length; i++) { kh[i] = (Half)(rng.NextDouble() * 4 - 2); vh[i] = (Half)(rng.NextDouble() * 2 - 1); }
        float[] k = kh.Select(x => (float)x).ToArray(), v = vh.Select(x => (float)x).ToArray();
        float scale = 1f / MathF.Sqrt(hd);
        int first = window > 0 ? Math.Max(0, nKv - window) : 0;
        var one = new float[hd];
        var three = new float[3 * hd];
        fixed (float* pq = q, po = one, p3 = three)
        fixed (Half* pk = kh, pv = vh)
        {
            Attention.Heads(pq, 3, pk + hd, pv + hd, stride, nKv, hd, scale, p3, 0f, window, nKv - 1);
            for (int j = 0; j < 3; j++)
            {
                var expected = AttentionScalar(q[(j * hd)..((j + 1) * hd)], k[hd..], v[hd..], stride, nKv, hd, scale, first, f16: true);
                Attention.Head(pq + j * hd, pk + hd, pv + hd, stride, nKv, hd, scale, po, 0f, window, nKv - 1);
                for (int d = 0; d < hd; d++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(expected[d]) == BitConverter.SingleToInt32Bits(one[d]), $"query {j}, d={d}: {one[d]:R} vs scalar form {expected[d]:R}");
                    Assert.True(BitConverter.SingleToInt32Bits(one[d]) == BitConverter.SingleToInt32Bits(three[j * hd + d]), $"query {j}, d={d}: Heads {three[j * hd + d]:R} vs Head {one[d]:R}");
                }
            }
        }
    }

    /// <summary>
    /// A run of consecutive queries over an F16 cache (a prefill's tokens for one head): every query's results are the
    /// bits of Heads for it alone, whether the run widens the shared rows once (it fits 1 MB) or query by query (it does
    /// not), with windows, GQA query heads, head-major rows and rows of a token-major cache.
    /// </summary>
    [Theory]
    [InlineData(64, 1, 0, 5, 1, 1)]
    [InlineData(64, 0, 0, 40, 2, 1)]
    [InlineData(64, 90, 37, 33, 1, 2)]
    [InlineData(128, 7, 50, 70, 4, 1)]
    [InlineData(80, 3, 0, 20, 1, 2)]
    [InlineData(40, 250, 0, 17, 2, 1)]
    [InlineData(128, 1100, 0, 9, 1, 1)] // 1109 rows of 128: more than a run widens at once
    public void AHeadsRunGivesEachQuerysHeadsBits(int hd, int firstPos, int window, int queries, int count, int interleave)
    {
        int stride = interleave * hd, nKv = firstPos + queries;
        var rng = new Random(hd * 7 + firstPos + queries);
        var q = new float[queries * count * hd];
        var kh = new Half[nKv * stride];
        var vh = new Half[nKv * stride];
        for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 4 - 2);
        for (int i = 0; i < kh.Length; i++) { kh[i] = (Half)(rng.NextDouble() * 4 - 2); vh[i] = (Half)(rng.NextDouble() * 2 - 1); }
        float scale = 1f / MathF.Sqrt(hd);
        var run = new float[queries * count * hd];
        var alone = new float[count * hd];
        fixed (float* pq = q, pr = run, pa = alone)
        fixed (Half* pk = kh, pv = vh)
        {
            Half* k = pk + (interleave - 1) * hd, v = pv + (interleave - 1) * hd;
            Attention.HeadsRun(pq, count * hd, queries, count, k, v, stride, hd, scale, pr, count * hd, 0f, window, firstPos);
            for (int j = 0; j < queries; j++)
            {
                int pos = firstPos + j;
                Attention.Heads(pq + j * count * hd, count, k, v, stride, pos + 1, hd, scale, pa, 0f, window, pos);
                for (int i = 0; i < count * hd; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(alone[i]) == BitConverter.SingleToInt32Bits(run[j * count * hd + i]),
                        $"query {j} (position {pos}), element {i}: run {run[j * count * hd + i]:R} vs alone {alone[i]:R}");
            }
        }
    }

    [Theory]
    [InlineData(32, 1, 0)]
    [InlineData(32, 23, 0)]
    [InlineData(64, 16, 0)]
    [InlineData(64, 17, 0)]
    [InlineData(128, 40, 0)]
    [InlineData(80, 9, 0)]
    // 16 positions at a time (AVX-512): whole and partial groups, a window starting mid-group, a head past 64 columns
    [InlineData(64, 100, 0)]
    [InlineData(64, 133, 37)]
    [InlineData(128, 70, 50)]
    [InlineData(80, 75, 0)]
    [InlineData(96, 48, 19)]
    [InlineData(8, 64, 0)]
    [InlineData(64, 48, 32)]  // a window starting on a group: the groups' rows start from zero, no clear
    [InlineData(72, 40, 0)]   // 72 columns: the lane rows reduced 16 columns at a time, then 4
    public void AttentionMatchesItsScalarForm(int hd, int nKv, int window)
    {
        int stride = 2 * hd; // two KV heads interleaved, read the second
        var rng = new Random(hd * 100 + nKv);
        var q = new float[hd];
        var k = new float[nKv * stride];
        var v = new float[nKv * stride];
        for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 4 - 2);
        for (int i = 0; i < k.Length; i++) { k[i] = (float)(rng.NextDouble() * 4 - 2); v[i] = (float)(rng.NextDouble() * 2 - 1); }
        float scale = 1f / MathF.Sqrt(hd);
        int first = window > 0 ? Math.Max(0, nKv - window) : 0;
        var expected = AttentionScalar(q, k[hd..], v[hd..], stride, nKv, hd, scale, first);
        var got = new float[hd];
        fixed (float* pq = q, pk = k, pv = v, pg = got)
        {
            if (window == 0) Attention.Head(pq, pk + hd, pv + hd, stride, nKv, hd, scale, pg);
            else Attention.Head(pq, pk + hd, pv + hd, stride, nKv, hd, scale, pg, 0f, window, nKv - 1);
        }
        for (int d = 0; d < hd; d++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[d]) == BitConverter.SingleToInt32Bits(got[d]), $"d={d}: {got[d]:R} vs scalar form {expected[d]:R}");
        }
    }
}
