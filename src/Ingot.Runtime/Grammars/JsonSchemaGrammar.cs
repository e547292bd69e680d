using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ingot.Runtime.Grammars;

/// <summary>
/// JSON Schema → GBNF, so a generation emits JSON that validates. Supported: type (object, array, string, number,
/// integer, boolean, null, or a list of them), properties, required, additionalProperties (false, true, or a schema),
/// enum, const, items, minItems/maxItems, anyOf/oneOf, allOf of one schema, $ref to #/$defs/… or #/definitions/…,
/// string minLength/maxLength, pattern (a regex subset: literals, classes, '.', groups, '|', * + ? {m,n}, \d \w \s, anchors)
/// and format date, date-time, time and uuid, integer minimum/maximum (exclusive ones too). Objects keep the schema's
/// property order, with members beyond the declared ones only where additionalProperties allows them (as llama.cpp's
/// converter; OpenAI's strict mode requires it false). Whitespace is what llama.cpp's converter allows between tokens: nothing, a space, or a newline and
/// up to 20 spaces or tabs. Anything else is a <see cref="GrammarException"/> naming the keyword and its JSON path.
/// </summary>
public sealed class JsonSchemaGrammar
{
    private readonly StringBuilder _rules = new();
    private readonly Dictionary<string, string> _named = new(StringComparer.Ordinal); // rule body → name, to share equal rules
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _refs = new(StringComparer.Ordinal);   // $ref → rule name
    private readonly JsonElement _root;

    private static readonly string[] Known =
    [
        "type", "properties", "required", "additionalProperties", "enum", "const", "items", "minItems", "maxItems", "anyOf", "oneOf", "allOf",
        "$ref", "$defs", "definitions", "pattern", "format", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "$schema", "$id", "title", "description", "default", "examples", "$comment", "nullable",
    ];

    private JsonSchemaGrammar(JsonElement root) => _root = root;

