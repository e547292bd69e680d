using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Runtime.Kernels;
using Xunit;

namespace Ingot.Kernels.Tests;

public unsafe class DotTests
{
    private delegate float F32Fn(float* a, float* b, int n);
    private delegate float F16F32Fn(Half* a, float* b, int n);
    private delegate float F16F16Fn(Half* a, Half* b, int n);
    private delegate float BF16Fn(ushort* a, float* b, int n);

    // Tolerance: reassociation error of an f32 sum, relative to Σ|a_i b_i| (the scalar reference sums in double).
    private static void Near(double reference, float actual, double absSum, int n, string what)
    {
        double tol = 1e-6 * absSum + 1e-7;
        Assert.True(Math.Abs(reference - actual) <= tol, $"{what} n={n}: ref {reference} got {actual} (tol {tol})");
    }

    [Fact]
    public void F32_AllPaths_MatchScalar_Lengths0To256AndStreamedRows()
    {
        var rng = new Random(1234);
        var paths = new (string, F32Fn)[] { ("V128", Dot.F32V128), ("V256", Dot.F32V256), ("V512", Dot.F32V512), ("dispatch", Dot.F32) };
        // and the lengths from Dot.StreamedElements on, whose loops prefetch the weight row ahead
        foreach (int n in Enumerable.Range(0, 257).Concat([Dot.StreamedElements - 1, Dot.StreamedElements, Dot.StreamedElements + 17, 2048, 4097]))
        {
            using var a = TestData.Floats(rng, n);
            using var b = TestData.Floats(rng, n);
            double exact = 0, abs = 0;
            for (int i = 0; i < n; i++) { exact += (double)a.P[i] * b.P[i]; abs += Math.Abs((double)a.P[i] * b.P[i]); }
            float scalar = Dot.F32Scalar(a.P, b.P, n);
            Near(exact, scalar, abs, n, "Scalar");
            foreach (var (name, f) in paths) Near(scalar, f(a.P, b.P, n), abs, n, name);
        }
    }

    [Fact]
    public void F16F32_AllPaths_MatchScalar_Lengths0To256()
    {
        var rng = new Random(99);
        var paths = new (string, F16F32Fn)[] { ("V128", Dot.F16F32V128), ("V256", Dot.F16F32V256), ("V512", Dot.F16F32V512), ("dispatch", Dot.F16F32) };
        for (int n = 0; n <= 256; n++)
        {
            using var w = TestData.Halves(rng, n);
            using var x = TestData.Floats(rng, n);
            double exact = 0, abs = 0;
            for (int i = 0; i < n; i++) { double p = (double)(float)w.P[i] * x.P[i]; exact += p; abs += Math.Abs(p); }
            float scalar = Dot.F16F32Scalar(w.P, x.P, n);
            Near(exact, scalar, abs, n, "Scalar");
            foreach (var (name, f) in paths) Near(scalar, f(w.P, x.P, n), abs, n, name);
        }
    }

    [Fact]
    public void F16F16_AllPaths_MatchScalar_Lengths0To256()
    {
        var rng = new Random(7);
        var paths = new (string, F16F16Fn)[] { ("V128", Dot.F16F16V128), ("V256", Dot.F16F16V256), ("V512", Dot.F16F16V512), ("dispatch", Dot.F16F16) };
        for (int n = 0; n <= 256; n++)
        {
            using var w = TestData.Halves(rng, n);
            using var x = TestData.Halves(rng, n);
            double exact = 0, abs = 0;
            for (int i = 0; i < n; i++) { double p = (double)(float)w.P[i] * (float)x.P[i]; exact += p; abs += Math.Abs(p); }
            float scalar = Dot.F16F16Scalar(w.P, x.P, n);
            Near(exact, scalar, abs, n, "Scalar");
            foreach (var (name, f) in paths) Near(scalar, f(w.P, x.P, n), abs, n, name);
        }
    }

