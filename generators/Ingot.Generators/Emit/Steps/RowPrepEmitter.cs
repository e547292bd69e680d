using System.Collections.Generic;
using Ingot.Generators.Planning;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// One pass over the rows: normalize (if the step has a norm) and convert each row to every activation form the
    /// next matmul needs while it is still in L1; from 4 rows the worker pool splits the rows (the pass was serial,
    /// and its quantization 5 % of a 128-token prefill with the other thread waiting; below 16 rows it stayed serial
    /// until the batched decode of 8 sequences showed it: 4.5 % of the server's step, the other thread spinning).
    /// </summary>
    internal static class RowPrepEmitter
    {
        /// <summary>Rows below this run on the calling thread (decode's one row, two or three sequences' rows).</summary>
        private const int ParallelRows = 4;

        public static void Call(SourceWriter w, RowPrepStep s, EmitContext ctx)
        {
            if (s.Norm is null && s.Acts.Count == 0) return; // the consumer reads the f32 rows in place
            string src = ctx.Var(s.From), dst = ctx.Var(s.To), width = ctx.Width(s.Width);
            string srcWidth = s.Norm != null ? ctx.Width(s.Norm.Width) : width;
            var convert = new List<ActKind>();
            foreach (var a in s.Acts) if (!Prepared(a)) convert.Add(a); // those: from the whole chunk's rows, after the rows
            var key = ("rowprep", s.Norm is null ? "" : s.Norm.Kind + (s.Norm.Bias is null ? "" : "+bias"), string.Join(",", convert), width, srcWidth);
            string body = ctx.Body(key, "RowPrepBody", true, (bw, name) => Body(bw, name, s.Norm, convert, width, srcWidth));
            string local = ctx.Local("prep");
            var init = new System.Text.StringBuilder("Src = " + src + ", Dst = " + dst);
            if (s.Norm != null)
            {
                init.Append(", NormWeight = " + EmitContext.Ptr(s.Norm.Weight));
                if (s.Norm.Bias != null) init.Append(", NormBias = " + EmitContext.Ptr(s.Norm.Bias));
            }
            foreach (var a in convert) init.Append(", " + WeightKinds.ActField(a) + " = " + MatMulCode.Local(a));
            w.Line("var " + local + " = new " + body + " { " + init + " };");
            w.Line("if (" + ctx.Rows + " >= " + Literals.I(ParallelRows) + ") _pool!.For(" + ctx.Rows + ", ref " + local + "); else " + local + ".Run(0, " + ctx.Rows + ");");
            if (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_0Lanes))
                w.Line("Q8_0Lanes.PrepareForGemm(" + MatMulCode.Local(ActKind.Q8_0) + ", " + width + " / 32 * 34, " + ctx.Rows + ", " + width + ", " + MatMulCode.Local(ActKind.Q8_0Lanes) + ");");
            if (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_KTiles))
                w.Line("Q8_KTiles.Prepare(" + MatMulCode.Local(ActKind.Q8_K) + ", " + width + " / 256 * 292, " + ctx.Rows + ", " + width + ", " + MatMulCode.Local(ActKind.Q8_KTiles) + ");");
            if (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_0Pairs))
                w.Line("Q8_0Pairs.Prepare(" + MatMulCode.Local(ActKind.Q8_0) + ", " + width + " / 32 * 34, " + ctx.Rows + ", " + width + ", " + MatMulCode.Local(ActKind.Q8_0Pairs) + ");");
        }

        /// <summary>The forms prepared from the whole chunk's converted rows after the row pass, not per row.</summary>
        private static bool Prepared(ActKind a) => a == ActKind.Q8_0Lanes || a == ActKind.Q8_KTiles || a == ActKind.Q8_0Pairs;

        /// <summary>The row pass as a work body: rows [start, end) normalized and converted, each while it is in L1.</summary>
        private static void Body(SourceWriter w, string name, NormOp? norm, List<ActKind> convert, string width, string srcWidth)
        {
            w.Line("/// <summary>Rows [start, end): " + (norm is null ? "" : (norm.Kind == Specs.NormKind.RmsNorm ? "rmsnorm" : "layernorm") + " of Src into Dst, then ") +
                   "each Dst row converted to the activation forms the next matmul reads, one pass per row.</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private struct " + name + " : IRangeBody");
            w.Line("public float* Src, Dst;  // (N, " + srcWidth + "), (N, " + width + ")");
            if (norm != null) w.Line(norm.Bias is null ? "public float* NormWeight;" : "public float* NormWeight, NormBias;");
            foreach (var a in convert) w.Line("public " + (a == ActKind.F16 ? "Half* " : "byte* ") + WeightKinds.ActField(a) + ";");
            w.Line();
            w.Open("public void Run(int start, int end)");
            w.Open("for (int t = start; t < end; t++)");
            string row = "Dst + (nint)t * " + width;
            if (norm != null)
                w.Line(StepEmitters.NormCall(norm, "NormWeight", norm.Bias is null ? null : "NormBias", "Src + (nint)t * " + srcWidth, row, width) + ";");
            foreach (var a in convert)
            {
                string f = WeightKinds.ActField(a);
                switch (a)
                {
                    case ActKind.Q8_0: w.Line("Quantize.RowQ8_0(" + row + ", " + f + " + (nint)t * (" + width + " / 32 * 34), " + width + ");"); break;
                    case ActKind.Q8_1: w.Line("Quantize.RowQ8_1(" + row + ", " + f + " + (nint)t * (" + width + " / 32 * 36), " + width + ");"); break;
                    case ActKind.Q8_K: w.Line("Quantize.RowQ8_K(" + row + ", " + f + " + (nint)t * (" + width + " / 256 * 292), " + width + ");"); break;
                    case ActKind.BF16: w.Line("Quantize.RowBF16(" + row + ", " + f + " + (nint)t * (" + width + " * 2), " + width + ");"); break;
                    case ActKind.F16: w.Line("Vec.Convert.F32ToF16(" + row + ", " + f + " + (nint)t * " + width + ", " + width + ");"); break;
                }
            }
            w.Close();
            w.Close();
            w.Close();
        }

        public static string Describe(RowPrepStep s, ModelPlan p)
        {
            var parts = new List<string>();
            if (s.Norm != null) parts.Add(StepEmitters.NormName(s.Norm) + " (Norms." + (s.Norm.Kind == Specs.NormKind.RmsNorm ? "RmsNorm" : "LayerNorm") + ")");
            foreach (var a in s.Acts)
                if (!Prepared(a)) parts.Add(a == ActKind.F16 ? "f16 rounding" : a == ActKind.BF16 ? "bf16 rounding" : "Quantize.Row" + WeightKinds.ActName(a).ToUpperInvariant().Replace("Q8_K", "Q8_K"));
            return "rows: " + string.Join(", then ", parts) + " over " + Literals.I(s.Width) + " values per row, in one pass per row" +
                   (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_0Lanes) ? "; then the q8_0 rows in token lanes for the q4_0 GEMM (Q8_0Lanes, from 8 tokens)" : "") +
                   (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_KTiles) ? "; then the q8_K rows as AMX tiles for the K-quant GEMM (Q8_KTiles, from 32 tokens)" : "") +
                   (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_0Pairs) ? "; then the q8_0 rows in token pairs (Q8_0Pairs, from 2 tokens)" : "");
        }
    }
}