    /// <summary>The GBNF of a schema (its root rule named root).</summary>
    public static string ToGbnf(string schemaJson)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(schemaJson); }
        catch (JsonException e) { throw new GrammarException($"the schema is not JSON: {e.Message}"); }
        using (doc)
        {
            var g = new JsonSchemaGrammar(doc.RootElement);
            string root = g.Visit(doc.RootElement, "$");
            g._rules.Insert(0, "root ::= " + root + "\n");
            g._rules.Append("space ::= | \" \" | \"\\n\" [ \\t]{0,20}\n");
            return g._rules.ToString();
        }
    }

    /// <summary>Any JSON object (OpenAI's response_format json_object, a schemaless JSON ChatResponseFormat).</summary>
    public const string AnyObjectSchema = "{\"type\": \"object\"}";

    /// <summary>
    /// The grammar of a schema, parsed. The same schema text gives the same (immutable) grammar object, so requests that
    /// repeat a schema share its compiled automaton (<see cref="GrammarAutomaton"/>). Holds the last 64 schemas.
    /// </summary>
    public static Grammar FromSchema(string schemaJson)
    {
        lock (Recent)
        {
            if (Recent.TryGetValue(schemaJson, out var known)) return known;
        }
        var grammar = Grammar.Parse(ToGbnf(schemaJson));
        lock (Recent)
        {
            if (Recent.Count >= 64) Recent.Clear();
            Recent[schemaJson] = grammar;
        }
        return grammar;
    }

    private static readonly Dictionary<string, Grammar> Recent = new(StringComparer.Ordinal);

    private static GrammarException Unsupported(string path, string what) => new($"{path}: {what}");

    /// <summary>A rule named after <paramref name="hint"/> with this body (an equal body gets the existing rule).</summary>
    private string Rule(string hint, string body)
    {
        if (_named.TryGetValue(body, out var existing)) return existing;
        string name = Sanitize(hint);
        for (int i = 1; !_names.Add(name); i++) name = Sanitize(hint) + "-" + i.ToString(CultureInfo.InvariantCulture);
        _named[body] = name;
        _rules.Append(name).Append(" ::= ").Append(body).Append('\n');
        return name;
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s) sb.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
        string r = sb.ToString().Trim('-');
        while (r.Contains("--")) r = r.Replace("--", "-");
        return r.Length == 0 ? "r" : r;
    }

    /// <summary>The GBNF expression of a (sub)schema at JSON path <paramref name="path"/>.</summary>
    private string Visit(JsonElement s, string path)
    {
        if (s.ValueKind == JsonValueKind.True) return Value();
        if (s.ValueKind == JsonValueKind.False) throw Unsupported(path, "the schema false allows nothing");
        if (s.ValueKind != JsonValueKind.Object) throw Unsupported(path, "a schema must be an object or a boolean");
        foreach (var p in s.EnumerateObject())
            if (System.Array.IndexOf(Known, p.Name) < 0) throw Unsupported(path + "." + p.Name, $"keyword '{p.Name}' is not supported");

        if (s.TryGetProperty("$ref", out var r)) return Ref(r.GetString() ?? "", path);
        if (s.TryGetProperty("const", out var c)) return Literal(c) + " space";
        if (s.TryGetProperty("enum", out var e))
        {
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0) throw Unsupported(path + ".enum", "enum must be a non-empty array");
            return "(" + string.Join(" | ", e.EnumerateArray().Select(Literal)) + ") space";
        }
        foreach (string k in new[] { "anyOf", "oneOf" })
            if (s.TryGetProperty(k, out var alts))
            {
                if (alts.ValueKind != JsonValueKind.Array || alts.GetArrayLength() == 0) throw Unsupported(path + "." + k, k + " must be a non-empty array");
                return "(" + string.Join(" | ", alts.EnumerateArray().Select((a, i) => Visit(a, $"{path}.{k}[{i}]"))) + ")";
            }
        if (s.TryGetProperty("allOf", out var all))
        {
            if (all.ValueKind != JsonValueKind.Array || all.GetArrayLength() != 1) throw Unsupported(path + ".allOf", "allOf is supported with exactly one schema");
            return Visit(all[0], path + ".allOf[0]");
        }
        if (!s.TryGetProperty("type", out var type))
        {
            if (s.TryGetProperty("properties", out _)) return Object(s, path);
            if (s.TryGetProperty("items", out _)) return Array(s, path);
            return Value();
        }
        if (type.ValueKind == JsonValueKind.Array)
            return "(" + string.Join(" | ", type.EnumerateArray().Select(t => Typed(s, t.GetString() ?? "", path))) + ")";
        string single = Typed(s, type.GetString() ?? "", path);
        return s.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True ? "(" + single + " | null)" : single;
    }

    private string Typed(JsonElement s, string type, string path) => type switch
    {
        "object" => Object(s, path),
        "array" => Array(s, path),
        "string" => String(s, path),
        "integer" => Integer(s, path),
        "number" => Primitive("number"),
        "boolean" => Primitive("boolean"),
        "null" => Primitive("null"),
        _ => throw Unsupported(path + ".type", $"type '{type}' is not one of object, array, string, number, integer, boolean, null"),
    };

    private string Ref(string target, string path)
    {
        if (_refs.TryGetValue(target, out var name)) return name;
        string[] parts = target.Split('/');
        if (parts.Length != 3 || parts[0] != "#" || parts[1] is not ("$defs" or "definitions") || !_root.TryGetProperty(parts[1], out var defs) || !defs.TryGetProperty(parts[2], out var def))
            throw Unsupported(path + ".$ref", $"'{target}' is not a #/$defs/NAME or #/definitions/NAME of this schema");
        name = Sanitize("ref-" + parts[2]);
        for (int i = 1; !_names.Add(name); i++) name = Sanitize("ref-" + parts[2]) + "-" + i.ToString(CultureInfo.InvariantCulture);
        _refs[target] = name; // before visiting: a recursive reference finds the name
        string body = Visit(def, $"$.{parts[1]}.{parts[2]}");
        _rules.Append(name).Append(" ::= ").Append(body).Append('\n');
        return name;
    }

    private string Object(JsonElement s, string path)
    {
        var props = new List<(string Name, JsonElement Schema)>();
        if (s.TryGetProperty("properties", out var ps))
            foreach (var p in ps.EnumerateObject()) props.Add((p.Name, p.Value));
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (s.TryGetProperty("required", out var req))
            foreach (var r in req.EnumerateArray())
            {
                string name = r.GetString() ?? "";
                if (!props.Any(p => p.Name == name)) throw Unsupported(path + ".required", $"'{name}' is required but not among the properties");
                required.Add(name);
            }
        // As llama.cpp's converter: members beyond the declared ones only when additionalProperties says so (true or a
        // schema); an object schema with neither properties nor additionalProperties is any object.
        string? extra = null;
        bool hasAdditional = s.TryGetProperty("additionalProperties", out var ap);
        if (!hasAdditional && props.Count == 0)
        {
            Primitive("value"); // declares the generic object rule
            return "object";
        }
        if (!hasAdditional) { } // declared members only
        else if (ap.ValueKind == JsonValueKind.True)
        {
            Primitive("value");
            extra = Rule("kv", "string \":\" space value");
        }
        else if (ap.ValueKind == JsonValueKind.Object) extra = Rule(path + "-extra-kv", "string \":\" space " + Visit(ap, path + ".additionalProperties"));
        else if (ap.ValueKind != JsonValueKind.False) throw Unsupported(path + ".additionalProperties", "additionalProperties must be a boolean or a schema");

        // Members in the schema's order. first_i: the members from i on when none is written yet; rest_i: when one is
        // (so each starts with a comma). Extra members (additionalProperties) come after the declared ones.
        string? restNext = extra is null ? null : Rule(path + "-rest-extra", "(\",\" space " + extra + ")*");
        string? firstNext = extra is null ? null : Rule(path + "-first-extra", "(" + extra + " " + restNext + ")?");
        for (int i = props.Count - 1; i >= 0; i--)
        {
            var (name, schema) = props[i];
            string kv = Rule($"{path}-{name}-kv", JsonLiteral(name) + " space \":\" space " + Visit(schema, path + ".properties." + name));
            string tail = restNext is null ? "" : " " + restNext;
            string rest, first;
            if (required.Contains(name))
            {
                rest = "\",\" space " + kv + tail;
                first = kv + tail;
            }
            else
            {
                rest = "(\",\" space " + kv + ")?" + tail;
                first = "(" + kv + tail + (firstNext is null ? ")?" : " | " + firstNext + ")");
            }
            restNext = Rule($"{path}-rest-{i}", rest);
            firstNext = Rule($"{path}-first-{i}", first);
        }
        return Rule(path + "-object", "\"{\" space " + (firstNext is null ? "" : firstNext + " ") + "\"}\" space");
    }

    private string Array(JsonElement s, string path)
    {
        string item = s.TryGetProperty("items", out var items) ? Visit(items, path + ".items") : Value();
        int min = s.TryGetProperty("minItems", out var mi) ? mi.GetInt32() : 0;
        int max = s.TryGetProperty("maxItems", out var ma) ? ma.GetInt32() : -1;
        if (min < 0 || (max >= 0 && max < min)) throw Unsupported(path + ".maxItems", $"minItems {min} and maxItems {max} leave nothing");
        string itemRule = Rule(path + "-item", item);
        string body;
        if (max == 0) body = "\"[\" space \"]\" space";
        else
        {
            string more = max < 0 ? $"(\",\" space {itemRule}){{{Math.Max(min - 1, 0)},}}" : $"(\",\" space {itemRule}){{{Math.Max(min - 1, 0)},{max - 1}}}";
            string members = itemRule + " " + more;
            body = "\"[\" space " + (min == 0 ? "(" + members + ")?" : members) + " \"]\" space";
        }
        return Rule(path + "-array", body);
    }

    private string String(JsonElement s, string path)
    {
        if (s.TryGetProperty("format", out var f))
        {
            string body = f.GetString() switch
            {
                "date" => Date(),
                "time" => Time(),
                "date-time" => Date() + " \"T\" " + Time(),
                "uuid" => "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}",
                var other => throw Unsupported(path + ".format", $"format '{other}' is not one of date, time, date-time, uuid"),
            };
            return Rule("string-" + f.GetString(), "\"\\\"\" " + body + " \"\\\"\" space");
        }
        if (s.TryGetProperty("pattern", out var p))
            return Rule(path + "-pattern", "\"\\\"\" " + RegexToGbnf.Convert(p.GetString() ?? "", path + ".pattern") + " \"\\\"\" space");
        int min = s.TryGetProperty("minLength", out var mi) ? mi.GetInt32() : 0;
        int max = s.TryGetProperty("maxLength", out var ma) ? ma.GetInt32() : -1;
        if (min == 0 && max < 0) return Primitive("string");
        if (max >= 0 && max < min) throw Unsupported(path + ".maxLength", $"minLength {min} exceeds maxLength {max}");
        Primitive("string");
        return Rule(path + "-string", "\"\\\"\" char{" + min.ToString(CultureInfo.InvariantCulture) + "," + (max < 0 ? "" : max.ToString(CultureInfo.InvariantCulture)) + "} \"\\\"\" space");
    }

    /// <summary>
    /// A calendar date every parser takes: years 0001–9999, each month's own days, February to the 28th (a grammar
    /// cannot tell leap years cheaply; the 29th is left out rather than allowed in years without one).
    /// </summary>
    private static string Date() =>
        "([1-9] [0-9]{3} | \"0\" [1-9] [0-9]{2} | \"00\" [1-9] [0-9] | \"000\" [1-9]) \"-\" " +
        "((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01]) | (\"0\" [469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | \"02-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]))";

    private static string Time() => "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{3})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";

    private string Integer(JsonElement s, string path)
    {
        long? min = Bound(s, "minimum", path), max = Bound(s, "maximum", path);
        if (Bound(s, "exclusiveMinimum", path) is long emin) min = Math.Max(min ?? long.MinValue, emin + 1);
        if (Bound(s, "exclusiveMaximum", path) is long emax) max = Math.Min(max ?? long.MaxValue, emax - 1);
        if (min is null && max is null) return Primitive("integer");
        if (min > max) throw Unsupported(path + ".maximum", $"no integer lies in [{min}, {max}]");
        const long Big = 9_999_999_999_999_999; // 16 digits, as llama.cpp's integral part allows
        long lo = min ?? -Big, hi = max ?? Big;
        var parts = new List<string>();
        if (lo < 0) parts.Add("\"-\" (" + IntegerRange.NonNegative(Math.Max(1, hi < 0 ? -hi : 1), -lo) + ")");
        if (hi >= 0) parts.Add(IntegerRange.NonNegative(Math.Max(lo, 0), hi));
        return Rule(path + "-integer", "(" + string.Join(" | ", parts) + ") space");
    }

    private static long? Bound(JsonElement s, string key, string path)
    {
        if (!s.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || d != Math.Floor(d) || Math.Abs(d) > 9e15)
            throw Unsupported(path + "." + key, $"{key} must be a whole number within ±9e15 for an integer");
        return (long)d;
    }

    private string Value()
    {
        Primitive("value");
        return "value";
    }

    /// <summary>Declares a shared primitive rule (and what it needs) once; returns its name.</summary>
    private string Primitive(string name)
    {
        void Add(string n, string body)
        {
            if (_names.Add(n)) _rules.Append(n).Append(" ::= ").Append(body).Append('\n');
        }
        switch (name)
        {
            case "char": Add("char", "[^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})"); break;
            case "string": Primitive("char"); Add("string", "\"\\\"\" char* \"\\\"\" space"); break;
            case "integral-part": Add("integral-part", "[0] | [1-9] [0-9]{0,15}"); break;
            case "integer": Primitive("integral-part"); Add("integer", "\"-\"? integral-part space"); break;
            case "number": Primitive("integral-part"); Add("number", "\"-\"? integral-part (\".\" [0-9]{1,16})? ([eE] [-+]? integral-part)? space"); break;
            case "boolean": Add("boolean", "(\"true\" | \"false\") space"); break;
            case "null": Add("null", "\"null\" space"); break;
            case "value":
                Primitive("string"); Primitive("number"); Primitive("boolean"); Primitive("null");
                Add("value", "object | array | string | number | boolean | null");
                Add("object", "\"{\" space (string \":\" space value (\",\" space string \":\" space value)*)? \"}\" space");
                Add("array", "\"[\" space (value (\",\" space value)*)? \"]\" space");
                break;
        }
        return name;
    }

    /// <summary>A JSON value as a GBNF literal of its minimal JSON text.</summary>
    private static string Literal(JsonElement v) => GbnfString(Minimal(w => v.WriteTo(w)));

    /// <summary>A property name as a GBNF literal of its JSON string.</summary>
    private static string JsonLiteral(string name) => GbnfString(Minimal(w => w.WriteStringValue(name)));

    private static string Minimal(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.IO.MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string GbnfString(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in text)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c < 0x20) sb.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}
