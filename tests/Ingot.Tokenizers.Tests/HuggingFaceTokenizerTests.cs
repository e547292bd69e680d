using System.Text.Json;
using Ingot.Formats;
using Ingot.Runtime.Tokenization;
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
        using (var stream = File.Create(Path.Combine(dir, "tokenizer.json")))
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("added_tokens");
            for (int i = 0; i < tokens.Length; i++)
            {
                if (types[i] is not (3 or 4)) continue;
                w.WriteStartObject();
                w.WriteNumber("id", i);
                w.WriteString("content", tokens[i]);
                w.WriteBoolean("special", types[i] == 3);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            model(w, tokens, types, f);
            w.WriteEndObject();
        }
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
            var ids = hf.EncodeToIds(inputs[i]);
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
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteStartObject("vocab");
            for (int i = 0; i < tokens.Length; i++) w.WriteNumber(tokens[i], i);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (string m in f.GetArray<string>("tokenizer.ggml.merges"))
            {
                // the newer [a, b] form for half of them, "a b" for the rest: both are read
                int sp = m.IndexOf(' ');
                if (m.Length % 2 == 0) { w.WriteStartArray(); w.WriteStringValue(m[..sp]); w.WriteStringValue(m[(sp + 1)..]); w.WriteEndArray(); }
                else w.WriteStringValue(m);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }, new() { ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["add_bos_token"] = false });
        var hf = HuggingFaceTokenizer.FromFile(dir);
        Assert.IsType<ByteLevelBpeTokenizer>(hf);
        AssertSuite("gpt-2", hf);
        Assert.Equal(50256, hf.EosTokenId);
        Assert.Equal("Hello world", hf.Decode(hf.EncodeToIds("Hello world")));
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
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteStartObject("vocab");
            for (int i = 0; i < tokens.Length; i++) w.WriteNumber(tokens[i], i);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (string m in f.GetArray<string>("tokenizer.ggml.merges")) w.WriteStringValue(m);
            w.WriteEndArray();
            w.WriteEndObject();
        });
        var hf = HuggingFaceTokenizer.FromFile(Path.Combine(dir, "tokenizer.json"));
        var (inputs, _) = VocabSuite.Read("deepseek-coder");
        foreach (string s in inputs)
            Assert.True(reference.EncodeToIds(s).SequenceEqual(hf.EncodeToIds(s)), VocabSuite.Show(s));
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
        Assert.Equal([8], t.EncodeToIds("ab"));            // ▁ a → ▁a (rank 0), then ▁a b (rank 2); never a b (rank 1)
        Assert.Equal([1, 3, 5], t.EncodeToIds("b", addSpecialTokens: true)); // BOS from tokenizer_config.json
        Assert.Equal([3, 9], t.EncodeToIds("c"));          // byte fallback <0x63>
        Assert.Equal([3, 0], t.EncodeToIds("d"));          // no byte piece: <unk>
        Assert.Equal("ab", t.Decode([8]));
        // `ingot tokenize DIR` and `ingot tokenize DIR/tokenizer.json` take the same path
        Assert.Equal([8], Ingot.Cli.Commands.TokenizeCommand.Load(dir).EncodeToIds("ab"));
        Assert.Equal([8], Ingot.Cli.Commands.TokenizeCommand.Load(Path.Combine(dir, "tokenizer.json")).EncodeToIds("ab"));
    }

    [Fact]
    public void UnknownModelType_NamesTheKey()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"ingot-hf-bad-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0}}}");
        var e = Assert.Throws<InvalidModelFileException>(() => HuggingFaceTokenizer.FromFile(dir));
        Assert.Contains("model.type", e.Message);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "{\"model\": ");
        Assert.Throws<InvalidModelFileException>(() => HuggingFaceTokenizer.FromFile(dir));
    }
}
