using System.Text.Json;

namespace Ingot.Formats.HuggingFace;

/// <summary>
/// A Hugging Face config.json (or one of its nested objects, e.g. rope_scaling): typed reads whose failures are one
/// line naming the file and the key ("config.json: key 'rope_scaling.factor': missing"). A key holding JSON null
/// counts as absent, as it does for transformers' config classes.
/// </summary>
internal sealed class HfConfig
{
    private readonly JsonElement _root;
    private readonly JsonElement[] _defaults; // consulted in order when the file lacks a key
    private readonly string _prefix;

    private HfConfig(string path, JsonElement root, string prefix, JsonElement[]? defaults = null)
    {
        Path = path;
        _root = root;
        _prefix = prefix;
        _defaults = defaults ?? [];
    }

    public string Path { get; }

    public static HfConfig Read(string path)
    {
        using var doc = ParseJson(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(path, "json", 0, "the top level is not an object");
        return new HfConfig(path, doc.RootElement.Clone(), "");
    }

    /// <summary>A JSON file, or one line naming it and the line of the syntax error.</summary>
    public static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidModelFileException(path, "json", e.BytePositionInLine, $"line {e.LineNumber}: {e.Message.Split('\n')[0]}"); }
    }

    /// <summary>
    /// The same file read with defaults (a JSON object; the family's config-class defaults): a key the file lacks
    /// takes its default, as transformers' XxxConfig(**config_json) does; a key the file sets to null stays null.
    /// Defaults added later win over earlier ones.
    /// </summary>
    public HfConfig WithDefaults(string defaultsJson)
    {
        using var doc = JsonDocument.Parse(defaultsJson);
        return new HfConfig(Path, _root, _prefix, [doc.RootElement.Clone(), .. _defaults]);
    }

    public InvalidModelFileException Error(string key, string problem) => new(Path, $"key '{_prefix}{key}'", null, problem);

    public bool Has(string key) => Get(key).ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    /// <summary>The file's value, else the default; Undefined when neither has the key.</summary>
    private JsonElement Get(string key)
    {
        if (_root.TryGetProperty(key, out var v)) return v;
        foreach (var d in _defaults)
            if (d.TryGetProperty(key, out var dv)) return dv;
        return default;
    }

    /// <summary>The keys the file states (not the defaults).</summary>
    public IEnumerable<string> Keys => _root.EnumerateObject().Select(p => p.Name);

    /// <summary>A nested object (rope_scaling), or null when the key is absent or null.</summary>
    public HfConfig? Object(string key)
    {
        if (!Has(key)) return null;
        var v = Get(key);
        if (v.ValueKind != JsonValueKind.Object) throw Error(key, "expected an object");
        return new HfConfig(Path, v, _prefix + key + ".");
    }

    /// <summary>The first of <paramref name="keys"/> present (convert_hf_to_gguf's find_hparam), else null.</summary>
    public string? FirstPresent(params string[] keys) => keys.FirstOrDefault(Has);

    public int Int(params string[] keys)
    {
        string key = FirstPresent(keys) ?? throw Error(keys[0], keys.Length == 1 ? "missing" : $"missing (and no {string.Join(" or ", keys.Skip(1))} either)");
        return ReadInt(key);
    }

    public int Int(string key, int fallback) => Has(key) ? ReadInt(key) : fallback;

    public int? OptionalInt(string key) => Has(key) ? ReadInt(key) : null;

    private int ReadInt(string key)
    {
        var v = Get(key);
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
        throw Error(key, $"expected an integer, found {Show(v)}");
    }

    public float Float(params string[] keys)
    {
        string key = FirstPresent(keys) ?? throw Error(keys[0], "missing");
        return ReadFloat(key);
    }

    public float Float(string key, float fallback) => Has(key) ? ReadFloat(key) : fallback;

    public float? OptionalFloat(params string[] keys) => FirstPresent(keys) is { } key ? ReadFloat(key) : null;

    private float ReadFloat(string key)
    {
        var v = Get(key);
        if (v.ValueKind == JsonValueKind.Number) return (float)v.GetDouble();
        throw Error(key, $"expected a number, found {Show(v)}");
    }

    public bool Bool(string key, bool fallback)
    {
        if (!Has(key)) return fallback;
        var v = Get(key);
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Error(key, $"expected true or false, found {Show(v)}");
    }

    public string? String(string key)
    {
        if (!Has(key)) return null;
        var v = Get(key);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Error(key, $"expected a string, found {Show(v)}");
    }

    /// <summary>A string, or an object's "content" string (tokenizer_config.json's {"content": "&lt;s&gt;", …} form); null when absent.</summary>
    public string? TextOrContent(string key) => Has(key) && Get(key).ValueKind == JsonValueKind.Object ? Object(key)!.String("content") : String(key);

    /// <summary>A list of strings (config.json's architectures), or null when absent.</summary>
    public string[]? Strings(string key)
    {
        if (!Has(key)) return null;
        var v = Get(key);
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String)) throw Error(key, "expected a list of strings");
        return [.. v.EnumerateArray().Select(e => e.GetString()!)];
    }

    /// <summary>A list of numbers (LongRoPE's long_factor), or null when absent.</summary>
    public float[]? Floats(string key)
    {
        if (!Has(key)) return null;
        var v = Get(key);
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number)) throw Error(key, "expected a list of numbers");
        return [.. v.EnumerateArray().Select(e => (float)e.GetDouble())];
    }

    /// <summary>A token id: an integer, or the first of a list (Llama 3.1's eos_token_id [128001, 128008, 128009]); null when absent.</summary>
    public int? TokenId(string key)
    {
        if (!Has(key)) return null;
        var v = Get(key);
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0) v = v[0];
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int id) && id >= 0 ? id : throw Error(key, $"expected a token id, found {Show(v)}");
    }

    private static string Show(JsonElement v)
    {
        string raw = v.GetRawText();
        return raw.Length > 40 ? raw[..40] + "…" : raw;
    }
}
