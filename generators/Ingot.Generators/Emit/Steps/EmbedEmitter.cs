using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>The embedding: a token's row (dequantized), · scale, + token type row 0, + its position's row.</summary>
    internal static class EmbedEmitter
    {
        public static void Call(SourceWriter w, EmbedStep s, EmitContext ctx) =>
            w.Line("for (int t = 0; t < " + ctx.Rows + "; t++) EmbedRow(tokens[t], " + (ctx.Plan.IsEncoder ? "t - seq[2 * t]" : "tok[2 * t + 1]") + ", " + ctx.Var(s.Embed.Target) + " + (nint)t * " + Width(s.Embed) + ");");

        /// <summary>The row width: Dim, or ALBERT's embedding size.</summary>
        private static string Width(EmbedOp e) => e.Width == 0 ? "Dim" : I(e.Width);

        /// <summary>The EmbedRow method of the Forward file.</summary>
        public static void Method(SourceWriter w, EmbedStep s)
        {
            var e = s.Embed;
            w.Line("/// <summary>x = token_embd row <paramref name=\"token\"/> (" + WeightKinds.Name(e.Tokens.Kind) + ")" + (e.Scale != 1f ? " · EmbeddingScale" : "") +
                   (e.TokenTypes != null ? " + token_types row 0 (llama.cpp's type for every token)" : "") + (e.Positions != null ? " + position_embd row <paramref name=\"pos\"/>" : "") + ".</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private void EmbedRow(int token, int pos, float* x)");
            string n = Width(e);
            Row(w, e.Tokens, "token", "x", n);
            if (e.Scale != 1f) w.Line("Vec.Scale(x, EmbeddingScale, x, " + n + ");");
            if (e.TokenTypes != null || e.Positions != null) w.Line("float* p = stackalloc float[" + n + "];");
            if (e.TokenTypes != null)
            {
                Row(w, e.TokenTypes, "0", "p", n);
                w.Line("Vec.Add(x, p, x, " + n + ");");
            }
            if (e.Positions != null)
            {
                Row(w, e.Positions, "pos", "p", n);
                w.Line("Vec.Add(x, p, x, " + n + ");");
            }
            w.Close();
        }

        private static void Row(SourceWriter w, WeightRef table, string index, string dst, string n)
        {
            string ptr = EmitContext.Ptr(table);
            if (table.Kind == WeightKind.F32)
                w.Line("new ReadOnlySpan<float>((float*)" + ptr + " + (nint)" + index + " * " + n + ", " + n + ").CopyTo(new Span<float>(" + dst + ", " + n + "));");
            else
                w.Line("Dequantize.Row(GgmlType." + table.Kind + ", " + ptr + " + (nint)" + index + " * " + MatMulCode.RowBytes(table) + ", " + dst + ", " + n + ");");
        }

        public static string Describe(EmbedStep s, ModelPlan p)
        {
            var e = s.Embed;
            return "embed: " + (e.Target == Buf.X ? "x" : "xn") + "[t] = token_embd[token] (" + I(e.Width == 0 ? p.Dim : e.Width) + ")" + (e.Scale != 1f ? " · " + F(e.Scale) : "") + (e.TokenTypes != null ? " + token_types[0]" : "") +
                   (e.Positions != null ? " + position_embd[pos]" : "") +
                   " [" + (e.Tokens.Kind == WeightKind.F32 ? "row copy" : "Dequantize.Row(" + WeightKinds.Name(e.Tokens.Kind) + ")") + "]";
        }
    }
}
