using System.Text;
using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Xunit;

namespace Ingot.Tokenizers.Tests;

/// <summary>
/// llama.cpp's tokenizer test suites (../shared/vocab): a vocabulary-only GGUF, NAME.gguf.inp (cases, each ended by a
/// line reading exactly <c>__ggml_vocab_test__</c>) and NAME.gguf.out (one line of ids per case, no BOS/EOS). Every
/// case runs through Microsoft.ML.Tokenizers' API (<see cref="CheckThroughMlNet"/>).
/// </summary>
internal static class VocabSuite
{
    public const string Separator = "__ggml_vocab_test__";

    public static string Gguf(string name) => TestPaths.Require(Path.Combine(TestPaths.Shared, "vocab", $"ggml-vocab-{name}.gguf"));

    /// <summary>
    /// The cases of a .inp file. Each case is terminated by "\n" + separator + "\n"; the newline before a separator
    /// belongs to the separator, so a case may be empty or consist of newlines only.
    /// </summary>
    public static List<string> ReadInputs(string inpPath)
    {
        string all = File.ReadAllText(TestPaths.Require(inpPath), new UTF8Encoding(false, true));
        string terminator = "\n" + Separator + "\n";
        var cases = new List<string>();
        int pos = 0;
        while (pos < all.Length)
        {
            int end = all.IndexOf(terminator, pos, StringComparison.Ordinal);
            // The first case may itself be empty: then the file starts with the separator line.
            if (end < 0 && pos == 0 && all.StartsWith(Separator + "\n", StringComparison.Ordinal)) { cases.Add(""); pos = Separator.Length + 1; continue; }
            if (end < 0) throw new InvalidDataException($"{inpPath}: text after the last '{Separator}' line");
            cases.Add(all[pos..end]);
            pos = end + terminator.Length;
        }
        return cases;
    }

    /// <summary>The expected ids of a .out file: one line per case, ids separated by spaces (a leading space is formatting).</summary>
    public static List<int[]> ReadOutputs(string outPath)
    {
        string all = File.ReadAllText(TestPaths.Require(outPath));
        var lines = all.Split('\n');
        if (lines[^1].Length == 0) lines = lines[..^1];
        return lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()).ToList();
    }

    private static readonly Dictionary<string, Tokenizer> Cache = new();

    public static Tokenizer Load(string name)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(name, out var t)) return t;
            using var file = GgufFile.Open(Gguf(name));
            return Cache[name] = Tokenizer.FromGguf(file);
        }
    }

    public static (List<string> Inputs, List<int[]> Outputs) Read(string name)
    {
        string gguf = Gguf(name);
        var inputs = ReadInputs(gguf + ".inp");
        var outputs = ReadOutputs(gguf + ".out");
        if (inputs.Count != outputs.Count) throw new InvalidDataException($"{name}: {inputs.Count} cases in .inp but {outputs.Count} lines in .out");
        return (inputs, outputs);
    }

    /// <summary>
    /// One suite case through Microsoft.ML.Tokenizers' API (our tokenizer as an ML.NET Tokenizer, no BOS/EOS added):
    /// EncodeToIds gives llama.cpp's ids, CountTokens their count, EncodeToTokens the same ids with spans inside the
    /// text, in order. Where the ids decode back to the text, the spans tile it exactly.
    /// </summary>
    public static void CheckThroughMlNet(string suite, int i, Tokenizer ours, string input, int[] expected, bool parseSpecialTokens = true)
    {
        Microsoft.ML.Tokenizers.Tokenizer ml = ours.WithEncodeDefaults(addSpecialTokens: false, parseSpecialTokens);
        var ids = ml.EncodeToIds(input);
        if (!ids.SequenceEqual(expected))
            Assert.Fail($"{suite} case {i} {Show(input)} (parseSpecial={parseSpecialTokens}):\n  expected [{string.Join(' ', expected)}]\n  actual   [{string.Join(' ', ids)}]");
        Assert.Equal(expected.Length, ml.CountTokens(input));
        var tokens = ml.EncodeToTokens(input, out _);
        Assert.Equal(expected, tokens.Select(t => t.Id));
        int previous = 0;
        foreach (var t in tokens)
        {
            var (start, length) = t.Offset.GetOffsetAndLength(input.Length);
            Assert.True(start >= previous && start + length <= input.Length, $"{suite} case {i}: span {t.Offset} of {t.Value} after {previous}");
            previous = start;
        }
        if (ml.Decode(expected) == input && ours is not WordPieceTokenizer)
            Assert.Equal(input, string.Concat(tokens.Select(t => input[t.Offset])));
    }

    /// <summary>A readable form of a case for failure messages (escapes, code points of non-ASCII).</summary>
    public static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
            sb.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '"' => "\\\"", _ when c < 0x20 => $"\\x{(int)c:x2}", _ => c.ToString() });
        return sb.Append('"').ToString();
    }
}

