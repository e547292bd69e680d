using System.Buffers.Binary;
using System.Text.Json;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Specs;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// A deterministic encoder for the host: hidden[t][d] = token + t / 8 + d / 64 (so pooled rows and per-token rows are
/// known in closed form), with the generated encoders' refusal of an input longer than MaxTokens.
/// </summary>
public sealed class FakeEncoder(int dim = 4, int maxTokens = 8, PoolingKind pooling = PoolingKind.Mean, int scores = 0) : IEncoder
{
    public List<int[]> Inputs { get; } = [];
    public List<int[]> Batches { get; } = [];
    public ModelDescription Description => new("enc", "bert", "{}\n", 1024, maxTokens, 42, ["scalar"], "scalar");
    public long WeightBytes => 64;
    public int HiddenSize => dim;
    public int MaxTokens => maxTokens;
    public PoolingKind Pooling => pooling;
    public void Load(GgufFile weights, InferenceOptions options) { }

    public static float Value(int token, int t, int d) => token + t / 8f + d / 64f;

    public int ScoreCount => scores;
    public bool TokenScores => false;

    /// <summary>The head's score: the sum of the ids (so a test knows which input scored what).</summary>
    public void Encode(ReadOnlySpan<int> tokens, Span<float> hidden, Span<float> scores)
    {
        Encode(tokens, hidden);
        if (!scores.IsEmpty)
        {
            int sum = 0;
            foreach (int t in tokens) sum += t;
            scores[0] = sum;
        }
    }

    /// <summary>Each input on its own, as the generated encoders give it; <see cref="Batches"/> records the lengths of each call.</summary>
    public void Encode(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, Span<float> hidden, Span<float> scores)
    {
        if (tokens.Length > maxTokens) throw new ContextOverflowException($"batch too long: {tokens.Length} tokens, at most {maxTokens}");
        Batches.Add(lengths.ToArray());
        for (int i = 0, start = 0; i < lengths.Length; start += lengths[i++])
            Encode(tokens.Slice(start, lengths[i]), hidden.Slice(start * dim, lengths[i] * dim), scores.IsEmpty ? scores : scores.Slice(i * ScoreCount, ScoreCount));
    }

    public void Encode(ReadOnlySpan<int> tokens, Span<float> hidden)
    {
        if (tokens.Length > maxTokens) throw new ContextOverflowException($"input too long: {tokens.Length} tokens, at most {maxTokens}");
        Inputs.Add(tokens.ToArray());
        for (int t = 0; t < tokens.Length; t++)
            for (int d = 0; d < dim; d++) hidden[t * dim + d] = Value(tokens[t], t, d);
    }

    public void Dispose() { }
}

