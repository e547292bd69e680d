using System.Text.Json;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Generation;
using Ingot.Specs;
using Ingot.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

[CompiledModel("bert-hf-classifier")]
public partial class BertHfClassifier { }

[CompiledModel("distilbert-hf-classifier")]
public partial class DistilBertHfClassifier { }

[CompiledModel("bert-hf-token-classifier")]
public partial class BertHfTokenClassifier { }

[CompiledModel("distilbert-hf-token-classifier")]
public partial class DistilBertHfTokenClassifier { }

/// <summary>
/// BERT from a Hugging Face folder (config.json, model.safetensors, tokenizer.json WordPiece), written from the golden
/// bert.f32.gguf by HfFolderWriter: the vocabulary and tensors come back byte for byte, hidden_act "gelu" becomes
/// transformers' erf GELU; a BertForSequenceClassification (the golden encoder plus a seeded random pooler and
/// three-label classifier) compiles and gives what a float64 BERT computes from the same weights, and classify
/// reads its id2label.
/// </summary>
public class BertHfTests(ITestOutputHelper output)
{
    private static readonly string[] Labels = ["NEGATIVE", "NEUTRAL", "POSITIVE"];
    private static string Golden => TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "models", "bert.f32.gguf"));
    private static string Tmp => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "ingot-bert-hf-" + Environment.ProcessId)).FullName;

    private static readonly string[] TokenLabels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    /// <summary>
    /// The golden encoder with a head (seeded N(0, 1/dim) weights, N(0, 0.1²) biases): a rank head of three labels, or
    /// (<paramref name="tokens"/>) a token classifier of five BIO labels (cls.output alone, pooling none).
    /// </summary>
    private static string ClassifierGguf(bool tokens = false)
    {
        string path = Path.Combine(Tmp, tokens ? "token-classifier.gguf" : "classifier.gguf");
        using var src = GgufFile.Open(Golden);
        int dim = src.GetInt32("bert.embedding_length");
        string[] labels = tokens ? TokenLabels : Labels;
        var w = new GgufWriter().CopyMetadata(src).Set("bert.pooling_type", tokens ? 0u : 4u).Set("bert.classifier.output_labels", labels);
        foreach (var t in src.Tensors)
        {
            byte[] bytes = src.GetTensorBytes(t).ToArray();
            w.AddTensor(t.Name, t.Type, t.Dims, st => st.Write(bytes));
        }
        var rng = new Random(21);
        void Add(string name, long[] dims, double std)
        {
            var values = new float[dims.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(std * (rng.NextDouble() * 2 - 1) * Math.Sqrt(3));
            byte[] bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            w.AddTensor(name, GgmlType.F32, dims, st => st.Write(bytes));
        }
        if (!tokens)
        {
            Add("cls.weight", [dim, dim], 1 / Math.Sqrt(dim));
            Add("cls.bias", [dim], 0.1);
        }
        Add("cls.output.weight", [dim, labels.Length], 1 / Math.Sqrt(dim));
        Add("cls.output.bias", [labels.Length], 0.1);
        w.Write(path);
        return path;
    }

    [Fact]
    public void AFolderWrittenFromTheGoldenBertImportsItsVocabularyAndTensorsUnchanged()
    {
        string dir = Path.Combine(Tmp, "bert-model");
        using (var g = GgufFile.Open(Golden)) HfFolderWriter.Write(g, dir);
        string imported = Path.Combine(Tmp, "bert-model.gguf");
        using (var m = ModelImporter.Import(dir, name: "bert")) m.WriteGguf(imported);
        using var a = GgufFile.Open(Golden);
        using var b = GgufFile.Open(imported);
        Assert.Equal(a.GetArray<string>("tokenizer.ggml.tokens"), b.GetArray<string>("tokenizer.ggml.tokens"));
        // The golden file marks its [unusedN] tokens unused (5); from a folder they are ordinary tokens, as llama.cpp's converter makes them.
        Assert.Equal(a.GetArray<int>("tokenizer.ggml.token_type").Select(t => t == 5 ? 1 : t), b.GetArray<int>("tokenizer.ggml.token_type"));
        foreach (var t in a.Tensors) Assert.True(a.GetTensorBytes(t).SequenceEqual(b.GetTensorBytes(b.FindTensor(t.Name)!)), t.Name);
        var spec = GgufSpecReader.FromGguf(b);
        Assert.Equal((Activation.GeluErf, PoolingKind.None, 2, true), (spec.Ffn.Activation, spec.Output.Pooling, spec.Embedding.TokenTypes, spec.Embedding.Norm));
        Assert.Equal("wpm", spec.Tokenizer.Kind);
    }

    [Fact]
    public void ASequenceClassifierFolderCompilesToWhatAFloat64BertComputesAndClassifyNamesItsLabels()
    {
        string dir = Path.Combine(Tmp, "bert-classifier");
        using (var g = GgufFile.Open(ClassifierGguf())) HfFolderWriter.Write(g, dir);
        string imported = Path.Combine(Tmp, "bert-classifier-imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "bert-hf-classifier"))
        {
            Assert.Equal(BertHfClassifier.SpecJson, SpecWriter.Write(m.Spec));
            m.WriteGguf(imported);
        }
        using var file = GgufFile.Open(imported);
        Assert.Equal(Labels, file.GetArray<string>("bert.classifier.output_labels"));
        var spec = GgufSpecReader.FromGguf(file);
        using var model = new BertHfClassifier();
        model.Load(file, new InferenceOptions(Threads: 2));
        foreach (int[] tokens in new[] { new[] { 101, 300, 301, 302, 102 }, [101, .. Enumerable.Range(400, 40), 102] })
        {
            var hidden = new float[tokens.Length * model.HiddenSize];
            var scores = new float[Labels.Length];
            model.Encode(tokens, hidden, scores);
            var x = BertReferenceTests.Reference(file, spec, tokens, erfGelu: true);
            double[] expected = BertReferenceTests.Head(file, x);
            double hiddenAbs = 0;
            for (int t = 0; t < tokens.Length; t++)
                for (int d = 0; d < model.HiddenSize; d++) hiddenAbs = Math.Max(hiddenAbs, Math.Abs(hidden[t * model.HiddenSize + d] - x[t, d]));
            double headAbs = Enumerable.Range(0, Labels.Length).Max(k => Math.Abs(scores[k] - expected[k]));
            output.WriteLine($"{tokens.Length} tokens: hidden max-abs {hiddenAbs:E3}, head {headAbs:E3}");
            Assert.True(hiddenAbs <= 1e-4 && headAbs <= 1e-4, $"hidden {hiddenAbs}, head {headAbs}");
        }

        // classify on raw text: the best label and its probability are the softmax of the head's scores for the text's ids.
        var (code, o, e) = HostProgramTests.Run(new BertHfClassifier(), "classify", "the cat sat", "--model", imported);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o.Trim());
        int[] ids = [.. TokenizerCodec.FromGguf(file).EncodePrompt("the cat sat")];
        var s = new float[3];
        model.Encode(ids, new float[ids.Length * model.HiddenSize], s);
        int best = Array.IndexOf(s, s.Max());
        Assert.Equal(Labels[best], doc.RootElement.GetProperty("label").GetString());
        double max = s.Max();
        Assert.Equal(1 / s.Sum(v => Math.Exp(v - max)), doc.RootElement.GetProperty("probability").GetDouble(), 12);
    }

    /// <summary>
    /// The same encoder and head written as a DistilBertForSequenceClassification (no token types; pre_classifier then
    /// relu): the import says relu and no token types, and the compiled model gives what the float64 DistilBERT computes.
    /// </summary>
    [Fact]
    public void ADistilBertClassifierFolderCompilesToWhatAFloat64DistilBertComputes()
    {
        string dir = Path.Combine(Tmp, "distilbert-classifier");
        using (var g = GgufFile.Open(ClassifierGguf())) HfFolderWriter.Write(g, dir, asFamily: "distilbert");
        Assert.False(File.ReadAllText(Path.Combine(dir, "config.json")).Contains("type_vocab_size", StringComparison.Ordinal));
        string imported = Path.Combine(Tmp, "distilbert-classifier-imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "distilbert-hf-classifier"))
        {
            Assert.Equal(DistilBertHfClassifier.SpecJson, SpecWriter.Write(m.Spec));
            m.WriteGguf(imported);
        }
        using var file = GgufFile.Open(imported);
        Assert.Null(file.FindTensor("token_types.weight"));
        var spec = GgufSpecReader.FromGguf(file);
        Assert.Equal((0, Activation.Relu), (spec.Embedding.TokenTypes, spec.Output.HeadActivation));
        using var model = new DistilBertHfClassifier();
        model.Load(file, new InferenceOptions(Threads: 2));
        int[] tokens = [101, .. Enumerable.Range(500, 20), 102];
        var hidden = new float[tokens.Length * model.HiddenSize];
        var scores = new float[Labels.Length];
        model.Encode(tokens, hidden, scores);
        var x = BertReferenceTests.Reference(file, spec, tokens, erfGelu: true);
        double[] expected = BertReferenceTests.Head(file, x, relu: true);
        double hiddenAbs = 0;
        for (int t = 0; t < tokens.Length; t++)
            for (int d = 0; d < model.HiddenSize; d++) hiddenAbs = Math.Max(hiddenAbs, Math.Abs(hidden[t * model.HiddenSize + d] - x[t, d]));
        double headAbs = Enumerable.Range(0, Labels.Length).Max(k => Math.Abs(scores[k] - expected[k]));
        output.WriteLine($"distilbert {tokens.Length} tokens: hidden max-abs {hiddenAbs:E3}, head {headAbs:E3}");
        Assert.True(hiddenAbs <= 1e-4 && headAbs <= 1e-4, $"hidden {hiddenAbs}, head {headAbs}");
    }

    /// <summary>A BertForTokenClassification folder: the classifier on every token's row, against the float64 BERT.</summary>
    [Fact]
    public void ATokenClassifierFolderScoresEveryTokenAsAFloat64BertDoes()
    {
        string dir = Path.Combine(Tmp, "bert-token-classifier");
        using (var g = GgufFile.Open(ClassifierGguf(tokens: true))) HfFolderWriter.Write(g, dir);
        Assert.Contains("BertForTokenClassification", File.ReadAllText(Path.Combine(dir, "config.json")));
        string imported = Path.Combine(Tmp, "bert-token-classifier-imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "bert-hf-token-classifier"))
        {
            string json = SpecWriter.Write(m.Spec);
            if (json != BertHfTokenClassifier.SpecJson) File.WriteAllText(Path.Combine(Tmp, "bert-hf-token-classifier.json"), json);
            Assert.Equal(BertHfTokenClassifier.SpecJson, json);
            m.WriteGguf(imported);
        }
        using var file = GgufFile.Open(imported);
        Assert.Equal(TokenLabels, file.GetArray<string>("bert.classifier.output_labels"));
        var spec = GgufSpecReader.FromGguf(file);
        using var model = new BertHfTokenClassifier();
        model.Load(file, new InferenceOptions(Threads: 2));
        Assert.True(((IEncoder)model).TokenScores);
        int[] tokens = [101, .. Enumerable.Range(600, 12), 102];
        int k = TokenLabels.Length, dim = model.HiddenSize;
        var hidden = new float[tokens.Length * dim];
        var scores = new float[tokens.Length * k];
        model.Encode(tokens, hidden, scores);
        Assert.Throws<ArgumentException>(() => model.Encode(tokens, hidden, new float[k]));
        var x = BertReferenceTests.Reference(file, spec, tokens, erfGelu: true);
        float[] wc = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.FindTensor("cls.output.weight")!)).ToArray();
        float[] bc = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.FindTensor("cls.output.bias")!)).ToArray();
        double maxAbs = 0;
        for (int t = 0; t < tokens.Length; t++)
            for (int j = 0; j < k; j++)
            {
                double acc = bc[j];
                for (int c = 0; c < dim; c++) acc += (double)wc[j * dim + c] * x[t, c];
                maxAbs = Math.Max(maxAbs, Math.Abs(scores[t * k + j] - acc));
            }
        output.WriteLine($"token classifier {tokens.Length} tokens × {k} labels: max-abs {maxAbs:E3}");
        Assert.True(maxAbs <= 1e-4, $"token scores max-abs {maxAbs}");

        // In a batch behind another input, its token scores are the same: a token classifier's scores are per token.
        int[] other = [101, 640, 641, 102];
        var batchHidden = new float[(other.Length + tokens.Length) * dim];
        var batchScores = new float[(other.Length + tokens.Length) * k];
        model.Encode([.. other, .. tokens], [other.Length, tokens.Length], batchHidden, batchScores);
        Assert.Equal(scores, batchScores[(other.Length * k)..]);
        Assert.Equal(hidden, batchHidden[(other.Length * dim)..]);

        // classify refuses a token classifier in one line.
        var (code, _, e) = HostProgramTests.Run(new BertHfTokenClassifier(), "classify", "the cat", "--model", imported);
        Assert.Equal(1, code);
        Assert.Contains("token classifier", e);
    }

    /// <summary>The per-token scores W x_t + b of cls.output against the float64 hidden states.</summary>
    internal static double TokenScoresMaxAbs(GgufFile file, double[,] x, float[] scores, int labels)
    {
        float[] wc = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.FindTensor("cls.output.weight")!)).ToArray();
        float[] bc = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.FindTensor("cls.output.bias")!)).ToArray();
        int n = x.GetLength(0), dim = x.GetLength(1);
        double maxAbs = 0;
        for (int t = 0; t < n; t++)
            for (int j = 0; j < labels; j++)
            {
                double acc = bc[j];
                for (int c = 0; c < dim; c++) acc += (double)wc[j * dim + c] * x[t, c];
                maxAbs = Math.Max(maxAbs, Math.Abs(scores[t * labels + j] - acc));
            }
        return maxAbs;
    }

    [Fact]
    public void ADistilBertTokenClassifierFolderScoresEveryTokenAsAFloat64DistilBertDoes()
    {
        string dir = Path.Combine(Tmp, "distilbert-token-classifier");
        using (var g = GgufFile.Open(ClassifierGguf(tokens: true))) HfFolderWriter.Write(g, dir, asFamily: "distilbert");
        Assert.Contains("DistilBertForTokenClassification", File.ReadAllText(Path.Combine(dir, "config.json")));
        string imported = Path.Combine(Tmp, "distilbert-token-classifier-imported.gguf");
        using (var m = ModelImporter.Import(dir, name: "distilbert-hf-token-classifier"))
        {
            Assert.Equal(DistilBertHfTokenClassifier.SpecJson, SpecWriter.Write(m.Spec));
            m.WriteGguf(imported);
        }
        using var file = GgufFile.Open(imported);
        var spec = GgufSpecReader.FromGguf(file);
        using var model = new DistilBertHfTokenClassifier();
        model.Load(file, new InferenceOptions(Threads: 2));
        int[] tokens = [101, .. Enumerable.Range(700, 9), 102];
        var scores = new float[tokens.Length * TokenLabels.Length];
        model.Encode(tokens, new float[tokens.Length * model.HiddenSize], scores);
        double maxAbs = TokenScoresMaxAbs(file, BertReferenceTests.Reference(file, spec, tokens, erfGelu: true), scores, TokenLabels.Length);
        output.WriteLine($"distilbert token classifier: max-abs {maxAbs:E3}");
        Assert.True(maxAbs <= 1e-4, $"token scores max-abs {maxAbs}");
    }

    [Fact]
    public void WordPieceOffsetsCoverEachPiecesCharacters()
    {
        using var file = GgufFile.Open(Golden);
        var tokenizer = (Runtime.Tokenization.WordPieceTokenizer)TokenizerCodec.FromGguf(file).Tokenizer;
        string text = "Hello, WORLD!  Naïve cafés — 42x";
        var tokens = tokenizer.EncodeWithOffsets(text);
        Assert.Equal(tokenizer.Tokenize(text, addSpecialTokens: true), tokens.Select(t => t.Id));
        string[] vocab = file.GetArray<string>("tokenizer.ggml.tokens");
        int previousEnd = 0;
        foreach (var (id, start, end) in tokens.Skip(1).SkipLast(1))
        {
            Assert.True(start >= previousEnd && end > start, $"span {start}..{end} after {previousEnd}");
            string source = new string(text[start..end].Normalize(System.Text.NormalizationForm.FormD).Where(c => System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark).ToArray()).ToLowerInvariant();
            if (id != tokenizer.UnknownTokenId) Assert.Equal(vocab[id].TrimStart('\u2581'), source);
            previousEnd = end;
        }
        Assert.Equal((0, 0), (tokens[0].Start, tokens[0].End));
        Assert.Equal((text.Length, text.Length), (tokens[^1].Start, tokens[^1].End));
    }

    [Fact]
    public void NerGroupsTheTokensArgmaxLabelsIntoSpansOfTheRawText()
    {
        string dir = Path.Combine(Tmp, "bert-ner");
        using (var g = GgufFile.Open(ClassifierGguf(tokens: true))) HfFolderWriter.Write(g, dir);
        string imported = Path.Combine(Tmp, "bert-ner.gguf");
        using (var m = ModelImporter.Import(dir, name: "bert-hf-token-classifier")) m.WriteGguf(imported);
        string text = "alice met bob in paris and berlin, then rome";
        var (code, o, e) = HostProgramTests.Run(new BertHfTokenClassifier(), "ner", text, "--model", imported);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o.Trim());
        var entities = doc.RootElement.GetProperty("entities").EnumerateArray().ToArray();

        // The model's own per-token labels for the same ids and spans.
        using var file = GgufFile.Open(imported);
        var tokenizer = (Runtime.Tokenization.WordPieceTokenizer)TokenizerCodec.FromGguf(file).Tokenizer;
        var tokens = tokenizer.EncodeWithOffsets(text);
        using var model = new BertHfTokenClassifier();
        model.Load(file, new InferenceOptions(Threads: 1));
        int k = TokenLabels.Length;
        var scores = new float[tokens.Count * k];
        model.Encode([.. tokens.Select(t => t.Id)], new float[tokens.Count * model.HiddenSize], scores);
        string LabelOf(int t) { int best = 0; for (int j = 1; j < k; j++) if (scores[t * k + j] > scores[t * k + best]) best = j; return TokenLabels[best]; }
        var words = Enumerable.Range(1, tokens.Count - 2).Select(t => (tokens[t].Start, tokens[t].End, Label: LabelOf(t))).ToList();
        Assert.Equal(words.Count(w => w.Label.StartsWith("B-", StringComparison.Ordinal)) + words.Where((w, i) => w.Label.StartsWith("I-", StringComparison.Ordinal)
            && (i == 0 || words[i - 1].Label == "O" || words[i - 1].Label[2..] != w.Label[2..])).Count(), entities.Length);
        foreach (var en in entities)
        {
            int start = en.GetProperty("start").GetInt32(), end = en.GetProperty("end").GetInt32();
            string label = en.GetProperty("label").GetString()!;
            Assert.Equal(text[start..end], en.GetProperty("text").GetString());
            var inside = words.Where(w => w.Start >= start && w.End <= end).ToList();
            Assert.NotEmpty(inside);
            Assert.Equal(start, inside[0].Start);
            Assert.Equal(end, inside[^1].End);
            Assert.All(inside, w => Assert.Equal(label, w.Label[2..]));
            Assert.All(inside.Skip(1), w => Assert.StartsWith("I-", w.Label));
            double score = en.GetProperty("score").GetDouble();
            Assert.InRange(score, 1.0 / k, 1.0);
        }
        output.WriteLine($"ner: {entities.Length} entities over {words.Count} tokens: " + string.Join(", ", entities.Select(x => x.GetProperty("label").GetString() + " '" + x.GetProperty("text").GetString() + "'")));
    }

    [Fact]
    public void AClassifierWithoutId2LabelIsOneLineNamingTheKey()
    {
        string dir = Path.Combine(Tmp, "bert-nolabels");
        using (var g = GgufFile.Open(ClassifierGguf())) HfFolderWriter.Write(g, dir);
        string config = Path.Combine(dir, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json.Remove("id2label");
        File.WriteAllText(config, json.ToJsonString());
        var ex = Assert.Throws<InvalidModelFileException>(() => ModelImporter.Import(dir));
        Assert.Contains("config.json", ex.Message);
        Assert.Contains("id2label", ex.Message);
    }
}
