using System;
using System.Collections.Generic;
using System.Globalization;
using Ingot.Generators.Model;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// Lowers a <see cref="ModelSpec"/> to a <see cref="ModelPlan"/>: checks the shapes are consistent, resolves
    /// each layer's weight types (overrides honored), picks a kernel per matmul from its quant type and lists the
    /// fused op sequence. Reports ING0002/0003/0004/0008/0010; never throws.
    /// </summary>
    public static class Planner
    {
        /// <summary>Tokens per prefill chunk: every activation buffer is sized for this many rows.</summary>
        public const int MaxBatch = 64;

        public static readonly string[] SupportedArchitectures = { "llama" };

        private static readonly string[] MatrixRoles = { "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down" };
        private static readonly string[] NormRoles = { "attn_norm", "ffn_norm", "output_norm" };

        public static Result<ModelPlan> Plan(ModelSpec spec, LocationInfo? where)
        {
            var diags = new List<DiagnosticInfo>();
            string n = spec.Name.Length > 0 ? spec.Name : "(unnamed)";
            void Shape(string message) => diags.Add(DiagnosticInfo.Create("ING0003", where, n, message));
            void Feature(string what) => diags.Add(DiagnosticInfo.Create("ING0008", where, n, what, spec.Architecture));
            string I(int v) => v.ToString(CultureInfo.InvariantCulture);

            if (Array.IndexOf(SupportedArchitectures, spec.Architecture) < 0)
            {
                return Result<ModelPlan>.Fail(DiagnosticInfo.Create("ING0002", where, n, spec.Architecture, string.Join(", ", SupportedArchitectures)));
            }

            var a = spec.Attention;
            int headDim = a.HeadDim;
            if (headDim == 0)
            {
                if (spec.Dim % a.Heads != 0) Shape("attention.heads (" + I(a.Heads) + ") does not divide dim (" + I(spec.Dim) + ") and attention.head_dim is absent");
                else headDim = spec.Dim / a.Heads;
            }
            if (a.Heads % a.KvHeads != 0) Shape("attention.kv_heads (" + I(a.KvHeads) + ") does not divide attention.heads (" + I(a.Heads) + ")");
            if (headDim % 2 != 0) Shape("attention.head_dim (" + I(headDim) + ") must be even for rotary embeddings");
            int ropeDims = spec.Rope.Dimensions == 0 ? headDim : spec.Rope.Dimensions;
            // llama.cpp's llama loader requires n_rot == head_dim; so do we.
            if (headDim > 0 && ropeDims != headDim) Shape("rope.dimensions (" + I(ropeDims) + ") must equal attention.head_dim (" + I(headDim) + ") for llama");
            // heads * head_dim may differ from dim (Mistral-Nemo-style decoupled heads); the projections carry the shapes.
            if (spec.Dim % 2 != 0) Shape("dim (" + I(spec.Dim) + ") must be even");

            if (spec.Norm.Kind != "rmsnorm") Feature("norm.kind '" + spec.Norm.Kind + "'");
            if (spec.Rope.Kind != "norm") Feature("rope.kind '" + spec.Rope.Kind + "'");
            if (spec.Rope.ScalingKind != "none" && !(spec.Rope.ScalingKind == "linear" && spec.Rope.ScalingFactor == 1f)) Feature("rope.scaling.kind '" + spec.Rope.ScalingKind + "'");
            if (spec.FfnKind != "swiglu") Feature("ffn.kind '" + spec.FfnKind + "'");
            if (a.QkvBias) Feature("attention.qkv_bias");
            if (a.LogitSoftcap != 0) Feature("attention.logit_softcap");
            if (spec.Output.FinalLogitSoftcap != 0) Feature("output.final_logit_softcap");
            if (spec.Output.LogitScale != 1f) Feature("output.logit_scale");
            // attention.sliding_window: llama.cpp's llama architecture ignores it (Mistral), so do we.

            if (diags.Count > 0) return Result<ModelPlan>.Fail(diags.ToArray());

            int qDim = a.Heads * headDim, kvDim = a.KvHeads * headDim;

            // Weight types: every role present and supported; overrides must name known roles.
            WeightKind Kind(string role, string? type, int rowLength, bool matrix)
            {
                if (type is null)
                {
                    diags.Add(DiagnosticInfo.Create("ING0006", where, n, "weights." + role));
                    return WeightKind.F32;
                }
                if (!matrix)
                {
                    if (type != "f32") diags.Add(DiagnosticInfo.Create("ING0004", where, n, role, type, "f32"));
                    return WeightKind.F32;
                }
                if (!WeightKinds.TryParse(type, out var k))
                {
                    diags.Add(DiagnosticInfo.Create("ING0004", where, n, role, type, SupportedMatrixTypes));
                    return WeightKind.F32;
                }
                int block = WeightKinds.BlockSize(k);
                if (rowLength % block != 0)
                {
                    diags.Add(DiagnosticInfo.Create("ING0010", where, n, role, type, I(rowLength), I(block)));
                }
                return k;
            }

            var w = spec.Weights;
            foreach (var role in NormRoles) Kind(role, w.Role(role), spec.Dim, matrix: false);
            if (spec.Rope.FreqFactors) Kind("rope_freqs", w.Role("rope_freqs") ?? "f32", headDim / 2, matrix: false);
            var tokenEmbd = Kind("token_embd", w.Role("token_embd"), spec.Dim, matrix: true);
            var output = spec.Output.Tied ? tokenEmbd : Kind("output", w.Role("output"), spec.Dim, matrix: true);
            foreach (var o in w.Layers)
            {
                if (Array.IndexOf(MatrixRoles, o.Role) < 0 && Array.IndexOf(NormRoles, o.Role) < 0)
                {
                    diags.Add(DiagnosticInfo.Create("ING0007", where, n, "weights.layers." + I(o.Layer) + "." + o.Role, "is not a per-layer weight role"));
                }
            }

            MatrixPlan M(int layer, string role, int rows, int cols)
            {
                string? type = w.ForLayer(layer, role);
                string label = w.Role(role) == type ? role : "blk." + I(layer) + "." + role;
                return new MatrixPlan(role, Kind(label, type, cols, matrix: true), rows, cols);
            }

            var kinds = new List<LayerKindPlan>();
            var kindLayers = new List<List<int>>();
            for (int l = 0; l < spec.Layers; l++)
            {
                foreach (var role in NormRoles)
                {
                    if (role != "output_norm") { var t = w.ForLayer(l, role); if (t != null && t != "f32") Kind("blk." + I(l) + "." + role, t, spec.Dim, matrix: false); }
                }
                var kind = new LayerKindPlan(
                    0, EquatableArray<int>.Empty,
                    M(l, "attn_q", qDim, spec.Dim), M(l, "attn_k", kvDim, spec.Dim), M(l, "attn_v", kvDim, spec.Dim),
                    M(l, "attn_output", spec.Dim, qDim),
                    M(l, "ffn_gate", spec.FfnDim, spec.Dim), M(l, "ffn_up", spec.FfnDim, spec.Dim), M(l, "ffn_down", spec.Dim, spec.FfnDim));
                int found = -1;
                for (int k = 0; k < kinds.Count; k++)
                {
                    if (kinds[k] == kind) { found = k; break; }
                }
                if (found < 0) { kinds.Add(kind); kindLayers.Add(new List<int>()); found = kinds.Count - 1; }
                kindLayers[found].Add(l);
                // Only the first layer of a kind reports type errors once; stop early on errors to keep the list short.
                if (diags.Count > 0) break;
            }
            if (diags.Count > 0) return Result<ModelPlan>.Fail(Distinct(diags));

            var kindPlans = new LayerKindPlan[kinds.Count];
            for (int k = 0; k < kinds.Count; k++)
            {
                kindPlans[k] = kinds[k] with { Index = k, Layers = new EquatableArray<int>(kindLayers[k].ToArray()) };
            }

            float scale = a.Scale != 0 ? a.Scale : (float)(1.0 / Math.Sqrt(headDim));
            var plan = new ModelPlan(
                spec, spec.Dim, spec.Layers, a.Heads, a.KvHeads, headDim, qDim, kvDim, a.Heads / a.KvHeads,
                spec.FfnDim, spec.VocabSize, spec.ContextLength, ropeDims, scale, spec.Norm.Epsilon, spec.Rope.Theta,
                spec.Rope.FreqFactors, spec.Output.Tied, MaxBatch, tokenEmbd, output,
                new EquatableArray<LayerKindPlan>(kindPlans),
                new EquatableArray<PlanOp>(Ops(spec, kindPlans, tokenEmbd, output, qDim, kvDim, headDim).ToArray()));
            return Result<ModelPlan>.Ok(plan);
        }

        private static DiagnosticInfo[] Distinct(List<DiagnosticInfo> diags)
        {
            var seen = new List<DiagnosticInfo>();
            foreach (var d in diags) if (!seen.Contains(d)) seen.Add(d);
            return seen.ToArray();
        }

        /// <summary>"f32, f16, bf16, q8_0, …": what ING0004 offers.</summary>
        public static readonly string SupportedMatrixTypes = string.Join(", ", Array.ConvertAll(WeightKinds.All, WeightKinds.Name));

        public static string KernelFor(WeightKind kind)
        {
            switch (kind)
            {
                case WeightKind.F32: return "Dot.F32 (f32 weights · f32 activations)";
                case WeightKind.F16: return "Dot.F16F16 (f16 weights · activations rounded to f16, f32 accumulation)";
                case WeightKind.BF16: return "VecDot.BF16BF16 (bf16 weights · activations rounded to bf16, f32 accumulation)";
                default:
                    return WeightKinds.Kernel(kind) + " (" + TypeName(kind) + " weights · activations quantized to " + WeightKinds.ActName(WeightKinds.Act(kind)) +
                           ", integer dot per block)";
            }
        }

        public static string TypeName(WeightKind kind) => WeightKinds.Name(kind);

        private static List<PlanOp> Ops(ModelSpec spec, LayerKindPlan[] kinds, WeightKind embd, WeightKind output, int qDim, int kvDim, int headDim)
        {
            string I(int v) => v.ToString(CultureInfo.InvariantCulture);
            var ops = new List<PlanOp>
            {
                new PlanOp("embed", "x[t] = token_embd row of token t (" + I(spec.Dim) + ")",
                    embd == WeightKind.F32 ? "row copy" : "Dequantize.Row(" + TypeName(embd) + ")"),
            };
            foreach (var k in kinds)
            {
                string layers = "layers " + string.Join(",", k.Layers);
                ops.Add(new PlanOp("attn_norm", layers + ": rmsnorm(x) * attn_norm, fused with preparing the activation for " +
                    Acts(k.Q.Kind, k.K.Kind, k.V.Kind), "generated RmsNorm + " + ActKernels(k.Q.Kind, k.K.Kind, k.V.Kind)));
                ops.Add(new PlanOp("qkv", layers + ": q|k|v = W_qkv · xn in one pass over " + I(qDim + 2 * kvDim) +
                    " rows (weight rows reused across the batch), RoPE in the epilogue, k and v written into the KV cache",
                    "q " + KernelFor(k.Q.Kind) + "; k " + KernelFor(k.K.Kind) + "; v " + KernelFor(k.V.Kind)));
                ops.Add(new PlanOp("attention", layers + ": causal attention over the cache, two-pass softmax in llama.cpp's float order, GQA: query head h reads kv head h / " +
                    I(spec.Attention.Heads / spec.Attention.KvHeads), "generated AttentionBody → AttentionGgml.Head (head_dim " + I(headDim) + ")"));
                ops.Add(new PlanOp("attn_output", layers + ": x += W_o · attn (residual add folded into the epilogue)", KernelFor(k.O.Kind)));
                ops.Add(new PlanOp("ffn_norm", layers + ": rmsnorm(x) * ffn_norm, fused with preparing the activation for " +
                    Acts(k.Gate.Kind, k.Up.Kind), "generated RmsNorm + " + ActKernels(k.Gate.Kind, k.Up.Kind)));
                ops.Add(new PlanOp("ffn_gate_up", layers + ": h = silu(W_gate · xn) * (W_up · xn) in one pass over " + I(spec.FfnDim) + " rows", "gate " + KernelFor(k.Gate.Kind) + "; up " + KernelFor(k.Up.Kind)));
                ops.Add(new PlanOp("ffn_down", layers + ": x += W_down · h (residual add folded into the epilogue)", KernelFor(k.Down.Kind)));
            }
            ops.Add(new PlanOp("output_norm", "rmsnorm(x) * output_norm for the rows whose logits are requested", "generated RmsNorm"));
            ops.Add(new PlanOp("output", "logits = " + (spec.Output.Tied ? "token_embd (tied)" : "output") + " · xn over " + I(spec.VocabSize) + " rows", KernelFor(output)));
            return ops;
        }

        private static string Acts(params WeightKind[] kinds)
        {
            var names = new List<string>();
            foreach (var k in kinds)
            {
                string s = TypeName(k);
                if (!names.Contains(s)) names.Add(s);
            }
            return string.Join(" + ", names) + " weights";
        }

        /// <summary>Activation conversions, in the order the generated row loop runs them.</summary>
        internal static readonly ActKind[] ConversionOrder = { ActKind.Q8_0, ActKind.Q8_1, ActKind.Q8_K, ActKind.BF16, ActKind.F16 };

        private static string ActKernels(params WeightKind[] kinds)
        {
            var parts = new List<string>();
            foreach (var a in ConversionOrder)
            {
                if (Array.Exists(kinds, k => WeightKinds.Act(k) == a)) parts.Add(ConversionName(a));
            }
            return parts.Count == 0 ? "no conversion" : string.Join(" + ", parts);
        }

        private static string ConversionName(ActKind a)
        {
            switch (a)
            {
                case ActKind.F16: return "f16 rounding";
                case ActKind.BF16: return "bf16 rounding";
                case ActKind.Q8_0: return "Quantize.RowQ8_0";
                case ActKind.Q8_1: return "Quantize.RowQ8_1";
                default: return "Quantize.RowQ8_K";
            }
        }
    }
}
