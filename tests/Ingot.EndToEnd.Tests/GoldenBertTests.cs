using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Kernels;
using Ingot.Specs;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// The golden BERT encoders against llama.cpp (golden/README item 21): the per-token hidden states of
/// [CLS] 300 … 313 [SEP] against ref/bert.*.embd.bin (pooling none) and their mean against embd_mean.bin, within
/// 2e-3 max-abs for F32 (ggml's GELU table) and 1e-2 for F16 (llama.cpp rounds activations to f16 before each matmul).
/// </summary>
public class GoldenBertTests(ITestOutputHelper output)
{
    private static readonly int[] Tokens = [101, .. Enumerable.Range(300, 14), 102];

    public static TheoryData<string, string, float> Models => new()
    {
        { "bert.f32", nameof(BertF32), 2e-3f },
        { "bert.f16", nameof(BertF16), 1e-2f },
    };

    internal static IEncoder Create(string className) => className switch
    {
        nameof(BertF32) => new BertF32(),
        nameof(BertF16) => new BertF16(),
        _ => throw new ArgumentException(className),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void HiddenStatesAndMeanMatchLlamaCpp(string model, string className, float tolerance)
    {
        var perToken = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".embd.bin"));
        var mean = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", model + ".embd_mean.bin"));
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var m = Create(className);
        m.Load(file, new InferenceOptions(Threads: 2));
        Assert.Equal(PoolingKind.Mean, m.Pooling);
        int dim = m.HiddenSize;
        var hidden = new float[Tokens.Length * dim];
        m.Encode(Tokens, hidden);

        Assert.Equal(Tokens.Length, perToken.GetLength(0));
        Assert.Equal(dim, perToken.GetLength(1));
        float maxAbs = 0;
        for (int t = 0; t < Tokens.Length; t++)
            for (int d = 0; d < dim; d++) maxAbs = Math.Max(maxAbs, Math.Abs(hidden[t * dim + d] - perToken[t, d]));

        var pooled = new float[dim];
        Pooling.Pool(PoolingKind.Mean, hidden, Tokens.Length, dim, pooled);
        float meanAbs = 0;
        for (int d = 0; d < dim; d++) meanAbs = Math.Max(meanAbs, Math.Abs(pooled[d] - mean[0, d]));
        output.WriteLine($"{model}: per-token max-abs {maxAbs:E3}, mean-pooled {meanAbs:E3} (tolerance {tolerance:E0})");
        Assert.True(maxAbs <= tolerance, $"{model}: per-token max-abs {maxAbs} > {tolerance}");
        Assert.True(meanAbs <= tolerance, $"{model}: mean-pooled max-abs {meanAbs} > {tolerance}");

        // Encoding again gives the same rows bit for bit (nothing leaks from one input into the next).
        var again = new float[hidden.Length];
        m.Encode(Tokens, again);
        Assert.Equal(hidden, again);

        // Between two other inputs in one batch, the golden input's rows are the same bit for bit: it sees only its
        // own tokens, at positions from 0.
        int[] before = [101, 400, 401, 402, 102], after = [101, 500, 102];
        var batch = new float[(before.Length + Tokens.Length + after.Length) * dim];
        m.Encode([.. before, .. Tokens, .. after], [before.Length, Tokens.Length, after.Length], batch, []);
        Assert.Equal(hidden, batch.AsSpan(before.Length * dim, hidden.Length).ToArray());
        var alone = new float[after.Length * dim];
        m.Encode(after, alone);
        Assert.Equal(alone, batch[((before.Length + Tokens.Length) * dim)..]);
    }

    /// <summary>
    /// IEmbeddingGenerator from Load(path): each text's vector is its [CLS] … [SEP] hidden states, mean-pooled (the file's
    /// pooling) and L2-normalized, as Encode computes them one text at a time.
    /// </summary>
    [Fact]
    public async Task AsEmbeddingGeneratorGivesEachTextsPooledNormalizedVector()
    {
        string path = TestPaths.Require("golden", "models", "bert.f32.gguf");
        using var m = BertF32.Load(path, new InferenceOptions { Threads = 2 });
        using Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> generator = m.AsEmbeddingGenerator();
        string[] texts = ["the cat sat on the mat", "hello world", ""];
        var embeddings = await generator.GenerateAsync(texts);
        Assert.Equal(texts.Length, embeddings.Count);
        using var file = GgufFile.Open(path);
        var codec = Ingot.Runtime.Generation.TokenizerCodec.FromGguf(file);
        long tokens = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            int[] ids = [.. codec.EncodePrompt(texts[i])];
            Assert.Equal(101, ids[0]);
            Assert.Equal(102, ids[^1]);
            tokens += ids.Length;
            var hidden = new float[ids.Length * m.HiddenSize];
            m.Encode(ids, hidden);
            var expected = new float[m.HiddenSize];
            Pooling.Pool(PoolingKind.Mean, hidden, ids.Length, m.HiddenSize, expected);
            Pooling.Normalize(expected);
            Assert.Equal(expected, embeddings[i].Vector.ToArray());
            Assert.Equal("bert-f32", embeddings[i].ModelId);
        }
        Assert.Equal(tokens, embeddings.Usage!.InputTokenCount);
        var meta = Assert.IsType<Microsoft.Extensions.AI.EmbeddingGeneratorMetadata>(generator.GetService(typeof(Microsoft.Extensions.AI.EmbeddingGeneratorMetadata)));
        Assert.Equal(m.HiddenSize, meta.DefaultModelDimensions);

        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(texts, new Microsoft.Extensions.AI.EmbeddingGenerationOptions { Dimensions = 8 }));
        string tooLong = string.Join(' ', Enumerable.Repeat("cat", m.MaxTokens));
        var e = await Assert.ThrowsAsync<ContextOverflowException>(() => generator.GenerateAsync([tooLong]));
        Assert.Contains($"at most {m.MaxTokens}", e.Message);
    }

    [Fact]
    public void AnInputLongerThanThePositionTableIsRefusedNamingBothLengths()
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", "bert.f32.gguf"));
        using var m = new BertF32();
        m.Load(file, new InferenceOptions(Threads: 1));
        int[] tooLong = Enumerable.Repeat(300, m.MaxTokens + 1).ToArray();
        var e = Assert.Throws<ContextOverflowException>(() => m.Encode(tooLong, new float[tooLong.Length * m.HiddenSize]));
        Assert.Contains($"{m.MaxTokens + 1} tokens", e.Message);
        Assert.Contains($"at most {m.MaxTokens}", e.Message);
        Assert.Throws<ArgumentException>(() => m.Encode([], []));
    }
}
