using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// The golden T5 (encoder–decoder, golden/README item 22) against llama.cpp: encode 300 … 314 &lt;/s&gt;, then the 16 decoder
/// rows of 0 300 … 314 against ref/t5.f32.logits.kvf32.bin within 2e-3 (GELU through ggml's f16 table), the same rows
/// decoded one token at a time, and the greedy continuation up to the first near-tie.
/// </summary>
public class GoldenT5Tests(ITestOutputHelper output)
{
    private static readonly int[] Input = [.. Enumerable.Range(300, 15), 1];
    private static readonly int[] DecoderTokens = [0, .. Enumerable.Range(300, 15)];
    private const float Tolerance = 2e-3f;

    private static (GgufFile File, T5F32 Model) Open(int threads = 2)
    {
        var file = GgufFile.Open(TestPaths.Require("golden", "models", "t5.f32.gguf"));
        var m = new T5F32();
        m.Load(file, new InferenceOptions(ContextSize: 64, Threads: threads));
        return (file, m);
    }

    private static float MaxAbs(float[] rows, float[,] expected)
    {
        int vocab = expected.GetLength(1);
        Assert.Equal(rows.Length, expected.GetLength(0) * vocab);
        float max = 0;
        for (int t = 0; t < expected.GetLength(0); t++)
            for (int v = 0; v < vocab; v++) max = Math.Max(max, Math.Abs(rows[t * vocab + v] - expected[t, v]));
        return max;
    }

    [Fact]
    public void DecoderLogitsMatchLlamaCppInOneBatchAndOneByOne()
    {
        var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", "t5.f32.logits.kvf32.bin"));
        var (file, m) = Open();
        using (file)
        using (m)
        {
            Assert.Equal(0, m.DecoderStartToken);
            Assert.Throws<InvalidOperationException>(() => m.Decode(0, new float[T5F32.VocabSize]));
            m.Encode(Input);
            Assert.Equal(Input.Length, m.EncodedTokens);
            var logits = new float[DecoderTokens.Length * T5F32.VocabSize];
            m.Prefill(DecoderTokens, logits);
            float batch = MaxAbs(logits, expected);

            m.Encode(Input); // again: the decoder's cache starts empty, the cross keys are recomputed
            var rows = new float[logits.Length];
            for (int t = 0; t < DecoderTokens.Length; t++) m.Decode(DecoderTokens[t], rows.AsSpan(t * T5F32.VocabSize, T5F32.VocabSize));
            float single = MaxAbs(rows, expected);
            output.WriteLine($"t5.f32: prefill max-abs {batch:E3}, one by one {single:E3} (tolerance {Tolerance:E0})");
            Assert.True(batch <= Tolerance, $"prefill max-abs {batch}");
            Assert.True(single <= Tolerance, $"decode max-abs {single}");
        }
    }

    [Fact]
    public void GreedyMatchesLlamaCppUpToTheFirstNearTie()
    {
        using var manifest = TestPaths.Json(TestPaths.Require("golden", "manifest.json"));
        var greedy = manifest.RootElement.GetProperty("models").GetProperty("t5.f32.gguf").GetProperty("greedy");
        int[] ids = [.. greedy.GetProperty("ids_with_kv_f32").EnumerateArray().Select(e => e.GetInt32())];
        float[] margins = [.. greedy.GetProperty("top1_minus_top2").EnumerateArray().Select(e => e.GetSingle())];
        var (file, m) = Open();
        using (file)
        using (m)
        {
            m.Encode(Input);
            var logits = new float[T5F32.VocabSize];
            m.Prefill(DecoderTokens, logits);
            int checkedSteps = 0;
            for (int step = 0; step < ids.Length; step++)
            {
                if (margins[step] <= 2 * Tolerance) break;
                int got = TestPaths.ArgMax(logits);
                Assert.True(got == ids[step], $"greedy step {step}: token {got}, llama.cpp {ids[step]} (margin {margins[step]})");
                checkedSteps++;
                if (step + 1 < ids.Length) m.Decode(got, logits);
            }
            output.WriteLine($"t5.f32: greedy equal for {checkedSteps} of {ids.Length} steps");
            Assert.True(checkedSteps >= 7, $"only {checkedSteps} steps before a near-tie");
        }
    }

    [Fact]
    public void AnInputLongerThanTheEncoderTakesNamesBothLengths()
    {
        var (file, m) = Open(threads: 1);
        using (file)
        using (m)
        {
            var e = Assert.Throws<ContextOverflowException>(() => m.Encode(new int[200]));
            Assert.Contains("200 tokens", e.Message);
        }
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        using var model = new T5F32();
        int code = Host.HostProgram.Run(model, args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void TheExecutablesLogitsVerbTakesDecoderTokensAndGenerateDecodesFromTheStartToken()
    {
        string gguf = TestPaths.Require("golden", "models", "t5.f32.gguf");
        string file = Path.GetTempFileName();
        try
        {
            var (code, _, e) = Run("logits", "--tokens", string.Join(' ', Input), "--decoder-tokens", string.Join(' ', DecoderTokens), "--kv-type", "f32", "-o", file, "--model", gguf); // the F32-cache reference
            Assert.True(code == 0, e);
            var expected = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", "t5.f32.logits.kvf32.bin"));
            var got = TestPaths.ReadMatrix(file);
            float max = 0;
            for (int t = 0; t < expected.GetLength(0); t++)
                for (int v = 0; v < expected.GetLength(1); v++) max = Math.Max(max, Math.Abs(got[t, v] - expected[t, v]));
            Assert.True(max <= Tolerance, $"logits verb max-abs {max}");
        }
        finally { File.Delete(file); }

        var (missing, _, err) = Run("logits", "--tokens", "300 1", "-o", file, "--model", gguf);
        Assert.Equal(2, missing);
        Assert.Contains("--decoder-tokens", err);
        var (chat, _, chatErr) = Run("chat", "--model", gguf);
        Assert.Equal(2, chat);
        Assert.Contains("unknown verb 'chat'", chatErr);

        // Greedy from decoder_start over the encoded prompt: the output only (no prompt echo), the same text twice.
        var (g1, out1, e1) = Run("generate", "-p", "hello world", "--max-new", "6", "--temp", "0", "-q", "--model", gguf);
        var (g2, out2, _) = Run("generate", "-p", "hello world", "--max-new", "6", "--temp", "0", "-q", "--model", gguf);
        Assert.True(g1 == 0 && g2 == 0, e1);
        Assert.DoesNotContain("hello world", out1);
        Assert.False(string.IsNullOrWhiteSpace(out1));
        Assert.Equal(out1, out2);
    }
}
