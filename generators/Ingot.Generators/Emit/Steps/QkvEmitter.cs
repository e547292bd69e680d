using System.Collections.Generic;
using Ingot.Generators.Planning;
using Ingot.Specs;
using static Ingot.Generators.Emit.Literals;

namespace Ingot.Generators.Emit.Steps
{
    /// <summary>
    /// Q, K and V in one pass: a work unit is one head (HeadDim rows) — units [0, Heads) are query heads, then KvHeads
    /// key heads, then KvHeads value heads. The epilogue of each head, in llama.cpp's order: + bias, rope (NORM or NEOX
    /// over RopeDims), · the Q pre-scale; keys and values land in the KV cache at each token's cell (directly when the
    /// chunk's cells are consecutive in an F32 cache, else through K/V rows and <c>KvCache.ScatterHeads</c>). A decoder's cache is
    /// head-major (each KV head's cells contiguous, so attention streams them); an encoder's is token-major.
    /// </summary>
    internal static class QkvEmitter
    {
        public static void Call(SourceWriter w, QkvStep s, EmitContext ctx)
        {
            bool causal = !ctx.Plan.IsEncoder;
            string body = ctx.Body(s, "QkvBody", true, (bw, name) => Body(bw, name, s, causal));
            string v = ctx.Local("qkv");
            var init = new List<string>
            {
                "Wq = " + StepEmitters.Slice(s.Q.Weight, s.Q.RowOffset), "Wk = " + StepEmitters.Slice(s.K.Weight, s.K.RowOffset), "Wv = " + StepEmitters.Slice(s.V.Weight, s.V.RowOffset),
            };
            if (s.Q.Bias != null) init.Add("Bq = " + StepEmitters.BiasSlice(s.Q.Bias, s.Q.RowOffset));
            if (s.K.Bias != null) init.Add("Bk = " + StepEmitters.BiasSlice(s.K.Bias, s.K.RowOffset));
            if (s.V.Bias != null) init.Add("Bv = " + StepEmitters.BiasSlice(s.V.Bias, s.V.RowOffset));
            init.Add(MatMulCode.ActInit(ctx.Var(s.Q.From), Kinds(s)));
            init.Add("N = " + ctx.Rows);
            // An encoder's chunk is its cache (rows 0 .. n − 1). A decoder's keys and values go straight to their cells when
            // the chunk's tokens fill consecutive cells (one sequence's run) of an F32 cache, else to K/V rows that are
            // scattered (and converted to an F16 cache's halves) after.
            // The decoder's cache is head-major (KvHeadStride = cells · HeadDim between KV heads, HeadDim between cells); the rows
            // to scatter are token-major like the encoder's cache (KvDim between tokens, HeadDim between heads).
            init.Add(causal ? "Q = q, KOut = direct ? (float*)kCache + (nint)(tok[0] + tok[1]) * HeadDim : kRows, VOut = direct ? (float*)vCache + (nint)(tok[0] + tok[1]) * HeadDim : vRows, " +
                              "KvRowStride = direct ? HeadDim : KvDim, KvHeadStride = direct ? kvHeadStride : HeadDim"
                            : "Q = q, KOut = kCache, VOut = vCache");
            if (s.Rope != RopeKind.None)
            {
                init.Add("RopeTable = _rope!");
                init.Add("Tok = tok");
            }
            w.Line("var " + v + " = new " + body + " { " + string.Join(", ", init) + " };");
            w.Line("pool.For(Heads + 2 * KvHeads, ref " + v + ");");
            if (causal) w.Line("if (!direct) _kv.ScatterHeads(l, kRows, vRows, tok, " + ctx.Rows + ", KvHeads, HeadDim);");
        }

        private static WeightKind[] Kinds(QkvStep s) => new[] { s.Q.Weight.Kind, s.K.Weight.Kind, s.V.Weight.Kind };

