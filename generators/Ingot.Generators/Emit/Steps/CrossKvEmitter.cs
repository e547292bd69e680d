using Ingot.Generators.Planning;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// A decoder layer's cross-attention keys and values, once per encoded input (the first chunk after Encode): the
    /// encoder's rows in MaxBatch-row chunks, converted to the weights' activation forms, through the usual matmul
    /// bodies into this layer's cross cache.
    /// </summary>
    internal static class CrossKvEmitter
    {
        public static void Call(SourceWriter w, CrossKvStep s, EmitContext ctx)
        {
            var c = s.Cross;
            w.Open("if (_crossPending[l])");
            w.Open("for (int c0 = 0; c0 < _encLength; c0 += MaxBatch)");
            w.Line("int m = Math.Min(MaxBatch, _encLength - c0);");
            w.Line("float* encRows = _encoded + (nint)c0 * Dim, ckRows = ckCache + (nint)c0 * KvDim, cvRows = cvCache + (nint)c0 * KvDim;");
            string rows = ctx.Rows;
            ctx.Rows = "m";
            RowPrepEmitter.Call(w, new RowPrepStep(null, Buf.Enc, Buf.Enc, c.K.Cols, s.Acts), ctx);
            MatMulEmitter.Call(w, new MatMulStep(c.K, 1f, 0f, false, Buf.CK, null), ctx);
            MatMulEmitter.Call(w, new MatMulStep(c.V, 1f, 0f, false, Buf.CV, null), ctx);
            ctx.Rows = rows;
            w.Close();
            w.Line("_crossPending[l] = false;");
            w.Close();
        }

        public static string Describe(CrossKvStep s, ModelPlan p) =>
            "cross k|v: ck = cross_attn_k · enc, cv = cross_attn_v · enc over the encoder's rows, once per encoded input [" +
            StepEmitters.KernelName(s.Cross.K.Weight.Kind) + "; " + StepEmitters.KernelName(s.Cross.V.Weight.Kind) + "] (" + I(p.KvDim) + " rows each)";
    }
}
