using Ingot.Formats;
using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Kernels.Tests;

public unsafe class RopeAttentionTests
{
    // Double-precision rope: angle = pos * base^(-2i/nRot) / ff[i]. The kernel iterates the angle in float as ggml
    // does, so the angle error grows like pos * i * 2^-24; the tolerance allows for that.
    private static double[] RopeReference(float[] v, int nRot, int pos, double theta, float[]? ff, bool neox)
    {
        var r = v.Select(f => (double)f).ToArray();
        int half = nRot / 2;
        for (int i = 0; i < half; i++)
        {
            double a = pos * Math.Pow(theta, -2.0 * i / nRot) / (ff?[i] ?? 1.0);
            int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
            double x0 = v[i0], x1 = v[i1];
            r[i0] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
            r[i1] = x0 * Math.Sin(a) + x1 * Math.Cos(a);
        }
        return r;
    }

    // ggml's recipe, re-derived here independently: float theta *= powf(base, -2/n) per pair, cosf/sinf.
    private static float[] RopeGgmlFloat(float[] v, int nRot, int pos, float theta, float[]? ff, bool neox)
    {
        var r = (float[])v.Clone();
        float scale = MathF.Pow(theta, -2.0f / nRot);
        float t = pos;
        int half = nRot / 2;
        for (int i = 0; i < half; i++)
        {
            float a = ff != null ? t / ff[i] : t;
            float c = MathF.Cos(a), s = MathF.Sin(a);
            int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
            float x0 = v[i0], x1 = v[i1];
            r[i0] = x0 * c - x1 * s;
            r[i1] = x0 * s + x1 * c;
            t *= scale;
        }
        return r;
    }

