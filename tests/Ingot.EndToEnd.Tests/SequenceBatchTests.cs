using Ingot.Formats;
using Ingot.Runtime;
using Xunit;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// Several sequences in one batch (continuous batching, the server's --parallel): every decoder family of
/// ../shared/golden runs three sequences through a schedule that mixes prompt chunks, a run longer than a chunk, and
/// one-token decodes in the same calls. Each run's logits must be bit-identical to the same tokens run alone, in
/// order, on a model holding one sequence: a token's math depends only on its own sequence's cache. With either
/// cache type (an F16 cache takes every chunk through KvCache.ScatterHeads).
/// </summary>
public class SequenceBatchTests
{
    public static TheoryData<string, string, KvCacheType> Models()
    {
        var data = new TheoryData<string, string, KvCacheType>();
        foreach (var row in GoldenFamilyTests.Models)
            foreach (var type in new[] { KvCacheType.F32, KvCacheType.F16 }) data.Add((string)row[0], (string)row[1], type);
        return data;
    }

    /// <summary>Sequence s's token stream: deterministic ids in the shared vocab range the golden models all have.</summary>
    private static int[] Stream(int s, int length) => Enumerable.Range(0, length).Select(i => 1 + (s * 97 + i * 31) % 250).ToArray();

    /// <summary>Calls of the schedule: (sequence, tokens in its run) per run; each sequence's runs continue its stream.</summary>
    private static readonly (int Sequence, int Length)[][] Schedule =
    [
        [(0, 6), (1, 5)],
        [(0, 1), (1, 70), (2, 3)], // 77 tokens: more than one chunk, with a run that spans the chunks
        [(2, 1), (0, 1), (1, 1)],  // the order of runs need not be the order of sequences
        [(1, 1), (2, 4)],
        [(0, 1), (1, 1), (2, 1)],
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void RunsInOneBatchGiveExactlyWhatEachGivesAlone(string model, string className, KvCacheType kvType)
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", model + ".gguf"));
        using var batched = GoldenFamilyTests.Create(className);
        batched.Load(file, new InferenceOptions(ContextSize: 128, Sequences: 3, KvType: kvType));
        Assert.Equal(3, batched.Sequences);
        int vocab = batched.VocabSize;

        // Alone: each sequence's runs in order on a one-sequence model, the last row of each run kept.
        var alone = new Dictionary<(int, int), float[]>(); // (sequence, run's end) → logits
        using (var single = GoldenFamilyTests.Create(className))
        {
            single.Load(file, new InferenceOptions(ContextSize: 128, KvType: kvType));
            for (int s = 0; s < 3; s++)
            {
                single.Reset();
                int done = 0;
                foreach (var call in Schedule)
                {
                    foreach (var (seq, length) in call)
                    {
                        if (seq != s) continue;
                        var logits = new float[vocab];
                        single.Prefill(Stream(s, done + length).AsSpan(done), logits);
                        done += length;
                        alone[(s, done)] = logits;
                    }
                }
            }
        }

        var positions = new int[3];
        foreach (var call in Schedule)
        {
            var tokens = call.SelectMany(r => Stream(r.Sequence, positions[r.Sequence] + r.Length).Skip(positions[r.Sequence])).ToArray();
            var logits = new float[call.Length * vocab];
            batched.Prefill(tokens, call.Select(r => r.Length).ToArray(), call.Select(r => r.Sequence).ToArray(), logits);
            for (int i = 0; i < call.Length; i++)
            {
                var (seq, length) = call[i];
                positions[seq] += length;
                Assert.Equal(positions[seq], batched.PositionOf(seq));
                var expected = alone[(seq, positions[seq])];
                var got = logits.AsSpan(i * vocab, vocab);
                for (int v = 0; v < vocab; v++)
                    if (BitConverter.SingleToInt32Bits(got[v]) != BitConverter.SingleToInt32Bits(expected[v]))
                        Assert.Fail($"{model}: sequence {seq} at position {positions[seq]}, logit {v}: {got[v]:R} batched, {expected[v]:R} alone");
            }
        }

        // Freeing one sequence leaves the others' caches: sequence 1 restarts and gives its first run's logits again.
        batched.Reset(1);
        Assert.Equal(0, batched.PositionOf(1));
        Assert.NotEqual(0, batched.PositionOf(0));
        var again = new float[2 * vocab];
        int[] first = Stream(1, 5);
        batched.Prefill([.. first, Stream(0, positions[0] + 1)[positions[0]]], [5, 1], [1, 0], again);
        Assert.True(again.AsSpan(0, vocab).SequenceEqual(alone[(1, 5)]), $"{model}: sequence 1 after Reset(1) differs from its first run");
    }

    [Fact]
    public void BadRunsAreRefusedNamingWhatIsWrong()
    {
        using var file = GgufFile.Open(TestPaths.Require("golden", "models", "llama-gqa.f32.gguf"));
        using var m = new LlamaGqaF32();
        m.Load(file, new InferenceOptions(ContextSize: 16, Sequences: 2));
        var logits = new float[2 * LlamaGqaF32.VocabSize];
        var e = Assert.Throws<ArgumentException>(() => m.Prefill([1, 2], [1, 1], [0, 0], logits));
        Assert.Contains("sequence 0 appears in runs 0 and 1", e.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => m.Prefill([1, 2], [1, 1], [0, 2], logits));
        Assert.Contains("InferenceOptions.Sequences = 2", range.Message);
        e = Assert.Throws<ArgumentException>(() => m.Prefill([1, 2, 3], [1, 1], [0, 1], logits));
        Assert.Contains("the lengths add up to 2, not to the 3 tokens", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Prefill([1, 2], [1, 1], [0, 1], new float[LlamaGqaF32.VocabSize]));
        Assert.Contains("runs × VocabSize", e.Message);
        m.Prefill(Enumerable.Repeat(1, 16).ToArray(), [16], [1], new float[LlamaGqaF32.VocabSize]);
        var full = Assert.Throws<ContextOverflowException>(() => m.Prefill([1, 2], [1, 1], [0, 1], logits));
        Assert.Contains("sequence 1: 16 tokens in the KV cache + 1 new exceed its capacity of 16", full.Message);
        Assert.Equal(0, m.PositionOf(0)); // nothing ran: the check comes first
    }
}