    /// <summary>
    /// The f16 weights against the activation widened once (VecDotRows.F16F16's form): the bits of F16F16 on the f16
    /// activation, for rows with subnormal weights and rows holding an infinity or a NaN (which the fast widening of the
    /// 512-bit path sends back through the exact one).
    /// </summary>
    [Fact]
    public void F16F16Widened_GivesF16F16sBits_WithSubnormalsInfinitiesAndNaNs()
    {
        var rng = new Random(11);
        foreach (int n in new[] { 0, 1, 15, 16, 31, 32, 33, 64, 100, 256, 2048 })
            for (int special = 0; special < 4; special++) // none, subnormals, an infinity, a NaN
            {
                using var w = TestData.Halves(rng, n);
                using var x = TestData.Halves(rng, n);
                for (int i = 0; i < n && special == 1; i += 3) w.P[i] = BitConverter.UInt16BitsToHalf((ushort)(rng.Next(1, 0x400) | (rng.Next(2) << 15)));
                if (n > 0 && special == 2) w.P[rng.Next(n)] = rng.Next(2) == 0 ? Half.PositiveInfinity : Half.NegativeInfinity;
                if (n > 0 && special == 3) w.P[rng.Next(n)] = BitConverter.UInt16BitsToHalf((ushort)(0x7c00 | rng.Next(1, 0x400)));
                var xw = new float[n];
                for (int i = 0; i < n; i++) xw[i] = (float)x.P[i];
                fixed (float* pxw = xw)
                {
                    float expected = Dot.F16F16(w.P, x.P, n), actual = Dot.F16F16Widened(w.P, pxw, n);
                    Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                        $"n {n} special {special}: {actual} widened, {expected} F16F16");
                }
            }
    }

    /// <summary>
    /// F16Rows (the machine-code loops where they run) against F16F16 per row and token: the same bits for every length
    /// around the 32-element step, rows with subnormals, infinities and NaNs, and more (row, token) pairs than one call of
    /// the machine code takes; rows around multiples of 2 and tokens of 4 (the tiled loop's 2 × 4 and the pairs it leaves).
    /// </summary>
    [Fact]
    public void F16Rows_GiveF16F16sBits_ForEveryRowAndToken()
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64 && Vector256.IsHardwareAccelerated && Fma.IsSupported)
            Assert.True(F16Rows.MachineCodeRuns, "the machine-code loop does not run on this x64 machine");
        if (F16Rows.MachineCodeRuns && Vector512.IsHardwareAccelerated) Assert.True(F16Rows.TileRuns, "the tiled machine-code loop does not run with 512-bit vectors");
        var rng = new Random(12);
        foreach (int cols in new[] { 1, 31, 32, 33, 48, 56, 100, 2048, 2072 })
            foreach (var (rows, tokens) in new[] { (37, 1), (37, 3), (37, 70), (37, 128), (2, 9), (6, 5), (9, 4), (1, 8), (4, 7) })
            {
                using var w = TestData.Halves(rng, rows * cols);
                using var x = TestData.Halves(rng, tokens * cols);
                for (int r = 1; r < rows; r += 4) w.P[r * cols + rng.Next(cols)] = BitConverter.UInt16BitsToHalf((ushort)(rng.Next(1, 0x400) | (rng.Next(2) << 15)));
                w.P[5 % rows * cols + rng.Next(cols)] = Half.NegativeInfinity;
                w.P[9 % rows * cols + rng.Next(cols)] = BitConverter.UInt16BitsToHalf((ushort)(0x7c00 | rng.Next(1, 0x400)));
                var xw = new float[tokens * cols];
                for (int i = 0; i < xw.Length; i++) xw[i] = (float)x.P[i];
                var y = new float[tokens * (rows + 1)];
                fixed (float* pxw = xw, py = y)
                    F16Rows.Rows(w.P, cols * sizeof(ushort), rows, pxw, tokens, cols, py, rows + 1);
                for (int r = 0; r < rows; r++)
                    for (int t = 0; t < tokens; t++)
                    {
                        float expected = Dot.F16F16(w.P + r * cols, x.P + t * cols, cols), actual = y[t * (rows + 1) + r];
                        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                            $"cols {cols} tokens {tokens} row {r} token {t}: {actual} F16Rows, {expected} F16F16");
                    }
            }
    }

    /// <summary>
    /// F32Rows (2 rows × 3 tokens per step in prefill with 512-bit vectors) against Dot.F32 per row and token: the same
    /// bits for every length around the 64- and 16-element steps, rows and tokens around multiples of 2 and 3, and a block
    /// of rows smaller than the rows (8 KB rows).
    /// </summary>
    [Fact]
    public void F32Rows_GiveF32sBits_ForEveryRowAndToken()
    {
        var rng = new Random(13);
        foreach (int cols in new[] { 1, 15, 16, 63, 64, 65, 80, 100, 768, 2048, 2072 })
            foreach (var (rows, tokens) in new[] { (37, 1), (37, 2), (37, 3), (37, 70), (1, 9), (2, 5), (6, 4), (9, 7) })
            {
                using var w = TestData.Floats(rng, rows * cols);
                using var x = TestData.Floats(rng, tokens * cols);
                var y = new float[tokens * (rows + 1)];
                fixed (float* py = y)
                    F32Rows.Rows(w.P, cols * sizeof(float), rows, x.P, tokens, cols, py, rows + 1);
                for (int r = 0; r < rows; r++)
                    for (int t = 0; t < tokens; t++)
                    {
                        float expected = Dot.F32(w.P + r * cols, x.P + t * cols, cols), actual = y[t * (rows + 1) + r];
                        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                            $"cols {cols} rows {rows} tokens {tokens} row {r} token {t}: {actual} F32Rows, {expected} F32");
                    }
            }
    }

    [Fact]
    public void BF16F32_AllPaths_MatchScalar_Lengths0To256()
    {
        var rng = new Random(42);
        var paths = new (string, BF16Fn)[] { ("V128", Dot.BF16F32V128), ("V256", Dot.BF16F32V256), ("V512", Dot.BF16F32V512), ("dispatch", Dot.BF16F32) };
        for (int n = 0; n <= 256; n++)
        {
            using var w = TestData.BFloat16s(rng, n);
            using var x = TestData.Floats(rng, n);
            double exact = 0, abs = 0;
            for (int i = 0; i < n; i++) { double p = (double)BitConverter.Int32BitsToSingle(w.P[i] << 16) * x.P[i]; exact += p; abs += Math.Abs(p); }
            float scalar = Dot.BF16F32Scalar(w.P, x.P, n);
            Near(exact, scalar, abs, n, "Scalar");
            foreach (var (name, f) in paths) Near(scalar, f(w.P, x.P, n), abs, n, name);
        }
    }

    [Fact]
    public void HalfWidening_IsExact_ForAll65536BitPatterns()
    {
        using var h = new NativeBuf<ushort>(65536);
        for (int i = 0; i < 65536; i++) h.P[i] = (ushort)i;
        for (int i = 0; i < 65536; i += 16)
        {
            var (lo, hi) = HalfBits.Load8(h.P + i);
            var v256 = HalfBits.Load8x256(h.P + i);
            var v512 = HalfBits.Load16x512(h.P + i);
            for (int j = 0; j < 16; j++)
            {
                float expected = (float)BitConverter.UInt16BitsToHalf((ushort)(i + j));
                float a = j < 4 ? lo[j] : j < 8 ? hi[j - 4] : float.NaN;
                if (j < 8) AssertSame(expected, a, i + j);
                if (j < 8) AssertSame(expected, v256[j], i + j);
                AssertSame(expected, v512[j], i + j);
            }
        }
        using var y = new NativeBuf<float>(65536);
        Vec.Convert.F16ToF32((Half*)h.P, y.P, 65536);
        for (int i = 0; i < 65536; i++) AssertSame((float)BitConverter.UInt16BitsToHalf((ushort)i), y.P[i], i);
    }

    [Fact]
    public void Pow2To112_IsExactly2To112_AsWasTheQuantsLiteral()
    {
        // The f16 widening scales by 2^112; Quants once spelled it 5.192297e33f, HalfBits 5.192296858534828e33f.
        // Both must round to the same float, 2^112 (0x77800000), for the merge to keep every result.
        int expected = BitConverter.SingleToInt32Bits(MathF.ScaleB(1f, 112));
        Assert.Equal(0x77800000, expected);
        Assert.Equal(expected, BitConverter.SingleToInt32Bits(HalfBits.Pow2To112));
        Assert.Equal(expected, BitConverter.SingleToInt32Bits(5.192297e33f));
    }

    private static void AssertSame(float expected, float actual, int bits)
    {
        if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual), $"0x{bits:x4}: expected NaN, got {actual}");
        else Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual), $"0x{bits:x4}: expected {expected}, got {actual}");
    }

    [Fact]
    public void F32ToF16_RoundsToNearestEven()
    {
        using var x = new NativeBuf<float>(6);
        using var y = new NativeBuf<Half>(6);
        // 1 + 2^-11 is exactly halfway between 1 and 1 + 2^-10: ties to even → 1. 1 + 3*2^-11 → 1 + 2^-9.
        float[] v = { 1f + MathF.Pow(2, -11), 1f + 3 * MathF.Pow(2, -11), 65520f, -0.0f, 1e-8f, 70000f };
        for (int i = 0; i < v.Length; i++) x.P[i] = v[i];
        Vec.Convert.F32ToF16(x.P, y.P, 6);
        Assert.Equal(1f, (float)y.P[0]);
        Assert.Equal(1f + MathF.Pow(2, -9), (float)y.P[1]);
        Assert.True(Half.IsPositiveInfinity(y.P[2]));
        Assert.True(Half.IsNegative(y.P[3]) && (float)y.P[3] == 0);
        Assert.Equal(0f, (float)y.P[4], 0f);
        Assert.True(Half.IsPositiveInfinity(y.P[5]));
    }

    /// <summary>
    /// Runs of floats (the machine code's 32 at a time, then one by one) give (Half)'s bits for every half's neighbourhood:
    /// each half's value, the midpoints to its neighbours (ties to even) and one float ulp either side of them, zeros,
    /// subnormals, overflow and infinities; NaN stays NaN.
    /// </summary>
    [Fact]
    public void F32ToF16_Runs_GiveTheCastsBits()
    {
        var values = HalfNeighbourhoods(7);
        int n = values.Count + 5; // a tail past the last run of 32
        using var x = new NativeBuf<float>(n);
        using var y = new NativeBuf<Half>(n);
        for (int i = 0; i < n; i++) x.P[i] = i < values.Count ? values[i] : 0.5f * i;
        Vec.Convert.F32ToF16(x.P, y.P, n);
        for (int i = 0; i < n; i++)
        {
            ushort expected = BitConverter.HalfToUInt16Bits((Half)x.P[i]), got = BitConverter.HalfToUInt16Bits(y.P[i]);
            Assert.True(expected == got, $"{x.P[i]:R}: 0x{got:x4}, (Half) gives 0x{expected:x4}");
        }
        x.P[0] = float.NaN;
        Vec.Convert.F32ToF16(x.P, y.P, 32);
        Assert.True(Half.IsNaN(y.P[0]));
    }

    /// <summary>
    /// RoundToF16 (runs of 32 in registers, then the tail through halves) gives (float)(Half)'s bits, in place and not:
    /// every half's neighbourhood as above, with lengths that leave tails of 0, 5 and 31.
    /// </summary>
    [Fact]
    public void RoundToF16_GivesTheRoundTripsBits()
    {
        var values = HalfNeighbourhoods(5);
        foreach (int n in new[] { values.Count / 32 * 32, values.Count / 32 * 32 + 5, 31 })
            foreach (bool inPlace in new[] { false, true })
            {
                using var x = new NativeBuf<float>(n);
                using var y = new NativeBuf<float>(n);
                using var tmp = new NativeBuf<Half>(n);
                for (int i = 0; i < n; i++) x.P[i] = values[i];
                float* dst = inPlace ? x.P : y.P;
                Vec.Convert.RoundToF16(x.P, dst, n, tmp.P);
                for (int i = 0; i < n; i++)
                {
                    uint expected = BitConverter.SingleToUInt32Bits((float)(Half)values[i]), got = BitConverter.SingleToUInt32Bits(dst[i]);
                    Assert.True(expected == got, $"n {n}, in place {inPlace}, {values[i]:R}: 0x{got:x8}, (float)(Half) gives 0x{expected:x8}");
                }
            }
    }

    /// <summary>
    /// Floats around every step-th half (each half's value, the midpoints to its neighbour, one float ulp either side of
    /// them, both signs), after zeros, the largest half, overflow, infinities and subnormal-range values.
    /// </summary>
    private static List<float> HalfNeighbourhoods(int step)
    {
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, 1e9f, float.PositiveInfinity, float.NegativeInfinity, 1e-10f, -3e-8f };
        for (int bits = 0; bits < 0x7c00; bits += step)
        {
            float a = (float)BitConverter.UInt16BitsToHalf((ushort)bits), b = (float)BitConverter.UInt16BitsToHalf((ushort)(bits + 1));
            float mid = a + (b - a) / 2;
            foreach (float f in new[] { a, mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid) }) { values.Add(f); values.Add(-f); }
        }
        return values;
    }
}
