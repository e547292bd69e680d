using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ingot.Runtime.Chat;

/// <summary>A Jinja list (also used for tuples).</summary>
public sealed class JinjaList : List<object?>
{
    public JinjaList() { }
    public JinjaList(IEnumerable<object?> items) : base(items) { }
}

/// <summary>A Jinja dict: insertion-ordered (as Python dicts and nlohmann::ordered_json are), keys are primitives.</summary>
public sealed class JinjaDict : IEnumerable<KeyValuePair<object, object?>>
{
    private readonly OrderedDictionary<object, object?> _items = new();

    public int Count => _items.Count;
    public IEnumerable<object> Keys => _items.Keys;
    public IEnumerable<object?> Values => _items.Values;
    public bool ContainsKey(object key) => _items.ContainsKey(key);
    public bool TryGetValue(object key, out object? value) => _items.TryGetValue(key, out value);
    public bool Remove(object key) => _items.Remove(key);

    public object? this[object key]
    {
        get => _items.TryGetValue(key, out var v) ? v : null;
        set => _items[key] = value;
    }

    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Positional and keyword arguments of a call.</summary>
public sealed class JinjaArgs
{
    public List<object?> Positional { get; } = [];
    public List<KeyValuePair<string, object?>> Named { get; } = [];

    public object? Get(int position, string name, object? defaultValue = null)
    {
        foreach (var kv in Named)
            if (kv.Key == name) return kv.Value;
        return position >= 0 && position < Positional.Count ? Positional[position] : defaultValue;
    }

    public bool Has(int position, string name)
    {
        foreach (var kv in Named)
            if (kv.Key == name) return true;
        return position >= 0 && position < Positional.Count;
    }

    /// <summary>Rejects calls whose argument counts are outside the given ranges.</summary>
    public void Expect(string what, int minPositional, int maxPositional, params string[] allowedNames)
    {
        if (Positional.Count < minPositional || Positional.Count > maxPositional)
            throw new JinjaError($"{what} takes {(minPositional == maxPositional ? minPositional.ToString(CultureInfo.InvariantCulture) : $"{minPositional} to {maxPositional}")} positional argument(s), got {Positional.Count}");
        foreach (var kv in Named)
            if (Array.IndexOf(allowedNames, kv.Key) < 0) throw new JinjaError($"{what} got an unexpected keyword argument '{kv.Key}'");
    }
}

/// <summary>A callable value: a builtin function, a macro, <c>loop.cycle</c>, or a function passed in by the host.</summary>
public sealed class JinjaCallable(string name, Func<JinjaArgs, object?> invoke)
{
    public string Name { get; } = name;
    public object? Invoke(JinjaArgs args) => invoke(args);
    public override string ToString() => $"<function {Name}>";
}

/// <summary>
/// Value semantics. Values are plain objects: null (None and undefined are one value, as in minja), bool, long,
/// double, string, <see cref="JinjaList"/>, <see cref="JinjaDict"/>, <see cref="JinjaCallable"/>.
/// </summary>
public static class JinjaValue
{
    /// <summary>Converts a host value (strings, numbers, bools, dictionaries, enumerables, JsonElement) to a Jinja value.</summary>
    public static object? From(object? value) => value switch
    {
        null => null,
        string or bool or long or double or JinjaList or JinjaDict or JinjaCallable => value,
        int i => (long)i,
        uint u => (long)u,
        short s => (long)s,
        ushort us => (long)us,
        byte b => (long)b,
        sbyte sb => (long)sb,
        ulong ul => (long)ul,
        float f => (double)f,
        decimal m => (double)m,
        char c => c.ToString(),
        JsonElement e => FromJson(e),
        Func<JinjaArgs, object?> fn => new JinjaCallable("function", fn),
        IEnumerable<KeyValuePair<string, object?>> d => FromPairs(d),
        IDictionary d => FromDictionary(d),
        IEnumerable e => new JinjaList(e.Cast<object?>().Select(From)),
        _ => throw new ArgumentException($"cannot pass a {value.GetType().Name} to a template"),
    };

