using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Ingot.Specs
{
    /// <summary>A JSON value with the 1-based line/column where it starts (for diagnostics).</summary>
    public abstract class JsonNode
    {
        public int Offset { get; internal set; }
        public int Line { get; internal set; }
        public int Column { get; internal set; }
        public abstract string Kind { get; }
    }

    public sealed class JsonObject : JsonNode
    {
        public List<KeyValuePair<string, JsonNode>> Members { get; } = new List<KeyValuePair<string, JsonNode>>();
        public override string Kind => "an object";

        public JsonNode? Get(string key)
        {
            foreach (var m in Members) if (m.Key == key) return m.Value;
            return null;
        }
    }

    public sealed class JsonArray : JsonNode
    {
        public List<JsonNode> Items { get; } = new List<JsonNode>();
        public override string Kind => "an array";
    }

    public sealed class JsonString : JsonNode
    {
        public JsonString(string value) => Value = value;
        public string Value { get; }
        public override string Kind => "a string";
    }

    public sealed class JsonNumber : JsonNode
    {
        public JsonNumber(string text) => Text = text;
        /// <summary>The literal as written (kept so integers and floats parse exactly).</summary>
        public string Text { get; }
        public override string Kind => "a number";
    }

    public sealed class JsonBool : JsonNode
    {
        public JsonBool(bool value) => Value = value;
        public bool Value { get; }
        public override string Kind => "a boolean";
    }

    public sealed class JsonNull : JsonNode
    {
        public override string Kind => "null";
    }

    /// <summary>Why parsing stopped, with the 1-based line and column of the offending character.</summary>
    public sealed class JsonError
    {
        public JsonError(string message, int offset, int line, int column)
        {
            Message = message; Offset = offset; Line = line; Column = column;
        }

        public string Message { get; }
        public int Offset { get; }
        public int Line { get; }
        public int Column { get; }
    }

    /// <summary>
    /// A small strict JSON (RFC 8259) reader for spec files. No packages may be loaded into the compiler
    /// process, hence hand-written. Never throws: the first error is returned with its line and column.
    /// </summary>
    public sealed class JsonReader
    {
        private const int MaxDepth = 64;
        private readonly string _text;
        private int _pos;
        private int _line = 1;
        private int _lineStart;
        private JsonError? _error;

        private JsonReader(string text) => _text = text;

        public static JsonNode? Parse(string text, out JsonError? error)
        {
            var reader = new JsonReader(text);
            reader.SkipWhitespace();
            var node = reader.ParseValue(0);
            if (node != null)
            {
                reader.SkipWhitespace();
                if (reader._pos < text.Length) reader.Fail("unexpected '" + Printable(text[reader._pos]) + "' after the top-level value");
            }
            error = reader._error;
            return error is null ? node : null;
        }

        private int Column => _pos - _lineStart + 1;

        private JsonNode? Fail(string message)
        {
            if (_error is null) _error = new JsonError(message, _pos, _line, Column);
            return null;
        }

        private static string Printable(char c) => c < ' ' ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString();

        private void SkipWhitespace()
        {
            while (_pos < _text.Length)
            {
                char c = _text[_pos];
                if (c == '\n') { _pos++; _line++; _lineStart = _pos; }
                else if (c == ' ' || c == '\t' || c == '\r') _pos++;
                else break;
            }
        }

        private T Mark<T>(T node, int offset, int line, int column) where T : JsonNode
        {
            node.Offset = offset; node.Line = line; node.Column = column;
            return node;
        }

        private JsonNode? ParseValue(int depth)
        {
            if (depth > MaxDepth) return Fail("nesting deeper than " + MaxDepth.ToString(CultureInfo.InvariantCulture));
            if (_pos >= _text.Length) return Fail("unexpected end of input, expected a value");
            int offset = _pos, line = _line, column = Column;
            char c = _text[_pos];
            switch (c)
            {
                case '{': return ParseObject(depth, offset, line, column);
                case '[': return ParseArray(depth, offset, line, column);
                case '"':
                    var s = ParseString();
                    return s is null ? null : Mark(new JsonString(s), offset, line, column);
                case 't': return Literal("true") ? Mark(new JsonBool(true), offset, line, column) : null;
                case 'f': return Literal("false") ? Mark(new JsonBool(false), offset, line, column) : null;
                case 'n': return Literal("null") ? Mark(new JsonNull(), offset, line, column) : null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(offset, line, column);
                    return Fail("unexpected '" + Printable(c) + "', expected a value");
            }
        }

        private bool Literal(string word)
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
            {
                _pos += word.Length;
                return true;
            }
            Fail("invalid literal, expected '" + word + "'");
            return false;
        }

        private JsonNode? ParseObject(int depth, int offset, int line, int column)
        {
            var obj = Mark(new JsonObject(), offset, line, column);
            _pos++; // {
            SkipWhitespace();
            if (_pos < _text.Length && _text[_pos] == '}') { _pos++; return obj; }
            while (true)
            {
                SkipWhitespace();
                if (_pos >= _text.Length) return Fail("unexpected end of input inside an object");
                if (_text[_pos] != '"') return Fail("expected a property name in double quotes, found '" + Printable(_text[_pos]) + "'");
                var key = ParseString();
                if (key is null) return null;
                SkipWhitespace();
                if (_pos >= _text.Length || _text[_pos] != ':') return Fail("expected ':' after property name '" + key + "'");
                _pos++;
                SkipWhitespace();
                var value = ParseValue(depth + 1);
                if (value is null) return null;
                foreach (var m in obj.Members)
                {
                    if (m.Key == key) { _pos = value.Offset; _line = value.Line; _lineStart = value.Offset - value.Column + 1; return Fail("duplicate key '" + key + "'"); }
                }
                obj.Members.Add(new KeyValuePair<string, JsonNode>(key, value));
                SkipWhitespace();
                if (_pos >= _text.Length) return Fail("unexpected end of input, expected ',' or '}'");
                if (_text[_pos] == ',') { _pos++; continue; }
                if (_text[_pos] == '}') { _pos++; return obj; }
                return Fail("expected ',' or '}', found '" + Printable(_text[_pos]) + "'");
            }
        }

        private JsonNode? ParseArray(int depth, int offset, int line, int column)
        {
            var arr = Mark(new JsonArray(), offset, line, column);
            _pos++; // [
            SkipWhitespace();
            if (_pos < _text.Length && _text[_pos] == ']') { _pos++; return arr; }
            while (true)
            {
                SkipWhitespace();
                var value = ParseValue(depth + 1);
                if (value is null) return null;
                arr.Items.Add(value);
                SkipWhitespace();
                if (_pos >= _text.Length) return Fail("unexpected end of input, expected ',' or ']'");
                if (_text[_pos] == ',') { _pos++; continue; }
                if (_text[_pos] == ']') { _pos++; return arr; }
                return Fail("expected ',' or ']', found '" + Printable(_text[_pos]) + "'");
            }
        }

        private string? ParseString()
        {
            _pos++; // opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) { Fail("unterminated string"); return null; }
                char c = _text[_pos];
                if (c == '"') { _pos++; return sb.ToString(); }
                if (c < ' ') { Fail("control character " + Printable(c) + " inside a string"); return null; }
                if (c != '\\') { sb.Append(c); _pos++; continue; }
                _pos++;
                if (_pos >= _text.Length) { Fail("unterminated escape"); return null; }
                char e = _text[_pos];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 >= _text.Length ||
                            !int.TryParse(_text.Substring(_pos + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                        {
                            Fail("invalid \\u escape");
                            return null;
                        }
                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default:
                        Fail("invalid escape '\\" + Printable(e) + "'");
                        return null;
                }
                _pos++;
            }
        }

        private JsonNode? ParseNumber(int offset, int line, int column)
        {
            int start = _pos;
            if (_text[_pos] == '-') _pos++;
            if (_pos >= _text.Length || !IsDigit(_text[_pos])) return Fail("invalid number: expected a digit");
            if (_text[_pos] == '0') _pos++;
            else while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
            if (_pos < _text.Length && _text[_pos] == '.')
            {
                _pos++;
                if (_pos >= _text.Length || !IsDigit(_text[_pos])) return Fail("invalid number: expected a digit after '.'");
                while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
            }
            if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
            {
                _pos++;
                if (_pos < _text.Length && (_text[_pos] == '+' || _text[_pos] == '-')) _pos++;
                if (_pos >= _text.Length || !IsDigit(_text[_pos])) return Fail("invalid number: expected a digit in the exponent");
                while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
            }
            return Mark(new JsonNumber(_text.Substring(start, _pos - start)), offset, line, column);
        }

        private static bool IsDigit(char c) => c >= '0' && c <= '9';
    }
}
