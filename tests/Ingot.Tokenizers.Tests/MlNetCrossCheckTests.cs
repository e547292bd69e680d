using System.Text.Json;
using Ingot.Formats;
using Microsoft.ML.Tokenizers;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Tokenizers.Tests;

/// <summary>
/// Microsoft.ML.Tokenizers' own classes on the vocabularies they can load, against the same llama.cpp suites and
/// SentencePiece vectors our tokenizers match exactly: LlamaTokenizer from a tokenizer.model, BertTokenizer from the
/// bert-bge vocabulary (written out as vocab.txt), TiktokenTokenizer and a byte-level BpeTokenizer for GPT-2. Each row pins how many cases the library
/// agrees on, so the README's table (Tokenizers and chat) stays what the code measures; the cases it gets wrong are
/// printed. No BOS/EOS on either side.
/// </summary>
public class MlNetCrossCheckTests(ITestOutputHelper output)
{
    private static string Llama2c(string file) => TestPaths.Require(Path.Combine(TestPaths.Shared, "models", "llama2c", file));

    /// <summary>(name, cases, agreements the library reaches); the README's table.</summary>
    public static TheoryData<string, int, int> Rows => new()
    {
        { "llama-spm suite / LlamaTokenizer(tokenizer.model)", 46, 44 },
        { "sentencepiece vectors llama2_32k / LlamaTokenizer(tokenizer.model)", 11, 11 },
        { "sentencepiece vectors tok512 / LlamaTokenizer(tok512.model)", 11, 11 },
        { "bert-bge suite / BertTokenizer(vocab.txt)", 46, 37 },
        { "gpt-2 suite / TiktokenTokenizer(gpt2)", 46, 46 },
        { "gpt-2 suite / BpeTokenizer(byte-level, GPT-2's regex)", 46, 46 },
    };

    private static List<(string Text, int[] Ids)> Vectors(string vocab)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Llama2c("testvectors/sentencepiece_encode_vectors.json")));
        return [.. doc.RootElement.GetProperty("tokenizers").GetProperty(vocab).GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()))];
    }

    private static List<(string Text, int[] Ids)> Suite(string name)
    {
        var (inputs, outputs) = VocabSuite.Read(name);
        return [.. inputs.Zip(outputs)];
    }

    private static (List<(string Text, int[] Ids)> Cases, Func<string, IReadOnlyList<int>> Encode) Load(string row)
    {
        if (row.StartsWith("llama-spm", StringComparison.Ordinal) || row.Contains("llama2_32k", StringComparison.Ordinal))
        {
            using var s = File.OpenRead(Llama2c("tokenizer.model"));
            var t = LlamaTokenizer.Create(s, addBeginOfSentence: false, addEndOfSentence: false);
            return (row.StartsWith("llama-spm", StringComparison.Ordinal) ? Suite("llama-spm") : Vectors("llama2_32k"), x => t.EncodeToIds(x, false, false));
        }
        if (row.Contains("tok512", StringComparison.Ordinal))
        {
            using var s = File.OpenRead(Llama2c("tok512.model"));
            var t = LlamaTokenizer.Create(s, addBeginOfSentence: false, addEndOfSentence: false);
            return (Vectors("tok512"), x => t.EncodeToIds(x, false, false));
        }
        if (row.StartsWith("bert-bge", StringComparison.Ordinal))
        {
            string vocab = Path.Combine(Path.GetTempPath(), $"ingot-bert-bge-vocab-{Environment.ProcessId}.txt");
            using (var f = GgufFile.Open(VocabSuite.Gguf("bert-bge")))
            {
                // llama.cpp's GGUF spells a word-initial piece with a leading ▁ and a continuation without BERT's ##:
                // vocab.txt is the other way round. Control tokens ([CLS], [unused0] …) are as they are.
                var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
                var types = f.GetArray<int>("tokenizer.ggml.token_type");
                File.WriteAllLines(vocab, tokens.Select((t, i) => types[i] == 3 ? t : t.StartsWith('\u2581') ? t[1..] : "##" + t));
            }
            var t = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
            return (Suite("bert-bge"), x => t.EncodeToIds(x, addSpecialTokens: false));
        }
        if (row.Contains("BpeTokenizer", StringComparison.Ordinal))
        {
            // The GGUF's byte-level tokens and merges, with GPT-2's pre-tokenizer regex (encoder.py's pattern).
            using var f = GgufFile.Open(VocabSuite.Gguf("gpt-2"));
            var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
            var options = new BpeOptions(tokens.Select((t, i) => new KeyValuePair<string, int>(t, i)))
            {
                Merges = f.GetArray<string>("tokenizer.ggml.merges"),
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(new System.Text.RegularExpressions.Regex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"), null),
            };
            var bpe = BpeTokenizer.Create(options);
            return (Suite("gpt-2"), x => bpe.EncodeToIds(x));
        }
        var gpt2 = TiktokenTokenizer.CreateForModel("gpt2");
        return (Suite("gpt-2"), x => gpt2.EncodeToIds(x));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void TheLibrarysOwnTokenizerAgreesWithLlamaCppOnTheRecordedCases(string row, int cases, int agreements)
    {
        var (list, encode) = Load(row);
        int agree = 0;
        foreach (var (text, ids) in list)
        {
            IReadOnlyList<int> got;
            try { got = encode(text); }
            catch (Exception e) { output.WriteLine($"  {VocabSuite.Show(text)}: {e.GetType().Name}: {e.Message}"); continue; }
            if (got.SequenceEqual(ids)) agree++;
            else output.WriteLine($"  {VocabSuite.Show(text)}: llama.cpp [{string.Join(' ', ids)}], ML.NET [{string.Join(' ', got)}]");
        }
        output.WriteLine($"{row}: {agree} of {list.Count}");
        Assert.Equal((cases, agreements), (list.Count, agree));
    }
}
