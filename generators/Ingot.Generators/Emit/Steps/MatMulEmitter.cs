using System.Collections.Generic;
using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// Y = epilogue(W · A) over a row range and every token of the chunk. Epilogue in ggml's op order: + bias, · Scale,
    /// soft-cap, then store, or add into the residual stream (Y = v + Y), or the parallel residual's Y = (v + Y) + O.
    /// </summary>
    internal static class MatMulEmitter
    {
        /// <summary>What distinguishes one body struct from another: the weight kind, the shape and the epilogue's parts.</summary>
        private sealed record Signature(WeightKind Kind, int Rows, int Cols, bool Bias, bool Scale, bool Cap, bool Accumulate, bool Then, bool Relu)
        {
            public string Name => "MatMul" + (Accumulate ? (Then ? "AddAdd" : "Add") : "Store") + "_" + WeightKinds.Name(Kind).ToUpperInvariant() + "_" + I(Rows) + "x" + I(Cols) +
                                  (Bias ? "_Bias" : "") + (Scale ? "_Scale" : "") + (Cap ? "_Cap" : "") + (Relu ? "_Relu" : "");
        }

        private static Signature Of(MatMulStep s) => new Signature(s.Linear.Weight.Kind, s.Linear.Rows, s.Linear.Cols, s.Linear.Bias != null,
            s.Scale != 1f, s.Cap > 0f, s.Accumulate, s.Then != null, s.Relu);

        public static void Call(SourceWriter w, MatMulStep s, EmitContext ctx)
        {
            var sig = Of(s);
            string body = ctx.Body(sig, sig.Name, false, (bw, name) => Body(bw, name, sig));
            string v = ctx.Local(s.Linear.Name == "output" ? "output" : s.Linear.Name == "o" ? "wo" : s.Linear.Name);
            string weight = s.Linear.Name == "output" ? "_output" : StepEmitters.Slice(s.Linear.Weight, s.Linear.RowOffset);
            var init = new List<string> { "W = " + weight };
            if (sig.Bias) init.Add("B = " + StepEmitters.BiasSlice(s.Linear.Bias!, s.Linear.RowOffset));
            init.Add(MatMulCode.ActInit(ctx.Var(s.Linear.From), s.Linear.Weight.Kind));
            init.Add("N = " + ctx.Rows);
            init.Add("Y = " + ctx.Var(s.To));
            if (sig.Then) init.Add("O = " + ctx.Var(s.Then!.Value));
            if (sig.Scale) init.Add("Scale = " + F(s.Scale));
            if (sig.Cap) init.Add("Cap = " + F(s.Cap));
            w.Line("var " + v + " = new " + body + " { " + string.Join(", ", init) + " };");
            w.Line("pool.For(" + RowsName(s.Linear.Rows, ctx) + ", ref " + v + ");");
        }

        private static string RowsName(int rows, EmitContext ctx) => rows == ctx.Plan.VocabSize ? "VocabSize" : ctx.Width(rows);

        private static void Body(SourceWriter w, string name, Signature s)
        {
            string what = s.Accumulate ? (s.Then ? "Y = (v + Y) + O (the parallel residual)" : "Y = v + Y (the residual add)") : "Y = v";
            w.Line("/// <summary>Y[t, r] from W[r, :] · A[t, :] for rows [start, end) and every token: W (" + I(s.Rows) + ", " + I(s.Cols) + ") " + WeightKinds.Name(s.Kind) +
                   "; each weight row is read once and reused across the chunk's tokens. Epilogue: v" + (s.Bias ? " + B[r]" : "") + (s.Scale ? ", · Scale" : "") +
                   (s.Cap ? ", soft-capped at Cap" : "") + (s.Relu ? ", relu" : "") + ", " + what + ".</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private struct " + name + " : IRangeBody");
            w.Line("public const int Rows = " + I(s.Rows) + ", Cols = " + I(s.Cols) + ";");
            w.Line("public byte* W;       // (Rows, Cols) " + WeightKinds.Name(s.Kind));
            if (s.Bias) w.Line("public float* B;      // (Rows) bias");
            MatMulCode.ActFields(w, s.Kind);
            w.Line("public float* Y;      // (N, Rows) output" + (s.Accumulate ? " (residual stream, accumulated)" : ""));
            if (s.Then) w.Line("public float* O;      // (N, Rows) the attention output, added last");
            if (s.Scale) w.Line("public float Scale;");
            if (s.Cap) w.Line("public float Cap;");
            w.Line();
            w.Open("public void Run(int start, int end)");
            bool plain = !s.Bias && !s.Scale && !s.Cap && !s.Relu && !s.Accumulate;
            if (plain)
            {
                w.Line(MatMulCode.RowsCall(s.Kind, "W", "start", "end - start", s.Cols, "Y + start", "Rows") + ";");
            }
            else
            {
                w.Line("float* tile = stackalloc float[" + I(MatMulCode.RowTile) + " * N];");
                w.Open("for (int r0 = start; r0 < end; r0 += " + I(MatMulCode.RowTile) + ")");
                w.Line("int nr = Math.Min(" + I(MatMulCode.RowTile) + ", end - r0);");
                w.Line(MatMulCode.RowsCall(s.Kind, "W", "r0", "nr", s.Cols, "tile", "nr") + ";");
                if (s.Accumulate && !s.Bias && !s.Scale && !s.Cap && !s.Relu)
                {
                    // the residual add a row of the tile at a time, vectorized: v + y (then + O), the same roundings
                    w.Open("for (int t = 0; t < N; t++)");
                    w.Line("float* y = Y + (nint)t * Rows + r0;");
                    w.Line("Vec.Add(tile + t * nr, y, y, nr);");
                    if (s.Then) w.Line("Vec.Add(y, O + (nint)t * Rows + r0, y, nr);");
                    w.Close();
                }
                else
                {
                    w.Open("for (int t = 0; t < N; t++)");
                    w.Open("for (int i = 0; i < nr; i++)");
                    w.Line("float v = tile[t * nr + i];");
                    Epilogue(w, s, "r0 + i");
                    w.Close();
                    w.Close();
                }
                w.Close();
            }
            w.Close();
            w.Close();
        }

        private static void Epilogue(SourceWriter w, Signature s, string row)
        {
            if (s.Bias) w.Line("v += B[" + row + "];");
            if (s.Scale) w.Line("v *= Scale;");
            if (s.Cap) w.Line("v = MathF.Tanh(v * (1.0f / Cap)) * Cap;  // ggml: scale(1/cap), tanh, scale(cap)");
            if (s.Relu) w.Line("v = v > 0.0f ? v : 0.0f;  // relu");
            string y = "Y[(nint)t * Rows + " + row + "]";
            if (!s.Accumulate) w.Line(y + " = v;");
            else if (!s.Then) w.Line(y + " = v + " + y + ";");
            else w.Line(y + " = (v + " + y + ") + O[(nint)t * Rows + " + row + "];");
        }

        public static string Describe(MatMulStep s, ModelPlan p)
        {
            var l = s.Linear;
            string target = s.To == Buf.Logits ? "logits" : s.To == Buf.T ? "tmp" : s.To == Buf.Q ? "q" : "x";
            string op = s.Accumulate ? (s.Then != null ? " = (" : " += ") : " = ";
            string expr = l.Weight.Name.Replace(".weight", "") + " · " + (l.From == Buf.Xn ? "xn" : l.From == Buf.Att ? "attention" : l.From == Buf.Hb ? "h" : l.From == Buf.T ? "tmp" : l.From.ToString()) +
                          (l.Bias != null ? " + bias" : "") + (s.Scale != 1f ? " · " + F(s.Scale) : "") + (s.Cap > 0 ? ", soft-capped at " + F(s.Cap) : "") + (s.Relu ? ", relu" : "");
            string line = l.Name + ": " + target + op + expr + (s.Then != null ? " + x) + tmp (parallel residual)" : "");
            if (s.Accumulate && s.Then == null) line += " (residual add folded into the epilogue)";
            return line + " over " + I(l.Rows) + " rows [" + StepEmitters.KernelName(l.Weight.Kind) + "]";
        }
    }
}
