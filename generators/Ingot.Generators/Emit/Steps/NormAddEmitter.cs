using Ingot.Generators.Planning;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>Gemma 2's post-norms: x[t] = norm(tmp[t]) · w + x[t], on the caller's thread (one row op per token).</summary>
    internal static class NormAddEmitter
    {
        public static void Call(SourceWriter w, NormAddStep s, EmitContext ctx)
        {
            string from = ctx.Var(s.Norm.From), target = ctx.Var(s.Target), width = ctx.Width(s.Norm.Width);
            w.Open("for (int t = 0; t < " + ctx.Rows + "; t++)");
            w.Line("float* row = " + from + " + (nint)t * " + width + ", dst = " + target + " + (nint)t * " + width + ";");
            w.Line(StepEmitters.NormCall(s.Norm, "row", "row", width) + ";");
            w.Line("Vec.Add(row, dst, dst, " + width + ");");
            w.Close();
        }

        public static string Describe(NormAddStep s, ModelPlan p) =>
            "post-norm: x += " + StepEmitters.NormName(s.Norm) + " of the sublayer output [Norms, Vec.Add]";
    }
}