public class VocabSuiteTests
{
    /// <summary>
    /// Every suite in ../shared/vocab with a GGUF, .inp and .out whose tokenizer.ggml.model this project owns here
    /// (llama = SentencePiece BPE, bert = WordPiece); the gpt2 suites are run by the byte-level BPE tests.
    /// </summary>
    public static TheoryData<string> Suites()
    {
        var data = new TheoryData<string>();
        foreach (string name in SuiteNames()) data.Add(name);
        return data;
    }

    private static List<string> SuiteNames()
    {
        var names = new List<string>();
        string dir = Path.Combine(TestPaths.Shared, "vocab");
        foreach (string gguf in Directory.GetFiles(dir, "ggml-vocab-*.gguf").Order(StringComparer.Ordinal))
        {
            if (!File.Exists(gguf + ".inp") || !File.Exists(gguf + ".out")) continue;
            using var f = GgufFile.Open(gguf);
            string model = f.GetString("tokenizer.ggml.model", "") ?? "";
            if (model is "llama" or "bert")
                names.Add(Path.GetFileName(gguf)["ggml-vocab-".Length..^".gguf".Length]);
        }
        return names;
    }

    [Fact]
    public void TheExpectedSuitesAreFound()
    {
        // A missing suite must fail loudly, not shrink the theory.
        var names = SuiteNames();
        Assert.Contains("llama-spm", names);
        Assert.Contains("phi-3", names);
        Assert.Contains("bert-bge", names);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void EncodeToIds_MatchesLlamaCpp_CaseByCase(string suite)
    {
        var tokenizer = VocabSuite.Load(suite);
        var (inputs, outputs) = VocabSuite.Read(suite);
        Assert.True(inputs.Count >= 40, $"{suite}: only {inputs.Count} cases");
        for (int i = 0; i < inputs.Count; i++)
        {
            VocabSuite.CheckThroughMlNet(suite, i, tokenizer, inputs[i], outputs[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Decode_RoundTrip_WhatEachTokenizerGuarantees(string suite)
    {
        var tokenizer = VocabSuite.Load(suite);
        var (inputs, outputs) = VocabSuite.Read(suite);
        for (int i = 0; i < inputs.Count; i++)
        {
            string text = inputs[i];
            string decoded = tokenizer.Decode(tokenizer.Tokenize(text));
            if (tokenizer is SentencePieceBpeTokenizer)
            {
                // SentencePiece BPE is lossless: byte fallback covers every character, and the decoder drops exactly
                // the one space the encoder prefixed.
                Assert.True(text == decoded, $"{suite} case {i}: decoded {VocabSuite.Show(decoded)}, expected {VocabSuite.Show(text)}");
            }
            else
            {
                // WordPiece loses case, accents, whitespace and unknown words. What holds: decoding then encoding again
                // reproduces the ids (when no word became [UNK], which decodes to nothing).
                var unk = ((WordPieceTokenizer)tokenizer).UnknownTokenId;
                if (outputs[i].Contains(unk ?? -1)) continue;
                var again = tokenizer.Tokenize(decoded);
                Assert.True(again.SequenceEqual(outputs[i]),
                    $"{suite} case {i}: decoded {VocabSuite.Show(decoded)} re-encodes to [{string.Join(' ', again)}], not [{string.Join(' ', outputs[i])}]");
            }
        }
    }

    [Fact]
    public void InputParser_KeepsEmptyAndNewlineOnlyCases()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ingot-vocab-{Environment.ProcessId}-{Guid.NewGuid():N}.inp");
        try
        {
            File.WriteAllText(path, "a b\n__ggml_vocab_test__\n\n__ggml_vocab_test__\n\n\n__ggml_vocab_test__\n  x\n\ty\n__ggml_vocab_test__\n");
            Assert.Equal(["a b", "", "\n", "  x\n\ty"], VocabSuite.ReadInputs(path));
        }
        finally { File.Delete(path); }
    }
}
