using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ingot.Formats;

/// <summary>
/// modelspecs/NAME.json ⇄ <see cref="ModelSpec"/>. Output is deterministic: fixed key order (the contract's),
/// 2-space indent, "\n" line ends and a final newline, floats as their shortest round-trip invariant form
/// ("1e-05", "0.35355338", "10000").
/// </summary>
public static class ModelSpecJson
{
    public static string Serialize(ModelSpec spec)
    {
        var buffer = new MemoryStream();
        var opts = new JsonWriterOptions { Indented = true, IndentSize = 2, NewLine = "\n" };
        using (var w = new Utf8JsonWriter(buffer, opts))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", spec.Schema);
            w.WriteString("name", spec.Name);
            w.WriteString("architecture", spec.Architecture);
            w.WriteNumber("vocab_size", spec.VocabSize);
            w.WriteNumber("dim", spec.Dim);
            w.WriteNumber("layers", spec.Layers);
            w.WriteNumber("ffn_dim", spec.FfnDim);
            w.WriteNumber("context_length", spec.ContextLength);

            w.WriteStartObject("attention");
            w.WriteNumber("heads", spec.Attention.Heads);
            w.WriteNumber("kv_heads", spec.Attention.KvHeads);
            w.WriteNumber("head_dim", spec.Attention.HeadDim);
            Float(w, "scale", spec.Attention.Scale);
            w.WriteNumber("sliding_window", spec.Attention.SlidingWindow);
            Float(w, "logit_softcap", spec.Attention.LogitSoftcap);
            w.WriteBoolean("qkv_bias", spec.Attention.QkvBias);
            w.WriteEndObject();

            w.WriteStartObject("norm");
            w.WriteString("kind", spec.Norm.Kind);
            Float(w, "epsilon", spec.Norm.Epsilon);
            w.WriteEndObject();

            w.WriteStartObject("rope");
            w.WriteString("kind", spec.Rope.Kind);
            Float(w, "theta", spec.Rope.Theta);
            w.WriteNumber("dimensions", spec.Rope.Dimensions);
            w.WriteBoolean("freq_factors", spec.Rope.FreqFactors);
            w.WriteStartObject("scaling");
            w.WriteString("kind", spec.Rope.Scaling.Kind);
            Float(w, "factor", spec.Rope.Scaling.Factor);
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("ffn");
            w.WriteString("kind", spec.Ffn.Kind);
            w.WriteEndObject();

            w.WriteStartObject("output");
            w.WriteBoolean("tied", spec.Output.Tied);
            Float(w, "final_logit_softcap", spec.Output.FinalLogitSoftcap);
            Float(w, "logit_scale", spec.Output.LogitScale);
            w.WriteEndObject();

            w.WriteStartObject("tokenizer");
            w.WriteString("kind", spec.Tokenizer.Kind);
            w.WriteNumber("bos", spec.Tokenizer.Bos);
            w.WriteNumber("eos", spec.Tokenizer.Eos);
            w.WriteBoolean("add_bos", spec.Tokenizer.AddBos);
            w.WriteBoolean("add_eos", spec.Tokenizer.AddEos);
            w.WriteEndObject();

            w.WriteStartObject("weights");
            foreach (string role in WeightsSpec.Ordered(spec.Weights.Roles.Keys))
                w.WriteString(role, GgmlTypeTraits.Name(spec.Weights.Roles[role]));
            if (spec.Weights.Layers.Count > 0)
            {
                w.WriteStartObject("layers");
                foreach (var (layer, overrides) in spec.Weights.Layers)
                {
                    if (overrides.Count == 0) continue;
                    w.WriteStartObject(layer.ToString(CultureInfo.InvariantCulture));
                    foreach (string role in WeightsSpec.Ordered(overrides.Keys))
                        w.WriteString(role, GgmlTypeTraits.Name(overrides[role]));
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Shortest round-trip float, invariant, lowercase exponent ("1e-05"); NaN/infinity are not valid specs.</summary>
    public static string FormatFloat(float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), "spec floats must be finite");
        return value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
    }

    private static void Float(Utf8JsonWriter w, string name, float value)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(FormatFloat(value), skipInputValidation: true);
    }

    public static void Write(ModelSpec spec, string path) => File.WriteAllText(path, Serialize(spec), new UTF8Encoding(false));