        private static void Body(SourceWriter w, string name, QkvStep s, bool causal)
        {
            w.Line("/// <summary>Q, K and V in one pass, one head per work unit (query heads, then key heads, then value heads); q " + WeightKinds.Name(s.Q.Weight.Kind) +
                   ", k " + WeightKinds.Name(s.K.Weight.Kind) + ", v " + WeightKinds.Name(s.V.Weight.Kind) + ".");
            w.Line("/// Epilogue: " + Epilogue(s) + "; k and v written to KOut and VOut (the KV cache, or rows scattered into it after).</summary>");
            w.Line(ModelEmitter.GeneratedCodeAttribute);
            w.Open("private struct " + name + " : IRangeBody");
            if (s.QueryScale != 0f) w.Line("private const float QueryScale = " + F(s.QueryScale) + ";  // Q · scale after rope (scores are not scaled again)");
            w.Line("public byte* Wq, Wk, Wv;  // (QDim, Dim), (KvDim, Dim), (KvDim, Dim)" + (s.Q.Weight == s.K.Weight ? ": row ranges of attn_qkv" : ""));
            if (s.Q.Bias != null || s.K.Bias != null || s.V.Bias != null) w.Line("public float* Bq, Bk, Bv;  // (QDim), (KvDim), (KvDim)");
            MatMulCode.ActFields(w, Kinds(s));
            w.Line("public float* Q;          // (N, QDim) rotated queries");
            if (causal)
            {
                w.Line("public float* KOut;       // this chunk's keys: the head-major cache at its first cell, or (N, KvDim) rows to scatter");
                w.Line("public float* VOut;       // its values, as KOut");
                w.Line("public int KvRowStride;   // floats from a token's head to the next token's: HeadDim in the cache, KvDim in the rows");
                w.Line("public nint KvHeadStride; // floats from KV head g to g + 1: cells · HeadDim in the cache, HeadDim in the rows");
            }
            else
            {
                w.Line("public float* KOut;       // (N, KvDim) this chunk's keys: the cache");
                w.Line("public float* VOut;       // (N, KvDim) its values");
            }
            if (s.Rope != RopeKind.None)
            {
                w.Line("public RopeTable RopeTable; // cos/sin per (position, pair), RopeDims = " + I(s.RopeDims));
                w.Line("public int* Tok;          // (N, 2): token t's first cache cell and its position (Tok[2t + 1])");
            }
            w.Line();
            w.Open("public void Run(int start, int end)");
            w.Open("for (int unit = start; unit < end; unit++)");
            w.Open("if (unit < Heads)");
            w.Line("int r0 = unit * HeadDim;");
            MatMulCode.Rows(w, s.Q.Weight.Kind, "Wq", "r0", "HeadDim", s.Q.Cols, "Q + r0", "QDim");
            HeadEpilogue(w, "Q + (nint)t * QDim + r0", s.Q.Bias != null ? "Bq" : null, s.Rope, s.QueryScale != 0f);
            w.Close();
            w.Open("else if (unit < Heads + KvHeads)");
            string stride = causal ? "KvRowStride" : "KvDim";
            w.Line("int r0 = (unit - Heads) * HeadDim;");
            w.Line(causal ? "float* k0 = KOut + (unit - Heads) * KvHeadStride;" : "float* k0 = KOut + r0;");
            MatMulCode.Rows(w, s.K.Weight.Kind, "Wk", "r0", "HeadDim", s.K.Cols, "k0", stride);
            HeadEpilogue(w, "k0 + (nint)t * " + stride, s.K.Bias != null ? "Bk" : null, s.Rope, false);
            w.Close();
            w.Open("else");
            w.Line("int r0 = (unit - Heads - KvHeads) * HeadDim;");
            w.Line(causal ? "float* v0 = VOut + (unit - Heads - KvHeads) * KvHeadStride;" : "float* v0 = VOut + r0;");
            MatMulCode.Rows(w, s.V.Weight.Kind, "Wv", "r0", "HeadDim", s.V.Cols, "v0", stride);
            HeadEpilogue(w, "v0 + (nint)t * " + stride, s.V.Bias != null ? "Bv" : null, RopeKind.None, false);
            w.Close();
            w.Close();
            w.Close();
            w.Close();
        }

        private static void HeadEpilogue(SourceWriter w, string head, string? bias, RopeKind rope, bool scale)
        {
            if (bias is null && rope == RopeKind.None && !scale) return;
            w.Open("for (int t = 0; t < N; t++)");
            w.Line("float* h = " + head + ";");
            if (bias != null) w.Line("Vec.Add(h, " + bias + " + r0, h, HeadDim);");
            if (rope == RopeKind.Norm) w.Line("RopeTable.ApplyNorm(h, HeadDim, Tok[2 * t + 1]);");
            if (rope == RopeKind.Neox) w.Line("RopeTable.ApplyNeox(h, HeadDim, Tok[2 * t + 1]);");
            if (scale) w.Line("Vec.Scale(h, QueryScale, h, HeadDim);");
            w.Close();
        }

        private static string Epilogue(QkvStep s)
        {
            var parts = new List<string>();
            if (s.Q.Bias != null) parts.Add("+ bias");
            if (s.Rope != RopeKind.None) parts.Add("rope " + SpecNames.Of(s.Rope).ToUpperInvariant() + " on q and k over " + I(s.RopeDims) + " dims");
            if (s.QueryScale != 0f) parts.Add("q · " + F(s.QueryScale));
            return parts.Count == 0 ? "none" : string.Join(", ", parts);
        }

        public static string Describe(QkvStep s, ModelPlan p) =>
            "qkv: q|k|v = W · " + GateUpEmitter.In(s.Q.From) + " in one pass over " + I(p.QDim + 2 * p.KvDim) + " rows" + (s.Q.Weight == s.K.Weight ? " (fused attn_qkv)" : "") +
            ", epilogue " + Epilogue(s) + ", k and v into the KV cache [q " + StepEmitters.KernelName(s.Q.Weight.Kind) + "; k " +
            StepEmitters.KernelName(s.K.Weight.Kind) + "; v " + StepEmitters.KernelName(s.V.Weight.Kind) + "]";
    }
}
