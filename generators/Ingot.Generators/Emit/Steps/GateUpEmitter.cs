using System.Collections.Generic;
using Ingot.Generators.Planning;
using Ingot.Specs;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// The FFN's first half in one pass over FfnDim rows: gated, h = act(gate·x + b) · (up·x + b) (llama.cpp: the
    /// activation op, then the multiply op, two float roundings); plain, h = act(up·x + b).
    /// </summary>
    internal static class GateUpEmitter
    {
        public static void Call(SourceWriter w, GateUpStep s, EmitContext ctx)
        {
            string body = ctx.Body(s, "GateUpBody", true, (bw, name) => Body(bw, name, s));
            string v = ctx.Local("gateUp");
            var init = new List<string>();
            if (s.Gate != null) init.Add("Wg = " + StepEmitters.Slice(s.Gate.Weight, s.Gate.RowOffset));
            init.Add("Wu = " + StepEmitters.Slice(s.Up.Weight, s.Up.RowOffset));
            if (s.Gate?.Bias != null) init.Add("Bg = " + StepEmitters.BiasSlice(s.Gate.Bias, s.Gate.RowOffset));
            if (s.Up.Bias != null) init.Add("Bu = " + StepEmitters.BiasSlice(s.Up.Bias, s.Up.RowOffset));
            init.Add(MatMulCode.ActInit(ctx.Var(s.Up.From), Kinds(s)));
            init.Add("N = " + ctx.Rows);
            init.Add("H = " + ctx.Var(s.To));
            w.Line("var " + v + " = new " + body + " { " + string.Join(", ", init) + " };");
            w.Line("pool.For(" + ctx.Width(s.Up.Rows) + ", ref " + v + ");");
        }

        private static WeightKind[] Kinds(GateUpStep s) => s.Gate is null ? new[] { s.Up.Weight.Kind } : new[] { s.Gate.Weight.Kind, s.Up.Weight.Kind };

        private static string Act(Activation a, string x)
        {
            switch (a)
            {
                case Activation.Gelu: return "Activations.Gelu(" + x + ")";
                case Activation.GeluErf: return "Activations.GeluErf(" + x + ")";
                case Activation.Relu: return "Activations.Relu(" + x + ")";
                default: return "Activations.Silu(" + x + ")";
            }
        }

        private static void Body(SourceWriter w, string name, GateUpStep s)
        {
            bool gated = s.Gate != null;
            int rows = s.Up.Rows, cols = s.Up.Cols;
            w.Line("/// <summary>" + (gated ? "Gate and up projections in one pass, epilogue H = " + SpecNames.Of(s.Activation) + "(gate) · up; gate " + WeightKinds.Name(s.Gate!.Weight.Kind) + ", up "
                                            : "Up projection, epilogue H = " + SpecNames.Of(s.Activation) + "(up); up ") + WeightKinds.Name(s.Up.Weight.Kind) + ".</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private struct " + name + " : IRangeBody");
            w.Line((gated ? "public byte* Wg, Wu;" : "public byte* Wu;") + "  // (" + I(rows) + ", " + I(cols) + ")" + (gated ? " each" : "") +
                   (gated && s.Gate!.Weight == s.Up.Weight ? ": the two halves of ffn_up" : ""));
            if (s.Up.Bias != null) w.Line(gated ? "public float* Bg, Bu;  // (" + I(rows) + ") each" : "public float* Bu;  // (" + I(rows) + ")");
            MatMulCode.ActFields(w, Kinds(s));
            w.Line("public float* H;      // (N, " + I(rows) + ")");
            w.Line();
            w.Open("public void Run(int start, int end)");
            string tiles = "float* up = stackalloc float[" + I(MatMulCode.RowTile) + " * N]";
            w.Line(gated ? "float* gate = stackalloc float[" + I(MatMulCode.RowTile) + " * N], " + tiles.Substring("float* ".Length) + ";" : tiles + ";");
            w.Open("for (int r0 = start; r0 < end; r0 += " + I(MatMulCode.RowTile) + ")");
            w.Line("int nr = Math.Min(" + I(MatMulCode.RowTile) + ", end - r0);");
            if (gated) w.Line(MatMulCode.RowsCall(s.Gate!.Weight.Kind, "Wg", "r0", "nr", cols, "gate", "nr") + ";");
            w.Line(MatMulCode.RowsCall(s.Up.Weight.Kind, "Wu", "r0", "nr", cols, "up", "nr") + ";");
            if (gated && s.Activation == Activation.Silu && s.Gate!.Bias == null && s.Up.Bias == null)
            {
                // the SwiGLU epilogue a row of the tile at a time: 8 lanes per step, each lane the scalar form's bits
                w.Line("for (int t = 0; t < N; t++) Activations.SwiGlu(gate + t * nr, up + t * nr, H + (nint)t * " + I(rows) + " + r0, nr);");
            }
            else
            {
                w.Open("for (int t = 0; t < N; t++)");
                w.Open("for (int i = 0; i < nr; i++)");
                Epilogue(w, s, gated ? "gate[t * nr + i]" : null, "up[t * nr + i]", "r0 + i", I(rows));
                w.Close();
                w.Close();
            }
            w.Close();
            w.Close();
            w.Close();
        }

        private static void Epilogue(SourceWriter w, GateUpStep s, string? gate, string up, string row, string stride)
        {
            string h = "H[(nint)t * " + stride + " + " + row + "]";
            if (gate != null)
            {
                w.Line("float g = " + gate + (s.Gate!.Bias != null ? " + Bg[" + row + "]" : "") + ";");
                w.Line("float u = " + up + (s.Up.Bias != null ? " + Bu[" + row + "]" : "") + ";");
                w.Line(h + " = " + Act(s.Activation, "g") + " * u;");
            }
            else
            {
                w.Line("float u = " + up + (s.Up.Bias != null ? " + Bu[" + row + "]" : "") + ";");
                w.Line(h + " = " + Act(s.Activation, "u") + ";");
            }
        }

        public static string Describe(GateUpStep s, ModelPlan p)
        {
            string act = SpecNames.Of(s.Activation);
            string table = s.Activation == Activation.Gelu ? ", GELU through ggml's f16 table" : "";
            return s.Gate != null
                ? "ffn_gate_up: h = " + act + "(gate · " + In(s.Up.From) + (s.Gate.Bias != null ? " + b" : "") + ") · (up · " + In(s.Up.From) + (s.Up.Bias != null ? " + b" : "") + ") in one pass over " + I(s.Up.Rows) + " rows" +
                  (s.Gate.Weight == s.Up.Weight ? " (fused gate|up)" : "") + table + " [gate " + StepEmitters.KernelName(s.Gate.Weight.Kind) + "; up " + StepEmitters.KernelName(s.Up.Weight.Kind) + "]"
                : "ffn_up: h = " + act + "(up · " + In(s.Up.From) + (s.Up.Bias != null ? " + b" : "") + ") over " + I(s.Up.Rows) + " rows" + table + " [" + StepEmitters.KernelName(s.Up.Weight.Kind) + "]";
        }

        /// <summary>The input's name in a description: xn (normalized, pre-norm blocks) or x (post-norm blocks read x itself).</summary>
        internal static string In(Buf b) => b == Buf.X ? "x" : "xn";
    }
}
