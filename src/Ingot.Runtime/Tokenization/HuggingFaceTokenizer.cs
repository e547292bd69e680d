using System.Text.Json;
using Ingot.Formats;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Hugging Face <c>tokenizer.json</c> (+ <c>tokenizer_config.json</c> beside it for BOS/EOS and add_bos/add_eos) →
/// the same tokenizer classes the GGUF path builds, converted the way llama.cpp's convert_hf_to_gguf does:
/// <list type="bullet">
/// <item>BPE with a ByteLevel pre-tokenizer → <see cref="ByteLevelBpeTokenizer"/> (Split regexes of the pre-tokenizer
/// become its pattern list; none = GPT-2's pattern);</item>
/// <item>BPE with byte_fallback (Llama 2 / Mistral, Metaspace) → <see cref="SentencePieceBpeTokenizer"/>, piece score
/// = −merge rank so "highest score first" is "lowest rank first";</item>
/// <item>WordPiece → <see cref="WordPieceTokenizer"/> ("##x" → "x", other pieces "▁x");</item>
/// <item>Unigram → <see cref="UnigramTokenizer"/>.</item>
/// </list>
/// added_tokens become control tokens (special = true) or user-defined ones. Anything else is an
/// <see cref="InvalidModelFileException"/> naming the JSON key.
/// </summary>
public static class HuggingFaceTokenizer
{
    private const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeByte = 6;

