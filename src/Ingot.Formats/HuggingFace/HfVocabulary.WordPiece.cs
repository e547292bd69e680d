using System.Text.Json;

namespace Ingot.Formats.HuggingFace;

internal static partial class HfVocabulary
{
    /// <summary>
    /// tokenizer.json, WordPiece (BERT) → "bert", as llama.cpp's converter writes it: ids without a token become
    /// [PADi] (unused); every token goes to the phantom-space form — [BRACKETED] kept, "##x" → "x", else "▁" + token;
    /// added tokens are control when special, else user-defined. [CLS] (tokenizer_config.json's cls_token) is BOS and
    /// [SEP] (sep_token) EOS and the separator; [UNK] and [PAD] as named there.
    /// </summary>
    private static Action<GgufWriter> WordPiece(JsonElement model, string path, int vocabSize, List<(int Id, string Text, bool Special)> added, HfConfig? tokConfig)
    {
        InvalidModelFileException Bad(string key, string problem) => new(path, $"key '{key}'", null, problem);
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object) throw Bad("model.vocab", "missing or not an object");
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocab.EnumerateObject())
        {
            int id = p.Value.TryGetInt32(out int v) ? v : -1;
            if (id < 0 || id >= vocabSize) throw Bad("model.vocab." + p.Name, $"token id {id} is outside config.json's vocab_size {vocabSize}");
            (tokens[id], types[id]) = (p.Name, Normal);
            index.TryAdd(p.Name, id);
        }
        foreach (var (id, text, special) in added)
        {
            if (id < 0 || id >= vocabSize) throw Bad("added_tokens", $"token id {id} is outside config.json's vocab_size {vocabSize}");
            (tokens[id], types[id]) = (text, special || LooksSpecial(text) ? Control : UserDefined);
            index.TryAdd(text, id);
        }
        for (int i = 0; i < vocabSize; i++)
        {
            if (tokens[i] is null) (tokens[i], types[i]) = ($"[PAD{i}]", Unused);
            else tokens[i] = Phantom(tokens[i]);
        }
        int Id(string key, string fallback)
        {
            string text = tokConfig?.TextOrContent(key) ?? fallback;
            return index.TryGetValue(text, out int id) ? id : throw Bad(key, $"'{text}' is not in the vocabulary");
        }
        int cls = Id("cls_token", "[CLS]"), sep = Id("sep_token", "[SEP]"), unk = Id("unk_token", "[UNK]");
        int pad = index.TryGetValue(tokConfig?.TextOrContent("pad_token") ?? "[PAD]", out int p0) ? p0 : -1;
        return w =>
        {
            w.Set("tokenizer.ggml.model", "bert");
            w.Set("tokenizer.ggml.tokens", tokens);
            w.Set("tokenizer.ggml.token_type", types);
            w.Set("tokenizer.ggml.bos_token_id", (uint)cls);
            w.Set("tokenizer.ggml.eos_token_id", (uint)sep);
            w.Set("tokenizer.ggml.seperator_token_id", (uint)sep);
            w.Set("tokenizer.ggml.unknown_token_id", (uint)unk);
            if (pad >= 0) w.Set("tokenizer.ggml.padding_token_id", (uint)pad);
        };
    }

    /// <summary>llama.cpp's converter: "[X]" stays, "##x" continues a word, any other token starts one ("▁x").</summary>
    private static string Phantom(string token) =>
        token.StartsWith('[') && token.EndsWith(']') ? token : token.StartsWith("##", StringComparison.Ordinal) ? token[2..] : "\u2581" + token;
}
