using JsonArray = System.Text.Json.Nodes.JsonArray;
using JsonObject = System.Text.Json.Nodes.JsonObject;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Specs;
using Ingot.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

[CompiledModel("albert-hf-classifier")]
public partial class AlbertHfClassifier { }

[CompiledModel("albert-hf-token-classifier")]
public partial class AlbertHfTokenClassifier { }

[CompiledModel("albert-hf-shared12")]
public partial class AlbertHfShared12 { }

/// <summary>
/// An AlbertForSequenceClassification folder written here (seeded random weights; the golden bert's WordPiece
/// vocabulary): embedding_size 64 projected to hidden 128, three layers sharing one set of weights, gelu_new, two
/// labels. It compiles to what a float64 ALBERT computes (GELU through ggml's f16 table on our side, so the tolerance is
/// golden/README's 5e-3 for GELU without table emulation), and the shared layer's tensors are in the file and bound once.
/// </summary>
public class AlbertHfTests(ITestOutputHelper output)
{
    private const int Vocab = 1024, E = 64, H = 128, Ffn = 256, Layers = 3, Context = 64;

    /// <summary>An ALBERT's sizes: embedding, hidden, FFN, layers (all sharing one set), heads.</summary>
    private sealed record Shape(int E, int H, int Ffn, int Layers, int Heads, string Tag);

    private static readonly Shape Small = new(E, H, Ffn, Layers, 4, "");

