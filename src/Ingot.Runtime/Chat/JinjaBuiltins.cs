using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ingot.Runtime.Chat;

internal delegate object? JinjaFilter(object? value, JinjaArgs args, RenderState state);

internal delegate bool JinjaTest(object? value, JinjaArgs args);

/// <summary>The filters (<c>x | name</c>) the interpreter knows. Unknown names are rejected when parsing.</summary>
internal static class JinjaFilters
{
    // minja's trim/strip set (" \t\n\r"), which is also what every chat template means by it.
    internal static readonly char[] Whitespace = [' ', '\t', '\n', '\r'];

    public static readonly Dictionary<string, JinjaFilter> All = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, a, _) => v switch { long n => (object)Math.Abs(n), double d => Math.Abs(d), _ => throw Bad("abs", v) },
        ["attr"] = (v, a, _) => v is JinjaDict d ? d[Str(a.Get(0, "name"), "attr")] : null,
        ["capitalize"] = (v, a, _) => Capitalize(Str(v, "capitalize")),
        ["count"] = (v, a, _) => JinjaValue.Length(v),
        ["default"] = Default,
        ["d"] = Default,
        ["dictsort"] = (v, a, _) =>
        {
            if (v is not JinjaDict d) throw Bad("dictsort", v);
            var pairs = d.Select(kv => (object?)new JinjaList { kv.Key, kv.Value }).ToList();
            bool byValue = Str(a.Get(1, "by", "key"), "dictsort") == "value";
            pairs.Sort((x, y) => JinjaValue.Compare(((JinjaList)x!)[byValue ? 1 : 0], ((JinjaList)y!)[byValue ? 1 : 0]));
            return new JinjaList(pairs);
        },
        ["escape"] = (v, a, _) => HtmlEscape(JinjaValue.ToStr(v)),
        ["e"] = (v, a, _) => HtmlEscape(JinjaValue.ToStr(v)),
        ["first"] = (v, a, _) => JinjaValue.Iterate(v).FirstOrDefault(),
        ["float"] = (v, a, _) => v switch
        {
            double d => d,
            long n => (double)n,
            bool b => b ? 1.0 : 0.0,
            string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            _ => JinjaValue.ToDouble(a.Get(0, "default", 0.0)),
        },
        ["indent"] = Indent,
        ["int"] = (v, a, _) => v switch
        {
            long n => n,
            double d => (long)Math.Truncate(d),
            bool b => b ? 1L : 0L,
            string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) => n,
            string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => (long)Math.Truncate(d),
            _ => a.Get(0, "default", 0L),
        },
        ["items"] = (v, a, _) => v switch
        {
            null => new JinjaList(),
            JinjaDict d => Items(d),
            // minja parses a JSON string given to |items
            string s => Items(ParseJsonObject(s) ?? throw Bad("items", v)),
            _ => throw Bad("items", v),
        },
        ["join"] = (v, a, _) =>
        {
            string sep = Str(a.Get(0, "d", ""), "join");
            var attribute = a.Get(1, "attribute");
            var parts = JinjaValue.Iterate(v).Select(x => JinjaValue.ToStr(attribute is null ? x : (x as JinjaDict)?[attribute]));
            return string.Join(sep, parts);
        },
        ["last"] = (v, a, _) => v switch
        {
            JinjaList l => l.Count > 0 ? l[^1] : null,
            string s => JinjaValue.Chars(s) is { Count: > 0 } c ? c[^1] : null,
            _ => JinjaValue.Iterate(v).LastOrDefault(),
        },
        ["length"] = (v, a, _) => JinjaValue.Length(v),
        ["list"] = (v, a, _) => new JinjaList(JinjaValue.Iterate(v)),
        ["lower"] = (v, a, _) => v is null ? null : Str(v, "lower").ToLowerInvariant(),
        ["map"] = Map,
        ["max"] = (v, a, _) => JinjaValue.Iterate(v).Aggregate((object?)null, (m, x) => m is null || JinjaValue.Compare(x, m) > 0 ? x : m),
        ["min"] = (v, a, _) => JinjaValue.Iterate(v).Aggregate((object?)null, (m, x) => m is null || JinjaValue.Compare(x, m) < 0 ? x : m),
        ["reject"] = (v, a, s) => Select(v, a, false),
        ["rejectattr"] = (v, a, s) => SelectAttr(v, a, false),
        ["replace"] = (v, a, _) => Replace(Str(v, "replace"), Str(a.Get(0, "old"), "replace"), Str(a.Get(1, "new"), "replace"), a.Get(2, "count")),
        ["reverse"] = (v, a, _) => v is string s ? string.Concat(JinjaValue.Chars(s).AsEnumerable().Reverse()) : new JinjaList(JinjaValue.Iterate(v).Reverse()),
        ["round"] = (v, a, _) =>
        {
            double x = JinjaValue.ToDouble(v);
            int precision = (int)(a.Get(0, "precision", 0L) as long? ?? 0);
            string method = Str(a.Get(1, "method", "common"), "round");
            double p = Math.Pow(10, precision);
            return method switch
            {
                "ceil" => Math.Ceiling(x * p) / p,
                "floor" => Math.Floor(x * p) / p,
                _ => Math.Round(x * p, MidpointRounding.AwayFromZero) / p,
            };
        },
        ["safe"] = (v, a, _) => JinjaValue.ToStr(v),
        ["select"] = (v, a, s) => Select(v, a, true),
        ["selectattr"] = (v, a, s) => SelectAttr(v, a, true),
        ["sort"] = (v, a, _) =>
        {
            var l = new JinjaList(JinjaValue.Iterate(v));
            var attribute = a.Get(2, "attribute");
            bool reverse = JinjaValue.IsTrue(a.Get(0, "reverse", false));
            Comparison<object?> cmp = attribute is null
                ? JinjaValue.Compare
                : (x, y) => JinjaValue.Compare((x as JinjaDict)?[attribute], (y as JinjaDict)?[attribute]);
            var sorted = l.OrderBy(x => x, Comparer<object?>.Create(cmp)).ToList(); // stable, like Python's sorted
            if (reverse) sorted.Reverse();
            return new JinjaList(sorted);
        },
        ["string"] = (v, a, _) => JinjaValue.ToStr(v),
        ["sum"] = (v, a, _) => JinjaValue.Iterate(v).Aggregate(a.Get(1, "start", 0L), (acc, x) => JinjaOps.Binary("+", acc, x)),
        ["title"] = (v, a, _) => Title(Str(v, "title")),
        ["tojson"] = (v, a, _) =>
        {
            var indent = a.Get(0, "indent");
            return JinjaValue.ToJson(v, indent is long n ? (int)n : -1);
        },
        ["trim"] = (v, a, _) => v is null ? null : Strip(Str(v, "trim"), a.Get(0, "chars") as string, true, true),
        ["unique"] = (v, a, _) =>
        {
            var result = new JinjaList();
            foreach (var x in JinjaValue.Iterate(v))
                if (!result.Any(y => JinjaValue.Equals(x, y))) result.Add(x);
            return result;
        },
        ["upper"] = (v, a, _) => v is null ? null : Str(v, "upper").ToUpperInvariant(),
        ["wordcount"] = (v, a, _) => (long)Str(v, "wordcount").Split(Whitespace, StringSplitOptions.RemoveEmptyEntries).Length,
    };

    /// <summary>A JSON object given as a string (minja's |items); null when it is not one (a template's text is untrusted: never a JsonException).</summary>
    private static JinjaDict? ParseJsonObject(string s)
    {
        try
        {
            using var doc = JsonDocument.Parse(s);
            return JinjaValue.FromJson(doc.RootElement) as JinjaDict;
        }
        catch (JsonException) { return null; }
        catch (ArgumentException) { return null; } // a string with a lone surrogate has no UTF-8 form
    }

    private static JinjaError Bad(string filter, object? v) => new($"cannot apply to a {JinjaValue.TypeName(v)}");

    private static string Str(object? v, string what) => v as string ?? throw new JinjaError($"{what} expects a string, got {JinjaValue.TypeName(v)}");

    internal static JinjaList Items(JinjaDict d)
    {
        var l = new JinjaList();
        foreach (var kv in d) l.Add(new JinjaList { kv.Key, kv.Value });
        return l;
    }

    /// <summary>default(value, default_value='', boolean=false). None counts as undefined (minja has one null).</summary>
    private static object? Default(object? v, JinjaArgs a, RenderState s)
    {
        var fallback = a.Get(0, "default_value", "");
        bool boolean = JinjaValue.IsTrue(a.Get(1, "boolean", false));
        return boolean ? (JinjaValue.IsTrue(v) ? v : fallback) : v ?? fallback;
    }

    /// <summary>indent(width=4, first=False, blank=False) as Jinja 3: lines after the first are indented; blank lines only if blank.</summary>
    private static object? Indent(object? v, JinjaArgs a, RenderState s)
    {
        string text = Str(v, "indent");
        var w = a.Get(0, "width", 4L);
        string pad = w is string ws ? ws : new string(' ', (int)(w as long? ?? 4));
        bool first = JinjaValue.IsTrue(a.Get(1, "first", false));
        bool blank = JinjaValue.IsTrue(a.Get(2, "blank", false));
        var lines = text.Split('\n');
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0) sb.Append('\n');
            bool isLastEmpty = i == lines.Length - 1 && lines[i].Length == 0 && i > 0;
            bool indentThis = (i > 0 || first) && !isLastEmpty && (blank || lines[i].Length > 0);
            if (indentThis) sb.Append(pad);
            sb.Append(lines[i]);
        }
        return sb.ToString();
    }

    private static object? Map(object? v, JinjaArgs a, RenderState s)
    {
        var result = new JinjaList();
        var attribute = a.Get(-1, "attribute");
        if (attribute is not null)
        {
            var fallback = a.Get(-1, "default");
            foreach (var x in JinjaValue.Iterate(v)) result.Add((x as JinjaDict)?[attribute] ?? fallback);
            return result;
        }
        if (a.Positional.Count == 0 || a.Positional[0] is not string name) throw new JinjaError("map needs a filter name or attribute=");
        if (!All.TryGetValue(name, out var filter)) throw new JinjaError($"map: unknown filter '{name}'");
        var rest = new JinjaArgs();
        rest.Positional.AddRange(a.Positional.Skip(1));
        foreach (var kv in a.Named) rest.Named.Add(kv);
        foreach (var x in JinjaValue.Iterate(v)) result.Add(filter(x, rest, s));
        return result;
    }

    private static object? Select(object? v, JinjaArgs a, bool keep)
    {
        var result = new JinjaList();
        JinjaTest test;
        var rest = new JinjaArgs();
        if (a.Positional.Count == 0) test = (x, _) => JinjaValue.IsTrue(x);
        else
        {
            string name = Str(a.Positional[0], "select");
            if (!JinjaTests.All.TryGetValue(name, out test!)) throw new JinjaError($"unknown test '{name}'");
            rest.Positional.AddRange(a.Positional.Skip(1));
        }
        foreach (var x in JinjaValue.Iterate(v))
            if (test(x, rest) == keep) result.Add(x);
        return result;
    }

    private static object? SelectAttr(object? v, JinjaArgs a, bool keep)
    {
        if (a.Positional.Count == 0) throw new JinjaError("selectattr needs an attribute name");
        var attribute = a.Positional[0]!;
        JinjaTest test;
        var rest = new JinjaArgs();
        if (a.Positional.Count == 1) test = (x, _) => JinjaValue.IsTrue(x);
        else
        {
            string name = Str(a.Positional[1], "selectattr");
            if (!JinjaTests.All.TryGetValue(name, out test!)) throw new JinjaError($"unknown test '{name}'");
            rest.Positional.AddRange(a.Positional.Skip(2));
        }
        var result = new JinjaList();
        foreach (var x in JinjaValue.Iterate(v))
            if (test((x as JinjaDict)?[attribute], rest) == keep) result.Add(x);
        return result;
    }

    internal static string Replace(string s, string old, string replacement, object? count)
    {
        long max = count is long c && c >= 0 ? c : long.MaxValue;
        if (old.Length == 0)
        {
            // Python inserts the replacement between characters (and at both ends)
            var chars = JinjaValue.Chars(s);
            var sb0 = new StringBuilder();
            long done = 0;
            foreach (var ch in chars)
            {
                if (done < max) { sb0.Append(replacement); done++; }
                sb0.Append((string)ch!);
            }
            if (done < max) sb0.Append(replacement);
            return sb0.ToString();
        }
        var sb = new StringBuilder();
        int pos = 0;
        long n = 0;
        while (n < max)
        {
            int i = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (i < 0) break;
            sb.Append(s, pos, i - pos).Append(replacement);
            pos = i + old.Length;
            n++;
        }
        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    internal static string Strip(string s, string? chars, bool left, bool right)
    {
        char[] set = chars is null ? Whitespace : chars.ToCharArray();
        if (left) s = s.TrimStart(set);
        if (right) s = s.TrimEnd(set);
        return s;
    }

    internal static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Python str.title: a letter after a non-letter starts a word.</summary>
    internal static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevLetter = false;
        foreach (char c in s)
        {
            sb.Append(prevLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevLetter = char.IsLetter(c);
        }
        return sb.ToString();
    }

    private static string HtmlEscape(string s) =>
        s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
         .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&#34;", StringComparison.Ordinal)
         .Replace("'", "&#39;", StringComparison.Ordinal);
}

