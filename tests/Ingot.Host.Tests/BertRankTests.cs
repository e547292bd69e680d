using System.Globalization;
using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Kernels;
using Ingot.Specs;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

[CompiledModel("bert-synth-rank")]
public partial class BertSynthRank { }

/// <summary>
/// A reranker: a BERT of another shape (dim 64, 4 heads, 2 layers) with llama.cpp's rank head (cls, cls.output),
/// written by `ingot synth --arch bert --pooling rank`, against llama.cpp c392e50's rank score, CLS and mean pooling
/// for the same file (TestData/bert-synth-rank.llama-cpp.txt, from tests/differential/dumpembd.cpp). Tolerance: the
/// golden README's 2e-3 for F32 GELU models.
/// </summary>
public class BertRankTests(ITestOutputHelper output)
{
    private static SynthOptions Options => new()
    {
        Architecture = "bert", Name = "bert-synth-rank", Dim = 64, Layers = 2, Heads = 4, FfnDim = 128, VocabSize = 300, ContextLength = 64,
        NormEpsilon = 1e-12f, Seed = 3, Pooling = PoolingKind.Rank,
    };

    private sealed record Case(int[] Ids, float Rank, float[] Cls, float[] Mean);

    private static List<Case> Reference()
    {
        var cases = new List<Case>();
        int[]? ids = null;
        float rank = 0;
        float[]? cls = null;
        foreach (var line in File.ReadLines(Path.Combine(TestPaths.Repo, "tests", "Ingot.Host.Tests", "TestData", "bert-synth-rank.llama-cpp.txt")))
        {
            if (line.StartsWith('#')) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            float[] values = [.. parts.Skip(1).Select(p => float.Parse(p, CultureInfo.InvariantCulture))];
            switch (parts[0])
            {
                case "ids": ids = [.. values.Select(v => (int)v)]; break;
                case "rank": rank = values[0]; break;
                case "cls": cls = values; break;
                case "mean": cases.Add(new Case(ids!, rank, cls!, values)); break;
            }
        }
        return cases;
    }

    [Fact]
    public void RankScoreClsAndMeanMatchLlamaCpp()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bert-rank-{Environment.ProcessId}.gguf");
        try
        {
            var spec = SynthModel.Write(path, Options, null);
            Assert.Equal(BertSynthRank.SpecJson, SpecWriter.Write(spec));
            using var file = GgufFile.Open(path);
            using var model = new BertSynthRank();
            model.Load(file, new InferenceOptions(Threads: 2));
            Assert.Equal(1, ((IEncoder)model).ScoreCount);
            var cases = Reference();
            Assert.Equal(3, cases.Count);
            foreach (var c in cases)
            {
                int dim = model.HiddenSize;
                var hidden = new float[c.Ids.Length * dim];
                var score = new float[1];
                model.Encode(c.Ids, hidden, score);
                var cls = new float[dim];
                var mean = new float[dim];
                Pooling.Pool(PoolingKind.Cls, hidden, c.Ids.Length, dim, cls);
                Pooling.Pool(PoolingKind.Mean, hidden, c.Ids.Length, dim, mean);
                float clsAbs = cls.Zip(c.Cls).Max(p => Math.Abs(p.First - p.Second));
                float meanAbs = mean.Zip(c.Mean).Max(p => Math.Abs(p.First - p.Second));
                float rankAbs = Math.Abs(score[0] - c.Rank);
                output.WriteLine($"{c.Ids.Length} tokens: rank {score[0]} vs {c.Rank} ({rankAbs:E2}), cls {clsAbs:E2}, mean {meanAbs:E2}");
                Assert.True(rankAbs <= 2e-3f && clsAbs <= 2e-3f && meanAbs <= 2e-3f, $"{c.Ids.Length} tokens: rank {rankAbs}, cls {clsAbs}, mean {meanAbs}");

                // Without scores the head is skipped and the hidden states are the same.
                var again = new float[hidden.Length];
                model.Encode(c.Ids, again);
                Assert.Equal(hidden, again);
            }
            Assert.Throws<ArgumentException>(() => model.Encode(cases[0].Ids, new float[cases[0].Ids.Length * 64], new float[2]));
        }
        finally { File.Delete(path); }
    }

    /// <summary>
    /// The three inputs back to back in one Encode: each sees only its own tokens at positions from 0, so its hidden
    /// rows and rank score are the ones it gives alone (and llama.cpp's); the head reads each input's first row.
    /// </summary>
    [Fact]
    public void SeveralInputsInOneBatchGiveWhatEachGivesAlone()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bert-rank-batch-{Environment.ProcessId}.gguf");
        try
        {
            SynthModel.Write(path, Options, null);
            using var file = GgufFile.Open(path);
            using var model = new BertSynthRank();
            model.Load(file, new InferenceOptions(Threads: 2));
            int dim = model.HiddenSize;
            var cases = Reference();
            int[] tokens = [.. cases.SelectMany(c => c.Ids)];
            int[] lengths = [.. cases.Select(c => c.Ids.Length)];
            var hidden = new float[tokens.Length * dim];
            var scores = new float[cases.Count];
            model.Encode(tokens, lengths, hidden, scores);
            for (int i = 0, start = 0; i < cases.Count; start += lengths[i++])
            {
                var alone = new float[lengths[i] * dim];
                var score = new float[1];
                model.Encode(cases[i].Ids, alone, score);
                float rowsAbs = alone.Zip(hidden.AsSpan(start * dim, alone.Length).ToArray()).Max(p => Math.Abs(p.First - p.Second));
                output.WriteLine($"input {i} ({lengths[i]} tokens at {start}): rank {scores[i]} alone {score[0]}, hidden max-abs {rowsAbs:E2}");
                Assert.Equal(score[0], scores[i]);
                Assert.Equal(alone, hidden.AsSpan(start * dim, alone.Length).ToArray());
                Assert.True(Math.Abs(scores[i] - cases[i].Rank) <= 2e-3f);
            }

            // The lengths must cover the tokens; the scores are one per input.
            Assert.Throws<ArgumentException>(() => model.Encode(tokens, [lengths[0], lengths[1]], hidden, scores));
            Assert.Throws<ArgumentException>(() => model.Encode(tokens, [.. lengths, 0], hidden, []));
            Assert.Throws<ArgumentException>(() => model.Encode(tokens, lengths, hidden, new float[1]));
            var e = Assert.Throws<ContextOverflowException>(() => model.Encode(new int[65], [40, 25], new float[65 * dim], []));
            Assert.Contains("65 tokens in 2 inputs", e.Message);
            Assert.Contains("at most 64", e.Message);
        }
        finally { File.Delete(path); }
    }
}

