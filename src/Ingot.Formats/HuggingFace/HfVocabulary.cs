using System.Text.Json;

namespace Ingot.Formats.HuggingFace;

/// <summary>
/// The vocabulary of a Hugging Face folder as GGUF tokenizer.ggml.* metadata, as convert_hf_to_gguf writes it:
/// <list type="bullet">
/// <item>tokenizer.model (SentencePiece) → "llama": pieces, scores, types; added_tokens_decoder entries of
/// tokenizer_config.json become control (special) or user-defined tokens;</item>
/// <item>tokenizer.json, byte-level BPE → "gpt2": tokens, types (added tokens control when special or when they
/// look special, as "&lt;|…|&gt;"; else user-defined), merges, and tokenizer.ggml.pre (<see cref="HfPreTokenizers"/>);</item>
/// <item>tokenizer.json, SentencePiece-style BPE (byte_fallback or Metaspace: Llama 2, Mistral) → "llama", a token's
/// score being −(rank of the merge that makes it).</item>
/// </list>
/// Both are padded to config.json's vocab_size with unused "[PADn]" tokens. Special ids follow gguf-py's
/// SpecialVocab: tokenizer_config.json's bos_token (text) among tokenizer.json's added_tokens, else config.json's
/// bos_token_id, else the SentencePiece model's own; add_bos/add_eos come from tokenizer_config.json.
/// </summary>
internal static partial class HfVocabulary
{
    private const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6;
    private static readonly string[] SpecialKinds = ["bos", "eos", "unk", "pad"];

    /// <summary>
    /// <paramref name="tokenizerPath"/>: a tokenizer.model or tokenizer.json, or null to take the folder's
    /// (tokenizer.model first, as the converters try SentencePiece first). <paramref name="addSpacePrefix"/>: the
    /// family's fixed tokenizer.ggml.add_space_prefix (Gemma: false), else tokenizer_config.json's add_prefix_space.
    /// </summary>
    public static Action<GgufWriter> Read(string dir, string? tokenizerPath, HfConfig config, int vocabSize, bool? addSpacePrefix)
    {
        string model = Path.Combine(dir, "tokenizer.model"), json = Path.Combine(dir, "tokenizer.json");
        tokenizerPath ??= File.Exists(model) ? model : File.Exists(json) ? json
            : throw new FileNotFoundException($"{dir}: no tokenizer.model (SentencePiece) or tokenizer.json; pass --tokenizer FILE", model);
        if (!File.Exists(tokenizerPath)) throw new FileNotFoundException($"{tokenizerPath}: no such file", tokenizerPath);
        var tokConfig = ReadTokenizerConfig(Path.Combine(dir, "tokenizer_config.json"));
        addSpacePrefix ??= tokConfig?.Has("add_prefix_space") == true ? tokConfig.Bool("add_prefix_space", true) : null;

        if (Path.GetFileName(tokenizerPath).EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            using var doc = HfConfig.ParseJson(tokenizerPath);
            var added = AddedTokens(doc.RootElement, tokenizerPath);
            var ids = SpecialIds(config, tokConfig, added, vocabSize, fallback: _ => -1);
            return FromTokenizerJson(doc.RootElement, tokenizerPath, vocabSize, added, ids, tokConfig, addSpacePrefix);
        }
        var sp = SentencePieceModelReader.Read(tokenizerPath);
        var spm = FromSentencePiece(sp, tokenizerPath, vocabSize, tokConfig, SpecialIds(config, tokConfig, [], vocabSize, kind => kind switch
        {
            "bos" => sp.BosId, "eos" => sp.EosId, "unk" => sp.UnkId, _ => sp.PadId,
        }));
        return SentencePieceMetadata(spm, addSpacePrefix);
    }

    /// <summary>A "llama" vocabulary, with tokenizer.ggml.add_space_prefix when the family or tokenizer_config.json sets it.</summary>
    private static Action<GgufWriter> SentencePieceMetadata(GgufVocab vocab, bool? addSpacePrefix) => w =>
    {
        vocab.AddTo(w);
        if (addSpacePrefix is bool b) w.Set("tokenizer.ggml.add_space_prefix", b);
    };

    private static HfConfig? ReadTokenizerConfig(string path) => File.Exists(path) ? HfConfig.Read(path) : null;