    /// <summary><paramref name="path"/>: a tokenizer.json file or a folder holding one.</summary>
    public static Tokenizer FromFile(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: not found", file);
        using var doc = ParseJson(file);
        var root = doc.RootElement;
        var config = ReadConfig(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", "tokenizer_config.json"));
        InvalidModelFileException Bad(string key, string problem) => new(file, key, 0, problem);

        if (root.ValueKind != JsonValueKind.Object) throw Bad("(root)", "not a JSON object"); // found by fuzzing: a bare number
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object) throw Bad("model", "missing or not an object");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";

        // Vocabulary: id → text. BPE/WordPiece: {"text": id}; Unigram: [["text", score], …].
        var texts = new List<string>();
        var scores = new List<float>();
        if (!model.TryGetProperty("vocab", out var vocab)) throw Bad("model.vocab", "missing");
        // Ids are dense in real files, with at most small gaps: an id far past the number of entries would make us size
        // the vocabulary by it (found by fuzzing: id 7777712 in a 300-token file took 6 s).
        int entries = (vocab.ValueKind == JsonValueKind.Object ? vocab.EnumerateObject().Count() : 0)
            + (root.TryGetProperty("added_tokens", out var addedList) && addedList.ValueKind == JsonValueKind.Array ? addedList.GetArrayLength() : 0);
        int maxId = entries + 65_536;
        if (vocab.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in vocab.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0) throw Bad("model.vocab." + p.Name, "not a token id");
                if (id > maxId) throw Bad("model.vocab." + p.Name, $"id {id} is far past the {entries} tokens the file lists");
                Set(texts, id, p.Name, "");
            }
        }
        else if (vocab.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in vocab.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2 || e[0].ValueKind != JsonValueKind.String || e[1].ValueKind != JsonValueKind.Number || !e[1].TryGetDouble(out double s))
                    throw Bad("model.vocab", "expected [piece, score] pairs");
                texts.Add(e[0].GetString()!);
                scores.Add((float)s);
            }
        }
        else throw Bad("model.vocab", "neither an object nor an array");

        // added_tokens may extend the vocabulary and mark special tokens
        var types = new int[0];
        var added = new List<(int Id, string Text, bool Special)>();
        if (root.TryGetProperty("added_tokens", out var at) && at.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in at.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("id", out var idEl) || idEl.ValueKind != JsonValueKind.Number || !idEl.TryGetInt32(out int id) || id < 0 || id > maxId ||
                    !e.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                    throw Bad("added_tokens", "each entry needs an id and a content string");
                bool special = e.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True;
                added.Add((id, c.GetString()!, special));
                Set(texts, id, c.GetString()!, "");
            }
        }
        for (int i = 0; i < texts.Count; i++)
            if (texts[i].Length == 0) texts[i] = "[PAD" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]"; // holes, as convert_hf_to_gguf pads
        while (scores.Count < texts.Count) scores.Add(0f);
        types = Enumerable.Repeat(TypeNormal, texts.Count).ToArray();
        foreach (var (id, _, special) in added) types[id] = special ? TypeControl : TypeUserDefined;

        string[] tokens = texts.ToArray();
        int? IdOf(string? text) => text is null ? null : Array.IndexOf(tokens, text) is int i && i >= 0 ? i : null;
        int? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? IdOf(u.GetString())
                 : model.TryGetProperty("unk_id", out var ui) && ui.ValueKind == JsonValueKind.Number && ui.TryGetInt32(out int uid) && uid >= 0 && uid < tokens.Length ? uid : null;
        if (unk is { } unkId) types[unkId] = TypeUnknown;
        int? bos = IdOf(config.Bos), eos = IdOf(config.Eos);

        switch (type)
        {
            case "BPE":
            {
                string[] merges = ReadMerges(model, Bad);
                bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
                bool metaspace = Mentions(root, "pre_tokenizer", "Metaspace") || Mentions(root, "decoder", "Metaspace");
                if (byteFallback || metaspace)
                {
                    // SentencePiece-style BPE: byte pieces <0xNN>, "▁" for spaces, merges by rank.
                    var score = new float[tokens.Length];
                    Array.Fill(score, -1e9f);
                    var index = new Dictionary<string, int>(StringComparer.Ordinal);
                    for (int i = 0; i < tokens.Length; i++) index.TryAdd(tokens[i], i);
                    for (int r = 0; r < merges.Length; r++)
                    {
                        int sp = merges[r].IndexOf(' ');
                        if (index.TryGetValue(string.Concat(merges[r].AsSpan(0, sp), merges[r].AsSpan(sp + 1)), out int id) && score[id] == -1e9f) score[id] = -r;
                    }
                    for (int i = 0; i < tokens.Length; i++)
                        if (tokens[i].Length == 6 && tokens[i].StartsWith("<0x", StringComparison.Ordinal) && tokens[i].EndsWith('>') && types[i] == TypeNormal) types[i] = TypeByte;
                    bool prefix = !PreTokenizerMentions(root, "prepend_scheme", "never");
                    return new SentencePieceBpeTokenizer(tokens, score, types, bos, eos, unk, config.AddBos ?? true, config.AddEos ?? false, prefix);
                }
                // Byte-level BPE must say so somewhere: a ByteLevel pre-tokenizer or decoder. Without it (and without
                // the SentencePiece markers above) the pieces would be read in the wrong alphabet: refuse.
                if (!Mentions(root, "pre_tokenizer", "ByteLevel") && !Mentions(root, "decoder", "ByteLevel"))
                    throw Bad("pre_tokenizer", "a BPE model with neither a ByteLevel pre-tokenizer/decoder nor byte_fallback/Metaspace is not a kind Ingot reads");
                var patterns = new List<string>();
                if (root.TryGetProperty("pre_tokenizer", out var pre)) CollectSplitPatterns(pre, patterns);
                ByteLevelPreTokenizer preTokenizer;
                try { preTokenizer = patterns.Count > 0 ? ByteLevelPreTokenizer.FromRegexes(patterns) : ByteLevelPreTokenizer.FromName("gpt-2"); }
                catch (ArgumentException e) { throw Bad("pre_tokenizer", "a Split pattern is not a regex this runtime runs: " + e.Message.Split('\n')[0]); }
                return new ByteLevelBpeTokenizer(tokens, types, merges, preTokenizer, bos, eos, config.AddBos ?? false, config.AddEos ?? false);
            }
            case "WordPiece":
            {
                string prefix = model.TryGetProperty("continuing_subword_prefix", out var cp) && cp.ValueKind == JsonValueKind.String ? cp.GetString()! : "##";
                var pieces = new string[tokens.Length];
                for (int i = 0; i < tokens.Length; i++)
                    pieces[i] = types[i] != TypeNormal ? tokens[i] : tokens[i].StartsWith(prefix, StringComparison.Ordinal) ? tokens[i][prefix.Length..] : "\u2581" + tokens[i];
                int? cls = IdOf("[CLS]") ?? bos, sep = IdOf("[SEP]") ?? eos;
                return new WordPieceTokenizer(pieces, types, cls, sep, unk, config.AddBos ?? true, config.AddEos ?? true);
            }
            case "Unigram":
            {
                // convert_hf_to_gguf's reading of a T5-style file: the normalizer's Precompiled charsmap (base64) and its
                // Replace of " {2,}" (= remove_extra_whitespaces); Metaspace's prepend_scheme "never" / add_prefix_space false.
                byte[]? charsmap = null;
                bool removeExtra = false;
                if (root.TryGetProperty("normalizer", out var norm))
                {
                    foreach (var n in Steps(norm, "normalizers"))
                    {
                        string nt = TypeOf(n);
                        if (nt == "Precompiled" && n.TryGetProperty("precompiled_charsmap", out var cm) && cm.ValueKind == JsonValueKind.String)
                        {
                            try { charsmap = Convert.FromBase64String(cm.GetString()!); }
                            catch (FormatException) { throw Bad("normalizer.precompiled_charsmap", "not base64"); }
                        }
                        else if (nt == "Replace" && n.TryGetProperty("pattern", out var rp) && rp.ValueKind == JsonValueKind.Object &&
                                 rp.TryGetProperty("Regex", out var rr) && rr.ValueKind == JsonValueKind.String && rr.GetString() == " {2,}")
                            removeExtra = true;
                    }
                }
                bool addPrefix = !PreTokenizerMentions(root, "prepend_scheme", "never") &&
                                 !(root.TryGetProperty("pre_tokenizer", out var pt) && pt.ValueKind == JsonValueKind.Object &&
                                   pt.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.False);
                return new UnigramTokenizer(tokens, scores.ToArray(), types, bos, eos, unk, config.AddBos ?? false, config.AddEos ?? true,
                                            addSpacePrefix: addPrefix, removeExtraWhitespaces: removeExtra, charsmap, source: file);
            }
            default:
                throw Bad("model.type", $"'{type}' is not a tokenizer kind Ingot reads (BPE, WordPiece, Unigram)");
        }
    }

    private static void Set(List<string> list, int id, string text, string hole)
    {
        while (list.Count <= id) list.Add(hole);
        list[id] = text;
    }

    private static string[] ReadMerges(JsonElement model, Func<string, string, InvalidModelFileException> bad)
    {
        if (!model.TryGetProperty("merges", out var m) || m.ValueKind != JsonValueKind.Array) throw bad("model.merges", "missing or not an array");
        var merges = new string[m.GetArrayLength()];
        int i = 0;
        foreach (var e in m.EnumerateArray())
        {
            // "a b" (older files) or ["a", "b"] (tokenizers ≥ 0.20)
            if (e.ValueKind == JsonValueKind.String && e.GetString()!.Contains(' ')) merges[i++] = e.GetString()!;
            else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e[0].ValueKind == JsonValueKind.String && e[1].ValueKind == JsonValueKind.String)
                merges[i++] = e[0].GetString() + " " + e[1].GetString();
            else throw bad("model.merges", $"entry {i} is neither \"a b\" nor [a, b]");
        }
        return merges;
    }

    /// <summary>Every Split pre-tokenizer's regex, in order (a Sequence is searched recursively).</summary>
    private static void CollectSplitPatterns(JsonElement pre, List<string> patterns)
    {
        if (pre.ValueKind != JsonValueKind.Object) return;
        string type = pre.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        if (type == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var p in list.EnumerateArray()) CollectSplitPatterns(p, patterns);
        else if (type == "Split" && pre.TryGetProperty("pattern", out var pat) && pat.ValueKind == JsonValueKind.Object && pat.TryGetProperty("Regex", out var rx) && rx.ValueKind == JsonValueKind.String)
            patterns.Add(rx.GetString()!);
    }

    private static string TypeOf(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";

    /// <summary>A step and, for a Sequence, its members (recursively) under <paramref name="listKey"/>.</summary>
    private static IEnumerable<JsonElement> Steps(JsonElement e, string listKey)
    {
        if (e.ValueKind != JsonValueKind.Object) yield break;
        yield return e;
        if (TypeOf(e) == "Sequence" && e.TryGetProperty(listKey, out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var member in list.EnumerateArray())
                foreach (var step in Steps(member, listKey))
                    yield return step;
    }

    /// <summary>Whether root[<paramref name="key"/>] (pre_tokenizer / decoder) is, or a Sequence there holds, a step of <paramref name="type"/>.</summary>
    private static bool Mentions(JsonElement root, string key, string type) =>
        root.TryGetProperty(key, out var e) &&
        Steps(e, key == "decoder" ? "decoders" : "pretokenizers").Any(step => TypeOf(step) == type);

    private static bool PreTokenizerMentions(JsonElement root, string key, string value) =>
        root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object &&
        pre.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == value;

    private sealed record Config(string? Bos, string? Eos, bool? AddBos, bool? AddEos);

    private static Config ReadConfig(string path)
    {
        if (!File.Exists(path)) return new Config(null, null, null, null);
        using var doc = ParseJson(path);
        var r = doc.RootElement;
        if (r.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(path, "(root)", 0, "not a JSON object");
        string? Token(string key) =>
            !r.TryGetProperty(key, out var v) ? null
            : v.ValueKind == JsonValueKind.String ? v.GetString()
            : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        bool? Flag(string key) => r.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        return new Config(Token("bos_token"), Token("eos_token"), Flag("add_bos_token"), Flag("add_eos_token"));
    }

    private static JsonDocument ParseJson(string path)
    {
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            // JsonDocument decodes strings lazily, so invalid UTF-8 would surface later as InvalidOperationException
            // (found by fuzzing): check it whole first.
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new InvalidModelFileException(path, "JSON", 0, "not valid UTF-8");
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new InvalidModelFileException(path, "JSON", e.BytePositionInLine ?? 0, $"not valid JSON (line {(e.LineNumber ?? 0) + 1}): {e.Message}");
        }
    }
}