    public static ModelSpec Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses a spec; a malformed one throws <see cref="InvalidModelFileException"/> naming the key.</summary>
    public static ModelSpec Parse(string json, string path = "<spec>")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidModelFileException(path, "json", e.BytePositionInLine, e.Message.Split('\n')[0]); }
        using (doc)
        {
            var r = new Reader(path);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw r.Error("(document)", "must be an object");
            var s = new ModelSpec
            {
                Schema = r.Int(root, "schema"),
                Name = r.Str(root, "name"),
                Architecture = r.Str(root, "architecture"),
                VocabSize = r.Int(root, "vocab_size"),
                Dim = r.Int(root, "dim"),
                Layers = r.Int(root, "layers"),
                FfnDim = r.Int(root, "ffn_dim"),
                ContextLength = r.Int(root, "context_length"),
            };
            if (s.Schema != 1) throw r.Error("schema", $"unsupported schema {s.Schema}");
            var a = r.Obj(root, "attention");
            s.Attention = new AttentionSpec
            {
                Heads = r.Int(a, "heads"), KvHeads = r.Int(a, "kv_heads"), HeadDim = r.Int(a, "head_dim"),
                Scale = r.Float(a, "scale"), SlidingWindow = r.Int(a, "sliding_window", 0),
                LogitSoftcap = r.Float(a, "logit_softcap", 0), QkvBias = r.Bool(a, "qkv_bias", false),
            };
            var n = r.Obj(root, "norm");
            s.Norm = new NormSpec { Kind = r.Str(n, "kind"), Epsilon = r.Float(n, "epsilon") };
            var ro = r.Obj(root, "rope");
            s.Rope = new RopeSpec
            {
                Kind = r.Str(ro, "kind"), Theta = r.Float(ro, "theta"), Dimensions = r.Int(ro, "dimensions"),
                FreqFactors = r.Bool(ro, "freq_factors", false),
            };
            if (ro.TryGetProperty("scaling", out var sc))
                s.Rope.Scaling = new RopeScalingSpec { Kind = r.Str(sc, "kind"), Factor = r.Float(sc, "factor", 1) };
            s.Ffn = new FfnSpec { Kind = r.Str(r.Obj(root, "ffn"), "kind") };
            var o = r.Obj(root, "output");
            s.Output = new OutputSpec { Tied = r.Bool(o, "tied", false), FinalLogitSoftcap = r.Float(o, "final_logit_softcap", 0), LogitScale = r.Float(o, "logit_scale", 1) };
            var t = r.Obj(root, "tokenizer");
            s.Tokenizer = new TokenizerSpec { Kind = r.Str(t, "kind"), Bos = r.Int(t, "bos", -1), Eos = r.Int(t, "eos", -1), AddBos = r.Bool(t, "add_bos", false), AddEos = r.Bool(t, "add_eos", false) };
            var w = r.Obj(root, "weights");
            foreach (var p in w.EnumerateObject())
            {
                if (p.Name == "layers")
                {
                    if (p.Value.ValueKind != JsonValueKind.Object) throw r.Error("weights.layers", "must be an object");
                    foreach (var l in p.Value.EnumerateObject())
                    {
                        if (!int.TryParse(l.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int layer))
                            throw r.Error($"weights.layers.{l.Name}", "layer keys must be non-negative integers");
                        if (l.Value.ValueKind != JsonValueKind.Object) throw r.Error($"weights.layers.{l.Name}", "must be an object");
                        var map = new Dictionary<string, GgmlType>(StringComparer.Ordinal);
                        foreach (var q in l.Value.EnumerateObject()) map[q.Name] = r.Type(q.Value, $"weights.layers.{l.Name}.{q.Name}");
                        s.Weights.Layers[layer] = map;
                    }
                }
                else
                {
                    s.Weights.Roles[p.Name] = r.Type(p.Value, "weights." + p.Name);
                }
            }
            return s;
        }
    }

    private readonly struct Reader(string path)
    {
        public InvalidModelFileException Error(string key, string problem) => new(path, $"key '{key}'", null, problem);

        public JsonElement Obj(JsonElement e, string key) =>
            e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw Error(key, "missing or not an object");

        public string Str(JsonElement e, string key) =>
            e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Error(key, "missing or not a string");

        public int Int(JsonElement e, string key, int? def = null)
        {
            if (!e.TryGetProperty(key, out var v)) return def ?? throw Error(key, "missing");
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Error(key, "not an integer");
        }

        public float Float(JsonElement e, string key, float? def = null)
        {
            if (!e.TryGetProperty(key, out var v)) return def ?? throw Error(key, "missing");
            return v.ValueKind == JsonValueKind.Number ? v.GetSingle() : throw Error(key, "not a number");
        }

        public bool Bool(JsonElement e, string key, bool def) =>
            !e.TryGetProperty(key, out var v) ? def
            : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Error(key, "not a boolean");

        public GgmlType Type(JsonElement v, string key) =>
            v.ValueKind == JsonValueKind.String && GgmlTypeTraits.TryParse(v.GetString()!, out var t) ? t : throw Error(key, $"not a ggml type name: {v}");
    }
}