    private static GgufVocab FromSentencePiece(SentencePieceModel sp, string path, int vocabSize, HfConfig? tokConfig, Dictionary<string, int> ids)
    {
        if (sp.Pieces.Count > vocabSize)
            throw new InvalidModelFileException(path, "pieces", null, $"{sp.Pieces.Count} pieces but config.json vocab_size is {vocabSize}");
        var (tokens, scores, types) = Padded(vocabSize);
        for (int i = 0; i < sp.Pieces.Count; i++) (tokens[i], scores[i], types[i]) = (sp.Pieces[i].Piece, sp.Pieces[i].Score, (int)sp.Pieces[i].Type);
        if (tokConfig?.Object("added_tokens_decoder") is { } decoder)
        {
            foreach (string key in decoder.Keys)
            {
                if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id >= vocabSize)
                    throw decoder.Error(key, $"not a token id below config.json's vocab_size {vocabSize}");
                if (decoder.Object(key) is not { } entry) continue;
                string text = entry.String("content") ?? throw entry.Error("content", "missing");
                bool control = entry.Bool("special", false) || LooksSpecial(text);
                (tokens[id], scores[id], types[id]) = (control ? text : text.Replace(GgufVocab.SpaceMarker, " "), -1000f, control ? Control : UserDefined);
            }
        }
        return new GgufVocab(tokens, scores, types, ids["bos"], ids["eos"], ids["unk"], ids["pad"],
            tokConfig?.Bool("add_bos_token", true) ?? true, tokConfig?.Bool("add_eos_token", false) ?? false);
    }

    private static Action<GgufWriter> FromTokenizerJson(JsonElement root, string path, int vocabSize, List<(int Id, string Text, bool Special)> added,
                                                        Dictionary<string, int> ids, HfConfig? tokConfig, bool? addSpacePrefix)
    {
        InvalidModelFileException Bad(string key, string problem) => new(path, $"key '{key}'", null, problem);
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object) throw Bad("model", "missing or not an object");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        if (type == "WordPiece") return WordPiece(model, path, vocabSize, added, tokConfig);
        if (type != "BPE") throw Bad("model.type", $"'{type}' is not a tokenizer Ingot imports (BPE, byte-level or SentencePiece-style, or WordPiece)");
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object) throw Bad("model.vocab", "missing or not an object");

        var (tokens, scores, types) = Padded(vocabSize);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        void Put(int id, string text, string key)
        {
            if (id < 0 || id >= vocabSize) throw Bad(key, $"token id {id} is outside config.json's vocab_size {vocabSize}");
            (tokens[id], types[id]) = (text, Normal);
            index.TryAdd(text, id);
        }
        foreach (var p in vocab.EnumerateObject())
            Put(p.Value.TryGetInt32(out int id) ? id : -1, p.Name, "model.vocab." + p.Name);
        foreach (var (id, text, _) in added) Put(id, text, "added_tokens");
        string[] merges = Merges(model, Bad);

        bool spmStyle = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True
                        || Mentions(root, "pre_tokenizer", "Metaspace") || Mentions(root, "decoder", "Metaspace");
        if (spmStyle)
        {
            // SentencePiece-style: merge rank r makes its token's score −r (higher score merges first in llama.cpp's SPM).
            for (int i = 0; i < vocabSize; i++) if (types[i] == Normal) scores[i] = -1e9f;
            for (int r = 0; r < merges.Length; r++)
                if (index.TryGetValue(merges[r].Replace(" ", ""), out int id) && scores[id] == -1e9f) scores[id] = -r;
            for (int i = 0; i < vocabSize; i++)
                if (types[i] == Normal && tokens[i].Length == 6 && tokens[i].StartsWith("<0x", StringComparison.Ordinal) && tokens[i][5] == '>') types[i] = Byte;
            foreach (var (id, text, special) in added) types[id] = special || LooksSpecial(text) ? Control : UserDefined;
            if (ids["unk"] < 0 && model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String && index.TryGetValue(u.GetString()!, out int unk))
                ids["unk"] = unk;
            if (ids["unk"] >= 0) types[ids["unk"]] = Unknown;
            return SentencePieceMetadata(new GgufVocab(tokens, scores, types, ids["bos"], ids["eos"], ids["unk"], ids["pad"],
                tokConfig?.Bool("add_bos_token", true) ?? true, tokConfig?.Bool("add_eos_token", false) ?? false), addSpacePrefix);
        }

        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null) throw Bad("pre_tokenizer", "missing: the byte-level BPE pre-tokenizer cannot be told");
        string preName = HfPreTokenizers.Recognize(pre)
            ?? throw Bad("pre_tokenizer", $"[{HfPreTokenizers.Signature(pre).Replace("\n", "; ")}] is not a pre-tokenizer Ingot can name for llama.cpp (known: {string.Join(", ", HfPreTokenizers.Known.Select(k => k.Pre))})");
        foreach (var (id, text, special) in added) types[id] = special || LooksSpecial(text) ? Control : UserDefined;
        bool? addBos = tokConfig?.Has("add_bos_token") == true ? tokConfig.Bool("add_bos_token", false) : null;
        bool? addEos = tokConfig?.Has("add_eos_token") == true ? tokConfig.Bool("add_eos_token", false) : null;
        return w =>
        {
            w.Set("tokenizer.ggml.model", "gpt2");
            w.Set("tokenizer.ggml.pre", preName);
            w.Set("tokenizer.ggml.tokens", tokens);
            w.Set("tokenizer.ggml.token_type", types);
            w.Set("tokenizer.ggml.merges", merges);
            foreach (var kind in SpecialKinds)
                if (ids[kind] >= 0) w.Set($"tokenizer.ggml.{(kind == "unk" ? "unknown" : kind == "pad" ? "padding" : kind)}_token_id", (uint)ids[kind]);
            if (addBos is bool b) w.Set("tokenizer.ggml.add_bos_token", b);
            if (addEos is bool e) w.Set("tokenizer.ggml.add_eos_token", e);
        };
    }

    /// <summary>vocabSize "[PADn]" tokens of type unused, score −1000 (what the converter fills gaps with).</summary>
    private static (string[] Tokens, float[] Scores, int[] Types) Padded(int vocabSize)
    {
        var tokens = new string[vocabSize];
        for (int i = 0; i < vocabSize; i++) tokens[i] = "[PAD" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";
        var scores = new float[vocabSize];
        Array.Fill(scores, -1000f);
        var types = new int[vocabSize];
        Array.Fill(types, Unused);
        return (tokens, scores, types);
    }

    /// <summary>"a b" (older files) or ["a", "b"] (tokenizers ≥ 0.20; a space inside a part becomes U+0120, as gguf-py writes it).</summary>
    private static string[] Merges(JsonElement model, Func<string, string, InvalidModelFileException> bad)
    {
        if (!model.TryGetProperty("merges", out var m) || m.ValueKind != JsonValueKind.Array) throw bad("model.merges", "missing or not an array");
        var merges = new List<string>(m.GetArrayLength());
        foreach (var e in m.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.String && e.GetString()!.Contains(' ')) merges.Add(e.GetString()!);
            else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e[0].ValueKind == JsonValueKind.String && e[1].ValueKind == JsonValueKind.String)
                merges.Add(e[0].GetString()!.Replace(' ', '\u0120') + " " + e[1].GetString()!.Replace(' ', '\u0120'));
            else throw bad("model.merges", $"entry {merges.Count} is neither \"a b\" nor [a, b]");
        }
        return [.. merges];
    }

    private static List<(int Id, string Text, bool Special)> AddedTokens(JsonElement root, string path)
    {
        var added = new List<(int, string, bool)>();
        if (!root.TryGetProperty("added_tokens", out var at) || at.ValueKind != JsonValueKind.Array) return added;
        foreach (var e in at.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("id", out var id) || !id.TryGetInt32(out int i) ||
                !e.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                throw new InvalidModelFileException(path, "key 'added_tokens'", null, "each entry needs an id and a content string");
            added.Add((i, c.GetString()!, e.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True));
        }
        return added;
    }

    /// <summary>bos/eos/unk/pad ids (−1 = none), in SpecialVocab's order of sources; ids outside the vocabulary are skipped.</summary>
    private static Dictionary<string, int> SpecialIds(HfConfig config, HfConfig? tokConfig, List<(int Id, string Text, bool Special)> added, int vocabSize, Func<string, int> fallback)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var kind in SpecialKinds)
        {
            string? text = tokConfig?.TextOrContent(kind + "_token");
            int? id = text is null ? null : added.Where(a => a.Text == text).Select(a => (int?)a.Id).FirstOrDefault();
            id ??= config.TokenId(kind + "_token_id");
            int v = id ?? fallback(kind);
            ids[kind] = v < vocabSize ? v : -1;
        }
        return ids;
    }

    /// <summary>convert_hf_to_gguf's does_token_look_special: tokens some models forget to mark special.</summary>
    private static bool LooksSpecial(string t) =>
        t is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || t.StartsWith("<|", StringComparison.Ordinal) && t.EndsWith("|>", StringComparison.Ordinal)
        || t.StartsWith("<\uFF5C", StringComparison.Ordinal) && t.EndsWith("\uFF5C>", StringComparison.Ordinal)
        || t.StartsWith("<unused", StringComparison.Ordinal) && t.EndsWith('>');

    /// <summary>Whether the object under <paramref name="key"/> (or any step of it) has "type": <paramref name="type"/>.</summary>
    private static bool Mentions(JsonElement root, string key, string type) =>
        root.TryGetProperty(key, out var e) && HasType(e, type);

    private static bool HasType(JsonElement e, string type) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Any(p => p.Name == "type" && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() == type || HasType(p.Value, type)),
        JsonValueKind.Array => e.EnumerateArray().Any(x => HasType(x, type)),
        _ => false,
    };
}
