using System.Runtime.InteropServices;
using Ingot.Specs;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>Config features the golden models do not have: rope scaling, windows, LongRoPE, GPT-2's tied head and bare names, SentencePiece-style tokenizer.json.</summary>
public class HfConfigFeatureTests
{
    private static readonly string Tmp = Shared.TempDir("hf-features");

    private static string Folder(string golden)
    {
        string dir = Path.Combine(Tmp, golden + "-" + Guid.NewGuid().ToString("N"));
        using var f = GgufFile.Open(Shared.File_($"golden/models/{golden}.gguf"));
        HfFolderWriter.Write(f, dir);
        return dir;
    }

    private static void Edit(string dir, string from, string to)
    {
        string path = Path.Combine(dir, "config.json");
        string text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
    }

    /// <summary>The import's spec, checked to be what its written GGUF says.</summary>
    private static ModelSpec ImportAndCheck(string dir, out GgufFile written)
    {
        using var m = ModelImporter.Import(dir);
        string path = dir + ".gguf";
        m.WriteGguf(path);
        written = GgufFile.Open(path);
        Assert.Equal(m.Spec, GgufSpecReader.FromGguf(written, m.Spec.Name));
        return m.Spec;
    }

    [Fact]
    public void RopeScalingAndWindowsFromConfig()
    {
        string llama = Folder("llama-gqa.f32");
        Edit(llama, "\"rope_theta\": 10000,", "\"rope_theta\": 10000, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.5}, \"sliding_window\": 64,");
        var s = ImportAndCheck(llama, out var f);
        using (f)
        {
            Assert.Equal((RopeScalingKind.Linear, 2.5f), (s.Rope.Scaling.Kind, s.Rope.Scaling.Factor));
            Assert.Equal("linear", f.GetString("llama.rope.scaling.type"));
            Assert.Equal((64, WindowLayers.All), (s.Attention.SlidingWindow, s.Attention.SlidingWindowLayers)); // Mistral's window, kept
        }

        string qwen = Folder("qwen2.f32");
        Edit(qwen, "\"rope_theta\": 1000000,", "\"rope_theta\": 1000000, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"original_max_position_embeddings\": 32},");
        s = ImportAndCheck(qwen, out f);
        using (f) Assert.Equal((RopeScalingKind.Yarn, 4f, 32), (s.Rope.Scaling.Kind, s.Rope.Scaling.Factor, s.Rope.Scaling.OriginalContext));

        Edit(qwen, "\"factor\": 4,", "\"factor\": 4, \"beta_fast\": 16,");
        var e = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(qwen).Dispose());
        Assert.Contains("key 'rope_scaling.beta_fast': cannot be expressed", e.Message);
    }

    [Fact]
    public void Phi3LongRopeFactorsBecomeTensorsAndRoundTrip()
    {
        string dir = Folder("phi3.f32");
        string Factors(float start) => "[" + string.Join(", ", Enumerable.Range(0, 32).Select(i => (start + i / 8f).ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
        Edit(dir, "\"max_position_embeddings\": 128,", "\"max_position_embeddings\": 512,");
        Edit(dir, "\"rope_theta\": 10000,", $"\"rope_theta\": 10000, \"rope_scaling\": {{\"type\": \"longrope\", \"long_factor\": {Factors(1)}, \"short_factor\": {Factors(0.5f)}}},");
        var s = ImportAndCheck(dir, out var f);
        using (f)
        {
            Assert.Equal((RopeScalingKind.LongRope, 128, 512), (s.Rope.Scaling.Kind, s.Rope.Scaling.OriginalContext, s.ContextLength));
            Assert.Equal((float)Math.Sqrt(1 + Math.Log(4) / Math.Log(128)), s.Rope.Scaling.AttnFactor);
            Assert.False(f.ContainsKey("phi3.rope.scaling.type")); // as the converter: the factor tensors say it
            float[] longFactors = MemoryMarshal.Cast<byte, float>(f.GetTensorBytes(f.FindTensor("rope_factors_long.weight")!)).ToArray();
            Assert.Equal(Enumerable.Range(0, 32).Select(i => 1 + i / 8f), longFactors);
            Assert.Equal(GgmlType.F32, s.Weights.TypeOf("rope_factors_short"));

            string again = Path.Combine(Tmp, "phi3-longrope-again");
            HfFolderWriter.Write(f, again);
            using var m = ModelImporter.Import(again, name: s.Name);
            Assert.Equal(s, m.Spec);
        }
    }

    [Fact]
    public void Gpt2WithBareNamesAndTiedHeadCopiesTheEmbedding()
    {
        string dir = Folder("gpt2.f32");
        string st = Path.Combine(dir, "model.safetensors");
        var entries = new List<SafetensorsEntry>();
        using (var f = SafetensorsFile.Open(st))
            foreach (var t in f.Tensors.Where(t => t.Name != "lm_head.weight"))
                entries.Add(new(t.Name["transformer.".Length..], t.DType, t.Shape, f.ReadBytes(t)));
        SafetensorsWriter.Write(st, entries);
        Edit(dir, "\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
        using var m = ModelImporter.Import(dir);
        Assert.False(m.Spec.Output.Tied); // llama.cpp's gpt2 needs output.weight: the converter writes wte again
        byte[] Data(string name) { var ms = new MemoryStream(); m.Tensors.Single(t => t.Name == name).WriteData(ms); return ms.ToArray(); }
        Assert.Equal(Data("token_embd.weight"), Data("output.weight"));
    }

    [Fact]
    public void SentencePieceStyleTokenizerJsonBecomesALlamaVocabulary()
    {
        string dir = Folder("llama-gqa.f32");
        File.Delete(Path.Combine(dir, "tokenizer.model"));
        using var golden = GgufFile.Open(Shared.File_("golden/models/llama-gqa.f32.gguf"));
        string[] tokens = golden.GetArray<string>("tokenizer.ggml.tokens");
        int[] types = golden.GetArray<int>("tokenizer.ggml.token_type");
        // merges: every normal token that splits into two normal tokens, in id order
        var index = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var merges = new List<string>();
        for (int i = 0; i < tokens.Length; i++)
            for (int k = 1; k < tokens[i].Length && types[i] == 1; k++)
                if (index.TryGetValue(tokens[i][..k], out int l) && index.TryGetValue(tokens[i][k..], out int r) && types[l] == 1 && types[r] == 1) { merges.Add(tokens[l] + " " + tokens[r]); break; }
        // <unk> is a plain vocab entry, named by model.unk_token; <s> and </s> are added special tokens
        int[] addedTypes = [.. types.Select((t, i) => i == 0 ? 1 : t)];
        TokenizerJsonWriter.Write(Path.Combine(dir, "tokenizer.json"), tokens, addedTypes, w =>
        {
            w.WriteStartObject("decoder"); w.WriteString("type", "Sequence"); w.WriteEndObject();
            TokenizerJsonWriter.WriteBpeModel(w, tokens, null, merges, extra: w => { w.WriteBoolean("byte_fallback", true); w.WriteString("unk_token", "<unk>"); });
        });
        var s = ImportAndCheck(dir, out var f);
        using (f)
        {
            Assert.Equal(("spm", 1, 2), (s.Tokenizer.Kind, s.Tokenizer.Bos, s.Tokenizer.Eos));
            Assert.Equal("llama", f.GetString("tokenizer.ggml.model"));
            Assert.Equal(tokens, f.GetArray<string>("tokenizer.ggml.tokens"));
            Assert.Equal(types, f.GetArray<int>("tokenizer.ggml.token_type"));
            float[] scores = f.GetArray<float>("tokenizer.ggml.scores");
            string first = merges[0].Replace(" ", "");
            Assert.Equal(0f, scores[index[first]]);  // merge rank 0
            Assert.Equal(-1f, scores[index[merges[1].Replace(" ", "")]]);
        }
    }
}
