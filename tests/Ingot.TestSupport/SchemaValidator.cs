using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ingot.TestSupport;

/// <summary>
/// A JSON Schema validator for the keywords the grammar converter supports, to check generated JSON independently of
/// the grammar: type, properties, required, additionalProperties, enum, const, items, minItems/maxItems, anyOf/oneOf,
/// allOf, $ref, pattern, format (date, time, date-time, uuid), minLength/maxLength, minimum/maximum (and exclusive).
/// Returns the first violation as "PATH: what", or null.
/// </summary>
public static class SchemaValidator
{
    public static string? Validate(string schema, string json)
    {
        using var s = JsonDocument.Parse(schema);
        JsonDocument v;
        try { v = JsonDocument.Parse(json); }
        catch (JsonException e) { return "$: not JSON: " + e.Message; }
        using (v) return Check(s.RootElement, v.RootElement, "$", s.RootElement);
    }

    private static string? Check(JsonElement s, JsonElement v, string path, JsonElement root)
    {
        if (s.ValueKind == JsonValueKind.True) return null;
        if (s.TryGetProperty("$ref", out var r))
        {
            var parts = r.GetString()!.Split('/');
            return Check(root.GetProperty(parts[1]).GetProperty(parts[2]), v, path, root);
        }
        if (s.TryGetProperty("const", out var c) && !JsonElement.DeepEquals(c, v)) return $"{path}: not the const";
        if (s.TryGetProperty("enum", out var e) && !e.EnumerateArray().Any(x => JsonElement.DeepEquals(x, v))) return $"{path}: {v.GetRawText()} not in the enum";
        foreach (string k in new[] { "anyOf", "oneOf" })
            if (s.TryGetProperty(k, out var alts))
            {
                int ok = alts.EnumerateArray().Count(a => Check(a, v, path, root) is null);
                if (k == "anyOf" ? ok == 0 : ok != 1) return $"{path}: {ok} of the {k} schemas match";
            }
        if (s.TryGetProperty("allOf", out var all))
            foreach (var a in all.EnumerateArray()) if (Check(a, v, path, root) is { } err) return err;
        if (s.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (s.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True) types.Add("null");
            if (!types.Any(t => Is(t, v))) return $"{path}: {v.ValueKind} is not {string.Join("/", types)}";
        }
        switch (v.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var props = s.TryGetProperty("properties", out var ps) ? ps : default;
                if (s.TryGetProperty("required", out var req))
                    foreach (var q in req.EnumerateArray()) if (!v.TryGetProperty(q.GetString()!, out _)) return $"{path}: '{q.GetString()}' is missing";
                foreach (var m in v.EnumerateObject())
                {
                    if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty(m.Name, out var ms))
                    {
                        if (Check(ms, m.Value, path + "." + m.Name, root) is { } err) return err;
                    }
                    else if (s.TryGetProperty("additionalProperties", out var ap))
                    {
                        if (ap.ValueKind == JsonValueKind.False) return $"{path}: '{m.Name}' is not allowed";
                        if (ap.ValueKind == JsonValueKind.Object && Check(ap, m.Value, path + "." + m.Name, root) is { } err) return err;
                    }
                }
                break;
            }
            case JsonValueKind.Array:
            {
                int count = v.GetArrayLength();
                if (s.TryGetProperty("minItems", out var mi) && count < mi.GetInt32()) return $"{path}: {count} items < minItems";
                if (s.TryGetProperty("maxItems", out var ma) && count > ma.GetInt32()) return $"{path}: {count} items > maxItems";
                if (s.TryGetProperty("items", out var items))
                {
                    int i = 0;
                    foreach (var item in v.EnumerateArray()) if (Check(items, item, $"{path}[{i++}]", root) is { } err) return err;
                }
                break;
            }
            case JsonValueKind.String:
            {
                string str = v.GetString()!;
                int len = str.EnumerateRunes().Count();
                if (s.TryGetProperty("minLength", out var mi) && len < mi.GetInt32()) return $"{path}: shorter than minLength";
                if (s.TryGetProperty("maxLength", out var ma) && len > ma.GetInt32()) return $"{path}: longer than maxLength";
                if (s.TryGetProperty("pattern", out var p) && !Regex.IsMatch(str, p.GetString()!)) return $"{path}: '{str}' does not match {p.GetString()}";
                if (s.TryGetProperty("format", out var f))
                {
                    bool ok = f.GetString() switch
                    {
                        "date" => DateTime.TryParseExact(str, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) || Regex.IsMatch(str, @"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
                        "time" => Regex.IsMatch(str, @"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"),
                        "date-time" => Regex.IsMatch(str, @"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"),
                        "uuid" => Guid.TryParseExact(str, "D", out _),
                        _ => true,
                    };
                    if (!ok) return $"{path}: '{str}' is not a {f.GetString()}";
                }
                break;
            }
            case JsonValueKind.Number:
            {
                double d = v.GetDouble();
                if (s.TryGetProperty("minimum", out var mi) && d < mi.GetDouble()) return $"{path}: {d} < minimum";
                if (s.TryGetProperty("maximum", out var ma) && d > ma.GetDouble()) return $"{path}: {d} > maximum";
                if (s.TryGetProperty("exclusiveMinimum", out var emi) && d <= emi.GetDouble()) return $"{path}: {d} <= exclusiveMinimum";
                if (s.TryGetProperty("exclusiveMaximum", out var ema) && d >= ema.GetDouble()) return $"{path}: {d} >= exclusiveMaximum";
                break;
            }
        }
        return null;
    }

    private static bool Is(string type, JsonElement v) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "number" => v.ValueKind == JsonValueKind.Number,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _) && !v.GetRawText().Contains('.') && !v.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase),
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
