using System.Text.Json;
using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Ingot.TestSupport;
using Xunit;

namespace Ingot.Tokenizers.Tests;

/// <summary>
/// tokenizer.json files written from the suite vocabularies (the way HF stores them: vocab object, merges, added_tokens,
/// "##" continuation pieces) must give llama.cpp's ids for every case, as the GGUF form does. No real tokenizer.json
/// ships in ../shared, so the conversion is the test's; it follows convert_hf_to_gguf in reverse.
/// </summary>
public class HuggingFaceTokenizerTests
{
    private static string WriteTokenizerJson(string suite, Action<Utf8JsonWriter, string[], int[], GgufFile> model, Dictionary<string, object>? config = null)
    {
        using var f = GgufFile.Open(VocabSuite.Gguf(suite));
        string[] tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        int[] types = f.GetArray<int>("tokenizer.ggml.token_type");
        string dir = Path.Combine(Path.GetTempPath(), $"ingot-hf-{suite}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        TokenizerJsonWriter.Write(Path.Combine(dir, "tokenizer.json"), tokens, types, w => model(w, tokens, types, f));
        if (config != null) File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), JsonSerializerString(config));
        return dir;
    }

    private static string JsonSerializerString(Dictionary<string, object> d) =>
        "{" + string.Join(",", d.Select(kv => JsonSerializer.Serialize(kv.Key) + ":" + (kv.Value is bool b ? (b ? "true" : "false") : JsonSerializer.Serialize((string)kv.Value)))) + "}";

    private static void AssertSuite(string suite, Tokenizer hf)
    {
        var (inputs, outputs) = VocabSuite.Read(suite);
        for (int i = 0; i < inputs.Count; i++)
        {
            var ids = hf.Tokenize(inputs[i]);
            Assert.True(outputs[i].SequenceEqual(ids), $"{suite} case {i} {VocabSuite.Show(inputs[i])}: expected [{string.Join(' ', outputs[i])}], got [{string.Join(' ', ids)}]");
        }
    }

    [Fact]
    public void ByteLevelBpe_Gpt2_MatchesLlamaCpp()
    {
        string dir = WriteTokenizerJson("gpt-2", (w, tokens, types, f) =>
        {
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "ByteLevel");
            w.WriteEndObject();
            TokenizerJsonWriter.WriteBpeModel(w, tokens, null, f.GetArray<string>("tokenizer.ggml.merges"), writeMerge: (w, m) =>
            {
                // the newer [a, b] form for half of them, "a b" for the rest: both are read
                int sp = m.IndexOf(' ');
                if (m.Length % 2 == 0) { w.WriteStartArray(); w.WriteStringValue(m[..sp]); w.WriteStringValue(m[(sp + 1)..]); w.WriteEndArray(); }
                else w.WriteStringValue(m);
            });
        }, new() { ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["add_bos_token"] = false });
        var hf = HuggingFaceTokenizer.FromFile(dir);
        Assert.IsType<ByteLevelBpeTokenizer>(hf);
        AssertSuite("gpt-2", hf);
        Assert.Equal(50256, hf.EosTokenId);
        Assert.Equal("Hello world", hf.Decode(hf.Tokenize("Hello world")));
    }

    [Fact]
    public void ByteLevelBpe_SplitRegexFromPreTokenizer_IsUsed()
    {
        // deepseek-coder's own regexes passed as a Split sequence give the same ids as its GGUF (pre = deepseek-coder)
        using var gguf = GgufFile.Open(VocabSuite.Gguf("deepseek-coder"));
        var reference = Tokenizer.FromGguf(gguf);
        string dir = WriteTokenizerJson("deepseek-coder", (w, tokens, types, f) =>
        {
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            foreach (string rx in new[] { @"[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", @"[一-龥ࠀ-一가-퟿]+", @"\p{N}" })
            {
                w.WriteStartObject(); w.WriteString("type", "Split");
                w.WriteStartObject("pattern"); w.WriteString("Regex", rx); w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteStartObject(); w.WriteString("type", "ByteLevel"); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            TokenizerJsonWriter.WriteBpeModel(w, tokens, null, f.GetArray<string>("tokenizer.ggml.merges"));
        });
        var hf = HuggingFaceTokenizer.FromFile(Path.Combine(dir, "tokenizer.json"));
        var (inputs, _) = VocabSuite.Read("deepseek-coder");
        foreach (string s in inputs)
            Assert.True(reference.Tokenize(s).SequenceEqual(hf.Tokenize(s)), VocabSuite.Show(s));
    }

    [Fact]
    public void WordPiece_BertBge_MatchesLlamaCpp()
    {
        string dir = WriteTokenizerJson("bert-bge", (w, tokens, types, f) =>
        {
            w.WriteStartObject("model");
            w.WriteString("type", "WordPiece");
            w.WriteString("unk_token", "[UNK]");
            w.WriteString("continuing_subword_prefix", "##");
            w.WriteStartObject("vocab");
            var seen = new HashSet<string>();
            for (int i = 0; i < tokens.Length; i++)
            {
                // GGUF: word-initial pieces "▁x", continuations "x"; HF: "x" and "##x"
                string t = types[i] != 1 ? tokens[i] : tokens[i].StartsWith('\u2581') ? tokens[i][1..] : "##" + tokens[i];
                if (seen.Add(t)) w.WriteNumber(t, i);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        });
        var hf = HuggingFaceTokenizer.FromFile(dir);
        Assert.IsType<WordPieceTokenizer>(hf);
        AssertSuite("bert-bge", hf);
    }

    [Fact]
    public void SentencePieceStyleBpe_MergesByRank()
    {
        // Llama-2-style tokenizer.json: byte_fallback BPE over "▁"-spelled pieces; merge rank r becomes score −r.
        string dir = Path.Combine(Path.GetTempPath(), $"ingot-hf-spm-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), """
            {"added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}],
             "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
                       "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4, "b": 5, "▁a": 6, "ab": 7, "▁ab": 8, "<0x63>": 9},
                       "merges": ["▁ a", "a b", "▁a b"]}}
            """);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true}""");
        var t = HuggingFaceTokenizer.FromFile(dir);
        Assert.IsType<SentencePieceBpeTokenizer>(t);
        Assert.Equal([8], t.Tokenize("ab"));            // ▁ a → ▁a (rank 0), then ▁a b (rank 2); never a b (rank 1)
        Assert.Equal([1, 3, 5], t.Tokenize("b", addSpecialTokens: true)); // BOS from tokenizer_config.json
        Assert.Equal([3, 9], t.Tokenize("c"));          // byte fallback <0x63>
        Assert.Equal([3, 0], t.Tokenize("d"));          // no byte piece: <unk>
        Assert.Equal("ab", t.Decode([8]));
        // `ingot tokenize DIR` and `ingot tokenize DIR/tokenizer.json` take the same path
        Assert.Equal([8], Ingot.Cli.Commands.TokenizeCommand.Load(dir).Tokenize("ab"));
        Assert.Equal([8], Ingot.Cli.Commands.TokenizeCommand.Load(Path.Combine(dir, "tokenizer.json")).Tokenize("ab"));
    }

    [Fact]
    public void SentencePieceStyleBpe_LlamaSpm_MatchesLlamaCpp()
    {
        // A Llama-2 tokenizer.json as HF's converter writes it from tokenizer.model: every pair of pieces whose
        // concatenation is a piece is a merge, ordered by the merged piece's score (then the parts' ids); byte_fallback;
        // the normalizer prepends "▁" and replaces spaces. Ingot turns merge ranks back into scores: same ids as the GGUF.
        string dir = WriteTokenizerJson("llama-spm", (w, tokens, types, f) =>
        {
            float[] scores = f.GetArray<float>("tokenizer.ggml.scores");
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < tokens.Length; i++) index.TryAdd(tokens[i], i);
            var merges = new List<(float Score, int Left, int Right)>();
            for (int i = 0; i < tokens.Length; i++)
            {
                if (types[i] != 1) continue;
                for (int k = 1; k < tokens[i].Length; k++)
                    if (index.TryGetValue(tokens[i][..k], out int l) && index.TryGetValue(tokens[i][k..], out int r) && types[l] == 1 && types[r] == 1)
                        merges.Add((scores[i], l, r));
            }
            merges.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Left != b.Left ? a.Left.CompareTo(b.Left) : a.Right.CompareTo(b.Right));
            Assert.True(merges.Count > 10_000, $"only {merges.Count} merges");

            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            w.WriteStartObject(); w.WriteString("type", "Prepend"); w.WriteString("prepend", "\u2581"); w.WriteEndObject();
            w.WriteStartObject(); w.WriteString("type", "Replace");
            w.WriteStartObject("pattern"); w.WriteString("String", " "); w.WriteEndObject();
            w.WriteString("content", "\u2581"); w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("pre_tokenizer");
            TokenizerJsonWriter.WriteBpeModel(w, tokens, null, merges.Select(m => tokens[m.Left] + " " + tokens[m.Right]), extra: w =>
            {
                w.WriteBoolean("byte_fallback", true);
                w.WriteString("unk_token", "<unk>");
            });
        }, new() { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["add_bos_token"] = true, ["add_eos_token"] = false });
        var hf = Tokenizer.FromHuggingFace(dir);
        Assert.IsType<SentencePieceBpeTokenizer>(hf);
        AssertSuite("llama-spm", hf);
        using var gguf = GgufFile.Open(VocabSuite.Gguf("llama-spm"));
        var reference = Tokenizer.FromGguf(gguf);
        Assert.Equal(reference.VocabSize, hf.VocabSize);
        Assert.Equal<(int?, int?, bool, bool)>((1, 2, true, false), (hf.BosTokenId, hf.EosTokenId, hf.AddBosToken, hf.AddEosToken));
        Assert.Equal(reference.Tokenize("Hello world", addSpecialTokens: true), hf.Tokenize("Hello world", addSpecialTokens: true));
    }

    /// <summary>UnigramTests' vocabulary as a T5-style tokenizer.json: [piece, score] pairs, Precompiled charsmap, Metaspace.</summary>
    private static string WriteUnigramJson(string name, bool removeExtraWhitespaces, string prependScheme)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ingot-hf-ugm-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var vocab = UnigramTests.Vocab;
        TokenizerJsonWriter.Write(Path.Combine(dir, "tokenizer.json"), [.. vocab.Select(p => p.Piece)], [.. vocab.Select(p => p.Type)], w =>
        {
            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            w.WriteStartObject(); w.WriteString("type", "Precompiled"); w.WriteString("precompiled_charsmap", Convert.ToBase64String(UnigramTests.Charsmap())); w.WriteEndObject();
            if (removeExtraWhitespaces)
            {
                w.WriteStartObject(); w.WriteString("type", "Replace");
                w.WriteStartObject("pattern"); w.WriteString("Regex", " {2,}"); w.WriteEndObject();
                w.WriteString("content", " "); w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Metaspace"); w.WriteString("replacement", "\u2581"); w.WriteString("prepend_scheme", prependScheme);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "Unigram");
            w.WriteNumber("unk_id", 2);
            w.WriteStartArray("vocab");
            foreach (var (piece, _, score) in vocab) { w.WriteStartArray(); w.WriteStringValue(piece); w.WriteNumberValue(score); w.WriteEndArray(); }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"eos_token": {"content": "</s>", "special": true}, "add_eos_token": true}""");
        return dir;
    }

    [Fact]
    public void Unigram_SameIdsAsTheGgufFormOfTheSameVocabulary()
    {
        var hf = Assert.IsType<UnigramTokenizer>(Tokenizer.FromHuggingFace(WriteUnigramJson("always", removeExtraWhitespaces: false, "always")));
        var vocab = UnigramTests.Vocab;
        // what Tokenizer.FromGguf builds from tokens/scores/types + add_space_prefix, remove_extra_whitespaces, charsmap
        var direct = new UnigramTokenizer([.. vocab.Select(p => p.Piece)], [.. vocab.Select(p => p.Score)], [.. vocab.Select(p => p.Type)],
            bos: null, eos: 1, unk: 2, addBos: false, addEos: true, addSpacePrefix: true, removeExtraWhitespaces: false, UnigramTests.Charsmap());
        Assert.True(hf.AddSpacePrefix);
        Assert.False(hf.RemoveExtraWhitespaces);
        Assert.Equal<(int?, int?, bool, bool)>((null, 1, false, true), (hf.BosTokenId, hf.EosTokenId, hf.AddBosToken, hf.AddEosToken));
        foreach (var row in UnigramTests.PrefixCases())
        {
            string text = (string)row[0];
            Assert.Equal((int[])row[1], hf.Tokenize(text));
            Assert.Equal(direct.Tokenize(text, addSpecialTokens: true), hf.Tokenize(text, addSpecialTokens: true));
        }
        Assert.Equal([3, 13], hf.Tokenize("ｘy")); // the base64 charsmap came through

        var squeezed = Assert.IsType<UnigramTokenizer>(Tokenizer.FromHuggingFace(WriteUnigramJson("never", removeExtraWhitespaces: true, "never")));
        Assert.False(squeezed.AddSpacePrefix);
        Assert.True(squeezed.RemoveExtraWhitespaces);
        // llama.cpp's UGM prepends "▁" whenever it squeezes spaces, whatever add_space_prefix says: ▁ a ▁ b
        Assert.Equal([3, 4, 3, 5], squeezed.Tokenize("a   b"));
        var bare = Assert.IsType<UnigramTokenizer>(Tokenizer.FromHuggingFace(WriteUnigramJson("bare", removeExtraWhitespaces: false, "never")));
        Assert.False(bare.AddSpacePrefix);
        Assert.False(bare.RemoveExtraWhitespaces);
        Assert.Equal([4, 3, 3, 5], bare.Tokenize("a  b")); // a ▁ ▁ b: no prefix, spaces kept
    }

    [Fact]
    public void UnknownModelType_NamesTheKey()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ingot-hf-bad-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0}}}");
        var e = Assert.Throws<InvalidModelFileException>(() => HuggingFaceTokenizer.FromFile(dir));
        Assert.Contains("model.type", e.Message);
        // BPE that is neither byte-level nor SentencePiece-style: refused, naming where the kind would be stated
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
        e = Assert.Throws<InvalidModelFileException>(() => Tokenizer.FromHuggingFace(dir));
        Assert.Contains("pre_tokenizer", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": ");
        Assert.Throws<InvalidModelFileException>(() => HuggingFaceTokenizer.FromFile(dir));
    }
}