/// <summary>The tests (<c>x is name</c>) the interpreter knows.</summary>
internal static class JinjaTests
{
    private static object? Arg(JinjaArgs a) => a.Positional.Count > 0 ? a.Positional[0] : throw new JinjaError("needs an argument");

    public static readonly Dictionary<string, JinjaTest> All = new(StringComparer.Ordinal)
    {
        ["boolean"] = (v, _) => v is bool,
        ["callable"] = (v, _) => v is JinjaCallable,
        ["defined"] = (v, _) => v is not null,   // minja: none and undefined are one value
        ["undefined"] = (v, _) => v is null,
        ["none"] = (v, _) => v is null,
        ["divisibleby"] = (v, a) => Arg(a) is long d && d != 0 && v is long n && n % d == 0,
        ["eq"] = (v, a) => JinjaValue.Equals(v, Arg(a)),
        ["equalto"] = (v, a) => JinjaValue.Equals(v, Arg(a)),
        ["=="] = (v, a) => JinjaValue.Equals(v, Arg(a)),
        ["ne"] = (v, a) => !JinjaValue.Equals(v, Arg(a)),
        ["!="] = (v, a) => !JinjaValue.Equals(v, Arg(a)),
        ["lt"] = (v, a) => JinjaValue.Compare(v, Arg(a)) < 0,
        ["<"] = (v, a) => JinjaValue.Compare(v, Arg(a)) < 0,
        ["le"] = (v, a) => JinjaValue.Compare(v, Arg(a)) <= 0,
        ["<="] = (v, a) => JinjaValue.Compare(v, Arg(a)) <= 0,
        ["gt"] = (v, a) => JinjaValue.Compare(v, Arg(a)) > 0,
        [">"] = (v, a) => JinjaValue.Compare(v, Arg(a)) > 0,
        ["ge"] = (v, a) => JinjaValue.Compare(v, Arg(a)) >= 0,
        [">="] = (v, a) => JinjaValue.Compare(v, Arg(a)) >= 0,
        ["in"] = (v, a) => JinjaOps.In(v, Arg(a)),
        ["even"] = (v, _) => v is long n && n % 2 == 0,
        ["odd"] = (v, _) => v is long n && n % 2 != 0,
        ["false"] = (v, _) => v is false,
        ["true"] = (v, _) => v is true,
        ["float"] = (v, _) => v is double,
        ["integer"] = (v, _) => v is long,
        ["number"] = (v, _) => v is long or double,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is JinjaDict,
        ["iterable"] = (v, _) => v is JinjaList or JinjaDict or string,
        ["sequence"] = (v, _) => v is JinjaList or JinjaDict or string,
        ["lower"] = (v, _) => v is string s && s == s.ToLowerInvariant(),
        ["upper"] = (v, _) => v is string s && s == s.ToUpperInvariant(),
        ["sameas"] = (v, a) => ReferenceEquals(v, Arg(a)) || (v is null && Arg(a) is null) || (v is bool && JinjaValue.Equals(v, Arg(a))),
    };
}