    private static JinjaDict FromPairs(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var d = new JinjaDict();
        foreach (var kv in pairs) d[kv.Key] = From(kv.Value);
        return d;
    }

    private static JinjaDict FromDictionary(IDictionary dict)
    {
        var d = new JinjaDict();
        foreach (DictionaryEntry kv in dict) d[From(kv.Key) ?? throw new ArgumentException("dictionary keys cannot be null")] = From(kv.Value);
        return d;
    }

    public static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var d = new JinjaDict();
                foreach (var p in e.EnumerateObject()) d[p.Name] = FromJson(p.Value);
                return d;
            case JsonValueKind.Array:
                var l = new JinjaList();
                foreach (var x in e.EnumerateArray()) l.Add(FromJson(x));
                return l;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number: return e.TryGetInt64(out long n) ? n : e.TryGetDouble(out double f) ? f : null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default: return null;
        }
    }

    public static string TypeName(object? v) => v switch
    {
        null => "none",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        JinjaList => "list",
        JinjaDict => "dict",
        JinjaCallable => "function",
        _ => v.GetType().Name,
    };

    /// <summary>Python truthiness.</summary>
    public static bool IsTrue(object? v) => v switch
    {
        null => false,
        bool b => b,
        long n => n != 0,
        double d => d != 0,
        string s => s.Length > 0,
        JinjaList l => l.Count > 0,
        JinjaDict d => d.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double;

    public static double ToDouble(object? v) => v switch
    {
        long n => n,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaError($"expected a number, got {TypeName(v)}"),
    };

    /// <summary>Python equality (1 == 1.0; lists and dicts compare by content).</summary>
    public static new bool Equals(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return a is long x && b is long y ? x == y : ToDouble(a) == ToDouble(b);
        switch (a)
        {
            case string s: return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case bool p: return b is bool q && p == q;
            case JinjaList l:
                if (b is not JinjaList m || l.Count != m.Count) return false;
                for (int i = 0; i < l.Count; i++)
                    if (!Equals(l[i], m[i])) return false;
                return true;
            case JinjaDict d:
                if (b is not JinjaDict e || d.Count != e.Count) return false;
                foreach (var kv in d)
                    if (!e.TryGetValue(kv.Key, out var other) || !Equals(kv.Value, other)) return false;
                return true;
            default: return ReferenceEquals(a, b);
        }
    }

    /// <summary>Python ordering for numbers and strings; anything else is an error.</summary>
    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return a is long x && b is long y ? x.CompareTo(y) : ToDouble(a).CompareTo(ToDouble(b));
        if (a is string s && b is string t) return string.CompareOrdinal(s, t);
        if (a is bool p && b is bool q) return p.CompareTo(q);
        if (a is JinjaList l && b is JinjaList m)
        {
            for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
            {
                int c = Compare(l[i], m[i]);
                if (c != 0) return c;
            }
            return l.Count.CompareTo(m.Count);
        }
        throw new JinjaError($"cannot compare {TypeName(a)} with {TypeName(b)}");
    }

    /// <summary>
    /// str(): what <c>~</c>, <c>+</c> with a string, and <c>|string</c> produce. None is "None" (minja: undefined and
    /// None are the same value); containers print as Python reprs.
    /// </summary>
    public static string ToStr(object? v) => v switch
    {
        null => "None",
        string s => s,
        bool b => b ? "True" : "False",
        long n => n.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        JinjaCallable c => c.ToString(),
        _ => Repr(v),
    };

    /// <summary>What <c>{{ v }}</c> prints: None/undefined print nothing.</summary>
    public static string ToOutput(object? v) => v is null ? "" : ToStr(v);

    /// <summary>Python repr(): strings quoted, containers recursive.</summary>
    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, v);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case string s: AppendPyString(sb, s); break;
            case JinjaList l:
                sb.Append('[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendRepr(sb, l[i]);
                }
                sb.Append(']');
                break;
            case JinjaDict d:
                sb.Append('{');
                bool first = true;
                foreach (var kv in d)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    AppendRepr(sb, kv.Key);
                    sb.Append(": ");
                    AppendRepr(sb, kv.Value);
                }
                sb.Append('}');
                break;
            default: sb.Append(ToStr(v)); break;
        }
    }

    private static void AppendPyString(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append(quote);
    }

    /// <summary>Python float repr: shortest round-trip digits, ".0" on integral values, exponent outside [1e-4, 1e16).</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // "R" gives the shortest round-trip digits (like Python's repr); take its digits and exponent, then lay them
        // out the way Python does.
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        string digits;
        int exp;
        int ePos = shortest.IndexOfAny(['E', 'e']);
        string mant = ePos >= 0 ? shortest[..ePos] : shortest;
        int expPart = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        int dot = mant.IndexOf('.');
        string intPart = dot >= 0 ? mant[..dot] : mant;
        string fracPart = dot >= 0 ? mant[(dot + 1)..] : "";
        string all = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - all.Length;
        digits = all.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        // decimal exponent of the first significant digit
        exp = intPart.Length - 1 - leadingZeros + expPart;
        var sb = new StringBuilder();
        if (d < 0) sb.Append('-');
        if (exp < -4 || exp >= 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(exp < 0 ? '-' : '+').Append(Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exp < 0)
        {
            sb.Append("0.").Append('0', -exp - 1).Append(digits);
        }
        else if (digits.Length <= exp + 1)
        {
            sb.Append(digits).Append('0', exp + 1 - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, exp + 1).Append('.').Append(digits, exp + 1, digits.Length - exp - 1);
        }
        return sb.ToString();
    }

    /// <summary>
    /// JSON as minja's tojson / Python's json.dumps(ensure_ascii=False) writes it: separators ", " and ": " without
    /// indent; with indent, one item per line and ": ". Non-ASCII is kept; control characters are \u00XX.
    /// </summary>
    public static string ToJson(object? v, int indent = -1)
    {
        var sb = new StringBuilder();
        AppendJson(sb, v, indent, 0);
        return sb.ToString();
    }

    private static void AppendJson(StringBuilder sb, object? v, int indent, int level)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long n: sb.Append(n.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : FormatFloat(d));
                break;
            case string s: AppendJsonString(sb, s); break;
            case JinjaList l:
                if (l.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(indent >= 0 ? "," : ", ");
                    NewLine(sb, indent, level + 1);
                    AppendJson(sb, l[i], indent, level + 1);
                }
                NewLine(sb, indent, level);
                sb.Append(']');
                break;
            case JinjaDict dict:
                if (dict.Count == 0) { sb.Append("{}"); break; }
                sb.Append('{');
                bool first = true;
                foreach (var kv in dict)
                {
                    if (!first) sb.Append(indent >= 0 ? "," : ", ");
                    first = false;
                    NewLine(sb, indent, level + 1);
                    AppendJsonString(sb, kv.Key as string ?? ToJson(kv.Key));
                    sb.Append(": ");
                    AppendJson(sb, kv.Value, indent, level + 1);
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                break;
            default: throw new JinjaError($"cannot convert a {TypeName(v)} to JSON");
        }
    }

    private static void NewLine(StringBuilder sb, int indent, int level)
    {
        if (indent < 0) return;
        sb.Append('\n').Append(' ', indent * level);
    }

    private static void AppendJsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Iterates like Python: list items, dict keys, string characters (code points); None iterates nothing.</summary>
    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        null => Array.Empty<object?>(),
        JinjaList l => (IEnumerable<object?>)l,
        JinjaDict d => d.Keys.Select(k => (object?)k),
        string s => Chars(s),
        _ => throw new JinjaError($"'{TypeName(v)}' object is not iterable"),
    };

    /// <summary>A string's code points as one-character strings.</summary>
    public static List<object?> Chars(string s)
    {
        var list = new List<object?>(s.Length);
        foreach (var r in s.EnumerateRunes()) list.Add(r.ToString());
        return list;
    }

    public static long Length(object? v) => v switch
    {
        string s => CodePointCount(s),
        JinjaList l => l.Count,
        JinjaDict d => d.Count,
        _ => throw new JinjaError($"object of type '{TypeName(v)}' has no len()"),
    };

    public static int CodePointCount(string s)
    {
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }
}
