using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Ingot.Specs.Grammars
{
    /// <summary>A schema or pattern the converter cannot turn into a grammar: the message names the keyword and its JSON path.</summary>
    public sealed class SchemaGrammarException : Exception
    {
        public SchemaGrammarException(string message) : base(message) { }
    }

    /// <summary>
    /// JSON Schema → GBNF, so a generation emits JSON that validates. Shared by the runtime (schemas that arrive with a
    /// request) and the generator (schemas of C# types, converted at build time), so both give the same grammar.
    /// Supported: type (object, array, string, number, integer, boolean, null, or a list of them), properties, required,
    /// additionalProperties (false, true, or a schema), enum, const, items, minItems/maxItems, anyOf/oneOf, allOf of one
    /// schema, $ref to #/$defs/… or #/definitions/…, string minLength/maxLength, pattern (a regex subset: literals,
    /// classes, '.', groups, '|', * + ? {m,n}, \d \w \s, anchors) and format date, date-time, time and uuid, integer
    /// minimum/maximum (exclusive ones too). Objects keep the schema's property order, with members beyond the declared
    /// ones only where additionalProperties allows them (as llama.cpp's converter; OpenAI's strict mode requires it
    /// false). Whitespace is what llama.cpp's converter allows between tokens: nothing, a space, or a newline and up to
    /// 20 spaces or tabs. Anything else is a <see cref="SchemaGrammarException"/> naming the keyword and its JSON path.
    /// </summary>
    public sealed class JsonSchemaGbnf
    {
        private readonly StringBuilder _rules = new StringBuilder();
        private readonly Dictionary<string, string> _named = new Dictionary<string, string>(StringComparer.Ordinal); // rule body → name, to share equal rules
        private readonly HashSet<string> _names = new HashSet<string>(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _refs = new Dictionary<string, string>(StringComparer.Ordinal);   // $ref → rule name
        private readonly JsonNode _root;
        private readonly bool _utf16Lengths;

        private static readonly string[] Known =
        {
            "type", "properties", "required", "additionalProperties", "enum", "const", "items", "minItems", "maxItems", "anyOf", "oneOf", "allOf",
            "$ref", "$defs", "definitions", "pattern", "format", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
            "$schema", "$id", "title", "description", "default", "examples", "$comment", "nullable",
        };

        private JsonSchemaGbnf(JsonNode root, bool utf16Lengths) => (_root, _utf16Lengths) = (root, utf16Lengths);

        /// <summary>The GBNF of a schema's JSON text (its root rule named root).</summary>
        public static string Convert(string schemaJson)
        {
            var doc = JsonReader.Parse(schemaJson, out var error);
            if (doc is null) throw new SchemaGrammarException($"the schema is not JSON: {error?.Message} (line {error?.Line}, column {error?.Column})");
            return Convert(doc);
        }

        /// <summary>
        /// The GBNF of a parsed schema (its root rule named root). <paramref name="utf16Lengths"/>: minLength and maxLength
        /// count UTF-16 code units, as .NET's string.Length and DataAnnotations do, instead of JSON Schema's code points: a
        /// bounded string then takes no raw character past U+FFFF (an escaped surrogate pair is two escapes, two units).
        /// </summary>
        public static string Convert(JsonNode schema, bool utf16Lengths = false)
        {
            var g = new JsonSchemaGbnf(schema, utf16Lengths);
            string root = g.Visit(schema, "$");
            g._rules.Insert(0, "root ::= " + root + "\n");
            g._rules.Append("space ::= | \" \" | \"\\n\" [ \\t]{0,20}\n");
            return g._rules.ToString();
        }

        private static SchemaGrammarException Unsupported(string path, string what) => new SchemaGrammarException($"{path}: {what}");

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
            foreach (char c in s) sb.Append(c < 0x80 && char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-');
            string r = sb.ToString().Trim('-');
            while (r.Contains("--")) r = r.Replace("--", "-");
            return r.Length == 0 ? "r" : r;
        }

        private static JsonNode? Get(JsonNode s, string key) => ((JsonObject)s).Get(key);

        /// <summary>The GBNF expression of a (sub)schema at JSON path <paramref name="path"/>.</summary>
        private string Visit(JsonNode s, string path)
        {
            if (s is JsonBool b) return b.Value ? Value() : throw Unsupported(path, "the schema false allows nothing");
            if (!(s is JsonObject o)) throw Unsupported(path, "a schema must be an object or a boolean");
            foreach (var p in o.Members)
                if (Array.IndexOf(Known, p.Key) < 0) throw Unsupported(path + "." + p.Key, $"keyword '{p.Key}' is not supported");

            if (o.Get("$ref") is JsonNode r) return Ref(r is JsonString rs ? rs.Value : "", path);
            if (o.Get("const") is JsonNode c) return Literal(c) + " space";
            if (o.Get("enum") is JsonNode e)
            {
                if (!(e is JsonArray ea) || ea.Items.Count == 0) throw Unsupported(path + ".enum", "enum must be a non-empty array");
                return "(" + string.Join(" | ", ea.Items.Select(Literal)) + ") space";
            }
            foreach (string k in new[] { "anyOf", "oneOf" })
            {
                if (o.Get(k) is JsonNode alts)
                {
                    if (!(alts is JsonArray aa) || aa.Items.Count == 0) throw Unsupported(path + "." + k, k + " must be a non-empty array");
                    return "(" + string.Join(" | ", aa.Items.Select((a, i) => Visit(a, $"{path}.{k}[{i}]"))) + ")";
                }
            }
            if (o.Get("allOf") is JsonNode all)
            {
                if (!(all is JsonArray al) || al.Items.Count != 1) throw Unsupported(path + ".allOf", "allOf is supported with exactly one schema");
                return Visit(al.Items[0], path + ".allOf[0]");
            }
            var type = o.Get("type");
            if (type is null)
            {
                if (o.Get("properties") != null) return Object(o, path);
                if (o.Get("items") != null) return ArrayOf(o, path);
                return Value();
            }
            if (type is JsonArray types)
                return "(" + string.Join(" | ", types.Items.Select(t => Typed(o, t is JsonString ts ? ts.Value : "", path))) + ")";
            string single = Typed(o, type is JsonString tn ? tn.Value : "", path);
            return o.Get("nullable") is JsonBool n && n.Value ? "(" + single + " | null)" : single;
        }

        private string Typed(JsonObject s, string type, string path)
        {
            switch (type)
            {
                case "object": return Object(s, path);
                case "array": return ArrayOf(s, path);
                case "string": return String(s, path);
                case "integer": return Integer(s, path);
                case "number": return Primitive("number");
                case "boolean": return Primitive("boolean");
                case "null": return Primitive("null");
                default: throw Unsupported(path + ".type", $"type '{type}' is not one of object, array, string, number, integer, boolean, null");
            }
        }

        private string Ref(string target, string path)
        {
            if (_refs.TryGetValue(target, out var name)) return name;
            string[] parts = target.Split('/');
            JsonNode? def = null;
            if (parts.Length == 3 && parts[0] == "#" && (parts[1] == "$defs" || parts[1] == "definitions") && _root is JsonObject ro && ro.Get(parts[1]) is JsonObject defs)
                def = defs.Get(parts[2]);
            if (def is null) throw Unsupported(path + ".$ref", $"'{target}' is not a #/$defs/NAME or #/definitions/NAME of this schema");
            name = Sanitize("ref-" + parts[2]);
            for (int i = 1; !_names.Add(name); i++) name = Sanitize("ref-" + parts[2]) + "-" + i.ToString(CultureInfo.InvariantCulture);
            _refs[target] = name; // before visiting: a recursive reference finds the name
            string body = Visit(def, $"$.{parts[1]}.{parts[2]}");
            _rules.Append(name).Append(" ::= ").Append(body).Append('\n');
            return name;
        }

        private string Object(JsonObject s, string path)
        {
            var props = new List<KeyValuePair<string, JsonNode>>();
            if (s.Get("properties") is JsonObject ps) props.AddRange(ps.Members);
            var required = new HashSet<string>(StringComparer.Ordinal);
            if (s.Get("required") is JsonArray req)
            {
                foreach (var r in req.Items)
                {
                    string name = r is JsonString rs ? rs.Value : "";
                    if (!props.Any(p => p.Key == name)) throw Unsupported(path + ".required", $"'{name}' is required but not among the properties");
                    required.Add(name);
                }
            }
            // As llama.cpp's converter: members beyond the declared ones only when additionalProperties says so (true or a
            // schema); an object schema with neither properties nor additionalProperties is any object.
            string? extra = null;
            var ap = s.Get("additionalProperties");
            if (ap is null && props.Count == 0)
            {
                Primitive("value"); // declares the generic object rule
                return "object";
            }
            if (ap is null) { } // declared members only
            else if (ap is JsonBool apb)
            {
                if (apb.Value)
                {
                    Primitive("value");
                    extra = Rule("kv", "string \":\" space value");
                }
            }
            else if (ap is JsonObject) extra = Rule(path + "-extra-kv", "string \":\" space " + Visit(ap, path + ".additionalProperties"));
            else throw Unsupported(path + ".additionalProperties", "additionalProperties must be a boolean or a schema");

            // Members in the schema's order. first_i: the members from i on when none is written yet; rest_i: when one is
            // (so each starts with a comma). Extra members (additionalProperties) come after the declared ones.
            string? restNext = extra is null ? null : Rule(path + "-rest-extra", "(\",\" space " + extra + ")*");
            string? firstNext = extra is null ? null : Rule(path + "-first-extra", "(" + extra + " " + restNext + ")?");
            for (int i = props.Count - 1; i >= 0; i--)
            {
                string name = props[i].Key;
                string kv = Rule($"{path}-{name}-kv", GbnfString(JsonText.Quote(name)) + " space \":\" space " + Visit(props[i].Value, path + ".properties." + name));
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

        private string ArrayOf(JsonObject s, string path)
        {
            string item = s.Get("items") is JsonNode items ? Visit(items, path + ".items") : Value();
            int min = Count(s, "minItems", path) ?? 0;
            int max = Count(s, "maxItems", path) ?? -1;
            if (max >= 0 && max < min) throw Unsupported(path + ".maxItems", $"minItems {min} and maxItems {max} leave nothing");
            string itemRule = Rule(path + "-item", item);
            string body;
            if (max == 0) body = "\"[\" space \"]\" space";
            else
            {
                string from = Math.Max(min - 1, 0).ToString(CultureInfo.InvariantCulture);
                string more = max < 0 ? $"(\",\" space {itemRule}){{{from},}}" : $"(\",\" space {itemRule}){{{from},{(max - 1).ToString(CultureInfo.InvariantCulture)}}}";
                string members = itemRule + " " + more;
                body = "\"[\" space " + (min == 0 ? "(" + members + ")?" : members) + " \"]\" space";
            }
            return Rule(path + "-array", body);
        }

        private string String(JsonObject s, string path)
        {
            if (s.Get("format") is JsonNode f)
            {
                string format = f is JsonString fs ? fs.Value : "";
                string body;
                switch (format)
                {
                    case "date": body = Date(); break;
                    case "time": body = Time(); break;
                    case "date-time": body = Date() + " \"T\" " + Time(); break;
                    case "uuid": body = "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}"; break;
                    default: throw Unsupported(path + ".format", $"format '{format}' is not one of date, time, date-time, uuid");
                }
                return Rule("string-" + format, "\"\\\"\" " + body + " \"\\\"\" space");
            }
            if (s.Get("pattern") is JsonNode p)
                return Rule(path + "-pattern", "\"\\\"\" " + RegexGbnf.Convert(p is JsonString pst ? pst.Value : "", path + ".pattern") + " \"\\\"\" space");
            int min = Count(s, "minLength", path) ?? 0;
            int max = Count(s, "maxLength", path) ?? -1;
            if (min == 0 && max < 0) return Primitive("string");
            if (max >= 0 && max < min) throw Unsupported(path + ".maxLength", $"minLength {min} exceeds maxLength {max}");
            string unit = Primitive(_utf16Lengths ? "utf16-char" : "char");
            return Rule(path + "-string", "\"\\\"\" " + unit + "{" + min.ToString(CultureInfo.InvariantCulture) + "," + (max < 0 ? "" : max.ToString(CultureInfo.InvariantCulture)) + "} \"\\\"\" space");
        }

        /// <summary>
        /// A calendar date every parser takes: years 0001–9999, each month's own days, February to the 28th (a grammar
        /// cannot tell leap years cheaply; the 29th is left out rather than allowed in years without one).
        /// </summary>
        private static string Date() =>
            "([1-9] [0-9]{3} | \"0\" [1-9] [0-9]{2} | \"00\" [1-9] [0-9] | \"000\" [1-9]) \"-\" " +
            "((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01]) | (\"0\" [469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | \"02-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]))";

        private static string Time() => "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{3})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";

        private string Integer(JsonObject s, string path)
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

        private static long? Bound(JsonObject s, string key, string path)
        {
            if (!(s.Get(key) is JsonNode v)) return null;
            if (!(v is JsonNumber n) || !double.TryParse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || d != Math.Floor(d) || Math.Abs(d) > 9e15)
                throw Unsupported(path + "." + key, $"{key} must be a whole number within ±9e15 for an integer");
            return (long)d;
        }

        private static int? Count(JsonObject s, string key, string path)
        {
            if (!(s.Get(key) is JsonNode v)) return null;
            if (!(v is JsonNumber n) || !int.TryParse(n.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int count))
                throw Unsupported(path + "." + key, $"{key} must be a whole number ≥ 0");
            return count;
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
                case "utf16-char": Add("utf16-char", "[^\"\\\\\\x7F\\x00-\\x1F\\U00010000-\\U0010FFFF] | [\\\\] ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})"); break;
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
        private static string Literal(JsonNode v) => GbnfString(JsonText.Minimal(v));

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

    /// <summary>Minimal JSON text of parsed values: no whitespace, strings escaped only where JSON requires it.</summary>
    public static class JsonText
    {
        public static string Minimal(JsonNode v)
        {
            var sb = new StringBuilder();
            Write(v, sb);
            return sb.ToString();
        }

        private static void Write(JsonNode v, StringBuilder sb)
        {
            switch (v)
            {
                case JsonString s: sb.Append(Quote(s.Value)); break;
                case JsonNumber n: sb.Append(n.Text); break;
                case JsonBool b: sb.Append(b.Value ? "true" : "false"); break;
                case JsonNull _: sb.Append("null"); break;
                case JsonArray a:
                    sb.Append('[');
                    for (int i = 0; i < a.Items.Count; i++) { if (i > 0) sb.Append(','); Write(a.Items[i], sb); }
                    sb.Append(']');
                    break;
                case JsonObject o:
                    sb.Append('{');
                    for (int i = 0; i < o.Members.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        sb.Append(Quote(o.Members[i].Key)).Append(':');
                        Write(o.Members[i].Value, sb);
                    }
                    sb.Append('}');
                    break;
            }
        }

        /// <summary>A JSON string literal: quote, backslash and control characters escaped (\b \f \n \r \t, else \u00xx). The spec writer's too.</summary>
        public static string Quote(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }
    }
}