    [Theory]
    [InlineData(64, 64, 10000f, false, false)]
    [InlineData(64, 64, 10000f, true, false)]
    [InlineData(64, 16, 10000f, true, false)]   // gptneox partial rotary
    [InlineData(8, 8, 10000f, false, false)]    // stories260K
    [InlineData(64, 64, 500000f, false, true)]  // llama-3.1 rope_freqs
    [InlineData(128, 128, 1000000f, true, false)]
    [InlineData(64, 44, 10000f, false, false)]  // 22 pairs: vector steps and a scalar tail, then pass-through dims
    [InlineData(64, 44, 10000f, true, false)]
    public void Rope_MatchesReferences_AndTableAgrees(int headDim, int nRot, float theta, bool neox, bool withFactors)
    {
        var rng = new Random(headDim * 31 + nRot);
        float[]? ff = withFactors ? Enumerable.Range(0, nRot / 2).Select(i => i < nRot / 4 ? 1f : 1f + i * 0.25f).ToArray() : null;
        var table = RopeTableFor(200, nRot, theta, ff);
        foreach (int pos in new[] { 0, 1, 2, 15, 31, 127, 199 })
        {
            float[] v = Enumerable.Range(0, headDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] a = (float[])v.Clone(), b = (float[])v.Clone();
            fixed (float* pa = a, pb = b, pf = ff)
            {
                if (neox) Rope.ApplyNeox(pa, headDim, nRot, pos, theta, pf); else Rope.ApplyNorm(pa, headDim, nRot, pos, theta, pf);
                if (neox) table.ApplyNeox(pb, headDim, pos); else table.ApplyNorm(pb, headDim, pos);
            }
            double[] rd = RopeReference(v, nRot, pos, theta, ff, neox);
            float[] rf = RopeGgmlFloat(v, nRot, pos, theta, ff, neox);
            for (int i = 0; i < headDim; i++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(a[i]), BitConverter.SingleToInt32Bits(b[i])); // table == direct, bit for bit
                Assert.True(Math.Abs(rf[i] - a[i]) <= 1e-6f, $"ggml-float pos {pos} i {i}: {rf[i]} vs {a[i]}");
                double tol = 2e-6 + pos * 2e-7 * Math.Sqrt(2); // float angle recursion error
                Assert.True(Math.Abs(rd[i] - a[i]) <= tol, $"double pos {pos} i {i}: {rd[i]} vs {a[i]}");
                if (i >= nRot) Assert.Equal(v[i], a[i]); // pass-through dims
            }
        }
    }

    private static RopeTable RopeTableFor(int maxPos, int nRot, float theta, float[]? ff)
    {
        fixed (float* pf = ff) return new RopeTable(maxPos, nRot, theta, pf);
    }

    [Fact]
    public void Rope_RejectsOddOrOversizedRotaryDims()
    {
        var v = new float[8];
        fixed (float* p = v)
        {
            float* q = p;
            Assert.Throws<ArgumentOutOfRangeException>(() => Rope.ApplyNorm(q, 8, 7, 0, 10000f, null));
            Assert.Throws<ArgumentOutOfRangeException>(() => Rope.ApplyNeox(q, 8, 10, 0, 10000f, null));
        }
    }

    [Theory]
    [InlineData(64, 1, 0f, 0)]
    [InlineData(64, 16, 0f, 0)]
    [InlineData(64, 37, 50f, 0)]   // gemma2 soft-cap
    [InlineData(64, 37, 0f, 8)]    // sliding window
    [InlineData(8, 128, 0f, 0)]
    [InlineData(64, 40, 50f, 8)]
    [InlineData(64, 600, 0f, 0)]   // the value pass in more than one chunk
    [InlineData(64, 600, 0f, 299)] // a window that starts inside a group of 16, over more than one chunk
    public void Attention_MatchesAFloat64Reference_AndIgnoresLaterPositions(int headDim, int nKv, float softCap, int window)
    {
        var rng = new Random(headDim + nKv);
        int kvStride = headDim * 2; // two KV heads interleaved per position, we read head 1
        using var q = TestData.Floats(rng, headDim, 1f);
        using var k = TestData.Floats(rng, nKv * kvStride, 1.5f);
        using var v = TestData.Floats(rng, nKv * kvStride);
        using var outA = new NativeBuf<float>(headDim);
        using var outB = new NativeBuf<float>(headDim);
        float scale = 1f / MathF.Sqrt(headDim) * 4f; // sharpen so the max moves around
        for (int queryPos = Math.Max(0, nKv - 3); queryPos < nKv; queryPos++)
        {
            if (softCap == 0 && window == 0 && queryPos == nKv - 1)
                Attention.Head(q.P, k.P + headDim, v.P + headDim, kvStride, nKv, headDim, scale, outA.P);
            else
                Attention.Head(q.P, k.P + headDim, v.P + headDim, kvStride, queryPos + 1, headDim, scale, outA.P, softCap, window, queryPos);
            // The same query with more (later) positions in the cache: they are masked, the result must not change.
            Attention.Head(q.P, k.P + headDim, v.P + headDim, kvStride, nKv, headDim, scale, outB.P, softCap, window, queryPos);
            // Independent naive reference in double.
            int first = window > 0 ? Math.Max(0, queryPos - window + 1) : 0;
            var s = new double[queryPos + 1];
            double max = double.NegativeInfinity;
            for (int t = first; t <= queryPos; t++)
            {
                double d = 0;
                for (int j = 0; j < headDim; j++) d += (double)q.P[j] * k.P[t * kvStride + headDim + j];
                if (softCap > 0) d = softCap * Math.Tanh(d / softCap);
                d *= scale;
                s[t] = d;
                max = Math.Max(max, d);
            }
            double sum = 0;
            for (int t = first; t <= queryPos; t++) sum += Math.Exp(s[t] - max);
            for (int j = 0; j < headDim; j++)
            {
                double r = 0;
                for (int t = first; t <= queryPos; t++) r += Math.Exp(s[t] - max) / sum * v.P[t * kvStride + headDim + j];
                Assert.True(Math.Abs(r - outA.P[j]) <= 1e-5, $"pos {queryPos} j {j}: {r} vs {outA.P[j]}");
                Assert.Equal(outA.P[j], outB.P[j]);
            }
        }
    }

    [Theory]
    [InlineData(2, 64, 37, 0f, 0)]
    [InlineData(4, 64, 16, 0f, 0)]
    [InlineData(4, 64, 600, 0f, 0)]   // more than one chunk of the value pass
    [InlineData(4, 64, 600, 0f, 300)] // a window that starts inside a group of 16
    [InlineData(3, 64, 290, 30f, 0)]  // soft-cap
    [InlineData(4, 8, 40, 0f, 0)]     // head size below 16: no whole groups
    [InlineData(1, 64, 33, 0f, 5)]
    public void Heads_AreEachQueryHead_BitForBit(int count, int headDim, int nKv, float softCap, int window)
    {
        // the query heads of one KV head in one pass over its keys and values give each head's Head result exactly
        var rng = new Random(count * 1000 + nKv);
        int kvStride = headDim * 3; // three KV heads per position, we read head 1
        using var q = TestData.Floats(rng, count * headDim, 1f);
        using var k = TestData.Floats(rng, nKv * kvStride, 1.5f);
        using var v = TestData.Floats(rng, nKv * kvStride);
        using var together = new NativeBuf<float>(count * headDim);
        using var alone = new NativeBuf<float>(headDim);
        float scale = 1f / MathF.Sqrt(headDim) * 4f;
        foreach (int queryPos in new[] { nKv - 1, nKv / 2, 0 })
        {
            Attention.Heads(q.P, count, k.P + headDim, v.P + headDim, kvStride, nKv, headDim, scale, together.P, softCap, window, queryPos);
            for (int j = 0; j < count; j++)
            {
                Attention.Head(q.P + j * headDim, k.P + headDim, v.P + headDim, kvStride, nKv, headDim, scale, alone.P, softCap, window, queryPos);
                for (int d = 0; d < headDim; d++)
                    Assert.True(BitConverter.SingleToInt32Bits(alone.P[d]) == BitConverter.SingleToInt32Bits(together.P[j * headDim + d]),
                        $"query {j} pos {queryPos} d {d}: {alone.P[d]} vs {together.P[j * headDim + d]}");
            }
        }
    }

    /// <summary>
    /// ScatterHeads into an F16 cache puts each row's (Half) rounding at its cell, head-major, and nothing elsewhere:
    /// head size 64 takes the non-temporal machine code where it runs, 40 the ordinary conversion; cells not in order.
    /// </summary>
    [Theory]
    [InlineData(64)]
    [InlineData(40)]
    public void ScatterHeads_F16_WritesEachRowsHalvesAtItsCell(int headDim)
    {
        const int kvHeads = 3, ctx = 16, n = 3;
        using var cache = new KvCache(2, ctx, kvHeads * headDim, KvCacheType.F16);
        using var k = new NativeBuf<float>(n * kvHeads * headDim);
        using var v = new NativeBuf<float>(n * kvHeads * headDim);
        for (int i = 0; i < n * kvHeads * headDim; i++) { k.P[i] = MathF.Sin(i * 0.37f) * 3.3f; v.P[i] = MathF.Cos(i * 0.11f) * 70000f / (1 + i); }
        int[] tok = [0, 5, 8, 1, 0, 12]; // (first cell, position) per token: cells 5, 9, 12
        fixed (int* t = tok) cache.ScatterHeads(1, k.P, v.P, t, n, kvHeads, headDim);
        Half* keys = (Half*)cache.Keys(1), values = (Half*)cache.Values(1);
        int[] cells = [5, 9, 12];
        for (int g = 0; g < kvHeads; g++)
            for (int c = 0; c < ctx; c++)
            {
                int t = Array.IndexOf(cells, c);
                for (int d = 0; d < headDim; d++)
                {
                    nint at = ((nint)g * ctx + c) * headDim + d;
                    ushort ek = t < 0 ? (ushort)0 : BitConverter.HalfToUInt16Bits((Half)k.P[(t * kvHeads + g) * headDim + d]);
                    ushort ev = t < 0 ? (ushort)0 : BitConverter.HalfToUInt16Bits((Half)v.P[(t * kvHeads + g) * headDim + d]);
                    Assert.True(ek == BitConverter.HalfToUInt16Bits(keys[at]), $"key head {g} cell {c} [{d}]");
                    Assert.True(ev == BitConverter.HalfToUInt16Bits(values[at]), $"value head {g} cell {c} [{d}]");
                }
            }
        Assert.True(((Half*)cache.Keys(0))[5 * headDim] == (Half)0, "layer 0 untouched");
    }

    /// <summary>
    /// LargePages gives zeroed, writable memory: on Linux from 2 MB on a mapping aligned to 2 MB (advised for huge
    /// pages), below that NativeMemory's; a KV cache of that size reads zeros in every cell and keeps what is written.
    /// </summary>
    [Theory]
    [InlineData(1 << 20)]
    [InlineData((5 << 20) + 4096 + 64)]
    public void LargePages_AreZeroedAndAligned(int bytes)
    {
        byte* p = LargePages.Alloc((nuint)bytes, out void* mapping, out nuint mapped);
        try
        {
            bool huge = OperatingSystem.IsLinux() && bytes >= 2 << 20;
            Assert.Equal(huge, mapping != null);
            Assert.Equal(0, (int)((nint)p & (huge ? (2 << 20) - 1 : 63)));
            if (huge) Assert.True((byte*)mapping <= p && p + bytes <= (byte*)mapping + mapped, "inside the mapping");
            Assert.True(new ReadOnlySpan<byte>(p, bytes).IndexOfAnyExcept((byte)0) < 0, "zeroed");
            p[0] = 1;
            p[bytes - 1] = 2;
            Assert.Equal(2, p[bytes - 1]);
        }
        finally { LargePages.Free(p, mapping, mapped); }
        using var cache = new KvCache(2, 1024, 768, KvCacheType.F16); // 6 MB: mapped
        Half* k = (Half*)cache.Keys(1);
        Assert.True(k[1023 * 768 + 767] == (Half)0);
        k[1023 * 768 + 767] = (Half)3;
        Assert.True(((Half*)cache.Keys(1))[1023 * 768 + 767] == (Half)3);
    }
}
