using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Ingot.Specs.Grammars
{
    /// <summary>
    /// A JSON Schema pattern (an ECMA regex subset) as a GBNF expression over the string's characters: literals, escapes
    /// (\d \w \s and their negations, \. \\ \/ \- and friends, \uHHHH), classes [..] with ranges and ^, '.', groups
    /// (…) and (?:…), alternation |, quantifiers * + ? {m} {m,} {m,n}, and ^/$ at the ends (the pattern must match the
    /// whole string, as generation produces only what it matches). Characters that JSON must escape (" \ control) are
    /// refused: the grammar writes the raw string. Lookarounds, backreferences and anything else are refused with the path.
    /// </summary>
    internal sealed class RegexGbnf
    {
        private readonly string _p, _path;
        private int _i;

        private RegexGbnf(string pattern, string path) => (_p, _path) = (pattern, path);

        public static string Convert(string pattern, string path)
        {
            var r = new RegexGbnf(pattern.StartsWith("^", StringComparison.Ordinal) ? pattern.Substring(1) : pattern, path);
            if (r._p.EndsWith("$", StringComparison.Ordinal) && !r._p.EndsWith("\\$", StringComparison.Ordinal)) r = new RegexGbnf(r._p.Substring(0, r._p.Length - 1), path);
            string g = r.Alternation();
            if (r._i < r._p.Length) throw r.Error($"unexpected '{r._p[r._i]}'");
            return "(" + g + ")";
        }

        private SchemaGrammarException Error(string what) => new SchemaGrammarException($"{_path}: pattern at {_i}: {what}");

        private string Alternation()
        {
            var alts = new List<string> { Sequence() };
            while (_i < _p.Length && _p[_i] == '|') { _i++; alts.Add(Sequence()); }
            return alts.Count == 1 ? alts[0] : "(" + string.Join(" | ", alts) + ")";
        }

        private string Sequence()
        {
            var items = new List<string>();
            while (_i < _p.Length && _p[_i] != '|' && _p[_i] != ')')
            {
                string atom = Atom();
                items.Add(Quantified(atom));
            }
            return items.Count == 0 ? "\"\"" : string.Join(" ", items);
        }

        private string Quantified(string atom)
        {
            if (_i >= _p.Length) return atom;
            char c = _p[_i];
            string q;
            if (c is '*' or '+' or '?') { _i++; q = c.ToString(); }
            else if (c == '{' && _i + 1 < _p.Length && _p[_i + 1] >= '0' && _p[_i + 1] <= '9')
            {
                int close = _p.IndexOf('}', _i);
                if (close < 0) throw Error("unterminated {m,n}");
                q = _p.Substring(_i, close + 1 - _i);
                _i = close + 1;
            }
            else return atom;
            if (_i < _p.Length && _p[_i] is '?' or '+') throw Error("lazy and possessive quantifiers are not supported");
            return atom + q;
        }

        private string Atom()
        {
            char c = _p[_i];
            switch (c)
            {
                case '(':
                {
                    _i++;
                    if (_i < _p.Length && _p[_i] == '?')
                    {
                        if (_i + 1 < _p.Length && _p[_i + 1] == ':') _i += 2;
                        else throw Error("lookarounds and named groups are not supported");
                    }
                    string inner = Alternation();
                    if (_i >= _p.Length || _p[_i] != ')') throw Error("missing ')'");
                    _i++;
                    return "(" + inner + ")";
                }
                case '[': return Class();
                case '.': _i++; return "[^\"\\\\\\x00-\\x1F\\x7F]";
                case '\\': return Escape(inClass: false);
                case '^' or '$': throw Error("anchors are only supported at the ends");
                case '*' or '+' or '?' or '{' or ')': throw Error($"'{c}' has nothing to repeat");
                default:
                    _i++;
                    return Literal(c);
            }
        }

        private string Escape(bool inClass)
        {
            if (_i + 1 >= _p.Length) throw Error("a backslash at the end");
            char e = _p[_i + 1];
            _i += 2;
            switch (e)
            {
                case 'd': return inClass ? "0-9" : "[0-9]";
                case 'w': return inClass ? "a-zA-Z0-9_" : "[a-zA-Z0-9_]";
                case 's': return inClass ? " \\t\\n\\r" : "[ \\t]";
                case 'D': case 'W': case 'S':
                    if (inClass) throw Error($"\\{e} inside a class is not supported");
                    return e == 'D' ? "[^0-9\"\\\\\\x00-\\x1F]" : e == 'W' ? "[^a-zA-Z0-9_\"\\\\\\x00-\\x1F]" : "[^ \\t\\n\\r\"\\\\\\x00-\\x1F]";
                case 'u':
                    if (_i + 4 > _p.Length || !int.TryParse(_p.Substring(_i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp)) throw Error("\\u needs 4 hex digits");
                    _i += 4;
                    return inClass ? ClassChar((char)cp) : Literal((char)cp);
                case 'b' or 'B' or '1' or '2' or '3' or '4' or '5' or '6' or '7' or '8' or '9' or 'k':
                    throw Error($"\\{e} (word boundaries and backreferences) is not supported");
                default:
                    if (e < 0x80 && char.IsLetterOrDigit(e) && e is not ('t' or 'n' or 'r')) throw Error($"escape \\{e} is not supported");
                    char lit = e switch { 't' => '\t', 'n' => '\n', 'r' => '\r', _ => e };
                    return inClass ? ClassChar(lit) : Literal(lit);
            }
        }

        private string Class()
        {
            int open = _i++;
            var sb = new StringBuilder("[");
            if (_i < _p.Length && _p[_i] == '^') { sb.Append('^'); _i++; }
            bool negated = sb.Length == 2;
            while (true)
            {
                if (_i >= _p.Length) { _i = open; throw Error("unterminated class"); }
                char c = _p[_i];
                if (c == ']') { _i++; break; }
                if (c == '\\') sb.Append(Escape(inClass: true));
                else if (c == '-' ) { sb.Append("\\-"); _i++; }
                else { sb.Append(ClassChar(c)); _i++; }
                // a range a-b
                if (_i + 1 < _p.Length && _p[_i] == '-' && _p[_i + 1] != ']')
                {
                    _i++;
                    sb.Append('-');
                    char hi = _p[_i] == '\\' ? '\0' : _p[_i];
                    if (hi == '\0') sb.Append(Escape(inClass: true)); else { sb.Append(ClassChar(hi)); _i++; }
                }
            }
            // A negated class must not let the raw string take characters JSON escapes.
            if (negated) sb.Append("\"\\\\\\x00-\\x1F");
            return sb.Append(']').ToString();
        }

        private string ClassChar(char c)
        {
            if (c is '"' or '\\' || c < 0x20) throw Error($"the character U+{(int)c:X4} needs JSON escaping, which patterns here do not produce");
            return c is ']' or '[' or '^' or '-' ? "\\" + c : c.ToString();
        }

        private string Literal(char c)
        {
            if (c is '"' or '\\' || c < 0x20) throw Error($"the character U+{(int)c:X4} needs JSON escaping, which patterns here do not produce");
            return "\"" + c + "\"";
        }
    }

    /// <summary>Decimal integers in a range as GBNF, without leading zeros: digit by digit, split where the bounds' digits differ.</summary>
    internal static class IntegerRange
    {
        /// <summary>The decimal forms of the integers in [<paramref name="lo"/>, <paramref name="hi"/>], lo ≥ 0.</summary>
        public static string NonNegative(long lo, long hi)
        {
            var parts = new List<string>();
            string a = lo.ToString(CultureInfo.InvariantCulture), b = hi.ToString(CultureInfo.InvariantCulture);
            for (int len = a.Length; len <= b.Length; len++)
            {
                string from = len == a.Length ? a : "1" + new string('0', len - 1);
                string to = len == b.Length ? b : new string('9', len);
                if (len == 1 && lo == 0 && from == "0") from = "0";
                parts.Add(SameLength(from, to));
            }
            return string.Join(" | ", parts);
        }

        /// <summary>Strings of one length between a and b (a ≤ b digit-wise as numbers).</summary>
        private static string SameLength(string a, string b)
        {
            if (a.Length == 0) return "\"\"";
            if (a == b) return "\"" + a + "\"";
            if (a[0] == b[0]) return "\"" + a[0] + "\" (" + SameLength(a.Substring(1), b.Substring(1)) + ")";
            int n = a.Length - 1;
            string any = n == 0 ? "" : " [0-9]{" + n.ToString(CultureInfo.InvariantCulture) + "}";
            var alts = new List<string>();
            bool lowFull = a.Substring(1).All(c => c == '0'), highFull = b.Substring(1).All(c => c == '9');
            char firstFull = lowFull ? a[0] : (char)(a[0] + 1), lastFull = highFull ? b[0] : (char)(b[0] - 1);
            if (!lowFull) alts.Add("\"" + a[0] + "\" (" + SameLength(a.Substring(1), new string('9', n)) + ")");
            if (firstFull <= lastFull) alts.Add((firstFull == lastFull ? "\"" + firstFull + "\"" : "[" + firstFull + "-" + lastFull + "]") + any);
            if (!highFull) alts.Add("\"" + b[0] + "\" (" + SameLength(new string('0', n), b.Substring(1)) + ")");
            return string.Join(" | ", alts);
        }
    }
}
