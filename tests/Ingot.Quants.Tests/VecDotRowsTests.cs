using System.Runtime.Intrinsics.X86;
using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>
/// The rows kernels (VecDotRows: a tile of weight rows × tokens per call, what generated matmuls call): every result
/// against the scalar reference, and bit-identical whatever the tiling (rows per call, tokens per call), so decode,
/// prefill and any thread split produce the same logits.
/// </summary>
[Collection(Q4_0x16Tests.Q4_0x16Registry)]
public unsafe class VecDotRowsTests
{
    public static IEnumerable<object[]> Cases() =>
        from t in QuantTraits.WeightTypesArray
        where t is not (GgmlType.F32 or GgmlType.F16)
        from cols in QuantTraits.BlockSize(t) == 256 ? new[] { 256, 768 } : new[] { 96, 256, 768, 2048 }
        select new object[] { t, cols };

    private sealed class Data
    {
        public required byte[] W, A;
        public required int RowBytes, ActBytes;
        public required double[] Magnitude; // Σ|w·a| per (token, row), for the tolerance
    }

    private static Data Make(GgmlType type, int rows, int tokens, int cols, int seed)
    {
        var act = QuantTraits.ActivationType(type);
        int rb = QuantTraits.RowBytes(type, cols), ab = QuantTraits.RowBytes(act, cols);
        var rng = new Random(seed);
        var w = new byte[rows * rb];
        var a = new byte[tokens * ab];
        var wf = new float[rows * cols];
        var af = new float[tokens * cols];
        var x = new float[cols];
        fixed (byte* pw = w, pa = a)
        fixed (float* px = x, pwf = wf, paf = af)
        {
            for (int r = 0; r < rows; r++)
            {
                // row 3 is all zeros (scale 0); the others get occasional outliers
                for (int i = 0; i < cols; i++) x[i] = r == 3 ? 0 : (float)(rng.NextDouble() * 2 - 1) * (i % 41 == 0 ? 6f : 1f);
                Quantize.WeightRow(type, px, pw + r * rb, cols);
                Dequantize.Row(type, pw + r * rb, pwf + r * cols, cols);
            }
            for (int t = 0; t < tokens; t++)
            {
                for (int i = 0; i < cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                Quantize.ActivationRow(act, px, pa + t * ab, cols);
                Dequantize.Row(act, pa + t * ab, paf + t * cols, cols);
            }
        }
        var mag = new double[tokens * rows];
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
            {
                double m = 0;
                for (int i = 0; i < cols; i++) m += Math.Abs((double)wf[r * cols + i] * af[t * cols + i]);
                mag[t * rows + r] = m;
            }
        return new Data { W = w, A = a, RowBytes = rb, ActBytes = ab, Magnitude = mag };
    }

    /// <summary>y[t * yStride + r] has the vec-dot's bits for every row r &lt; rows and token t &lt; tokens.</summary>
    /// <summary>Nothing outside the rows × tokens tile of y (NaN-filled, maxRows per token) was written.</summary>
    private static void AssertNothingOutside(float[] y, int rows, int tokens, int maxRows, int maxTokens)
    {
        for (int t = 0; t < tokens; t++)
            for (int r = rows; r < maxRows; r++) Assert.True(float.IsNaN(y[t * maxRows + r]), $"rows {rows} tokens {tokens}: wrote row {r}");
        Assert.True(tokens == maxTokens || float.IsNaN(y[tokens * maxRows]), $"rows {rows} tokens {tokens}: wrote token {tokens}");
    }

    private static void AssertVecDotBits(delegate*<byte*, byte*, int, float> dot, byte* pw, byte* pa, Data d, int cols, float[] y, int rows, int tokens, int yStride, string what)
    {
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
            {
                float v = dot(pw + r * d.RowBytes, pa + t * d.ActBytes, cols);
                Assert.True(BitConverter.SingleToInt32Bits(y[t * yStride + r]) == BitConverter.SingleToInt32Bits(v),
                    $"{what}: token {t} row {r}: {y[t * yStride + r]:R} vs vec-dot {v:R}");
            }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryRowAndToken_MatchesTheScalarReference(GgmlType type, int cols)
    {
        const int rows = 37, tokens = 3;
        var d = Make(type, rows, tokens, cols, 7 + (int)type + cols);
        var y = new float[tokens * rows];
        var scalar = VecDot.ScalarFor(type);
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* py = y)
        {
            VecDotRows.For(type)(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, rows);
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++)
                {
                    float expected = scalar(pw + r * d.RowBytes, pa + t * d.ActBytes, cols);
                    double tol = 2e-6 * d.Magnitude[t * rows + r] + 1e-6;
                    Assert.True(Math.Abs(y[t * rows + r] - expected) <= tol,
                        $"{type} cols {cols} token {t} row {r}: {y[t * rows + r]:R} vs scalar {expected:R} (tol {tol:G3})");
                }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Results_DoNotDependOnTheTiling(GgmlType type, int cols)
    {
        const int rows = 37, tokens = 3;
        var d = Make(type, rows, tokens, cols, 11 + (int)type);
        var whole = new float[tokens * rows];
        var pieces = new float[tokens * rows];
        var kernel = VecDotRows.For(type);
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* pwh = whole, ppc = pieces)
        {
            kernel(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, pwh, rows);
            // one token per call, rows in uneven tiles (5, 1, 31), output stride as a KV cache would use it
            int[] tiles = [5, 1, 31];
            for (int t = 0; t < tokens; t++)
            {
                int r0 = 0;
                foreach (int n in tiles)
                {
                    kernel(pw + r0 * d.RowBytes, d.RowBytes, n, pa + t * d.ActBytes, d.ActBytes, 1, cols, ppc + t * rows + r0, rows);
                    r0 += n;
                }
            }
        }
        for (int i = 0; i < whole.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(pieces[i]),
                $"{type} cols {cols} token {i / rows} row {i % rows}: one call {whole[i]:R}, tiles {pieces[i]:R}");
    }

    [Fact]
    public void Q4_0_AvxVnniAndAvx2Variants_AndTheTwoTokenTile_GiveIdenticalResults()
    {
        if (!Avx2.IsSupported) return; // neither variant can run; the per-row fallback is covered above
        const int rows = 9, cols = 1024;
        var d = Make(GgmlType.Q4_0, rows, 1, cols, 17);
        byte* prepared = stackalloc byte[cols / 256 * Q4_0Groups.PreparedBytes];
        fixed (byte* pw = d.W, pa = d.A)
        {
            Q4_0Groups.Prepare(pa, cols, prepared);
            for (int r = 0; r < rows; r++)
            {
                float avx2 = Q4_0Groups.RowAvx2(pw + r * d.RowBytes, prepared, cols / 256);
                float expected = VecDot.ScalarFor(GgmlType.Q4_0)(pw + r * d.RowBytes, pa, cols);
                Assert.True(Math.Abs(avx2 - expected) <= 2e-6 * d.Magnitude[r] + 1e-6, $"row {r}: avx2 {avx2:R} vs scalar {expected:R}");
                // the two-token register tile gives each token exactly the one-token result
                float first = Q4_0Groups.Row2Avx2(pw + r * d.RowBytes, prepared, prepared, cols / 256, out float second);
                Assert.Equal(BitConverter.SingleToInt32Bits(avx2), BitConverter.SingleToInt32Bits(first));
                Assert.Equal(BitConverter.SingleToInt32Bits(avx2), BitConverter.SingleToInt32Bits(second));
                if (AvxVnni.IsSupported)
                {
                    float vnni = Q4_0Groups.RowVnni(pw + r * d.RowBytes, prepared, cols / 256);
                    Assert.Equal(BitConverter.SingleToInt32Bits(avx2), BitConverter.SingleToInt32Bits(vnni));
                    first = Q4_0Groups.Row2Vnni(pw + r * d.RowBytes, prepared, prepared, cols / 256, out second);
                    Assert.Equal(BitConverter.SingleToInt32Bits(avx2), BitConverter.SingleToInt32Bits(first));
                    Assert.Equal(BitConverter.SingleToInt32Bits(avx2), BitConverter.SingleToInt32Bits(second));
                }
            }
        }
    }

    [Fact]
    public void Q4_0_Quads_AvxVnniAndAvx2_OneAndTwoTokens_GiveEachRowItsRowBits()
    {
        // the 4-row lockstep kernels: lane r is row r's FMA chain, so every output equals Row's bits for that row
        if (!Avx2.IsSupported) return;
        const int rows = 4, cols = 1280;
        var d = Make(GgmlType.Q4_0, rows, 2, cols, 23);
        int groups = cols / 256;
        byte* p0 = stackalloc byte[groups * Q4_0Groups.PreparedBytes];
        byte* p1 = stackalloc byte[groups * Q4_0Groups.PreparedBytes];
        float* y0 = stackalloc float[4];
        float* y1 = stackalloc float[4];
        fixed (byte* pw = d.W, pa = d.A)
        {
            Q4_0Groups.Prepare(pa, cols, p0);
            Q4_0Groups.Prepare(pa + d.ActBytes, cols, p1);
            var ahead = new Q4_0Groups.QuadAhead(groups);
            var expected = new int[8];
            for (int r = 0; r < 4; r++)
            {
                expected[r] = BitConverter.SingleToInt32Bits(Q4_0Groups.RowAvx2(pw + r * d.RowBytes, p0, groups));
                expected[4 + r] = BitConverter.SingleToInt32Bits(Q4_0Groups.RowAvx2(pw + r * d.RowBytes, p1, groups));
            }
            void Check(string what, bool two)
            {
                for (int r = 0; r < 4; r++)
                {
                    Assert.True(expected[r] == BitConverter.SingleToInt32Bits(y0[r]), $"{what} token 0 row {r}: {y0[r]:R} vs Row {BitConverter.Int32BitsToSingle(expected[r]):R}");
                    if (two) Assert.True(expected[4 + r] == BitConverter.SingleToInt32Bits(y1[r]), $"{what} token 1 row {r}: {y1[r]:R} vs Row {BitConverter.Int32BitsToSingle(expected[4 + r]):R}");
                }
            }
            Q4_0Groups.QuadAvx2(pw, d.RowBytes, p0, groups, y0, ahead); Check("QuadAvx2", false);
            Q4_0Groups.Quad2Avx2(pw, d.RowBytes, p0, p1, groups, y0, y1, ahead); Check("Quad2Avx2", true);
            if (AvxVnni.IsSupported)
            {
                Q4_0Groups.QuadVnni(pw, d.RowBytes, p0, groups, y0, ahead); Check("QuadVnni", false);
                Q4_0Groups.Quad2Vnni(pw, d.RowBytes, p0, p1, groups, y0, y1, ahead); Check("Quad2Vnni", true);
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_1)]
    public void Block32Types_DecodedToQ8_0_ThroughTheAvx2RowsKernel_GiveTheVecDotBits(GgmlType type)
    {
        // what AVX2 machines (x86-64-v3 builds) run for these types' prefill: the rows decoded to Q8_0 blocks, Q8_0's AVX2
        // rows kernel (4- and 2-token tiles, a lone token), the min types' activations copied to Q8_0 blocks and their
        // mins' sums added; taken here with the machine code switched off
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) return;
        const int maxTokens = 19, maxRows = 37;
        foreach (int cols in new[] { 768, 96 })
        {
            var d = Make(type, maxRows, maxTokens, cols, 53 + (int)type + cols);
            var y = new float[maxTokens * maxRows];
            var dot = VecDot.For(type);
            fixed (byte* pw = d.W, pa = d.A)
            fixed (float* py = y)
                foreach (int rows in new[] { 1, 2, 37 })
                    foreach (int tokens in new[] { 2, 3, 8, 9, 19 })
                    {
                        Array.Fill(y, float.NaN);
                        bool ran = type is GgmlType.Q4_1 or GgmlType.Q5_1
                            ? type == GgmlType.Q4_1
                                ? VecDotQ8_0Q8_0.DecodedMinRows<Q4_1Block>(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows, machine: false)
                                : VecDotQ8_0Q8_0.DecodedMinRows<Q5_1Block>(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows, machine: false)
                            : type == GgmlType.Q5_0
                                ? VecDotQ8_0Q8_0.DecodedRows<Q5_0Block>(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows, machine: false)
                                : VecDotQ8_0Q8_0.DecodedRows<IQ4_NLBlock>(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows, machine: false);
                        Assert.True(ran, $"{type}: the decoded rows' path did not run");
                        AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, maxRows, $"{type} AVX2, cols {cols} rows {rows} tokens {tokens}");
                        AssertNothingOutside(y, rows, tokens, maxRows, maxTokens);
                    }
        }
    }

