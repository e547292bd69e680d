using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>
/// The rows kernels on raw bit patterns (every code, scale and activation value the format can hold, not only what
/// quantizing produces) and token counts that the machine code's slices and AMX's tiles split unevenly: every (row,
/// token) bit-identical to the dispatched vec-dot.
/// </summary>
public unsafe class VecDotRowsBitPatternTests
{
    [Fact]
    public void Q6_K_RowsKernel_GivesTheVecDotBits_OnEveryBitPattern_AndEverySlicing()
    {
        // raw random codes, high bits and scales (−128 included), activations over all of int8 (−128 included), and
        // token counts that the machine code's slices (11 tokens at 768 columns) split unevenly
        const int cols = 768;
        var (w, a, rb, ab, rng) = Raw(GgmlType.Q6_K, GgmlType.Q8_K, cols, 97);
        fixed (byte* pw = w, pa = a)
        {
            for (int i = 0; i < Rows * cols / 256; i++)
            {
                var x = (BlockQ6_K*)pw + i;
                x->D = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                if (i % 7 == 0) for (int k = 0; k < 16; k++) x->Scales[k] = k % 2 == 0 ? sbyte.MinValue : sbyte.MaxValue;
            }
            for (int i = 0; i < MaxTokens * cols / 256; i++) ((BlockQ8_K*)pa)[i].D = (float)(rng.NextDouble() * 0.1);
            for (int i = 0; i < cols; i++) ((BlockQ8_K*)pa)[i / 256].Qs[i % 256] = sbyte.MinValue; // token 0: all −128
            RowsKernelGivesTheVecDotBits(GgmlType.Q6_K, pw, rb, Rows, pa, ab, cols);
        }
        // where AVX512-VNNI and 512-bit vectors are on (x64 Linux), the machine code is what ran
        if (OperatingSystem.IsLinux() && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni)
        {
            Assert.True(VecDotQ6_KQ8_K.MachineCodeRuns);
            Assert.True(Q6_Kx16Rows.MachineCodeRuns); // from 4 tokens (4 groups of 16 rows; rows 64..69 per row)
        }
        // and where AMX runs, the token counts from 32 (37, 257, 300: padded tiles; 70 rows: a short group) took it
        if (Amx.Supported) Assert.True(KQuantAmx.Runs(37) && !KQuantAmx.Runs(31));
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, 101)]
    [InlineData(GgmlType.Q5_K, 103)]
    public void Q4_K_And_Q5_K_RowsKernels_GiveTheVecDotBits_OnEveryBitPattern_AndEverySlicing(GgmlType type, int seed)
    {
        // raw random codes (and Q5_K's fifth bits) and 6-bit scales and mins (all of them reachable), activations over all
        // of int8 (−128 included) with their bsums, and token counts that the machine code's slices (32 tokens at 768
        // columns) split unevenly; 1 token is decode. Both types start a super-block with f16 d, f16 dmin, 12 scale bytes.
        const int cols = 768;
        int blockBytes = QuantTraits.RowBytes(type, 256);
        var (w, a, rb, ab, rng) = Raw(type, GgmlType.Q8_K, cols, seed);
        fixed (byte* pw = w, pa = a)
        {
            for (int i = 0; i < Rows * cols / 256; i++)
            {
                byte* x = pw + i * blockBytes;
                ((Half*)x)[0] = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                ((Half*)x)[1] = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                if (i % 7 == 0) for (int k = 0; k < 12; k++) x[4 + k] = 0xFF; // every scale and min 63
            }
            var ya = (BlockQ8_K*)pa;
            for (int i = 0; i < cols; i++) ya[i / 256].Qs[i % 256] = sbyte.MinValue; // token 0: all −128
            for (int i = 0; i < MaxTokens * cols / 256; i++)
            {
                ya[i].D = (float)(rng.NextDouble() * 0.1);
                for (int j = 0; j < 16; j++)
                {
                    int sum = 0;
                    for (int k = 0; k < 16; k++) sum += ya[i].Qs[16 * j + k];
                    ya[i].BSums[j] = (short)sum;
                }
            }
            RowsKernelGivesTheVecDotBits(type, pw, rb, Rows, pa, ab, cols);
            // Q5_K without its machine code (AVX2 machines, AVX-512 without VNNI): the decoded rows' kernel from 2 tokens,
            // both tile widths, with the mins' steps
            if (type == GgmlType.Q5_K && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                foreach (bool wide in new[] { false, true })
                {
                    if (wide && !(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)) continue;
                    foreach (int rows in new[] { Rows, 7, 5 })
                        foreach (int tokens in new[] { 2, 3, 9, 37 })
                        {
                            var y = new float[tokens * rows];
                            fixed (float* py = y) KQuantWordRows.Rows<Q5_KWords>(pw, rb, rows, pa, ab, tokens, cols, py, rows, wide);
                            AssertVecDotBits(type, pw, rb, rows, pa, ab, cols, tokens, y, wide ? "decoded rows, 512-bit tiles" : "decoded rows, 256-bit tiles");
                        }
                }
        }
        if (OperatingSystem.IsLinux() && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni)
        {
            Assert.True(type == GgmlType.Q4_K ? VecDotQ4_KQ8_K.MachineCodeRuns : VecDotQ5_KQ8_K.MachineCodeRuns);
            // from 2 tokens: rows 0..63 with 16 rows in the vector lanes (slices of 32 tokens), rows 64..69 per row
            Assert.True(Q4_KQ5_Kx16Rows.MachineCodeRuns);
        }
        // and where AMX runs, the token counts from 32 (37, 257, 300: padded tiles; 70 rows: a short group) took it
        if (Amx.Supported) Assert.True(KQuantAmx.Runs(37) && !KQuantAmx.Runs(31));
    }

    [Theory]
    [InlineData(768, 107)]
    [InlineData(96, 109)]
    public void Q8_0_RowsKernel_GivesTheVecDotBits_OnEveryBitPattern_AndEveryPairGrouping(int cols, int seed)
    {
        // raw random weight codes (−128 included, and blocks of all −128), activation codes over −127..127 (the
        // quantizer's range: ggml's vpsignb would wrap −(−128)), random f16 scales; token counts that leave the machine
        // code's groups of 4 pairs 0..3 pairs and an odd token over
        var (w, a, rb, _, rng) = Raw(GgmlType.Q8_0, GgmlType.Q8_0, cols, seed);
        fixed (byte* pw = w, pa = a)
        {
            for (int i = 0; i < Rows * cols / 32; i++)
            {
                var x = (BlockQ8_0*)pw + i;
                x->D = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                if (i % 7 == 0) for (int k = 0; k < 32; k++) x->Qs[k] = sbyte.MinValue;
            }
            for (int i = 0; i < MaxTokens * cols / 32; i++)
            {
                var x = (BlockQ8_0*)pa + i;
                x->D = (Half)(rng.NextDouble() * 0.1);
                for (int k = 0; k < 32; k++) if (x->Qs[k] == sbyte.MinValue || i < cols / 32) x->Qs[k] = -127; // token 0: all −127
            }
            RowsKernelGivesTheVecDotBits(GgmlType.Q8_0, pw, rb, Rows, pa, rb, cols);
        }
        if (OperatingSystem.IsLinux() && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni)
        {
            Assert.True(VecDotQ8_0Q8_0.MachineCodeRuns);
            // from 12 tokens rows 0..63 with 16 rows in the vector lanes (15, 37, 257, 300: an odd last token each), rows 64..69 per row
            Assert.True(Q8_0x16Rows.MachineCodeRuns);
        }
    }

    /// <summary>
    /// Asserts that the type's rows kernel gives every (row, token) the vec-dot's bits, for token counts from decode (1)
    /// to several uneven slices of the K-quant machine code (300; activations for as many at pa).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.IQ4_XS, 768)]
    [InlineData(GgmlType.Q3_K, 768)]
    [InlineData(GgmlType.Q2_K, 768)]
    [InlineData(GgmlType.IQ4_XS, 2560)]
    [InlineData(GgmlType.Q3_K, 2560)]
    [InlineData(GgmlType.Q2_K, 2560)]
    public void IQ4_XS_Q3_K_And_Q2_K_RowsKernels_GiveTheVecDotBits_OnEveryBitPattern(GgmlType type, int cols)
    {
        // raw random codes and 6-bit scales (blocks of all −32 and all 31 included), activations over −127..127 (token 0
        // all −127; ggml's q8_K never holds −128, on which IQ4_XS's sign trick, ggml's too, would flip a product's
        // sign): the AMX path from 32 tokens, else (IQ4_XS, Q3_K) the decoded rows' kernel from 2 tokens (70 rows: 4-row
        // tiles and 2 left; 2560 columns: runs of 8 super-blocks and 2), and the vec-dot below it
        var (w, a, rb, ab, rng) = Raw(type, GgmlType.Q8_K, cols, 107 + (int)type + cols);
        fixed (byte* pw = w, pa = a)
        {
            for (int i = 0; i < Rows * cols / 256; i++)
            {
                byte fill = i % 7 == 0 ? (byte)0 : i % 7 == 1 ? (byte)0xFF : (byte)0x5A;
                if (type == GgmlType.IQ4_XS)
                {
                    var x = (BlockIQ4_XS*)pw + i;
                    x->D = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                    if (fill != 0x5A) { x->ScalesH = (ushort)(fill * 0x101); for (int k = 0; k < 4; k++) x->ScalesL[k] = fill; }
                }
                else if (type == GgmlType.Q2_K)
                {
                    // scales and mins of 0 and 15 (blocks of 0x00 and 0xFF), the raw q8_K bsums (random, as stored)
                    var x = (BlockQ2_K*)pw + i;
                    x->D = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                    x->DMin = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                    if (fill != 0x5A) for (int k = 0; k < 16; k++) x->Scales[k] = fill;
                }
                else
                {
                    var x = (BlockQ3_K*)pw + i;
                    x->D = (Half)((rng.NextDouble() * 2 - 1) * 0.01);
                    if (fill != 0x5A) for (int k = 0; k < 12; k++) x->Scales[k] = fill;
                }
            }
            var ya = (BlockQ8_K*)pa;
            for (int i = 0; i < MaxTokens * cols / 256; i++) ya[i].D = (float)(rng.NextDouble() * 0.1);
            for (int i = 0; i < MaxTokens * cols; i++) if (ya[i / 256].Qs[i % 256] == sbyte.MinValue) ya[i / 256].Qs[i % 256] = -127;
            for (int i = 0; i < cols; i++) ya[i / 256].Qs[i % 256] = -127;
            RowsKernelGivesTheVecDotBits(type, pw, rb, Rows, pa, ab, cols);
            // the decoded rows' 256-bit tiles (what AVX2 machines run; 4-row groups of 2 + 2, 2 + 1 + 1 per token, 2, 1)
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && type is GgmlType.IQ4_XS or GgmlType.Q3_K)
                foreach (int rows in new[] { Rows, 7, 6, 5 })
                    foreach (int tokens in new[] { 2, 3, 9 })
                    {
                        var y = new float[tokens * rows];
                        fixed (float* py = y)
                            if (type == GgmlType.IQ4_XS) KQuantWordRows.Rows<IQ4_XSWords>(pw, rb, rows, pa, ab, tokens, cols, py, rows, wide: false);
                            else KQuantWordRows.Rows<Q3_KWords>(pw, rb, rows, pa, ab, tokens, cols, py, rows, wide: false);
                        AssertVecDotBits(type, pw, rb, rows, pa, ab, cols, tokens, y, "256-bit tiles");
                    }
            // IQ4_XS's 512-bit vec-dot (decode where AVX-512 BW is on) has the 256-bit one's bits, −128 included
            for (int i = 0; i < cols; i++) ya[i / 256].Qs[i % 256] = sbyte.MinValue;
            for (int t = 0; t < (type == GgmlType.IQ4_XS ? 8 : 0); t++)
                for (int r = 0; r < Rows; r++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(VecDotIQ4_XSQ8_K.V256(pw + r * rb, pa + t * ab, cols)), BitConverter.SingleToInt32Bits(VecDotIQ4_XSQ8_K.V512(pw + r * rb, pa + t * ab, cols)));
        }
        if (Amx.Supported) Assert.True(KQuantAmx.Runs(37) && !KQuantAmx.Runs(31));
        // where AVX2 is on, IQ4_XS's and Q3_K's decoded rows' kernel is what ran from 2 tokens (with AVX-512 BW its 512-bit
        // tiles; its 256-bit tiles checked above)
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) Assert.True(KQuantWordRows.Runs(2) && !KQuantWordRows.Runs(1));
    }

    private const int Rows = 70, MaxTokens = 300;

    /// <summary>Rows weight rows of type and MaxTokens activation rows of act, all random bytes (the tests then fix scales).</summary>
    private static (byte[] W, byte[] A, int RowBytes, int ActBytes, Random Rng) Raw(GgmlType type, GgmlType act, int cols, int seed)
    {
        int rb = QuantTraits.RowBytes(type, cols), ab = QuantTraits.RowBytes(act, cols);
        var rng = new Random(seed);
        var w = new byte[Rows * rb];
        var a = new byte[MaxTokens * ab];
        rng.NextBytes(w);
        rng.NextBytes(a);
        return (w, a, rb, ab, rng);
    }

    /// <summary>y (tokens × rows, rows apart) has the vec-dot's bits for every (row, token).</summary>
    private static void AssertVecDotBits(GgmlType type, byte* pw, int rb, int rows, byte* pa, int ab, int cols, int tokens, float[] y, string what)
    {
        var dot = VecDot.For(type);
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
            {
                float v = dot(pw + r * rb, pa + t * ab, cols);
                Assert.True(BitConverter.SingleToInt32Bits(y[t * rows + r]) == BitConverter.SingleToInt32Bits(v),
                    $"{type}, {what}, rows {rows} tokens {tokens}: token {t} row {r}: {y[t * rows + r]:R} vs vec-dot {v:R}");
            }
    }

    private static void RowsKernelGivesTheVecDotBits(GgmlType type, byte* pw, int rb, int rows, byte* pa, int ab, int cols)
    {
        foreach (int tokens in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 15, 37, 257, 300 })
        {
            var y = new float[tokens * rows];
            fixed (float* py = y)
                VecDotRows.For(type)(pw, rb, rows, pa, ab, tokens, cols, py, rows);
            AssertVecDotBits(type, pw, rb, rows, pa, ab, cols, tokens, y, "rows kernel");
        }
    }
}
