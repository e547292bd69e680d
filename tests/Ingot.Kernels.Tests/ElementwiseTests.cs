using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Kernels.Tests;

public unsafe class ElementwiseTests
{
    [Fact]
    public void RmsNorm_MatchesDoubleReference_Lengths1To256()
    {
        var rng = new Random(5);
        for (int n = 1; n <= 256; n++)
        {
            using var x = TestData.Floats(rng, n, 3f);
            using var w = TestData.Floats(rng, n);
            using var y = new NativeBuf<float>(n);
            Norms.RmsNorm(x.P, w.P, y.P, n, 1e-5f);
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double)x.P[i] * x.P[i];
            double scale = 1 / Math.Sqrt(ss / n + 1e-5);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(x.P[i] * scale * w.P[i] - y.P[i]) <= 1e-6 * (1 + Math.Abs(y.P[i])), $"n={n} i={i}");
            // in place gives the same bits
            Norms.RmsNorm(x.P, w.P, x.P, n, 1e-5f);
            for (int i = 0; i < n; i++) Assert.Equal(y.P[i], x.P[i]);
        }
    }

    [Fact]
    public void LayerNorm_MatchesDoubleReference()
    {
        var rng = new Random(6);
        foreach (int n in new[] { 1, 2, 7, 64, 255, 256 })
        {
            using var x = TestData.Floats(rng, n, 2f);
            for (int i = 0; i < n; i++) x.P[i] += 0.5f; // non-zero mean
            using var w = TestData.Floats(rng, n);
            using var b = TestData.Floats(rng, n);
            using var y = new NativeBuf<float>(n);
            Norms.LayerNorm(x.P, w.P, b.P, y.P, n, 1e-5f);
            double mean = 0; for (int i = 0; i < n; i++) mean += x.P[i]; mean /= n;
            double v = 0; for (int i = 0; i < n; i++) v += (x.P[i] - mean) * (x.P[i] - mean); v /= n;
            for (int i = 0; i < n; i++)
            {
                double r = (x.P[i] - mean) / Math.Sqrt(v + 1e-5) * w.P[i] + b.P[i];
                Assert.True(Math.Abs(r - y.P[i]) <= 2e-5 * (1 + Math.Abs(r)), $"n={n} i={i}: {r} vs {y.P[i]}");
            }
        }
    }

    [Fact]
    public void Softmax_SumsToOne_AndMatchesReference()
    {
        var rng = new Random(8);
        foreach (int n in new[] { 1, 3, 16, 100, 256 })
        {
            using var x = TestData.Floats(rng, n, 20f);
            var copy = x.Span.ToArray();
            Softmax.InPlace(x.P, n);
            double max = copy.Max(), sum = copy.Sum(v => Math.Exp(v - max));
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double r = Math.Exp(copy[i] - max) / sum;
                Assert.True(Math.Abs(r - x.P[i]) <= 1e-6 * (1 + r), $"n={n} i={i}");
                total += x.P[i];
            }
            Assert.True(Math.Abs(total - 1) < 1e-5);
        }
    }

    [Fact]
    public void SwiGlu_IsSiluTimesUp()
    {
        var rng = new Random(9);
        using var g = TestData.Floats(rng, 257, 12f);
        using var u = TestData.Floats(rng, 257);
        using var y = new NativeBuf<float>(257);
        Activations.SwiGlu(g.P, u.P, y.P, 257);
        for (int i = 0; i < 257; i++)
        {
            double s = g.P[i] / (1 + Math.Exp(-(double)g.P[i]));
            Assert.True(Math.Abs(s * u.P[i] - y.P[i]) <= 1e-6 * (1 + Math.Abs(s)), $"i={i}");
        }
        Assert.Equal(0f, Activations.Silu(0f));
        Assert.Equal(-0f, Activations.Silu(-100f), 6);
        Assert.Equal(100f, Activations.Silu(100f));
    }

    [Fact]
    public void Gelu_TableVariant_IsF16RoundedTanhGelu_WithClamps()
    {
        // Every f16 input in (-10, 10): table value == f16(gelu(f16(x))), with 1 + 0.044715·x·x as the fused multiply-add GCC
        // makes of ggml_gelu_f32 (-ffp-contract=fast). The unfused form differs in exactly one entry of libggml's table.
        int unfusedDiffers = 0;
        for (int h = 0; h < 65536; h++)
        {
            Half hx = BitConverter.UInt16BitsToHalf((ushort)h);
            float x = (float)hx;
            if (!float.IsFinite(x) || x <= -10f || x >= 10f) continue;
            float expected = (float)(Half)(0.5f * x * (1.0f + MathF.Tanh(0.7978845608f * x * MathF.FusedMultiplyAdd(0.044715f * x, x, 1.0f))));
            Assert.Equal(expected, Activations.Gelu(x));
            if ((float)(Half)(0.5f * x * (1.0f + MathF.Tanh(0.7978845608f * x * (1.0f + 0.044715f * x * x)))) != expected) unfusedDiffers++;
        }
        Assert.Equal(1, unfusedDiffers);
        Assert.Equal(0f, Activations.Gelu(-10f));
        Assert.Equal(0f, Activations.Gelu(-1e6f));
        Assert.Equal(10f, Activations.Gelu(10f));
        Assert.Equal(123.5f, Activations.Gelu(123.5f));
        // Between f16 grid points the input is rounded to f16 first: 1.0001 → f16 1.0.
        Assert.Equal(Activations.Gelu(1f), Activations.Gelu(1.0001f));
        // Exact variant vs the erf-free tanh formula in double, and table vs exact within f16 precision.
        var rng = new Random(10);
        for (int i = 0; i < 10000; i++)
        {
            float x = (float)(rng.NextDouble() * 24 - 12);
            double r = 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x)));
            Assert.True(Math.Abs(r - Activations.GeluExact(x)) <= 1e-6 * (1 + Math.Abs(r)), $"x={x}");
            Assert.True(Math.Abs(r - Activations.Gelu(x)) <= 2e-3 * (1 + Math.Abs(r)), $"table x={x}");
        }
    }

    [Fact]
    public void GeGlu_IsGeluTimesUp()
    {
        var rng = new Random(11);
        using var g = TestData.Floats(rng, 100, 4f);
        using var u = TestData.Floats(rng, 100);
        using var y = new NativeBuf<float>(100);
        using var y2 = new NativeBuf<float>(100);
        Activations.GeGlu(g.P, u.P, y.P, 100);
        Activations.GeGluExact(g.P, u.P, y2.P, 100);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(Activations.Gelu(g.P[i]) * u.P[i], y.P[i]);
            Assert.Equal(Activations.GeluExact(g.P[i]) * u.P[i], y2.P[i]);
        }
    }

    [Fact]
    public void VecOps_MatchScalar_Lengths0To256()
    {
        var rng = new Random(12);
        for (int n = 0; n <= 256; n++)
        {
            using var a = TestData.Floats(rng, n);
            using var b = TestData.Floats(rng, n);
            using var y = new NativeBuf<float>(n);
            Vec.Add(a.P, b.P, y.P, n);
            for (int i = 0; i < n; i++) Assert.Equal(a.P[i] + b.P[i], y.P[i]);
            Vec.Mul(a.P, b.P, y.P, n);
            for (int i = 0; i < n; i++) Assert.Equal(a.P[i] * b.P[i], y.P[i]);
            Vec.Scale(a.P, 0.37f, y.P, n);
            for (int i = 0; i < n; i++) Assert.Equal(a.P[i] * 0.37f, y.P[i]);
            for (int i = 0; i < n; i++) y.P[i] = b.P[i];
            Vec.AddScaled(a.P, 1.5f, y.P, n);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(b.P[i] + a.P[i] * 1.5f - y.P[i]) <= 1e-6f);
        }
    }

    [Fact]
    public void KvCache_IsAlignedZeroedAndLaidOutPerLayer()
    {
        using var kv = new KvCache(3, 16, 40);
        for (int l = 0; l < 3; l++)
        {
            Assert.Equal(0, (long)kv.K(l) % 64);
            Assert.Equal(0, (long)kv.V(l) % 64);
            Assert.Equal(16 * 40, (int)(kv.V(l) - kv.K(l)));
            for (int i = 0; i < 16 * 40; i++) { Assert.Equal(0f, kv.K(l)[i]); Assert.Equal(0f, kv.V(l)[i]); }
        }
        Assert.Equal(2 * 16 * 40, (int)(kv.K(1) - kv.K(0)));
        kv.V(2)[16 * 40 - 1] = 5f; // last float is writable
        Assert.Throws<ArgumentOutOfRangeException>(() => kv.K(3));
        kv.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kv.K(0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void MatVec_F32AndF16_MatchRowDots(int threads)
    {
        var rng = new Random(13);
        using var pool = new WorkerPool(threads);
        foreach (var (rows, cols) in new[] { (1, 1), (3, 5), (4, 8), (13, 37), (64, 256), (67, 130), (9, 4100) })
        {
            using var w = TestData.Floats(rng, rows * cols);
            using var wh = TestData.Halves(rng, rows * cols);
            using var x = TestData.Floats(rng, cols);
            using var y = new NativeBuf<float>(rows);
            MatVec.F32(pool, w.P, x.P, y.P, rows, cols);
            for (int r = 0; r < rows; r++)
            {
                double exact = 0, abs = 0;
                for (int c = 0; c < cols; c++) { double p = (double)w.P[r * cols + c] * x.P[c]; exact += p; abs += Math.Abs(p); }
                Assert.True(Math.Abs(exact - y.P[r]) <= 1e-6 * abs + 1e-7, $"F32 {rows}x{cols} row {r}");
            }
            MatVec.F16(pool, wh.P, x.P, y.P, rows, cols);
            for (int r = 0; r < rows; r++)
            {
                double exact = 0, abs = 0;
                for (int c = 0; c < cols; c++) { double p = (double)(float)wh.P[r * cols + c] * (float)(Half)x.P[c]; exact += p; abs += Math.Abs(p); }
                Assert.True(Math.Abs(exact - y.P[r]) <= 1e-6 * abs + 1e-7, $"F16 {rows}x{cols} row {r}");
            }
        }
    }
}
