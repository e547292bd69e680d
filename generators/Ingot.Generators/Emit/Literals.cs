using System.Globalization;
using System.Text;

namespace Ingot.Generators.Emit
{
    /// <summary>C# literals for generated code: invariant, deterministic, round-tripping.</summary>
    public static class Literals
    {
        public static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

        public static string L(long v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>A float literal that round-trips to the same float ("0.125f", "1E-05f", "float.PositiveInfinity").</summary>
        public static string F(float v)
        {
            if (float.IsPositiveInfinity(v)) return "float.PositiveInfinity";
            if (float.IsNegativeInfinity(v)) return "float.NegativeInfinity";
            if (float.IsNaN(v)) return "float.NaN";
            string s = v.ToString("R", CultureInfo.InvariantCulture);
            if (s.IndexOf('.') < 0 && s.IndexOf('E') < 0) s += ".0";
            return s + "f";
        }

        /// <summary>Layer indices as ranges: "0–25", "0, 2–4".</summary>
        public static string Ranges(System.Collections.Generic.IEnumerable<int> values)
        {
            var parts = new System.Collections.Generic.List<string>();
            int start = -1, prev = -1;
            foreach (int v in values)
            {
                if (start >= 0 && v == prev + 1) { prev = v; continue; }
                if (start >= 0) parts.Add(start == prev ? I(start) : I(start) + "–" + I(prev));
                start = prev = v;
            }
            if (start >= 0) parts.Add(start == prev ? I(start) : I(start) + "–" + I(prev));
            return string.Join(", ", parts);
        }

        /// <summary>A C# string literal; non-ASCII and control characters escaped.</summary>
        public static string Str(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < ' ' || c > '~') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }
    }
}
