using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

public unsafe class ActivationAndHelperTests
{
    public delegate void RowFn(float* x, byte* dst, int n);

    private static readonly (GgmlType Type, string Name)[] Forms =
    [
        (GgmlType.Q8_0, "RowQ8_0"), (GgmlType.Q8_0, "RowQ8_0Scalar"), (GgmlType.Q8_0, "RowQ8_0V128"), (GgmlType.Q8_0, "RowQ8_0V256"), (GgmlType.Q8_0, "RowQ8_0V512"), (GgmlType.Q8_0, "RowQ8_0Avx512"),
        (GgmlType.Q8_1, "RowQ8_1"), (GgmlType.Q8_1, "RowQ8_1Scalar"), (GgmlType.Q8_1, "RowQ8_1V128"), (GgmlType.Q8_1, "RowQ8_1V256"), (GgmlType.Q8_1, "RowQ8_1V512"), (GgmlType.Q8_1, "RowQ8_1Avx512"),
        (GgmlType.Q8_K, "RowQ8_K"), (GgmlType.Q8_K, "RowQ8_KScalar"), (GgmlType.Q8_K, "RowQ8_KV128"), (GgmlType.Q8_K, "RowQ8_KV256"), (GgmlType.Q8_K, "RowQ8_KV512"),
    ];

    /// <summary>Every form (dispatch, scalar, Vector128/256/512) of one activation type.</summary>
    private static string[] FormsOf(GgmlType type) => Forms.Where(f => f.Type == type).Select(f => f.Name).ToArray();

    private static void Call(string name, float* x, byte* dst, int n)
    {
        switch (name)
        {
            case "RowQ8_0": Quantize.RowQ8_0(x, dst, n); break;
            case "RowQ8_0Scalar": Quantize.RowQ8_0Scalar(x, dst, n); break;
            case "RowQ8_0V128": Quantize.RowQ8_0V128(x, dst, n); break;
            case "RowQ8_0V256": Quantize.RowQ8_0V256(x, dst, n); break;
            case "RowQ8_0V512": Quantize.RowQ8_0V512(x, dst, n); break;
            case "RowQ8_0Avx512": if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Quantize.RowQ8_0Avx512(x, dst, n); else Quantize.RowQ8_0Scalar(x, dst, n); break;
            case "RowQ8_1": Quantize.RowQ8_1(x, dst, n); break;
            case "RowQ8_1Scalar": Quantize.RowQ8_1Scalar(x, dst, n); break;
            case "RowQ8_1V128": Quantize.RowQ8_1V128(x, dst, n); break;
            case "RowQ8_1V256": Quantize.RowQ8_1V256(x, dst, n); break;
            case "RowQ8_1V512": Quantize.RowQ8_1V512(x, dst, n); break;
            case "RowQ8_1Avx512": if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Quantize.RowQ8_1Avx512(x, dst, n); else Quantize.RowQ8_1Scalar(x, dst, n); break;
            case "RowQ8_K": Quantize.RowQ8_K(x, dst, n); break;
            case "RowQ8_KScalar": Quantize.RowQ8_KScalar(x, dst, n); break;
            case "RowQ8_KV128": Quantize.RowQ8_KV128(x, dst, n); break;
            case "RowQ8_KV256": Quantize.RowQ8_KV256(x, dst, n); break;
            case "RowQ8_KV512": Quantize.RowQ8_KV512(x, dst, n); break;
            default: throw new ArgumentException(name);
        }
    }

    [Fact]
    public void ScalarAndVectorActivationQuantizersMatchGoldenBytes()
    {
        foreach (var (type, name) in Forms)
        {
            // golden act_quant of a weight type whose partner is this activation type
            GgmlType weight = type switch { GgmlType.Q8_0 => GgmlType.Q4_0, GgmlType.Q8_1 => GgmlType.Q4_1, _ => GgmlType.Q4_K };
            float[] act = Golden.Floats(weight, "act.f32");
            byte[] expected = Golden.Bytes(weight, "act_quant.bin");
            var got = new byte[expected.Length];
            fixed (float* pa = act) fixed (byte* pg = got) Call(name, pa, pg, act.Length);
            Assert.True(expected.AsSpan().SequenceEqual(got), $"{name} differs from ggml's act_quant.bin");
        }
    }

