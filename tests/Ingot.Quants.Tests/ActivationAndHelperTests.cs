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
        (GgmlType.Q8_0, "RowQ8_0"), (GgmlType.Q8_0, "RowQ8_0Scalar"),
        (GgmlType.Q8_1, "RowQ8_1"), (GgmlType.Q8_1, "RowQ8_1Scalar"),
        (GgmlType.Q8_K, "RowQ8_K"), (GgmlType.Q8_K, "RowQ8_KScalar"),
    ];

    private static void Call(string name, float* x, byte* dst, int n)
    {
        switch (name)
        {
            case "RowQ8_0": Quantize.RowQ8_0(x, dst, n); break;
            case "RowQ8_0Scalar": Quantize.RowQ8_0Scalar(x, dst, n); break;
            case "RowQ8_1": Quantize.RowQ8_1(x, dst, n); break;
            case "RowQ8_1Scalar": Quantize.RowQ8_1Scalar(x, dst, n); break;
            case "RowQ8_K": Quantize.RowQ8_K(x, dst, n); break;
            case "RowQ8_KScalar": Quantize.RowQ8_KScalar(x, dst, n); break;
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
                fixed (float* px = x) fixed (byte* pa = a, pb = b)
                {
                    string name = t == GgmlType.Q8_0 ? "RowQ8_0" : t == GgmlType.Q8_1 ? "RowQ8_1" : "RowQ8_K";
                    Call(name, px, pa, n);
                    Call(name + "Scalar", px, pb, n);
                }
                Assert.True(a.AsSpan().SequenceEqual(b), $"{t} round {round}: vector and scalar quantizers differ");
            }
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
