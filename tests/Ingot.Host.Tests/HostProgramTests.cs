using System.Buffers.Binary;
using Ingot.Runtime;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>The verbs of a compiled executable, run in-process against the fake bigram model.</summary>
public class HostProgramTests
{
    internal static (int Code, string Out, string Err) Run(IModel model, params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        int code = HostProgram.Run(model, args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertOneLineError(string err)
    {
        Assert.False(string.IsNullOrWhiteSpace(err));
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    [Fact]
    public void NoArguments_PrintsUsage_Exit2()
    {
        var (code, o, e) = Run(new BigramModel());
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Contains("usage: bigram VERB", e);
    }

    [Fact]
    public void Help_ListsEveryVerb()
    {
        var (code, o, _) = Run(new BigramModel(), "--help");
        Assert.Equal(0, code);
        foreach (var v in new[] { "generate", "tokenize", "logits", "bench", "info" }) Assert.Contains("  " + v, o);
    }

    [Theory]
    [InlineData("generate", "-p TEXT")]
    [InlineData("tokenize", "TEXT")]
    [InlineData("logits", "--tokens")]
    [InlineData("bench", "-r N")]
    [InlineData("info", "--model PATH")]
    public void EveryVerb_HasHelp(string verb, string mentions)
    {
        var model = new BigramModel();
        var (code, o, e) = Run(model, verb, "--help");
        Assert.Equal(0, code);
        Assert.Empty(e);
        Assert.StartsWith($"usage: bigram {verb}", o);
        Assert.Contains(mentions, o);
        Assert.Equal(0, model.LoadCalls);
    }

    [Fact]
    public void UnknownVerb_OneLine_Exit2()
    {
        var (code, _, e) = Run(new BigramModel(), "converse");
        Assert.Equal(2, code);
        AssertOneLineError(e);
        Assert.Contains("unknown verb 'converse'", e);
    }

    [Theory]
    [InlineData("generate")]                                   // no -p
    [InlineData("generate", "-p", "x", "--temp", "hot")]       // not a number
    [InlineData("generate", "-p", "x", "--frobnicate")]        // unknown option
    [InlineData("generate", "-p", "x", "-n", "-5")]            // negative steps
    [InlineData("generate", "-p", "x", "--seed", "abc")]
    [InlineData("logits", "-o", "f.bin")]                       // no --tokens
    [InlineData("logits", "--tokens", "1 two 3", "-o", "f.bin")]
    [InlineData("bench", "-r", "0")]
    [InlineData("tokenize")]
    [InlineData("generate", "-p", "x", "--ctx", "-1")]
    [InlineData("generate", "-p", "x", "--kv-type", "q8_0")]
    public void UsageErrors_OneLine_Exit2(params string[] args)
    {
        var model = new BigramModel();
        var (code, _, e) = Run(model, args);
        Assert.Equal(2, code);
        AssertOneLineError(e);
        Assert.Contains("--help", e);
        Assert.Equal(0, model.LoadCalls);
    }

    [Theory]
    [InlineData("generate", "-p", "hi")]
    [InlineData("tokenize", "hi")]
    [InlineData("logits", "--tokens", "1", "-o", "x.bin")]
    [InlineData("bench")]
    public void MissingWeights_OneLine_Exit1(params string[] args)
    {
        string missing = Path.Combine(Path.GetTempPath(), "ingot-no-such-dir", "nothing.gguf");
        var (code, o, e) = Run(new BigramModel(), [.. args, "--model", missing]);
        Assert.Equal(1, code);
        AssertOneLineError(e);
        Assert.Contains("weights not found: " + missing, e);
        Assert.DoesNotContain("nothing", o);
    }

    [Fact]
    public void DefaultWeightsPath_IsNextToTheExecutable_NamedAfterTheModel()
    {
        var (code, _, e) = Run(new BigramModel(name: "tiny-model"), "generate", "-p", "x");
        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(AppContext.BaseDirectory, "tiny-model.gguf"), e);
    }

    [Fact]
    public void InfoWithoutWeights_StillDescribesTheCompiledModel()
    {
        var (code, o, e) = Run(new BigramModel(), "info", "--model", "/nonexistent/x.gguf");
        Assert.Equal(0, code);
        Assert.Empty(e);
        Assert.Contains("model:            bigram (llama)", o);
        Assert.Contains("isa compiled:     vector256, vector128, scalar", o);
        Assert.Contains("isa in use:       scalar", o);
        Assert.Contains("not found", o);
        Assert.Contains("\"schema\": 1", o);
        var (code2, spec, _) = Run(new BigramModel(), "info", "--spec");
        Assert.Equal(0, code2);
        Assert.StartsWith("{", spec);
    }

    [Fact]
    public void ModelErrors_AreOneLine_Exit1()
    {
        // The fake throws from Load like a generated model whose weights do not match.
        var model = new ThrowingModel(new WeightMismatchException("blk.0.attn_q.weight: type q4_0, the compiled spec has f32"));
        var (code, _, e) = Run(model, "logits", "--tokens", "1 2", "-o", Path.GetTempFileName(), "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.Equal(1, code);
        AssertOneLineError(e);
        Assert.Contains("blk.0.attn_q.weight: type q4_0", e);
    }

    [Fact]
    public void CorruptWeightsFile_OneLine_Exit1()
    {
        string bad = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(bad, [.. "GGUF"u8, 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]); // absurd tensor count, then EOF
            var (code, _, e) = Run(new BigramModel(), "logits", "--tokens", "1", "-o", bad + ".out", "--model", bad);
            Assert.Equal(1, code);
            AssertOneLineError(e);
            Assert.Contains(bad, e);
            Assert.DoesNotContain("internal error", e);
        }
        finally { File.Delete(bad); }
    }

    [Fact]
    public void Logits_WritesRowsColsAndEveryRow()
    {
        var model = new BigramModel(vocab: 512);
        string file = Path.GetTempFileName();
        try
        {
            var (code, o, e) = Run(model, "logits", "--tokens", "1 17,300  42", "-o", file, "--model", TestPaths.Require(TestPaths.Stories260KGguf));
            Assert.True(code == 0, e);
            Assert.Contains("wrote 4 x 512 logits", o);
            byte[] bytes = File.ReadAllBytes(file);
            Assert.Equal(8 + 4 * 512 * 4, bytes.Length);
            Assert.Equal(4, BinaryPrimitives.ReadInt32LittleEndian(bytes));
            Assert.Equal(512, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)));
            int[] tokens = [1, 17, 300, 42];
            var expected = new float[512];
            for (int r = 0; r < 4; r++)
            {
                model.Row(tokens[r], expected);
                for (int c = 0; c < 512; c++)
                    Assert.Equal(expected[c], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (r * 512 + c) * 4)));
            }
            Assert.Equal(1, model.PrefillCalls);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Logits_TokenOutsideVocabulary_Exit2()
    {
        var (code, _, e) = Run(new BigramModel(vocab: 512), "logits", "--tokens", "1 512", "-o", Path.GetTempFileName(), "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.Equal(2, code);
        AssertOneLineError(e);
        Assert.Contains("outside the vocabulary", e);
    }

    [Fact]
    public void NoSwa_ReachesTheModelsLoadOptions()
    {
        var model = new BigramModel(vocab: 512);
        string outFile = Path.GetTempFileName();
        var (code, _, e) = Run(model, "logits", "--tokens", "1 2", "-o", outFile, "--no-swa", "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.True(code == 0, e);
        Assert.True(model.LastOptions!.NoSlidingWindow);
        (code, _, e) = Run(model, "logits", "--tokens", "1 2", "-o", outFile, "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.True(code == 0, e);
        Assert.False(model.LastOptions!.NoSlidingWindow);
    }

    [Fact]
    public void Bench_PrintsALlamaBenchTable()
    {
        var model = new BigramModel(vocab: 512);
        var (code, o, e) = Run(model, "bench", "-p", "16", "-n", "8", "-r", "2", "-t", "3", "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.True(code == 0, e);
        var lines = o.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^\| model +\| +size \| +params \| isa +\| threads \| +test \| +t/s \|$", lines[0]);
        Assert.Matches(@"^\|[-:| ]+\|$", lines[1]);
        Assert.Matches(@"^\| bigram \| +0\.00 MiB \| +1\.23 M \| scalar \| +3 \| +pp16 \| +[0-9.]+ ± [0-9.]+ \|$", lines[2]);
        Assert.Matches(@"^\| bigram \| .* \| +tg8 \| +[0-9.]+ ± [0-9.]+ \|$", lines[3]);
        foreach (var l in lines) Assert.Equal(8, l.Count(c => c == '|'));
        // 1 warm-up + 2 timed prefills for pp; for tg the same plus the untimed 1-token prompts; 8 decodes per timed rep.
        Assert.Equal(3, model.LastOptions!.Threads);
        Assert.Equal(2 + 2 * 8, model.DecodeCalls);
    }

    /// <summary>-d (llama-bench's depth): every test again after D tokens in the cache, named "ppN @ dD"; the context covers the deepest.</summary>
    [Fact]
    public void Bench_Depth_RunsEachTestAfterThatManyCachedTokens()
    {
        var model = new BigramModel(vocab: 512, trainedContext: 256);
        model.OnDecode = _ => Assert.True(model.Position >= 40 || model.Position <= 10, $"a decode at position {model.Position}");
        var (code, o, e) = Run(model, "bench", "-p", "8", "-n", "4", "-d", "0,40", "-r", "1", "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.True(code == 0, e);
        var tests = o.TrimEnd('\n').Split('\n').Skip(2).Select(l => l.Split('|')[6].Trim()).ToArray();
        Assert.Equal(["pp8", "tg4", "pp8 @ d40", "tg4 @ d40"], tests);
        Assert.True(model.LastOptions!.ContextSize >= 48, $"context {model.LastOptions.ContextSize}");
        // the last thing run: the d40 tg test's 40-token prompt, then 4 decodes
        Assert.Equal(44, model.Position);
        (code, _, e) = Run(new BigramModel(vocab: 512), "bench", "-d", "x", "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.Equal(2, code);
        Assert.Contains("-d takes depths", e);
    }

    [Fact]
    public void Bench_ZeroSkipsATest()
    {
        var (code, o, e) = Run(new BigramModel(vocab: 512), "bench", "-p", "0", "-n", "4", "-r", "1", "--model", TestPaths.Require(TestPaths.Stories260KGguf));
        Assert.True(code == 0, e);
        Assert.DoesNotContain("pp", o);
        Assert.Contains("tg4", o);
    }

    private sealed class ThrowingModel(Exception e) : ICompiledModel
    {
        public ModelDescription Description => new("broken", "llama", "{}", 512, 64, 1, ["scalar"], "scalar");
        public int VocabSize => 512;
        public int ContextSize => 64;
        public int Position => 0;
        public long WeightBytes => 0;
        public void Load(Formats.GgufFile weights, InferenceOptions options) => throw e;
        public void Reset() { }
        public void Prefill(ReadOnlySpan<int> tokens, Span<float> logits) => throw e;
        public void Decode(int token, Span<float> logits) => throw e;
        public void Dispose() { }
    }
}
