using System;
using Ingot.Generators.Planning;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>Dispatch from a fused step to its emitter: the code in the calling method, and its line in the Description block.</summary>
    internal static class StepEmitters
    {
        public static void Call(SourceWriter w, Step step, EmitContext ctx)
        {
            switch (step)
            {
                case EmbedStep e: EmbedEmitter.Call(w, e, ctx); break;
                case RowPrepStep r: RowPrepEmitter.Call(w, r, ctx); break;
                case QkvStep q: QkvEmitter.Call(w, q, ctx); break;
                case AttentionStep a: AttentionEmitter.Call(w, a, ctx); break;
                case MatMulStep m: MatMulEmitter.Call(w, m, ctx); break;
                case GateUpStep g: GateUpEmitter.Call(w, g, ctx); break;
                case NormAddStep n: NormAddEmitter.Call(w, n, ctx); break;
                case CrossKvStep c: CrossKvEmitter.Call(w, c, ctx); break;
                default: throw new ArgumentOutOfRangeException(nameof(step), step.GetType().Name + " has no emitter");
            }
        }

        /// <summary>One line of the // Description: block: the step's name, what it computes, and its kernels.</summary>
        public static string Describe(Step step, ModelPlan p)
        {
            switch (step)
            {
                case EmbedStep e: return EmbedEmitter.Describe(e, p);
                case RowPrepStep r: return RowPrepEmitter.Describe(r, p);
                case QkvStep q: return QkvEmitter.Describe(q, p);
                case AttentionStep a: return AttentionEmitter.Describe(a, p);
                case MatMulStep m: return MatMulEmitter.Describe(m, p);
                case GateUpStep g: return GateUpEmitter.Describe(g, p);
                case NormAddStep n: return NormAddEmitter.Describe(n, p);
                case CrossKvStep c: return CrossKvEmitter.Describe(c, p);
                default: throw new ArgumentOutOfRangeException(nameof(step), step.GetType().Name + " has no emitter");
            }
        }

        /// <summary>"VecDotRows.F32 (f32 · f32)", "VecDotRows.Q4_0Q8_0Lanes (q4_0 · q8_0)": the kernel a weight kind runs, as the code calls it.</summary>
        public static string KernelName(WeightKind kind) =>
            MatMulCode.RowsKernel(kind) + " (" + WeightKinds.Name(kind) + " · " + WeightKinds.ActName(WeightKinds.Act(kind)) + ")";

        /// <summary>The runtime call of a norm over one row.</summary>
        public static string NormCall(NormOp n, string src, string dst, string width) =>
            NormCall(n, EmitContext.Ptr(n.Weight), n.Bias is null ? null : EmitContext.Ptr(n.Bias), src, dst, width);

        /// <summary>The norm call with the weight and bias read from the given expressions (a work body's fields).</summary>
        public static string NormCall(NormOp n, string weight, string? bias, string src, string dst, string width) =>
            n.Kind == Specs.NormKind.RmsNorm
                ? "Norms.RmsNorm(" + src + ", " + weight + ", " + dst + ", " + width + ", NormEps)"
                : "Norms.LayerNorm(" + src + ", " + weight + ", " + (bias ?? "null") + ", " + dst + ", " + width + ", NormEps)";

        public static string NormName(NormOp n) => (n.Kind == Specs.NormKind.RmsNorm ? "rmsnorm" : "layernorm") + " · " + n.Weight.Name.Replace(".weight", "") + (n.Bias is null ? "" : " + bias");

        /// <summary>A weight pointer advanced to row <paramref name="rowOffset"/> (a fused matrix's part).</summary>
        public static string Slice(WeightRef w, int rowOffset) =>
            rowOffset == 0 ? EmitContext.Ptr(w) : EmitContext.Ptr(w) + " + " + Literals.L((long)rowOffset * long.Parse(MatMulCode.RowBytes(w), System.Globalization.CultureInfo.InvariantCulture));

        public static string BiasSlice(WeightRef b, int rowOffset) => rowOffset == 0 ? EmitContext.Ptr(b) : EmitContext.Ptr(b) + " + " + Literals.I(rowOffset);
    }
}
