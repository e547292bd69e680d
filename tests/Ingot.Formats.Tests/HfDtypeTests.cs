using System.Buffers.Binary;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>HF folders stored in F16/BF16 (made here from the F32 stories260K folder) and the llama2.c ↔ SentencePiece vocab agreement.</summary>
public class HfDtypeTests
{
    private static readonly string Tmp = Shared.TempDir("hfdtype");

    /// <summary>Rewrites model.safetensors with every tensor in <paramref name="dtype"/> (F16 or BF16).</summary>
    private static string MakeFolder(string dtype)
    {
        string src = Shared.File_("models/hf/stories260K-llama");
        string d = System.IO.Path.Combine(Tmp, "hf-" + dtype);
        Directory.CreateDirectory(d);
        foreach (var f in Directory.GetFiles(src))
            if (!f.EndsWith(".safetensors", StringComparison.Ordinal)) File.Copy(f, System.IO.Path.Combine(d, System.IO.Path.GetFileName(f)), true);
        using var st = SafetensorsFile.Open(System.IO.Path.Combine(src, "model.safetensors"));
        SafetensorsWriter.Write(System.IO.Path.Combine(d, "model.safetensors"), st.Tensors.Select(t =>
        {
            float[] x = st.ReadFloats(t);
            var b = new byte[x.Length * 2];
            for (int i = 0; i < x.Length; i++)
            {
                if (dtype == "F16") BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(i * 2), (Half)x[i]);
                else BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), GgufSynth.ToBf16(x[i]));
            }
            return new SafetensorsEntry(t.Name, dtype, t.Shape, b);
        }));
        return d;
    }

    [Theory]
    [InlineData("F16")]
    [InlineData("BF16")]
    public unsafe void HalfPrecisionFoldersConvertWithPermutationAndF32Norms(string dtype)
    {
        string dir = MakeFolder(dtype);
        string outPath = System.IO.Path.Combine(Tmp, $"conv-{dtype}.gguf");
        using (var m = ModelImporter.Import(dir))
        {
            var expectType = dtype == "F16" ? GgmlType.F16 : GgmlType.BF16;
            Assert.Equal(expectType, m.Spec.Weights.TypeOf("attn_q"));
            Assert.Equal(GgmlType.F32, m.Spec.Weights.TypeOf("attn_norm"));
            m.WriteGguf(outPath);
        }
        using var conv = GgufFile.Open(outPath);
        using var refg = GgufFile.Open(Shared.File_("models/gguf/stories260K-f32.gguf"));
        foreach (var rt in refg.Tensors)
        {
            if (rt.Name == "output.weight") continue;
            var ct = conv.FindTensor(rt.Name)!;
            Assert.Equal(rt.Dims, ct.Dims);
            float* r = (float*)refg.GetTensorPointer(rt);
            byte* c = conv.GetTensorPointer(ct);
            for (long i = 0; i < rt.ElementCount; i++)
            {
                float expected = ct.Type switch
                {
                    GgmlType.F32 => dtype == "F16" ? (float)(Half)r[i] : BitConverter.Int32BitsToSingle(GgufSynth.ToBf16(r[i]) << 16),
                    GgmlType.F16 => (float)(Half)r[i],
                    _ => BitConverter.Int32BitsToSingle(GgufSynth.ToBf16(r[i]) << 16),
                };
                float got = ct.Type switch
                {
                    GgmlType.F32 => ((float*)c)[i],
                    GgmlType.F16 => (float)((Half*)c)[i],
                    _ => BitConverter.Int32BitsToSingle(((ushort*)c)[i] << 16),
                };
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(got))
                    Assert.Fail($"{dtype} {rt.Name}[{i}]: expected {expected} got {got}");
            }
        }
    }

    [Fact]
    public void Llama2cVocabularyMatchesItsSentencePieceModel()
    {
        foreach (var (bin, model, n) in new[] { ("tok512.bin", "tok512.model", 512), ("tokenizer.bin", "tokenizer.model", 32000) })
        {
            var v = GgufVocab.FromLlama2cTokenizer(Shared.File_("models/llama2c/" + bin), n);
            var sp = SentencePieceModelReader.Read(Shared.File_("models/llama2c/" + model));
            Assert.Equal(sp.Pieces.Select(p => p.Piece), v.Tokens);
            Assert.Equal(sp.Pieces.Select(p => p.Score), v.Scores);
            Assert.Equal(sp.Pieces.Select(p => (int)p.Type), v.TokenTypes);
        }
    }
}
