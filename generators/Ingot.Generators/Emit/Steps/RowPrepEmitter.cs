using System.Collections.Generic;
using Ingot.Generators.Planning;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// One loop over the rows: normalize (if the step has a norm) and convert each row to every activation form the
    /// next matmul needs while it is still in L1.
    /// </summary>
    internal static class RowPrepEmitter
    {
        public static void Call(SourceWriter w, RowPrepStep s, EmitContext ctx)
        {
            if (s.Norm is null && s.Acts.Count == 0) return; // the consumer reads the f32 rows in place
            string src = ctx.Var(s.From), dst = ctx.Var(s.To), width = ctx.Width(s.Width);
            w.Open("for (int t = 0; t < " + ctx.Rows + "; t++)");
            string row = dst + " + (nint)t * " + width;
            if (s.Norm != null) w.Line(StepEmitters.NormCall(s.Norm, src + " + (nint)t * " + ctx.Width(s.Norm.Width), row, width) + ";");
            foreach (var a in s.Acts)
            {
                string local = MatMulCode.Local(a);
                switch (a)
                {
                    case ActKind.Q8_0: w.Line("Quantize.RowQ8_0(" + row + ", " + local + " + (nint)t * (" + width + " / 32 * 34), " + width + ");"); break;
                    case ActKind.Q8_1: w.Line("Quantize.RowQ8_1(" + row + ", " + local + " + (nint)t * (" + width + " / 32 * 36), " + width + ");"); break;
                    case ActKind.Q8_K: w.Line("Quantize.RowQ8_K(" + row + ", " + local + " + (nint)t * (" + width + " / 256 * 292), " + width + ");"); break;
                    case ActKind.BF16: w.Line("Quantize.RowBF16(" + row + ", " + local + " + (nint)t * (" + width + " * 2), " + width + ");"); break;
                    case ActKind.F16: w.Line("Vec.Convert.F32ToF16(" + row + ", " + local + " + (nint)t * " + width + ", " + width + ");"); break;
                    // Q8_0Lanes: from the whole chunk's q8_0 rows, after this loop
                }
            }
            w.Close();
            if (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_0Lanes))
                w.Line("Q8_0Lanes.PrepareForGemm(" + MatMulCode.Local(ActKind.Q8_0) + ", " + width + " / 32 * 34, " + ctx.Rows + ", " + width + ", " + MatMulCode.Local(ActKind.Q8_0Lanes) + ");");
        }

        public static string Describe(RowPrepStep s, ModelPlan p)
        {
            var parts = new List<string>();
            if (s.Norm != null) parts.Add(StepEmitters.NormName(s.Norm) + " (Norms." + (s.Norm.Kind == Specs.NormKind.RmsNorm ? "RmsNorm" : "LayerNorm") + ")");
            foreach (var a in s.Acts)
                if (a != ActKind.Q8_0Lanes) parts.Add(a == ActKind.F16 ? "f16 rounding" : a == ActKind.BF16 ? "bf16 rounding" : "Quantize.Row" + WeightKinds.ActName(a).ToUpperInvariant().Replace("Q8_K", "Q8_K"));
            return "rows: " + string.Join(", then ", parts) + " over " + Literals.I(s.Width) + " values per row, in one pass per row" +
                   (System.Linq.Enumerable.Contains(s.Acts, ActKind.Q8_0Lanes) ? "; then the q8_0 rows in token lanes for the q4_0 GEMM (Q8_0Lanes, from 8 tokens)" : "");
        }
    }
}