/// <summary>Python methods on strings, lists and dicts (<c>s.strip()</c>, <c>d.items()</c>, <c>l.append(x)</c>, …).</summary>
internal static class JinjaMethods
{
    public static object? Call(object obj, string name, JinjaArgs a)
    {
        switch (obj)
        {
            case string s: return StringMethod(s, name, a);
            case JinjaList l: return ListMethod(l, name, a);
            case JinjaDict d: return DictMethod(d, name, a);
        }
        throw new JinjaError($"'{JinjaValue.TypeName(obj)}' object has no method '{name}'");
    }

    private static string S(object? v, string what) => v as string ?? throw new JinjaError($"{what} expects a string argument, got {JinjaValue.TypeName(v)}");

    private static object? StringMethod(string s, string name, JinjaArgs a)
    {
        switch (name)
        {
            case "strip": a.Expect(name, 0, 1); return JinjaFilters.Strip(s, a.Get(0, "chars") as string, true, true);
            case "lstrip": a.Expect(name, 0, 1); return JinjaFilters.Strip(s, a.Get(0, "chars") as string, true, false);
            case "rstrip": a.Expect(name, 0, 1); return JinjaFilters.Strip(s, a.Get(0, "chars") as string, false, true);
            case "upper": a.Expect(name, 0, 0); return s.ToUpperInvariant();
            case "lower": a.Expect(name, 0, 0); return s.ToLowerInvariant();
            case "title": a.Expect(name, 0, 0); return JinjaFilters.Title(s);
            case "capitalize": a.Expect(name, 0, 0); return JinjaFilters.Capitalize(s);
            case "startswith":
            case "endswith":
            {
                a.Expect(name, 1, 1);
                var arg = a.Positional[0];
                IEnumerable<object?> options = arg is JinjaList l ? l : [arg];
                foreach (var o in options)
                {
                    string p = S(o, name);
                    if (name == "startswith" ? s.StartsWith(p, StringComparison.Ordinal) : s.EndsWith(p, StringComparison.Ordinal)) return true;
                }
                return false;
            }
            case "replace":
                a.Expect(name, 2, 3);
                return JinjaFilters.Replace(s, S(a.Positional[0], name), S(a.Positional[1], name), a.Get(2, "count"));
            case "split":
            case "rsplit":
            {
                a.Expect(name, 0, 2, "sep", "maxsplit");
                var sep = a.Get(0, "sep");
                long max = a.Get(1, "maxsplit", -1L) as long? ?? -1;
                return new JinjaList(Split(s, sep as string, max, name == "rsplit").Select(x => (object?)x));
            }
            case "splitlines": return new JinjaList(s.Split('\n').Select(x => (object?)x.TrimEnd('\r')));
            case "find": a.Expect(name, 1, 1); return (long)s.IndexOf(S(a.Positional[0], name), StringComparison.Ordinal);
            case "count": a.Expect(name, 1, 1);
            {
                string sub = S(a.Positional[0], name);
                if (sub.Length == 0) return (long)JinjaValue.CodePointCount(s) + 1;
                long n = 0;
                for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
                return n;
            }
            case "join": a.Expect(name, 1, 1); return string.Join(s, JinjaValue.Iterate(a.Positional[0]).Select(x => S(x, name)));
            case "isdigit": return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "isspace": return s.Length > 0 && s.All(char.IsWhiteSpace);
            case "islower": return s.Any(char.IsLetter) && s == s.ToLowerInvariant();
            case "isupper": return s.Any(char.IsLetter) && s == s.ToUpperInvariant();
        }
        throw new JinjaError($"'str' object has no method '{name}'");
    }