    [Fact]
    public void F32ToF16Bits_IsTheHalfCast_OnEveryFloatExponent()
    {
        // every 251st f32 bit pattern (all exponents, both signs, NaN and inf; the rounding bits in every state), and the
        // boundaries: the smallest f16 normal and its neighbours, the largest f16 and the values that round past it
        var cases = new List<uint>();
        for (ulong b = 0; b <= uint.MaxValue; b += 251) cases.Add((uint)b);
        foreach (float f in new[] { 6.1035156e-5f, 6.1035153e-5f, 65504f, 65519.996f, 65520f, -6.1035156e-5f, -65519.996f, -65520f, 0f, -0f, 1f, 0.99999994f })
            cases.Add(BitConverter.SingleToUInt32Bits(f));
        foreach (uint b in cases)
        {
            float f = BitConverter.UInt32BitsToSingle(b);
            ushort want = BitConverter.HalfToUInt16Bits((Half)f);
            Assert.True(Ingot.Runtime.Kernels.HalfBits.F32ToF16Bits(f) == want, $"0x{b:x8} ({f:R}): 0x{Ingot.Runtime.Kernels.HalfBits.F32ToF16Bits(f):x4} vs (Half) 0x{want:x4}");
        }
    }

    [Fact]
    public void VectorActivationQuantizersEqualScalarOnRandomRows()
    {
        var rng = new Random(7);
        for (int round = 0; round < 20; round++)
        {
            int n = 256 * (1 + round % 4);
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-10, 10));
            if (round % 5 == 0) for (int i = 0; i < 256; i++) x[i] = 0;                  // an all-zero block
            if (round % 5 == 1) { x[3] = 5; x[9] = -5; }                                   // equal magnitudes, first wins
            if (round % 5 == 2) for (int i = 0; i < 32; i++) x[i] = (i - 16) * 0.5f;       // exact .5 ties after scaling
            foreach (GgmlType t in new[] { GgmlType.Q8_0, GgmlType.Q8_1, GgmlType.Q8_K })
            {
                var a = new byte[QuantTraits.RowBytes(t, n)];
                var b = new byte[a.Length];
                foreach (string form in FormsOf(t))
                {
                    fixed (float* px = x) fixed (byte* pa = a, pb = b)
                    {
                        Call(FormsOf(t).First(f => f.EndsWith("Scalar")), px, pa, n);
                        Call(form, px, pb, n);
                    }
                    Assert.True(a.AsSpan().SequenceEqual(b), $"{t} round {round}: {form} and the scalar quantizer differ");
                }
            }
        }
    }

    /// <summary>
    /// Pins the activation rounding rule of llama.cpp's x86 build (ggml-cpu-quants.c quantize_row_q8_0/q8_1 under
    /// __AVX2__: id = 127/amax, _mm256_round_ps(…, _MM_ROUND_NEAREST) = half to even) on rows where the portable
    /// reference rule (id = 1/d, roundf = half away from zero; what weight quantization uses) gives other bytes: exact
    /// .5 ties, and a block where 127/amax and 1/(amax/127) differ in the last bit and that bit decides an element.
    /// Every form (dispatch, scalar, Vector128/256/512) writes the same bytes.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_1)]
    public void Q8ActivationRoundsHalfToEvenWith127OverAmax(GgmlType type)
    {
        // block 0: amax 127 → d = 1, id = 1: x·id is x itself; ties at ±0.5, ±2.5, 3.5, -6.5
        var x = new float[64];
        float[] ties = [0.5f, -0.5f, 2.5f, -2.5f, 3.5f, -6.5f, 1.5f, 126.5f];
        for (int j = 0; j < ties.Length; j++) x[j] = ties[j];
        x[31] = 127f;
        sbyte[] expected0 = [0, 0, 2, -2, 4, -6, 2, 126];
        // block 1: an amax whose 127/amax and 1/(amax/127) differ, and an element that rounds differently with them
        var (amax, elem) = FindIdDisagreement();
        x[32] = amax;
        x[33] = elem;
        float id = 127f / amax, idRef = 1f / (amax / 127f);
        sbyte e1 = (sbyte)MathF.Round(elem * id);
        Assert.NotEqual(e1, (sbyte)MathF.Round(elem * idRef, MidpointRounding.AwayFromZero));

        int bb = QuantTraits.BlockBytes(type);
        var weightRule = new byte[2 * 34];
        fixed (float* px = x) fixed (byte* pw = weightRule)
            QuantizeReference.Q8_0(px, (BlockQ8_0*)pw, 2);  // the reference rule: must differ on these rows
        foreach (string form in FormsOf(type))
        {
            var q = new byte[2 * bb];
            fixed (float* px = x) fixed (byte* pq = q) Call(form, px, pq, 64);
            var q0 = MemoryMarshal.Cast<byte, sbyte>(q.AsSpan(bb - 32, 32));
            var q1 = MemoryMarshal.Cast<byte, sbyte>(q.AsSpan(2 * bb - 32, 32));
            for (int j = 0; j < expected0.Length; j++) Assert.True(expected0[j] == q0[j], $"{form}: x = {x[j]} quantized to {q0[j]}, expected {expected0[j]} (half to even)");
            Assert.Equal(127, q0[31]);
            Assert.True(e1 == q1[1], $"{form}: {elem:R} with amax {amax:R} quantized to {q1[1]}, expected {e1} (id = 127/amax)");
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)1f), BitConverter.ToUInt16(q, 0));
            Assert.False(q.AsSpan(bb - 32, 32).SequenceEqual(weightRule.AsSpan(2, 32)), "the reference rule should give other bytes on block 0");
            Assert.False(q.AsSpan(2 * bb - 32, 32).SequenceEqual(weightRule.AsSpan(36, 32)), "the reference rule should give other bytes on block 1");
        }
    }

    /// <summary>A block max whose 127/amax differs from 1/(amax/127) and an element x that rounds differently under the two (searched deterministically).</summary>
    private static (float Amax, float X) FindIdDisagreement()
    {
        for (float amax = 1.0f; amax < 2.0f; amax = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(amax) + 977))
        {
            float id = 127f / amax, idRef = 1f / (amax / 127f);
            if (id == idRef) continue;
            for (int k = 1; k < 127; k++)
            {
                // the float nearest to where x·id crosses k + 0.5
                float x = (k + 0.5f) / id;
                for (int step = -2; step <= 2; step++)
                {
                    float xs = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x) + step);
                    if (MathF.Round(xs * id) != MathF.Round(xs * idRef, MidpointRounding.AwayFromZero) && MathF.Abs(xs) < amax)
                        return (amax, xs);
                }
            }
        }
        throw new InvalidOperationException("no disagreement found");
    }

    /// <summary>Q8_K: nearest_int is round half to even (ggml's magic-number trick), iscale = −127/max with max signed; same bytes on every form.</summary>
    [Fact]
    public void Q8KRoundsHalfToEvenOnEveryForm()
    {
        var x = new float[256];
        x[0] = -127f;                        // max (signed): iscale = -127/-127 = 1
        float[] ties = [0.5f, -0.5f, 2.5f, -2.5f, 3.5f, 126.5f];
        for (int j = 0; j < ties.Length; j++) x[1 + j] = ties[j];
        sbyte[] expected = [0, 0, 2, -2, 4, 126];
        foreach (string form in FormsOf(GgmlType.Q8_K))
        {
            var q = new byte[QuantTraits.BlockBytes(GgmlType.Q8_K)];
            fixed (float* px = x) fixed (byte* pq = q) Call(form, px, pq, 256);
            Assert.Equal(1f, BitConverter.ToSingle(q, 0));
            for (int j = 0; j < expected.Length; j++) Assert.True(expected[j] == (sbyte)q[4 + 1 + j], $"{form}: {ties[j]} quantized to {(sbyte)q[5 + j]}, expected {expected[j]}");
        }
    }

    [Fact]
    public void ScalarF16ConversionIsExactForEveryBitPattern()
    {
        for (int h = 0; h < 65536; h++)
        {
            float e = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float g = Fp.F16ToF32((ushort)h);
            if (float.IsNaN(e)) Assert.True(float.IsNaN(g), $"0x{h:x4}");
            else Assert.Equal(BitConverter.SingleToInt32Bits(e), BitConverter.SingleToInt32Bits(g));
        }
    }

    [Fact]
    public void Int8DotPathsAgreeIncludingExtremes()
    {
        var rng = new Random(3);
        for (int round = 0; round < 200; round++)
        {
            var w = new sbyte[64]; var a = new sbyte[64]; var u = new byte[64];
            for (int i = 0; i < 64; i++)
            {
                w[i] = (sbyte)rng.Next(-128, 128);
                a[i] = (sbyte)rng.Next(-127, 128);  // activations never hold -128
                u[i] = (byte)rng.Next(0, 128);
            }
            if (round == 0) { Array.Fill(w, (sbyte)-128); Array.Fill(a, (sbyte)127); Array.Fill(u, (byte)127); }
            if (round == 1) { Array.Fill(w, (sbyte)127); Array.Fill(a, (sbyte)-127); }
            int es = 0, eu = 0;
            for (int i = 0; i < 64; i++) { es += w[i] * a[i]; eu += u[i] * a[i]; }
            var vw = Vector512.Create(w); var va = Vector512.Create(a); var vu = Vector512.Create(u);
            Assert.Equal(es, Vector512.Sum(Int8Dot.Dot64S(vw, va)));
            Assert.Equal(eu, Vector512.Sum(Int8Dot.Dot64U(vu, va)));
            Assert.Equal(es, Vector256.Sum(Int8Dot.Dot32S(vw.GetLower(), va.GetLower())) + Vector256.Sum(Int8Dot.Dot32S(vw.GetUpper(), va.GetUpper())));
            Assert.Equal(eu, Vector256.Sum(Int8Dot.Dot32U(vu.GetLower(), va.GetLower())) + Vector256.Sum(Int8Dot.Dot32U(vu.GetUpper(), va.GetUpper())));
            int s128 = 0, u128 = 0;
            for (int k = 0; k < 4; k++)
            {
                var w16 = Vector128.Create(w.AsSpan(16 * k, 16)); var a16 = Vector128.Create(a.AsSpan(16 * k, 16)); var u16 = Vector128.Create(u.AsSpan(16 * k, 16));
                s128 += Vector128.Sum(Int8Dot.Dot16S(w16, a16));
                u128 += Vector128.Sum(Int8Dot.Dot16U(u16, a16));
                // the no-Dp fallback (AdvSimd widening on arm64) lane by lane: lane k sums bytes 4k..4k+3 on every path
                Assert.True(Int8Dot.Dot16Portable(w16, a16) == Int8Dot.Dot16S(w16, a16), $"round {round} group {k}: signed lanes");
                Assert.True(Int8Dot.Dot16Portable(u16.AsSByte(), a16) == Int8Dot.Dot16U(u16, a16), $"round {round} group {k}: unsigned lanes");
            }
            Assert.Equal(es, s128);
            Assert.Equal(eu, u128);
        }
    }

    [Fact]
    public void BadLengthsAreRejected()
    {
        var buf = new byte[1024];
        var f = new float[1024];
        fixed (byte* pb = buf) fixed (float* pf = f)
        {
            byte* b = pb; float* x = pf;
            Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_K, b, x, 100));
            Assert.Throws<ArgumentException>(() => Quantize.RowQ8_0(x, b, 33));
            Assert.Throws<ArgumentException>(() => Quantize.WeightRow(GgmlType.Q6_K, x, b, 128));
        }
        Assert.Throws<NotSupportedException>(() => QuantTraits.ActivationType(GgmlType.IQ2_XXS));
    }
}
