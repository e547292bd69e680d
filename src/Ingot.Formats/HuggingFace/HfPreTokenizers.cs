using System.Text.Json;

namespace Ingot.Formats.HuggingFace;

/// <summary>
/// tokenizer.json pre_tokenizer ⇄ llama.cpp's tokenizer.ggml.pre. convert_hf_to_gguf names the pre-tokenizer by
/// hashing the ids of a test text, which needs the model's own tokenizer library; here the pre_tokenizer object is
/// compared step by step (ByteLevel with or without its GPT-2 regex, Split regexes, Digits) with the forms these
/// models publish. A form not listed cannot be told, and the import refuses it, as the converter does.
/// </summary>
public static class HfPreTokenizers
{
    /// <summary>
    /// tokenizer.ggml.pre → the pre_tokenizer object of the models' tokenizer.json. "refact" (Granite) has
    /// StarCoder's form: llama.cpp runs both the same way, and a tokenizer.json cannot tell them apart (the
    /// converter's hash differs only through the vocabulary), so recognition answers "starcoder" for both.
    /// </summary>
    public static readonly IReadOnlyList<(string Pre, string Json)> Known =
    [
        ("gpt-2", """{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"""),
        ("llama-bpe", """
            {"type": "Sequence", "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}
            """),
        ("qwen2", """
            {"type": "Sequence", "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]}
            """),
        ("starcoder", """
            {"type": "Sequence", "pretokenizers": [
              {"type": "Digits", "individual_digits": true},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}]}
            """),
    ];

    /// <summary>Names that recognition reports under another name (see <see cref="Known"/>).</summary>
    public static string Canonical(string pre) => pre == "refact" ? "starcoder" : pre;

    /// <summary>The pre_tokenizer object for <paramref name="pre"/> (an alias such as "refact" included), or null.</summary>
    public static string? JsonFor(string pre) => Known.FirstOrDefault(k => k.Pre == Canonical(pre)).Json;

    private static readonly Lazy<List<(string Pre, string Signature)>> Signatures = new(() =>
        Known.Select(k => { using var d = JsonDocument.Parse(k.Json); return (k.Pre, Signature(d.RootElement)); }).ToList());

    /// <summary>The llama.cpp name of a tokenizer.json pre_tokenizer, or null when it is not one of <see cref="Known"/>.</summary>
    public static string? Recognize(JsonElement preTokenizer)
    {
        string s = Signature(preTokenizer);
        return Signatures.Value.FirstOrDefault(k => k.Signature == s).Pre;
    }

    /// <summary>The steps in order, one line each, with only what changes the split: "ByteLevel", "ByteLevel(no regex)", "Digits(individual)", "Split(Isolated) REGEX".</summary>
    public static string Signature(JsonElement preTokenizer)
    {
        var steps = new List<string>();
        Collect(preTokenizer, steps);
        return string.Join("\n", steps);
    }

    private static void Collect(JsonElement e, List<string> steps)
    {
        if (e.ValueKind != JsonValueKind.Object) { steps.Add(e.ValueKind.ToString()); return; }
        string type = Str(e, "type") ?? "";
        switch (type)
        {
            case "Sequence" when e.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array:
                foreach (var p in list.EnumerateArray()) Collect(p, steps);
                break;
            case "ByteLevel":
                steps.Add(Bool(e, "use_regex") == false ? "ByteLevel(no regex)" : "ByteLevel");
                break;
            case "Digits":
                steps.Add(Bool(e, "individual_digits") == true ? "Digits(individual)" : "Digits");
                break;
            case "Split":
                var pattern = e.TryGetProperty("pattern", out var pat) && pat.ValueKind == JsonValueKind.Object ? pat : default;
                string regex = pattern.ValueKind == JsonValueKind.Object ? Str(pattern, "Regex") ?? "string " + Str(pattern, "String") : "?";
                steps.Add($"Split({Str(e, "behavior") ?? "Isolated"}{(Bool(e, "invert") == true ? ", inverted" : "")}) {regex}");
                break;
            default:
                steps.Add(type);
                break;
        }
    }

    private static string? Str(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool? Bool(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
}