    /// <summary>Python str.split: no separator splits on whitespace runs and drops empties.</summary>
    private static List<string> Split(string s, string? sep, long max, bool fromRight)
    {
        if (sep is { Length: 0 }) throw new JinjaError("empty separator");
        var parts = new List<string>();
        if (sep is null)
        {
            var words = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (max < 0 || words.Length <= max + 1) return [.. words];
            if (!fromRight)
            {
                // first max words, then the (left-trimmed) remainder
                int pos = 0;
                for (int k = 0; k < max; k++)
                {
                    while (char.IsWhiteSpace(s[pos])) pos++;
                    int start = pos;
                    while (!char.IsWhiteSpace(s[pos])) pos++;
                    parts.Add(s[start..pos]);
                }
                parts.Add(s[pos..].TrimStart());
                return parts;
            }
            int end = s.Length;
            var tail = new List<string>();
            for (int k = 0; k < max; k++)
            {
                while (char.IsWhiteSpace(s[end - 1])) end--;
                int stop = end;
                while (!char.IsWhiteSpace(s[end - 1])) end--;
                tail.Insert(0, s[end..stop]);
            }
            parts.Add(s[..end].TrimEnd());
            parts.AddRange(tail);
            return parts;
        }
        var all = s.Split(sep);
        if (max < 0 || all.Length <= max + 1) return [.. all];
        if (!fromRight)
        {
            parts.AddRange(all.Take((int)max));
            parts.Add(string.Join(sep, all.Skip((int)max)));
        }
        else
        {
            parts.Add(string.Join(sep, all.Take(all.Length - (int)max)));
            parts.AddRange(all.Skip(all.Length - (int)max));
        }
        return parts;
    }

