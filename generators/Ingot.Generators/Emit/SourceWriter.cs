using System.Text;

namespace Ingot.Generators.Emit
{
    /// <summary>Indentation-aware text builder for generated C#. Always "\n" line endings (deterministic output).</summary>
    public sealed class SourceWriter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private int _indent;

        public SourceWriter Line(string text = "")
        {
            if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
            _sb.Append('\n');
            return this;
        }

        /// <summary>Writes several lines, each at the current indentation ('\n' separated).</summary>
        public SourceWriter Lines(string text)
        {
            foreach (var line in text.Split('\n')) Line(line.TrimEnd('\r'));
            return this;
        }

        public SourceWriter Open(string header)
        {
            Line(header);
            Line("{");
            _indent++;
            return this;
        }

        public SourceWriter Open()
        {
            Line("{");
            _indent++;
            return this;
        }

        public SourceWriter Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
            return this;
        }

        public SourceWriter Indent() { _indent++; return this; }

        public SourceWriter Outdent() { _indent--; return this; }

        public override string ToString() => _sb.ToString();
    }
}
