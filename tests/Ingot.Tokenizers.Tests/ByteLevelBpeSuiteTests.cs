using System.Diagnostics;
using System.Text;
using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Xunit;

namespace Ingot.Tokenizers.Tests;

/// <summary>
/// Byte-level BPE (tokenizer.ggml.model = gpt2) against llama.cpp's own ids for every gpt2 suite in ../shared/vocab,
/// plus the behaviour around it: special tokens, BOS/EOS flags, decoding, streaming and worst-case speed.
/// </summary>
public class ByteLevelBpeSuiteTests
{
    public static TheoryData<string> Suites()
    {
        var data = new TheoryData<string>();
        foreach (string name in SuiteNames()) data.Add(name);
        return data;
    }

    private static List<string> SuiteNames()
    {
        var names = new List<string>();
        foreach (string gguf in Directory.GetFiles(Path.Combine(TestPaths.Shared, "vocab"), "ggml-vocab-*.gguf").Order(StringComparer.Ordinal))
        {
            if (!File.Exists(gguf + ".inp") || !File.Exists(gguf + ".out")) continue;
            using var f = GgufFile.Open(gguf);
            if (f.GetString("tokenizer.ggml.model", "") == "gpt2")
                names.Add(Path.GetFileName(gguf)["ggml-vocab-".Length..^".gguf".Length]);
        }
        return names;
    }

    private static ByteLevelBpeTokenizer Load(string suite) => Assert.IsType<ByteLevelBpeTokenizer>(VocabSuite.Load(suite));