public class RerankVerbTests
{
    private static string BertGguf => TestPaths.Require(Path.Combine(TestPaths.Shared, "golden", "models", "bert.f32.gguf"));

    private static (int Code, string Out, string Err) Run(IModel model, params string[] args) => HostProgramTests.Run(model, args);

    [Fact]
    public void EachDocumentIsLaidOutAsLlamaCppsServerDoesAndScoredInOrder()
    {
        var enc = new FakeEncoder(maxTokens: 64, pooling: PoolingKind.Rank, scores: 1);
        var (code, o, e) = Run(enc, "rerank", "--query", "hello", "world", "a \"quoted\" doc", "--model", BertGguf);
        Assert.True(code == 0, e);
        var lines = o.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        // [CLS] query [SEP] [SEP] doc [SEP]: bos 101, eos 102, the golden vocabulary has no separate separator id.
        var tokenizer = TokenizerCodec.FromGguf(GgufFile.Open(BertGguf)).Tokenizer;
        int[] q = [.. tokenizer.Tokenize("hello", addSpecialTokens: false)];
        int[] d = [.. tokenizer.Tokenize("world", addSpecialTokens: false)];
        Assert.Equal([101, .. q, 102, 102, .. d, 102], enc.Inputs[0]);
        using var first = System.Text.Json.JsonDocument.Parse(lines[0]);
        Assert.Equal(0, first.RootElement.GetProperty("index").GetInt32());
        Assert.Equal(enc.Inputs[0].Sum(), first.RootElement.GetProperty("score").GetSingle());
        Assert.Equal("world", first.RootElement.GetProperty("document").GetString());
        using var second = System.Text.Json.JsonDocument.Parse(lines[1]);
        Assert.Equal("a \"quoted\" doc", second.RootElement.GetProperty("document").GetString());
    }

    [Fact]
    public void AnEncoderWithoutAHeadSaysSoInOneLine()
    {
        var (code, _, e) = Run(new FakeEncoder(), "rerank", "--query", "q", "d", "--model", BertGguf);
        Assert.Equal(1, code);
        Assert.Single(e.Trim().Split('\n'));
        Assert.Contains("no reranking head", e);
    }

    [Fact]
    public void MissingQueryOrDocumentsAreUsageErrors()
    {
        Assert.Equal(2, Run(new FakeEncoder(scores: 1), "rerank", "d", "--model", BertGguf).Code);
        Assert.Equal(2, Run(new FakeEncoder(scores: 1), "rerank", "--query", "q", "--model", BertGguf).Code);
    }
}