    private static object? ListMethod(JinjaList l, string name, JinjaArgs a)
    {
        switch (name)
        {
            case "append": a.Expect(name, 1, 1); l.Add(a.Positional[0]); return null;
            case "extend": a.Expect(name, 1, 1); l.AddRange(JinjaValue.Iterate(a.Positional[0]).ToList()); return null;
            case "insert":
            {
                a.Expect(name, 2, 2);
                long i = a.Positional[0] as long? ?? throw new JinjaError("insert index must be an integer");
                if (i < 0) i = Math.Max(0, i + l.Count);
                l.Insert((int)Math.Min(i, l.Count), a.Positional[1]);
                return null;
            }
            case "pop":
            {
                a.Expect(name, 0, 1);
                if (l.Count == 0) throw new JinjaError("pop from empty list");
                long i = a.Positional.Count == 0 ? l.Count - 1 : a.Positional[0] as long? ?? throw new JinjaError("pop index must be an integer");
                if (i < 0) i += l.Count;
                if (i < 0 || i >= l.Count) throw new JinjaError("pop index out of range");
                var v = l[(int)i];
                l.RemoveAt((int)i);
                return v;
            }
            case "index":
            {
                a.Expect(name, 1, 1);
                int i = l.FindIndex(x => JinjaValue.Equals(x, a.Positional[0]));
                return i >= 0 ? (long)i : throw new JinjaError("value is not in list");
            }
            case "count": a.Expect(name, 1, 1); return (long)l.Count(x => JinjaValue.Equals(x, a.Positional[0]));
        }
        throw new JinjaError($"'list' object has no method '{name}'");
    }

