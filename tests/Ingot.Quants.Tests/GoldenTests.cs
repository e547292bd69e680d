using System.Runtime.CompilerServices;
using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>Bit-exactness against llama.cpp's own outputs (shared/golden/kernels, 4 rows × 512).</summary>
public unsafe class GoldenTests
{
    [Fact]
    public void BlockStructSizesMatchGgmlTraits()
    {
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q4_0), Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q4_1), Unsafe.SizeOf<BlockQ4_1>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q5_0), Unsafe.SizeOf<BlockQ5_0>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q5_1), Unsafe.SizeOf<BlockQ5_1>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q8_0), Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q8_1), Unsafe.SizeOf<BlockQ8_1>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q8_K), Unsafe.SizeOf<BlockQ8_K>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q2_K), Unsafe.SizeOf<BlockQ2_K>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q3_K), Unsafe.SizeOf<BlockQ3_K>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q4_K), Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q5_K), Unsafe.SizeOf<BlockQ5_K>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.Q6_K), Unsafe.SizeOf<BlockQ6_K>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.IQ4_NL), Unsafe.SizeOf<BlockIQ4_NL>());
        Assert.Equal(GgmlTypeTraits.BlockBytes(GgmlType.IQ4_XS), Unsafe.SizeOf<BlockIQ4_XS>());
        Assert.Equal(18, Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(292, Unsafe.SizeOf<BlockQ8_K>());
    }

    [Fact]
    public void ActivationPartnersAreGgmlVecDotTypes()
    {
        Assert.Equal(GgmlType.Q8_0, QuantTraits.ActivationType(GgmlType.Q4_0));
        Assert.Equal(GgmlType.Q8_0, QuantTraits.ActivationType(GgmlType.IQ4_NL));
        Assert.Equal(GgmlType.Q8_1, QuantTraits.ActivationType(GgmlType.Q5_1));
        Assert.Equal(GgmlType.Q8_K, QuantTraits.ActivationType(GgmlType.IQ4_XS));
        Assert.Equal(GgmlType.Q8_K, QuantTraits.ActivationType(GgmlType.Q2_K));
        Assert.Equal(GgmlType.F16, QuantTraits.ActivationType(GgmlType.F16));
        Assert.Equal(GgmlType.BF16, QuantTraits.ActivationType(GgmlType.BF16));
        Assert.Equal(GgmlType.F32, QuantTraits.ActivationType(GgmlType.F32));
    }

    [Theory]
    [MemberData(nameof(Golden.WeightTypes), MemberType = typeof(Golden))]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.Q8_K)]
    public void DequantizeIsBitExact(GgmlType type)
    {
        byte[] q = Golden.Bytes(type, "quant.bin");
        float[] expected = Golden.Floats(type, "dequant.f32");
        int rowBytes = QuantTraits.RowBytes(type, Golden.Cols);
        Assert.Equal(Golden.Rows * rowBytes, q.Length);
        var got = new float[Golden.Rows * Golden.Cols];
        fixed (byte* pq = q)
        fixed (float* pg = got)
            for (int r = 0; r < Golden.Rows; r++)
                Dequantize.Row(type, pq + r * rowBytes, pg + r * Golden.Cols, Golden.Cols);
        AssertBitsEqual(expected, got, type.ToString());
    }

    [Theory]
    [MemberData(nameof(Golden.WeightTypes), MemberType = typeof(Golden))]
    public void WeightQuantizeIsBitExact(GgmlType type)
    {
        float[] input = Golden.Floats(type, "input.f32");
        byte[] expected = Golden.Bytes(type, "quant.bin");
        int rowBytes = QuantTraits.RowBytes(type, Golden.Cols);
        var got = new byte[Golden.Rows * rowBytes];
        fixed (float* pi = input)
        fixed (byte* pg = got)
            for (int r = 0; r < Golden.Rows; r++)
                Quantize.WeightRow(type, pi + r * Golden.Cols, pg + r * rowBytes, Golden.Cols);
        AssertBytesEqual(expected, got, type, rowBytes);
    }

    [Theory]
    [MemberData(nameof(Golden.WeightTypes), MemberType = typeof(Golden))]
    public void ActivationQuantizeIsBitExact(GgmlType type)
    {
        GgmlType act = QuantTraits.ActivationType(type);
        float[] a = Golden.Floats(type, "act.f32");
        byte[] expected = Golden.Bytes(type, "act_quant.bin");
        var got = new byte[QuantTraits.RowBytes(act, Golden.Cols)];
        fixed (float* pa = a)
        fixed (byte* pg = got)
            Quantize.ActivationRow(act, pa, pg, Golden.Cols);
        AssertBytesEqual(expected, got, act, got.Length);
    }

    [Theory]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.Q8_K)]
    public void ActivationOnlyTypesQuantizeBitExact(GgmlType type)
    {
        float[] input = Golden.Floats(type, "input.f32");
        byte[] expected = Golden.Bytes(type, "quant.bin");
        int rowBytes = QuantTraits.RowBytes(type, Golden.Cols);
        var got = new byte[Golden.Rows * rowBytes];
        fixed (float* pi = input)
        fixed (byte* pg = got)
            for (int r = 0; r < Golden.Rows; r++)
                Quantize.ActivationRow(type, pi + r * Golden.Cols, pg + r * rowBytes, Golden.Cols);
        AssertBytesEqual(expected, got, type, rowBytes);
    }

    [Theory]
    [MemberData(nameof(Golden.WeightTypes), MemberType = typeof(Golden))]
    public void VecDotMatchesGgml(GgmlType type)
    {
        byte[] q = Golden.Bytes(type, "quant.bin");
        byte[] act = Golden.Bytes(type, "act_quant.bin");
        float[] expected = Golden.Floats(type, "dot.f32");
        int rowBytes = QuantTraits.RowBytes(type, Golden.Cols);
        var best = VecDot.For(type);
        var scalar = VecDot.ScalarFor(type);
        fixed (byte* pq = q)
        fixed (byte* pa = act)
            for (int r = 0; r < Golden.Rows; r++)
            {
                float e = expected[r];
                float s = scalar(pq + r * rowBytes, pa, Golden.Cols);
                float b = best(pq + r * rowBytes, pa, Golden.Cols);
                Assert.True(MathF.Abs(s - e) <= 1e-5f * MathF.Abs(e), $"{type} row {r}: scalar {s:R} vs ggml {e:R}");
                Assert.True(MathF.Abs(b - e) <= 1e-5f * MathF.Abs(e), $"{type} row {r}: dispatched {b:R} vs ggml {e:R}");
                foreach (var (name, fp) in SimdPathTests.PathsOf(type))
                {
                    float v = ((delegate*<byte*, byte*, int, float>)fp)(pq + r * rowBytes, pa, Golden.Cols);
                    Assert.True(MathF.Abs(v - e) <= 1e-5f * MathF.Abs(e), $"{type} row {r}: {name} {v:R} vs ggml {e:R}");
                }
            }
    }

    /// <summary>
    /// The types whose vec-dot follows ggml's x86 vec_dot (the AVX2 code, also what an AVX-512 build runs for them; for
    /// Q8_0 and Q5_0 the same order as tinyBLAS): every path reproduces ggml's dot.f32 bit for bit. Not Q4_0 (the
    /// repacked q4_0_8x8 kernels' order) nor IQ4_NL (tinyBLAS's, which its vec_dot does not share); both stay within
    /// <see cref="VecDotMatchesGgml"/>'s 1e-5.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.IQ4_XS)]
    public void VecDotIsBitExactWithGgml(GgmlType type)
    {
        byte[] q = Golden.Bytes(type, "quant.bin");
        byte[] act = Golden.Bytes(type, "act_quant.bin");
        float[] expected = Golden.Floats(type, "dot.f32");
        int rowBytes = QuantTraits.RowBytes(type, Golden.Cols);
        fixed (byte* pq = q)
        fixed (byte* pa = act)
            for (int r = 0; r < Golden.Rows; r++)
            {
                Assert.Equal(expected[r], VecDot.ScalarFor(type)(pq + r * rowBytes, pa, Golden.Cols));
                Assert.Equal(expected[r], VecDot.For(type)(pq + r * rowBytes, pa, Golden.Cols));
                foreach (var (name, fp) in SimdPathTests.PathsOf(type))
                {
                    float v = ((delegate*<byte*, byte*, int, float>)fp)(pq + r * rowBytes, pa, Golden.Cols);
                    Assert.True(BitConverter.SingleToInt32Bits(v) == BitConverter.SingleToInt32Bits(expected[r]), $"{type} row {r}: {name} {v:R} vs ggml {expected[r]:R}");
                }
            }
    }

    /// <summary>The rows kernels the generated matmuls call (VecDotRows) against ggml's dots: all rows × one token in one call.</summary>
    [Theory]
    [MemberData(nameof(Golden.WeightTypes), MemberType = typeof(Golden))]
    public void RowsKernelMatchesGgml(GgmlType type)
    {
        if (type is GgmlType.F32 or GgmlType.F16) return; // float weights use Dot.F32 / Dot.F16F16 row by row
        byte[] q = Golden.Bytes(type, "quant.bin");
        byte[] act = Golden.Bytes(type, "act_quant.bin");
        float[] expected = Golden.Floats(type, "dot.f32");
        int rowBytes = QuantTraits.RowBytes(type, Golden.Cols);
        var got = new float[Golden.Rows];
        fixed (byte* pq = q)
        fixed (byte* pa = act)
        fixed (float* pg = got)
            VecDotRows.For(type)(pq, rowBytes, Golden.Rows, pa, 0, 1, Golden.Cols, pg, 0);
        for (int r = 0; r < Golden.Rows; r++)
            Assert.True(MathF.Abs(got[r] - expected[r]) <= 1e-5f * MathF.Abs(expected[r]), $"{type} row {r}: rows kernel {got[r]:R} vs ggml {expected[r]:R}");
    }

    private static void AssertBitsEqual(float[] expected, float[] got, string what)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"{what}: element {i} (row {i / Golden.Cols}, col {i % Golden.Cols}): expected {expected[i]:R}, got {got[i]:R}");
    }

    private static void AssertBytesEqual(byte[] expected, byte[] got, GgmlType type, int rowBytes)
    {
        Assert.Equal(expected.Length, got.Length);
        int bb = QuantTraits.BlockBytes(type);
        int bad = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != got[i]) { bad++; if (first < 0) first = i; }
        if (bad > 0)
            Assert.Fail($"{type}: {bad} bytes differ; first at byte {first} (row {first / rowBytes}, block {first % rowBytes / bb}, offset {first % rowBytes % bb}): expected {expected[first]}, got {got[first]}");
    }
}