    [Fact]
    public void AllGpt2SuitesAreFound()
    {
        // A missing suite must fail loudly, not shrink the theory.
        Assert.Equal(["deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "mpt", "refact", "starcoder"], SuiteNames());
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void EncodeToIds_MatchesLlamaCpp_CaseByCase(string suite)
    {
        var tokenizer = Load(suite);
        var (inputs, outputs) = VocabSuite.Read(suite);
        Assert.True(inputs.Count >= 40, $"{suite}: only {inputs.Count} cases");
        for (int i = 0; i < inputs.Count; i++)
        {
            // llama.cpp's test-tokenizer-0 tokenizes with parse_special = false (user-defined tokens still split out).
            foreach (bool parseSpecial in new[] { false, true })
                VocabSuite.CheckThroughMlNet(suite, i, tokenizer, inputs[i], outputs[i], parseSpecial);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Decode_RoundTripsEveryCase(string suite)
    {
        var tokenizer = Load(suite);
        var (inputs, outputs) = VocabSuite.Read(suite);
        for (int i = 0; i < inputs.Count; i++)
        {
            string fromOurs = tokenizer.Decode(tokenizer.Tokenize(inputs[i]));
            Assert.True(fromOurs == inputs[i], $"{suite} case {i}: decoded {VocabSuite.Show(fromOurs)}, expected {VocabSuite.Show(inputs[i])}");
            string fromLlamaCpp = tokenizer.Decode(outputs[i]);
            Assert.True(fromLlamaCpp == inputs[i], $"{suite} case {i}: llama.cpp's ids decode to {VocabSuite.Show(fromLlamaCpp)}");
        }
    }

    [Fact]
    public void ControlTokenText_IsParsedOnlyWhenAsked()
    {
        var t = Load("gpt-2");
        Assert.Equal([15496, 50256, 995], t.Tokenize("Hello<|endoftext|> world", parseSpecialTokens: true));
        var literal = t.Tokenize("Hello<|endoftext|> world", parseSpecialTokens: false);
        Assert.DoesNotContain(50256, literal);
        Assert.True(literal.Count > 3);
        Assert.Equal("Hello<|endoftext|> world", t.Decode(literal));
        // A control token prints only when asked.
        Assert.Equal("Hello world", t.Decode([15496, 50256, 995]));
        Assert.Equal("Hello<|endoftext|> world", t.Decode([15496, 50256, 995], includeSpecialTokens: true));
    }

    [Fact]
    public void UserDefinedTokens_AreAlwaysSplitOut_ControlTokensOnlyWhenParsing()
    {
        // deepseek-coder: <｜fim▁hole｜> etc. are user-defined (type 4) in the GGUF, but llama.cpp forces FIM markers
        // to control; a plain user-defined token is split out even with parseSpecialTokens = false, as in llama.cpp.
        var t = Load("deepseek-coder");
        using var gguf = GgufFile.Open(VocabSuite.Gguf("deepseek-coder"));
        var tokens = gguf.GetArray<string>("tokenizer.ggml.tokens");
        var types = gguf.GetArray<int>("tokenizer.ggml.token_type");
        int userDefined = Enumerable.Range(0, tokens.Length)
            .First(i => types[i] == 4 && tokens[i].Length > 3 && !tokens[i].Contains("fim", StringComparison.Ordinal));
        string text = "x = " + tokens[userDefined] + " y";
        Assert.Contains(userDefined, t.Tokenize(text, parseSpecialTokens: false));
        Assert.Contains(userDefined, t.Tokenize(text, parseSpecialTokens: true));
        Assert.Equal(text, t.Decode(t.Tokenize(text)));

        int bos = t.BosTokenId!.Value; // <｜begin▁of▁sentence｜>, control
        string withBos = tokens[bos] + "def f():";
        Assert.Equal(bos, t.Tokenize(withBos, parseSpecialTokens: true)[0]);
        Assert.DoesNotContain(bos, t.Tokenize(withBos, parseSpecialTokens: false));
    }

    [Fact]
    public void AddSpecialTokens_FollowsTheMetadata()
    {
        // gpt-2: no add_bos_token key, and llama.cpp adds no BOS for gpt2-type vocabularies by default.
        var gpt2 = Load("gpt-2");
        Assert.False(gpt2.AddBosToken);
        Assert.Equal(50256, gpt2.BosTokenId);
        Assert.Equal([15496], gpt2.Tokenize("Hello", addSpecialTokens: true));
        Assert.True(gpt2.IsEndOfGeneration(50256));
        Assert.False(gpt2.IsEndOfGeneration(15496));

        // deepseek-coder: add_bos_token = true, add_eos_token = false.
        var ds = Load("deepseek-coder");
        Assert.True(ds.AddBosToken);
        Assert.False(ds.AddEosToken);
        var ids = ds.Tokenize("Hello", addSpecialTokens: true);
        Assert.Equal(32013, ids[0]);
        Assert.Equal(ds.Tokenize("Hello"), ids.Skip(1));
        Assert.True(ds.IsEndOfGeneration(32014));
    }

    [Fact]
    public void StreamDecoder_NeverSplitsAUtf8Character()
    {
        var t = Load("gpt-2");
        string text = "héllo 🦙 wörld 😶‍🌫️ 我想在apple工作 ～";
        var ids = t.Tokenize(text);
        Assert.True(ids.Count > text.Length / 2); // the emoji and CJK are spelled with several byte tokens
        var stream = t.CreateStreamDecoder();
        var pieces = ids.Select(stream.Append).ToList();
        pieces.Add(stream.Flush());
        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, p => Assert.DoesNotContain('\uFFFD', p));
    }

    [Fact]
    public void UnknownPreTokenizer_IsAnInvalidModelFile_NamingTheKey()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ingot-bpe-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        try
        {
            new GgufWriter()
                .Set("tokenizer.ggml.model", "gpt2")
                .Set("tokenizer.ggml.pre", "no-such-family")
                .Set("tokenizer.ggml.tokens", new[] { "a", "b", "ab" })
                .Set("tokenizer.ggml.token_type", new[] { 1, 1, 1 })
                .Set("tokenizer.ggml.merges", new[] { "a b" })
                .Write(path);
            using var f = GgufFile.Open(path);
            var e = Assert.Throws<InvalidModelFileException>(() => Tokenizer.FromGguf(f));
            Assert.Contains("tokenizer.ggml.pre", e.Message);
            Assert.Contains("no-such-family", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TinyVocabulary_MergesByRank_AndFallsBackForUnknownMergeResults()
    {
        // Ranks: "b c" before "a b", so "abc" → a + bc, not ab + c. "x y" merges into "xy", which is no token:
        // llama.cpp then emits the single-character tokens of its text.
        string[] tokens = ["a", "b", "c", "ab", "bc", "x", "y", "Ġ", "Ġa"];
        string[] merges = ["b c", "a b", "x y", "Ġ a"];
        var t = new ByteLevelBpeTokenizer(tokens, Enumerable.Repeat(1, tokens.Length).ToArray(), merges,
            ByteLevelPreTokenizer.FromName("gpt-2"), bos: null, eos: null, addBos: false, addEos: false);
        Assert.Equal([0, 4], t.Tokenize("abc"));
        Assert.Equal([3], t.Tokenize("ab"));
        Assert.Equal([5, 6], t.Tokenize("xy"));
        Assert.Equal([3, 8], t.Tokenize("ab a"));
        Assert.Equal("ab a", t.Decode([3, 8]));
    }

    [Fact]
    public void OneMegabyteWithoutSpaces_IsNotQuadratic()
    {
        var t = Load("gpt-2");
        var rng = new Random(7);
        var sb = new StringBuilder(1 << 20);
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        while (sb.Length < 1 << 20) sb.Append(alphabet[rng.Next(alphabet.Length)]);
        string letters = sb.ToString();                                   // one 1 MB word
        string digits = new string('7', 1 << 20);                         // one 1 MB number
        string punctuation = string.Concat(Enumerable.Repeat("!?.,;:", (1 << 20) / 6)); // one 1 MB run of symbols

        var watch = Stopwatch.StartNew();
        foreach (string text in new[] { letters, digits, punctuation })
        {
            var ids = t.Tokenize(text);
            Assert.True(ids.Count > 1000);
            Assert.Equal(text, t.Decode(ids));
        }
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"3 × 1 MB took {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void EncodeToIds_IsThreadSafe()
    {
        var t = Load("gpt-2");
        var (inputs, outputs) = VocabSuite.Read("gpt-2");
        Parallel.For(0, 64, k =>
        {
            int i = k % inputs.Count;
            Assert.Equal(outputs[i], t.Tokenize(inputs[i], parseSpecialTokens: false));
        });
    }
}

/// <summary>llama.cpp's special-token partition: longest token first, then left to right in what is left.</summary>
public class ByteLevelBpeSpecialTokenSplitterTests
{
    private static List<(string Text, int Id)> Split(SpecialTokenSplitter s, string text, bool parse = true)
    {
        var fragments = new List<TextFragment>();
        s.Split(text, parse, fragments);
        return fragments.Select(f => (text.Substring(f.Start, f.Length), f.TokenId)).ToList();
    }

    [Fact]
    public void LongestTokenWins_EvenWhenAShorterOneStartsEarlier()
    {
        var s = new SpecialTokenSplitter([new("x<|", 1, true), new("<|a|>", 2, true)]);
        Assert.Equal([("x", -1), ("<|a|>", 2)], Split(s, "x<|a|>"));
        Assert.Equal([("x<|", 1), ("b|>", -1)], Split(s, "x<|b|>"));
    }

    [Fact]
    public void RepeatedAndAdjacentTokens_AndTextBetween()
    {
        var s = new SpecialTokenSplitter([new("<s>", 1, true), new("[U]", 2, false)]);
        Assert.Equal([("<s>", 1), ("<s>", 1), ("hi ", -1), ("[U]", 2), (" ", -1), ("<s>", 1)], Split(s, "<s><s>hi [U] <s>"));
        // Not parsing special tokens: control ones stay text, user-defined ones are still split out.
        Assert.Equal([("<s>hi ", -1), ("[U]", 2)], Split(s, "<s>hi [U]", parse: false));
        Assert.Empty(Split(s, ""));
        Assert.Equal([("plain", -1)], Split(s, "plain"));
    }

    [Fact]
    public void StripFlags_RemoveAsciiWhitespaceAroundTheToken()
    {
        var s = new SpecialTokenSplitter([new("<m>", 7, false, LStrip: true, RStrip: true)]);
        Assert.Equal([("a", -1), ("<m>", 7), ("b", -1)], Split(s, "a \t<m>\n b"));
    }
}