    private static object? DictMethod(JinjaDict d, string name, JinjaArgs a)
    {
        switch (name)
        {
            case "items": a.Expect(name, 0, 0); return JinjaFilters.Items(d);
            case "keys": a.Expect(name, 0, 0); return new JinjaList(d.Keys);
            case "values": a.Expect(name, 0, 0); return new JinjaList(d.Values);
            case "get":
                a.Expect(name, 1, 2);
                return a.Positional[0] is { } k && d.TryGetValue(k, out var v) ? v : a.Positional.Count > 1 ? a.Positional[1] : null;
            case "pop":
            {
                a.Expect(name, 1, 2);
                var key = a.Positional[0];
                if (key is not null && d.TryGetValue(key, out var pv)) { d.Remove(key); return pv; }
                return a.Positional.Count > 1 ? a.Positional[1] : throw new JinjaError($"key {JinjaValue.Repr(key)} not found");
            }
            case "update":
                a.Expect(name, 0, 1, a.Named.Select(n => n.Key).ToArray());
                if (a.Positional.Count == 1)
                {
                    if (a.Positional[0] is not JinjaDict other) throw new JinjaError("update expects a dict");
                    foreach (var kv in other) d[kv.Key] = kv.Value;
                }
                foreach (var kv in a.Named) d[kv.Key] = kv.Value;
                return null;
            case "setdefault":
            {
                a.Expect(name, 1, 2);
                var key = a.Positional[0] ?? throw new JinjaError("dict keys cannot be none");
                if (!d.TryGetValue(key, out var existing)) d[key] = existing = a.Positional.Count > 1 ? a.Positional[1] : null;
                return existing;
            }
        }
        throw new JinjaError($"'dict' object has no method '{name}'");
    }
}