public class EmbedVerbTests
{
    private static string BertGguf => TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "models", "bert.f32.gguf"));

    private static (int Code, string Out, string Err) Run(IModel model, params string[] args) => HostProgramTests.Run(model, args);

    [Fact]
    public void AnEncoderServesEncoderVerbsAndACausalModelDoesNot()
    {
        var (code, o, _) = Run(new FakeEncoder(), "--help");
        Assert.Equal(0, code);
        Assert.Contains("embed", o);
        Assert.DoesNotContain("generate", o);
        (code, _, var e) = Run(new FakeEncoder(), "generate", "-p", "hi");
        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'generate'", e);
        (code, _, e) = Run(new BigramModel(), "embed", "hi");
        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'embed'", e);
    }

    [Fact]
    public void TokensWithTheModelsPoolingGiveTheMeanRowAsJson()
    {
        var (code, o, e) = Run(new FakeEncoder(), "embed", "--tokens", "5 6 7", "--model", BertGguf);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o.Trim());
        Assert.Equal([5, 6, 7], doc.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()));
        var row = doc.RootElement.GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.Equal(4, row.Length);
        for (int d = 0; d < 4; d++)
        {
            float mean = (FakeEncoder.Value(5, 0, d) + FakeEncoder.Value(6, 1, d) + FakeEncoder.Value(7, 2, d)) / 3;
            Assert.Equal(mean, row[d], 5);
        }
    }

    [Theory]
    [InlineData("cls", 0)]
    [InlineData("last", 2)]
    public void ClsAndLastPickARowAndNormalizeMakesItUnitLength(string pooling, int row)
    {
        var (code, o, e) = Run(new FakeEncoder(), "embed", "--tokens", "5 6 7", "--pooling", pooling, "--normalize", "--model", BertGguf);
        Assert.True(code == 0, e);
        using var doc = JsonDocument.Parse(o.Trim());
        var v = doc.RootElement.GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        var raw = Enumerable.Range(0, 4).Select(d => FakeEncoder.Value(5 + row, row, d)).ToArray();
        float norm = MathF.Sqrt(raw.Sum(x => x * x));
        for (int d = 0; d < 4; d++) Assert.Equal(raw[d] / norm, v[d], 5);
        Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 5);
    }

    [Fact]
    public void PoolingNoneWritesEveryTokensRowInTheGoldenFormat()
    {
        string file = Path.GetTempFileName();
        try
        {
            var (code, _, e) = Run(new FakeEncoder(), "embed", "--tokens", "9 8", "--pooling", "none", "-o", file, "--model", BertGguf);
            Assert.True(code == 0, e);
            Assert.Contains("wrote 2 x 4", e);
            byte[] b = File.ReadAllBytes(file);
            Assert.Equal(8 + 2 * 4 * 4, b.Length);
            Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(b));
            Assert.Equal(4, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(4)));
            for (int t = 0; t < 2; t++)
                for (int d = 0; d < 4; d++)
                    Assert.Equal(FakeEncoder.Value(9 - t, t, d), BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(8 + 4 * (t * 4 + d))));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void TextsAreTokenizedWithClsAndSepAndAnEmptyTextIsJustThose()
    {
        var enc = new FakeEncoder(maxTokens: 64);
        var (code, o, e) = Run(enc, "embed", "hello world", "", "--model", BertGguf);
        Assert.True(code == 0, e);
        Assert.Equal(2, o.Trim().Split('\n').Length);
        Assert.Equal(2, enc.Inputs.Count);
        Assert.Equal(101, enc.Inputs[0][0]);
        Assert.Equal(102, enc.Inputs[0][^1]);
        Assert.Equal([101, 102], enc.Inputs[1]);
    }

    [Fact]
    public void AFileOfInputsRunsInBatchesThatFitTheModelAndEachLineKeepsItsOwnPositions()
    {
        string file = Path.Combine(Path.GetTempPath(), $"embed-batch-{Environment.ProcessId}.txt");
        try
        {
            File.WriteAllLines(file, ["hello world", "hello", "world hello", "hello world", "world"]);
            var enc = new FakeEncoder(maxTokens: 10);
            var (code, o, e) = Run(enc, "embed", "--file", file, "--pooling", "cls", "--model", BertGguf);
            Assert.True(code == 0, e);
            // [CLS] … [SEP]: 4, 3, 4, 4 and 3 tokens; at most 10 tokens a batch, in order.
            Assert.Equal([[4, 3], [4, 4], [3]], enc.Batches);
            var lines = o.Trim().Split('\n');
            Assert.Equal(5, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                using var doc = JsonDocument.Parse(lines[i]);
                Assert.Equal(i, doc.RootElement.GetProperty("index").GetInt32());
                Assert.Equal(enc.Inputs[i], doc.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()));
                var row = doc.RootElement.GetProperty("embedding").EnumerateArray().Select(x => x.GetSingle()).ToArray();
                Assert.Equal([.. Enumerable.Range(0, 4).Select(d => FakeEncoder.Value(101, 0, d))], row);
            }
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void AnOverLongInputIsOneLineNamingBothLengthsOrIsTruncatedWhenAsked()
    {
        var (code, o, e) = Run(new FakeEncoder(maxTokens: 3), "embed", "--tokens", "1 2 3 4 5", "--model", BertGguf);
        Assert.Equal(1, code);
        Assert.Equal("", o);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Contains("5 tokens", e);
        Assert.Contains("at most 3", e);

        var enc = new FakeEncoder(maxTokens: 3);
        (code, _, e) = Run(enc, "embed", "--tokens", "1 2 3 4 5", "--truncate", "--model", BertGguf);
        Assert.True(code == 0, e);
        Assert.Equal([1, 2, 3], enc.Inputs.Single());
    }

    [Fact]
    public void BenchEncodesInputsOfPTokensInBatchesAndPrintsLlamaBenchsTable()
    {
        var enc = new FakeEncoder(maxTokens: 8);
        var (code, o, e) = Run(enc, "bench", "-p", "4", "--inputs", "3", "-r", "2", "--model", BertGguf);
        Assert.True(code == 0, e);
        var lines = o.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("| model", lines[0]);
        Assert.Contains("| pp4×3 |", lines[2]);
        // The warm-up (one short input), then per repetition two batches: 4 + 4 tokens, then 4.
        Assert.Equal([[4], [4, 4], [4], [4, 4], [4]], enc.Batches);
        Assert.All(enc.Inputs, i => Assert.Equal(4, i.Length));

        (code, _, e) = Run(new FakeEncoder(maxTokens: 8), "bench", "-p", "9", "--model", BertGguf);
        Assert.Equal(1, code);
        Assert.Contains("-p 9", e);
        Assert.Contains("(8)", e);
    }

    [Theory]
    [InlineData("--tokens", "")]
    [InlineData("--pooling", "rank")]
    [InlineData("--pooling", "max")]
    public void BadArgumentsAreUsageErrors(string option, string value)
    {
        string[] args = option == "--tokens" ? ["embed", option, value] : ["embed", "--tokens", "1", option, value];
        var (code, _, e) = Run(new FakeEncoder(), [.. args, "--model", BertGguf]);
        Assert.Equal(2, code);
        Assert.Single(e.Trim().Split('\n'));
    }
}