    [Fact]
    public void BF16_256BitTiles_GiveTheV256VecDotBits()
    {
        // what AVX2 machines (x86-64-v3 builds) run for BF16 prefill: 2 rows × 2 tokens per step, an odd last token with
        // a discarded twin, an odd last row per token; lengths with and without the scalar tail
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) return; // only where the 256-bit form runs
        const int maxRows = 13, maxTokens = 7;
        foreach (int cols in new[] { 512, 520, 96 })
        {
            var d = Make(GgmlType.BF16, maxRows, maxTokens, cols, 41 + cols);
            var y = new float[maxTokens * maxRows];
            fixed (byte* pw = d.W, pa = d.A)
            fixed (float* py = y)
                foreach (int rows in new[] { 2, 3, 5, 13 })
                    foreach (int tokens in new[] { 2, 3, 4, 7 })
                    {
                        Array.Fill(y, float.NaN);
                        Ingot.Runtime.Kernels.BF16Rows.Rows(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows, wide: false);
                        AssertVecDotBits(&VecDotBF16BF16.V256, pw, pa, d, cols, y, rows, tokens, maxRows, $"BF16 256-bit tiles, cols {cols} rows {rows} tokens {tokens}");
                        AssertNothingOutside(y, rows, tokens, maxRows, maxTokens);
                    }
        }
    }

    public static IEnumerable<object[]> RowCounts() =>
        from t in new[] { GgmlType.Q4_0, GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_0, GgmlType.IQ4_NL, GgmlType.BF16, GgmlType.IQ4_XS, GgmlType.Q3_K, GgmlType.Q2_K, GgmlType.Q4_1, GgmlType.Q5_1 }
        from rows in new[] { 1, 3, 4, 5, 7, 8, 13 }
        select new object[] { t, rows };

    [Theory]
    [MemberData(nameof(RowCounts))]
    public void RowsKernel_IsBitIdenticalToTheDispatchedVecDot_ForEveryRowCountAndTokenCount(GgmlType type, int rows)
    {
        // quads with an overlapping last quad, single rows, the two- and four-token tiles and a lone token: all the
        // vec-dot's bits
        const int maxTokens = 7;
        int cols = type == GgmlType.Q4_0 ? 768 : 512;
        var d = Make(type, rows, maxTokens, cols, 31 + rows);
        var y = new float[maxTokens * rows];
        var kernel = VecDotRows.For(type);
        var dot = VecDot.For(type);
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* py = y)
            for (int tokens = 1; tokens <= maxTokens; tokens++)
            {
                kernel(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, rows);
                AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, rows, $"{type} rows {rows} tokens {tokens}, rows kernel");
            }
    }

    [Theory]
    [InlineData(GgmlType.Q4_1, 768)]
    [InlineData(GgmlType.Q5_1, 768)]
    [InlineData(GgmlType.Q4_1, 96)]
    [InlineData(GgmlType.Q5_1, 160)]
    public void MinTypes_RowsKernel_GiveTheVecDotBits_ForPrefillTokenCounts(GgmlType type, int cols)
    {
        // Q4_1 / Q5_1 from two tokens: q8_0dots512's groups of 4 token pairs, a short group and an odd last token, plus
        // the mins' sums 32 tokens per pass (a short pass included); rows of 3 and 5 blocks too
        const int maxTokens = 19, maxRows = 37;
        var d = Make(type, maxRows, maxTokens, cols, 29 + (int)type);
        var y = new float[maxTokens * maxRows];
        var kernel = VecDotRows.For(type);
        var dot = VecDot.For(type);
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* py = y)
            foreach (int rows in new[] { 1, 2, 37 })
                foreach (int tokens in new[] { 2, 8, 9, 16, 19 })
                {
                    Array.Fill(y, float.NaN);
                    kernel(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows);
                    AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, maxRows, $"{type} rows {rows} tokens {tokens}");
                    AssertNothingOutside(y, rows, tokens, maxRows, maxTokens);
                }
        if (OperatingSystem.IsLinux() && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni)
            Assert.True(VecDotQ8_0Q8_0.ReadsPairs(2));
    }

    [Fact]
    public void Q4_0_GroupedKernel_IsBitIdenticalToTheDispatchedVecDot()
    {
        // Both follow llama.cpp's repacked-Q4_0 order (one FMA per block, in order): the grouped AVX2 kernel, its 8-row
        // batches and the per-row vec-dot give the same bits, and so do decode and prefill.
        const int rows = 19, cols = 512;
        var d = Make(GgmlType.Q4_0, rows, 2, cols, 5);
        var y = new float[2 * rows];
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* py = y)
        {
            VecDotRows.Q4_0Q8_0(pw, d.RowBytes, rows, pa, d.ActBytes, 2, cols, py, rows);
            for (int t = 0; t < 2; t++)
                for (int r = 0; r < rows; r++)
                {
                    float v = VecDot.Q4_0Q8_0(pw + r * d.RowBytes, pa + t * d.ActBytes, cols);
                    float s = VecDot.ScalarFor(GgmlType.Q4_0)(pw + r * d.RowBytes, pa + t * d.ActBytes, cols);
                    Assert.True(BitConverter.SingleToInt32Bits(y[t * rows + r]) == BitConverter.SingleToInt32Bits(v), $"token {t} row {r}: rows kernel {y[t * rows + r]:R} vs vec-dot {v:R}");
                    Assert.True(BitConverter.SingleToInt32Bits(s) == BitConverter.SingleToInt32Bits(v), $"token {t} row {r}: scalar {s:R} vs vec-dot {v:R}");
                }
        }
    }

    [Theory]
    [InlineData(96)]
    [InlineData(768)]
    public void Q4_0_Gemm_EveryInt8Form_GivesTheVecDotBits_ForEveryRowAndTokenCount(int cols)
    {
        // tokens in the lanes: full and partial groups of 8 and an odd group; an odd last row (recomputed by an
        // overlapping step) and a lone row
        if (!GemmQ4_0Q8_0.Supported) return; // the AVX2 GEMM cannot run; the rows kernels above cover this machine
        const int maxRows = 67, maxTokens = 41;
        var d = Make(GgmlType.Q4_0, maxRows, maxTokens, cols, 43 + cols);
        var y = new float[maxTokens * maxRows];
        var dot = VecDot.For(GgmlType.Q4_0);
        // AVX2 everywhere; AVX-VNNI and AMX where the machine has them (AMX: Sapphire Rapids and later, Linux)
        var forms = new List<GemmForm> { GemmForm.Avx2 };
        if (AvxVnni.IsSupported) forms.Add(GemmForm.AvxVnni);
        if (Amx.Supported) forms.Add(GemmForm.Amx);
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* py = y)
            foreach (GemmForm form in forms)
                foreach (int rows in new[] { 1, 2, 3, 4, 5, 64, 67 })
                    foreach (int tokens in new[] { 8, 9, 16, 17, 24, 41 })
                    {
                        Array.Fill(y, float.NaN);
                        GemmQ4_0Q8_0.Rows(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows, form);
                        AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, maxRows, $"{form} rows {rows} tokens {tokens}, gemm");
                        AssertNothingOutside(y, rows, tokens, maxRows, maxTokens);
                    }
    }

    [Theory]
    [InlineData(96)]
    [InlineData(224)]
    [InlineData(768)]
    public void Q4_0_Amx_GivesTheVecDotBits_ForEveryRowAndTokenCount(int cols)
    {
        const GgmlType type = GgmlType.Q4_0;
        // AMX (Sapphire Rapids and later, Linux): full and short tiles of 16 tokens, one and two per call; row tiles of
        // 16 full and partial. Elsewhere the dispatched rows kernels run the same cases.
        const int maxRows = 67, maxTokens = 41;
        var d = Make(type, maxRows, maxTokens, cols, 71 + cols + (int)type);
        var y = new float[maxTokens * maxRows];
        var dot = VecDot.For(type);
        fixed (byte* pw = d.W, pa = d.A)
        fixed (float* py = y)
            foreach (int rows in new[] { 1, 2, 3, 16, 17, 64, 67 })
                foreach (int tokens in new[] { 16, 17, 32, 33, 41 })
                {
                    Array.Fill(y, float.NaN);
                    if (!Amx.Supported) VecDotRows.For(type)(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows);
                    else AmxGemm.Rows<Q4_0AmxTiles>(pw, d.RowBytes, rows, pa, d.ActBytes, tokens, cols, py, maxRows);
                    AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, maxRows, $"amx {Amx.Supported} rows {rows} tokens {tokens}");
                    AssertNothingOutside(y, rows, tokens, maxRows, maxTokens);
                }
    }

    [Fact]
    public void Q4_0_PreparedLanes_AsGeneratedCodeCallsThem_GiveTheVecDotBits()
    {
        // the generated code prepares the token lanes once per matmul input (PrepareForGemm) and every tile reads them
        // (Q4_0Q8_0Lanes): the lanes for an AVX GEMM, the scales table for AMX (which reads the q8_0 rows); below 8
        // tokens nothing is prepared and the rows kernels read the q8_0 rows
        const int rows = 70, cols = 768, maxTokens = 20;
        var d = Make(GgmlType.Q4_0, rows, maxTokens, cols, 61);
        var y = new float[maxTokens * rows];
        var lanes = new byte[Q8_0Lanes.Bytes(maxTokens, cols)];
        var dot = VecDot.For(GgmlType.Q4_0);
        fixed (byte* pw = d.W, pa = d.A, pl = lanes)
        fixed (float* py = y)
            foreach (int tokens in new[] { 1, 7, 8, 17, 20 })
            {
                Array.Clear(lanes);
                Q8_0Lanes.PrepareForGemm(pa, d.ActBytes, tokens, cols, pl);
                Assert.Equal(GemmQ4_0Q8_0.ReadsLanes(tokens) || Q4_0AmxTiles.Runs(tokens), Array.Exists(lanes, b => b != 0));
                // tiles of 64 rows and the rest, as the generated bodies call them
                VecDotRows.Q4_0Q8_0Lanes(pw, d.RowBytes, 64, pa, pl, d.ActBytes, tokens, cols, py, rows);
                VecDotRows.Q4_0Q8_0Lanes(pw + 64 * d.RowBytes, d.RowBytes, rows - 64, pa, pl, d.ActBytes, tokens, cols, py + 64, rows);
                AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, rows, $"tokens {tokens}, prepared lanes");
            }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.IQ4_NL)]
    public void Q8_0Activation_PreparedPairs_AsGeneratedCodeCallsThem_GiveTheVecDotBits(GgmlType type)
    {
        // the generated code prepares the q8_0 rows in token pairs once per matmul input (Q8_0Pairs.Prepare) and every
        // 64-row tile reads them (Q8_0Q8_0Pairs, …); an odd last token and a lone token read the q8_0 rows
        delegate*<byte*, nint, int, byte*, byte*, nint, int, int, float*, nint, void> kernel = type switch
        {
            GgmlType.Q8_0 => &VecDotRows.Q8_0Q8_0Pairs,
            GgmlType.Q5_0 => &VecDotRows.Q5_0Q8_0Pairs,
            _ => &VecDotRows.IQ4_NLQ8_0Pairs,
        };
        PreparedGiveTheVecDotBits(type, [1, 2, 3, 8, 9], &Q8_0Pairs.Bytes, &Q8_0Pairs.Prepare, kernel, tokens => tokens > 1 && VecDotQ8_0Q8_0.MachineCodeRuns);
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.IQ4_XS)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q2_K)]
    public void KQuant_PreparedTiles_AsGeneratedCodeCallsThem_GiveTheVecDotBits(GgmlType type)
    {
        // the generated code prepares the q8_K rows as AMX tiles once per matmul input (Q8_KTiles.Prepare) and every
        // 64-row tile reads them (Q4_KQ8_KTiles, …); below KQuantAmx.MinTokens nothing is prepared and the rows kernels
        // read the q8_K rows
        delegate*<byte*, nint, int, byte*, byte*, nint, int, int, float*, nint, void> kernel = type switch
        {
            GgmlType.Q4_K => &VecDotRows.Q4_KQ8_KTiles,
            GgmlType.Q5_K => &VecDotRows.Q5_KQ8_KTiles,
            GgmlType.IQ4_XS => &VecDotRows.IQ4_XSQ8_KTiles,
            GgmlType.Q3_K => &VecDotRows.Q3_KQ8_KTiles,
            GgmlType.Q2_K => &VecDotRows.Q2_KQ8_KTiles,
            _ => &VecDotRows.Q6_KQ8_KTiles,
        };
        PreparedGiveTheVecDotBits(type, [1, 31, 32, 33, 50], &Q8_KTiles.Bytes, &Q8_KTiles.Prepare, kernel, KQuantAmx.Runs);
    }

    /// <summary>
    /// For each token count: the activations prepared once (prepare into bytes(max) bytes; written exactly when
    /// prepares says so), then two calls of the kernel as generated bodies make them (a 64-row tile and the other 6
    /// rows), every (row, token) the vec-dot's bits.
    /// </summary>
    private static void PreparedGiveTheVecDotBits(GgmlType type, int[] tokenCounts, delegate*<int, int, nint> bytes, delegate*<byte*, nint, int, int, byte*, void> prepare,
        delegate*<byte*, nint, int, byte*, byte*, nint, int, int, float*, nint, void> kernel, Func<int, bool> prepares)
    {
        const int rows = 70, cols = 768;
        int maxTokens = tokenCounts.Max();
        var d = Make(type, rows, maxTokens, cols, 67);
        var y = new float[maxTokens * rows];
        var prepared = new byte[bytes(maxTokens, cols)];
        var dot = VecDot.For(type);
        fixed (byte* pw = d.W, pa = d.A, pp = prepared)
        fixed (float* py = y)
            foreach (int tokens in tokenCounts)
            {
                Array.Clear(prepared);
                prepare(pa, d.ActBytes, tokens, cols, pp);
                Assert.Equal(prepares(tokens), Array.Exists(prepared, b => b != 0));
                kernel(pw, d.RowBytes, 64, pa, pp, d.ActBytes, tokens, cols, py, rows);
                kernel(pw + 64 * d.RowBytes, d.RowBytes, rows - 64, pa, pp, d.ActBytes, tokens, cols, py + 64, rows);
                AssertVecDotBits(dot, pw, pa, d, cols, y, rows, tokens, rows, $"{type} tokens {tokens}, prepared activations");
            }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(768)]
    [InlineData(1030)]
    public void F16_RowsKernel_GivesDotF16F16sBits(int cols)
    {
        // the activation widened once per call, then one conversion per weight: the same accumulators, the same bits
        const int rows = 5, tokens = 3;
        var rng = new Random(cols);
        var w = new Half[rows * cols];
        var a = new Half[tokens * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (Half)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < a.Length; i++) a[i] = (Half)(rng.NextDouble() * 8 - 4);
        w[7] = Half.Epsilon; a[11] = (Half)(-65504f); // a subnormal weight and the largest activation
        var y = new float[tokens * rows];
        fixed (Half* pw = w, pa = a)
        fixed (float* py = y)
        {
            VecDotRows.For(GgmlType.F16)((byte*)pw, cols * 2, rows, (byte*)pa, cols * 2, tokens, cols, py, rows);
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++)
                {
                    float v = Ingot.Runtime.Kernels.Dot.F16F16(pw + r * cols, pa + t * cols, cols);
                    Assert.True(BitConverter.SingleToInt32Bits(y[t * rows + r]) == BitConverter.SingleToInt32Bits(v),
                        $"cols {cols} token {t} row {r}: rows kernel {y[t * rows + r]:R} vs Dot.F16F16 {v:R}");
                }
        }
    }
}