/// <summary>Global functions every template sees.</summary>
internal static class JinjaGlobals
{
    public static void AddTo(Scope scope)
    {
        scope.Set("raise_exception", new JinjaCallable("raise_exception", a =>
            throw new ChatTemplateException(JinjaValue.ToStr(a.Get(0, "message", "")), raisedByTemplate: true)));
        scope.Set("namespace", new JinjaCallable("namespace", a =>
        {
            var ns = new JinjaDict();
            if (a.Positional.Count == 1 && a.Positional[0] is JinjaDict init)
                foreach (var kv in init) ns[kv.Key] = kv.Value;
            else if (a.Positional.Count > 0) throw new JinjaError("namespace() takes keyword arguments");
            foreach (var kv in a.Named) ns[kv.Key] = kv.Value;
            return ns;
        }));
        scope.Set("dict", new JinjaCallable("dict", a =>
        {
            var d = new JinjaDict();
            if (a.Positional.Count == 1 && a.Positional[0] is JinjaDict init)
                foreach (var kv in init) d[kv.Key] = kv.Value;
            foreach (var kv in a.Named) d[kv.Key] = kv.Value;
            return d;
        }));
        scope.Set("range", new JinjaCallable("range", a =>
        {
            long Int(object? v) => v as long? ?? throw new JinjaError("range() arguments must be integers");
            long start = 0, stop, step = 1;
            switch (a.Positional.Count)
            {
                case 1: stop = Int(a.Positional[0]); break;
                case 2: start = Int(a.Positional[0]); stop = Int(a.Positional[1]); break;
                case 3: start = Int(a.Positional[0]); stop = Int(a.Positional[1]); step = Int(a.Positional[2]); break;
                default: throw new JinjaError("range() takes 1 to 3 arguments");
            }
            if (step == 0) throw new JinjaError("range() step must not be zero");
            var l = new JinjaList();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                l.Add(i);
                if (l.Count > 1_000_000) throw new JinjaError("range() too large");
            }
            return l;
        }));
        scope.Set("joiner", new JinjaCallable("joiner", a =>
        {
            string sep = a.Get(0, "sep", ", ") as string ?? ", ";
            bool first = true;
            return new JinjaCallable("joiner", _ =>
            {
                if (first) { first = false; return ""; }
                return sep;
            });
        }));
    }
}