    /// <summary>The folder: a sequence classifier of two labels (pooler + classifier), or (<paramref name="tokens"/>) a token classifier of three.</summary>
    private static string WriteFolder(bool tokens = false, Shape? shape = null)
    {
        var (e, h, ffn, layers, heads, tag) = shape ?? Small;
        string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingot-albert-" + tag + (tokens ? "tokens-" : "") + Environment.ProcessId)).FullName;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(tokens ? "AlbertForTokenClassification" : "AlbertForSequenceClassification"), ["model_type"] = "albert", ["vocab_size"] = Vocab,
            ["embedding_size"] = e, ["hidden_size"] = h, ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads, ["intermediate_size"] = ffn,
            ["hidden_act"] = "gelu_new", ["max_position_embeddings"] = Context, ["type_vocab_size"] = 2, ["layer_norm_eps"] = 1e-12,
            ["num_hidden_groups"] = 1, ["inner_group_num"] = 1,
            ["id2label"] = tokens ? new JsonObject { ["0"] = "O", ["1"] = "B-X", ["2"] = "I-X" } : new JsonObject { ["0"] = "NO", ["1"] = "YES" },
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var rng = new Random(31);
        var entries = new List<SafetensorsEntry>();
        void Add(string name, long[] shape, double mean, double std)
        {
            var v = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < v.Length; i++) v[i] = (float)(mean + std * (rng.NextDouble() * 2 - 1) * Math.Sqrt(3));
            entries.Add(new SafetensorsEntry(name, "F32", shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray()));
        }
        void Linear(string name, int outDim, int inDim) { Add(name + ".weight", [outDim, inDim], 0, 1 / Math.Sqrt(inDim)); Add(name + ".bias", [outDim], 0, 0.1); }
        void Norm(string name, int n) { Add(name + ".weight", [n], 1, 0.02); Add(name + ".bias", [n], 0, 0.1); }
        Add("albert.embeddings.word_embeddings.weight", [Vocab, e], 0, 1);
        Add("albert.embeddings.position_embeddings.weight", [Context, e], 0, 0.5);
        Add("albert.embeddings.token_type_embeddings.weight", [2, e], 0, 0.5);
        Norm("albert.embeddings.LayerNorm", e);
        Linear("albert.encoder.embedding_hidden_mapping_in", h, e);
        const string l = "albert.encoder.albert_layer_groups.0.albert_layers.0.";
        foreach (var q in new[] { "query", "key", "value", "dense" }) Linear(l + "attention." + q, h, h);
        Norm(l + "attention.LayerNorm", h);
        Linear(l + "ffn", ffn, h);
        Linear(l + "ffn_output", h, ffn);
        Norm(l + "full_layer_layer_norm", h);
        if (!tokens) Linear("albert.pooler", h, h);
        Linear("classifier", tokens ? 3 : 2, h);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), entries);
        using (var bert = GgufFile.Open(TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "models", "bert.f32.gguf"))))
            TokenizerJsonWriter.WriteWordPiece(Path.Combine(dir, "tokenizer.json"), bert);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]"}""");
        return dir;
    }

    [Fact]
    public void SharedLayersAndTheFactorizedEmbeddingCompileToWhatAFloat64AlbertComputes()
    {
        string dir = WriteFolder();
        string imported = Path.Combine(dir, "imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "albert-hf-classifier"))
        {
            string json = SpecWriter.Write(m.Spec);
            if (json != AlbertHfClassifier.SpecJson) File.WriteAllText(Path.Combine(dir, "albert-hf-classifier.json"), json);
            Assert.Equal(AlbertHfClassifier.SpecJson, json);
            m.WriteGguf(imported);
        }
        using var file = GgufFile.Open(imported);
        var spec = GgufSpecReader.FromGguf(file);
        Assert.Equal((E, true, Layers), (spec.Embedding.Size, spec.Block.SharedLayers, spec.Layers));
        // One set of layer tensors in the file, and bound once: the weight bytes are the file's tensor bytes.
        Assert.NotNull(file.FindTensor("blk.0.attn_q.weight"));
        Assert.Null(file.FindTensor("blk.1.attn_q.weight"));
        using var model = new AlbertHfClassifier();
        model.Load(file, new InferenceOptions(Threads: 2));
        Assert.Equal(file.Tensors.Sum(t => t.ByteSize), model.WeightBytes);

        int[] tokens = [101, .. Enumerable.Range(300, 30), 102];
        var hidden = new float[tokens.Length * H];
        var scores = new float[2];
        model.Encode(tokens, hidden, scores);
        var x = BertReferenceTests.Reference(file, spec, tokens);
        double[] expected = BertReferenceTests.Head(file, x);
        double hiddenAbs = 0;
        for (int t = 0; t < tokens.Length; t++)
            for (int d = 0; d < H; d++) hiddenAbs = Math.Max(hiddenAbs, Math.Abs(hidden[t * H + d] - x[t, d]));
        double headAbs = Enumerable.Range(0, 2).Max(k => Math.Abs(scores[k] - expected[k]));
        output.WriteLine($"albert: hidden max-abs {hiddenAbs:E3}, head {headAbs:E3}, weight bytes {model.WeightBytes}");
        Assert.True(hiddenAbs <= 5e-3 && headAbs <= 5e-3, $"hidden {hiddenAbs}, head {headAbs}");
    }

    [Fact]
    public void AnAlbertTokenClassifierScoresEveryTokenAsAFloat64AlbertDoes()
    {
        string dir = WriteFolder(tokens: true);
        string imported = Path.Combine(dir, "imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "albert-hf-token-classifier"))
        {
            Assert.Equal(AlbertHfTokenClassifier.SpecJson, SpecWriter.Write(m.Spec));
            m.WriteGguf(imported);
        }
        using var file = GgufFile.Open(imported);
        var spec = GgufSpecReader.FromGguf(file);
        using var model = new AlbertHfTokenClassifier();
        model.Load(file, new InferenceOptions(Threads: 2));
        int[] tokens = [101, .. Enumerable.Range(320, 10), 102];
        var scores = new float[tokens.Length * 3];
        model.Encode(tokens, new float[tokens.Length * H], scores);
        double maxAbs = BertHfTests.TokenScoresMaxAbs(file, BertReferenceTests.Reference(file, spec, tokens), scores, 3);
        output.WriteLine($"albert token classifier: max-abs {maxAbs:E3}");
        Assert.True(maxAbs <= 5e-3, $"token scores max-abs {maxAbs}");
    }

    /// <summary>
    /// Twelve layers sharing one set of weights (hidden 512, FFN 2048: 12.6 MB a layer): the file holds the layer once,
    /// Load binds it once (WeightBytes is the file's tensor bytes), and running all twelve layers neither copies it
    /// (the process's anonymous memory grows by well under the (layers − 1) × layer bytes a copy per layer would take)
    /// nor maps it more than once (the file's resident pages are at most the file). Linux: the figures come from /proc.
    /// </summary>
    [Fact]
    public void TwelveSharedLayersOccupyTheirWeightBytesOnceInTheMappingAndInMemory()
    {
        var shape = new Shape(128, 512, 2048, 12, 8, "shared12-");
        string dir = WriteFolder(shape: shape);
        string imported = Path.Combine(dir, "imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "albert-hf-shared12"))
        {
            Assert.Equal(AlbertHfShared12.SpecJson, SpecWriter.Write(m.Spec));
            m.WriteGguf(imported);
        }
        long layerBytes = 0;
        using var file = GgufFile.Open(imported);
        foreach (var t in file.Tensors) if (t.Name.StartsWith("blk.0.", StringComparison.Ordinal)) layerBytes += t.ByteSize;
        Assert.Null(file.FindTensor("blk.1.attn_q.weight"));

        GC.Collect();
        long anonBefore = ProcStatusKb("RssAnon") * 1024;
        using var model = new AlbertHfShared12();
        model.Load(file, new InferenceOptions(Threads: 2));
        Assert.Equal(file.Tensors.Sum(t => t.ByteSize), model.WeightBytes);
        int[] tokens = [101, .. Enumerable.Range(300, 40), 102];
        model.Encode(tokens, new float[tokens.Length * shape.H], new float[2]);
        GC.Collect();
        long anonGrowth = ProcStatusKb("RssAnon") * 1024 - anonBefore;
        long mapped = MappedRssBytes(imported);
        long fileBytes = new FileInfo(imported).Length;
        output.WriteLine($"albert 12 shared layers: layer {layerBytes / 1e6:F1} MB, file {fileBytes / 1e6:F1} MB, mapped resident {mapped / 1e6:F1} MB, " +
                         $"anonymous growth over Load + Encode {anonGrowth / 1e6:F1} MB (a copy per layer: {11 * layerBytes / 1e6:F1} MB more)");
        Assert.True(mapped >= layerBytes && mapped <= fileBytes + 4096, $"mapped resident {mapped}, layer {layerBytes}, file {fileBytes}");
        Assert.True(anonGrowth < 3 * layerBytes, $"anonymous memory grew by {anonGrowth} bytes; one layer is {layerBytes}");
    }

    /// <summary>A "Key:   N kB" line of /proc/self/status.</summary>
    private static long ProcStatusKb(string key) =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim().Split(' ')[0]);

    /// <summary>Resident bytes of every mapping of <paramref name="path"/> (the Rss lines of /proc/self/smaps under its headers).</summary>
    private static long MappedRssBytes(string path)
    {
        long total = 0;
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            // A mapping's header: "start-end perms offset dev inode [path]"; its fields follow as "Key: value kB".
            var f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 5 && !f[0].EndsWith(':') && f[0].Contains('-')) inside = f.Length == 6 && f[5].Trim() == path;
            else if (inside && f.Length >= 2 && f[0] == "Rss:") total += long.Parse(f[1]) * 1024;
        }
        return total;
    }
}
