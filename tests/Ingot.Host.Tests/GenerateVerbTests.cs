using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>`generate` with the fake bigram model (vocab 512) and the real stories260K tokenizer from its GGUF.</summary>
public class GenerateVerbTests
{
    private static string Gguf => TestPaths.Require(TestPaths.Stories260KGguf);

    private static BigramModel Model()
    {
        // A chain through ordinary word pieces (ids 259..510), never BOS/EOS.
        var m = new BigramModel(vocab: 512, trainedContext: 128);
        m.Next = prev => 259 + (prev * 37 + 11) % 252;
        return m;
    }

    [Fact]
    public void PrintsThePrompt_ThenTheDecodedGreedyChain()
    {
        var model = Model();
        var (code, o, e) = HostProgramTests.Run(model, "generate", "-p", "Once upon a time", "-n", "12", "--temp", "0", "--model", Gguf);
        Assert.True(code == 0, e);

        using var file = GgufFile.Open(Gguf);
        var tok = Tokenizer.FromGguf(file);
        var prompt = tok.Tokenize("Once upon a time", addSpecialTokens: true);
        var all = new List<int>(prompt);
        // -n 12 = 12 positions with the prompt (llama2.c's steps): 12 - 5 + 1 = 8 new tokens.
        for (int i = 0; i < 12 - prompt.Count + 1; i++) all.Add(model.Next(all[^1]));
        string full = tok.Decode(all);
        string promptText = tok.Decode(prompt);
        Assert.Equal("Once upon a time" + full[promptText.Length..] + "\n", o);
        Assert.Contains($"generated {12 - prompt.Count + 1} tokens", e);
        Assert.Contains("greedy", e);
        Assert.Equal(12, model.LastOptions!.ContextSize); // sized to the run
    }

    [Fact]
    public void MaxNew_CountsNewTokens_LikeLlamaCpp()
    {
        var model = Model();
        var (code, _, e) = HostProgramTests.Run(model, "generate", "-p", "Once upon a time", "--max-new", "3", "--temp", "0", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Contains("generated 3 tokens", e);
    }

    [Theory]
    [InlineData(null, KvCacheType.F16)] // llama.cpp's default
    [InlineData("f16", KvCacheType.F16)]
    [InlineData("F32", KvCacheType.F32)]
    public void KvType_ReachesTheModel(string? value, KvCacheType expected)
    {
        var model = Model();
        string[] kv = value is null ? [] : ["--kv-type", value];
        var (code, _, e) = HostProgramTests.Run(model, ["generate", "-p", "Once upon a time", "-n", "8", "--temp", "0", "--model", Gguf, .. kv]);
        Assert.True(code == 0, e);
        Assert.Equal(expected, model.LastOptions!.KvType);
    }

    [Fact]
    public void ExplicitContext_TooSmall_StopsCleanlyWithANote()
    {
        var model = Model();
        var (code, o, e) = HostProgramTests.Run(model, "generate", "-p", "Once upon a time", "-n", "50", "--temp", "0", "--ctx", "8", "--model", Gguf);
        Assert.Equal(0, code);
        Assert.Equal(8, model.LastOptions!.ContextSize);
        Assert.Contains("context is full (8 tokens)", e);
        Assert.StartsWith("Once upon a time", o);
        Assert.EndsWith("\n", o);
    }

    [Fact]
    public void PromptLongerThanContext_OneLine_Exit1()
    {
        var (code, _, e) = HostProgramTests.Run(Model(), "generate", "-p", "Once upon a time there was a dog", "--ctx", "3", "--model", Gguf);
        Assert.Equal(1, code);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        Assert.Contains("raise --ctx", e);
    }

    [Fact]
    public void Sampled_SameSeed_SameText_AndTheSeedIsReported()
    {
        string[] args = ["generate", "-p", "Once", "-n", "30", "--temp", "5", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", "7", "--model", Gguf];
        var a = HostProgramTests.Run(Model(), args);
        var b = HostProgramTests.Run(Model(), args);
        Assert.Equal(0, a.Code);
        Assert.Equal(a.Out, b.Out);
        Assert.Contains("seed 7", a.Err);
        var c = HostProgramTests.Run(Model(), [.. args[..^3], "8", "--model", Gguf]);
        Assert.NotEqual(a.Out, c.Out);
    }

    [Fact]
    public void Tokenize_PrintsIdsWithBos()
    {
        var (code, o, e) = HostProgramTests.Run(Model(), "tokenize", "Once upon a time", "--model", Gguf);
        Assert.True(code == 0, e);
        Assert.Equal("1 403 407 261 378\n", o); // llama.cpp's ids for this prompt (gguf/testvectors)
    }
}
