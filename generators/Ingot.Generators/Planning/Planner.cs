using System;
using System.Collections.Generic;
using System.Globalization;
using Ingot.Generators.Architectures;
using Ingot.Generators.Model;
using Ingot.Specs;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// Spec → <see cref="ModelPlan"/>: checks the shapes and the features (ING0002/0003/0008), lowers the spec through
    /// its family (<see cref="Architecture"/>) to ops while resolving every tensor's type (ING0004/0010/0011), runs the
    /// fusion passes, and groups layers with equal steps. Never throws.
    /// </summary>
    public static class Planner
    {
        /// <summary>Tokens per prefill chunk: every activation buffer is sized for this many rows.</summary>
        public const int MaxBatch = 128;

        /// <summary>Activation conversions, in the order the generated row loop runs them.</summary>
        internal static readonly ActKind[] ConversionOrder = { ActKind.Q8_0, ActKind.Q8_1, ActKind.Q8_K, ActKind.BF16, ActKind.F16, ActKind.Q8_0Lanes, ActKind.Q8_KTiles, ActKind.Q8_0Pairs };

        /// <summary>"f32, f16, bf16, q8_0, …": what ING0004 offers.</summary>
        public static readonly string SupportedMatrixTypes = string.Join(", ", Array.ConvertAll(WeightKinds.All, WeightKinds.Name));

        private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

        public static Result<ModelPlan> Plan(ModelSpec spec, LocationInfo? where)
        {
            var diags = new List<DiagnosticInfo>();
            string n = spec.Name.Length > 0 ? spec.Name : "(unnamed)";
            void Shape(string message) => diags.Add(DiagnosticInfo.Create("ING0003", where, n, message));
            void Feature(string what) => diags.Add(DiagnosticInfo.Create("ING0008", where, n, what, spec.Architecture));

            var arch = Architecture.Find(spec.Architecture);
            if (arch is null) return Result<ModelPlan>.Fail(DiagnosticInfo.Create("ING0002", where, n, spec.Architecture, Architecture.Names));

            var a = spec.Attention;
            int headDim = a.HeadDim;
            if (headDim == 0)
            {
                if (spec.Dim % a.Heads != 0) Shape("attention.heads (" + I(a.Heads) + ") does not divide dim (" + I(spec.Dim) + ") and attention.head_dim is absent");
                else headDim = spec.Dim / a.Heads;
            }
            if (a.Heads % a.KvHeads != 0) Shape("attention.kv_heads (" + I(a.KvHeads) + ") does not divide attention.heads (" + I(a.Heads) + ")");
            if (diags.Count > 0) return Result<ModelPlan>.Fail(Distinct(diags)); // the checks below need a head_dim
            int ropeDims = 0;
            if (spec.Rope.Kind != RopeKind.None)
            {
                ropeDims = spec.Rope.Dimensions == 0 ? headDim : spec.Rope.Dimensions;
                if (ropeDims % 2 != 0 || ropeDims > headDim) Shape("rope.dimensions (" + I(ropeDims) + ") must be even and at most attention.head_dim (" + I(headDim) + ")");
            }
            if (a.SlidingWindowLayers != WindowLayers.None && a.SlidingWindow == 0) Shape("attention.sliding_window_layers is '" + SpecNames.Of(a.SlidingWindowLayers) + "' but attention.sliding_window is 0");
            if (spec.Embedding.Positions == PositionKind.Learned && spec.ContextLength <= 0) Shape("learned positions need context_length (the rows of position_embd)");
            if (spec.Output.LogitScale == 0f) Shape("output.logit_scale must not be 0 (logits are divided by it)");
            if (spec.Output.Pooling == PoolingKind.Rank && spec.Output.Labels < 1) Shape("output.labels must be at least 1 for pooling 'rank' (the rows of cls.output)");
            if (spec.Ffn.Activation == Activation.Tanh) Feature("ffn.activation 'tanh' (a head's pooler activation, not an FFN's)");
            if (spec.Output.HeadActivation is not (Activation.Tanh or Activation.Relu)) Feature("output.head_activation '" + SpecNames.Of(spec.Output.HeadActivation) + "' (tanh or relu)");
            if (spec.Output.Pooling is not (PoolingKind.Rank or PoolingKind.None) && spec.Output.Labels != 0)
                Shape("output.labels (" + I(spec.Output.Labels) + ") with pooling '" + SpecNames.Of(spec.Output.Pooling) + "': a head is pooling 'rank' (sequence) or 'none' (every token)");
            if (a.Causal && spec.Output.Labels != 0) Feature("output.labels on a causal model (heads are an encoder's)");

            // What the emitters do not implement yet: one clear diagnostic each, never a failed publish.
            bool post = spec.Block.NormPosition == NormPosition.Post;
            if (post && (spec.Block.PostAttentionNorm || spec.Block.PostFfnNorm)) Feature("block.norm_position 'post' with post_attention_norm/post_ffn_norm");
            if (post && spec.Block.Residual == ResidualKind.Parallel) Feature("block.norm_position 'post' with a parallel residual");
            if (!a.Causal && a.SlidingWindowLayers != WindowLayers.None) Feature("a sliding window on non-causal attention");
            if (a.Causal && spec.Output.Pooling != PoolingKind.None) Feature("output.pooling '" + SpecNames.Of(spec.Output.Pooling) + "' on a causal model (pooling is an encoder's)");
            if (spec.Block.Residual == ResidualKind.Parallel && (spec.Block.PostAttentionNorm || spec.Block.PostFfnNorm)) Feature("a parallel residual with post-norms");
            if (spec.Rope.Scaling.Kind == RopeScalingKind.LongRope && !spec.Rope.FreqFactors && spec.Weights.Role("rope_factors_long") is null)
                Feature("rope.scaling 'longrope' without rope_factors_long/rope_factors_short weights");
            arch.Validate(spec, Shape, Feature);
            if (diags.Count > 0) return Result<ModelPlan>.Fail(Distinct(diags));

            var weights = new SpecWeights(spec, where, n, diags);
            var encoderGraph = arch.LowerEncoder(spec, weights);
            var graph = arch.Lower(spec, weights);
            var globals = new List<WeightRef>();
            if (spec.Rope.FreqFactors) globals.Add(weights.Vector(-1, "rope_freqs.weight", ropeDims / 2));
            if (spec.Rope.Scaling.Kind == RopeScalingKind.LongRope && !spec.Rope.FreqFactors)
            {
                globals.Add(weights.Vector(-1, "rope_factors_long.weight", ropeDims / 2));
                globals.Add(weights.Vector(-1, "rope_factors_short.weight", ropeDims / 2));
            }
            if (a.RelativeBuckets > 0 && !HasRelativeBias(graph)) Feature("attention.relative_buckets (T5's relative position bias) in a " + spec.Architecture + " layout");
            if (diags.Count == 0) weights.CheckUnused(); // after a missing role, the unread ones are its cascade
            if (diags.Count > 0) return Result<ModelPlan>.Fail(Distinct(diags));

            var plan = Build(spec, arch, graph, globals, headDim, ropeDims, a.Causal ? MaxBatch : spec.ContextLength, Feature);
            if (encoderGraph != null && plan != null)
            {
                // The encoder stack: the same shapes, non-causal, the whole input in one chunk; its output feeds CK/CV.
                var encoderSpec = spec with { Attention = spec.Attention with { Causal = false } };
                var encoder = Build(encoderSpec, arch, encoderGraph, new List<WeightRef>(), headDim, ropeDims, spec.ContextLength, Feature);
                plan = plan with { Encoder = encoder };
            }
            if (diags.Count > 0 || plan is null) return Result<ModelPlan>.Fail(Distinct(diags));
            return Result<ModelPlan>.Ok(plan);
        }

        private static bool HasRelativeBias(LoweredGraph g)
        {
            foreach (var layer in g.Layers)
                foreach (var op in layer)
                    if (op is AttentionOp { RelativeBias: not null }) return true;
            return false;
        }

        /// <summary>Fuses a lowered stack, groups its layers by equal steps and collects its global tensors.</summary>
        private static ModelPlan? Build(ModelSpec spec, Architecture arch, LoweredGraph graph, List<WeightRef> globals, int headDim, int ropeDims, int maxBatch, Action<string> feature)
        {
            var a = spec.Attention;
            bool failed = false;
            void Feature(string what) { failed = true; feature(what); }
            var prologue = FuseOrFail(graph.Prologue, Feature);
            var epilogue = FuseOrFail(graph.Epilogue, Feature);
            var kinds = new List<LayerKindPlan>();
            var kindLayers = new List<List<int>>();
            for (int l = 0; l < graph.Layers.Count; l++)
            {
                var steps = FuseOrFail(graph.Layers[l], Feature);
                int found = kinds.FindIndex(k => k.Steps == steps);
                if (found < 0)
                {
                    kinds.Add(new LayerKindPlan(kinds.Count, EquatableArray<int>.Empty, steps, LayerWeightsOf(graph.Layers[l])));
                    kindLayers.Add(new List<int>());
                    found = kinds.Count - 1;
                }
                kindLayers[found].Add(l);
                if (failed) return null;
            }
            if (failed) return null;
            for (int k = 0; k < kinds.Count; k++) kinds[k] = kinds[k] with { Layers = new EquatableArray<int>(kindLayers[k].ToArray()) };
            foreach (var op in graph.Prologue) AddWeights(op, globals, perLayer: false);
            foreach (var layer in graph.Layers) foreach (var op in layer) AddWeights(op, globals, perLayer: false); // a layer's shared tensor (T5's attn_rel_b)
            foreach (var op in graph.Epilogue) AddWeights(op, globals, perLayer: false);

            return new ModelPlan(
                spec, spec.Dim, spec.Layers, a.Heads, a.KvHeads, headDim, a.Heads * headDim, a.KvHeads * headDim, a.Heads / a.KvHeads,
                // An encoder's query sees every token of the input, so the whole input is one chunk: buffers for the context.
                spec.FfnDim, spec.VocabSize, spec.ContextLength, ropeDims, maxBatch,
                prologue, new EquatableArray<LayerKindPlan>(kinds.ToArray()), epilogue,
                new EquatableArray<WeightRef>(globals.ToArray()), EquatableArray.From(arch.Checks(spec)));
        }

        private static EquatableArray<Step> FuseOrFail(EquatableArray<Op> ops, Action<string> feature)
        {
            var steps = Fusion.Fuse(new List<Op>(ops), out string? leftover);
            if (leftover != null) feature("the operation '" + leftover + "' (no fused step implements it)");
            return new EquatableArray<Step>(steps.ToArray());
        }

        private static EquatableArray<WeightRef> LayerWeightsOf(EquatableArray<Op> ops)
        {
            var list = new List<WeightRef>();
            foreach (var op in ops) AddWeights(op, list, perLayer: true);
            return new EquatableArray<WeightRef>(list.ToArray());
        }

        private static void AddWeights(Op op, List<WeightRef> into, bool perLayer)
        {
            void Add(WeightRef? w)
            {
                if (w != null && w.PerLayer == perLayer && !into.Exists(x => x.Name == w.Name)) into.Add(w);
            }
            switch (op)
            {
                case EmbedOp e: Add(e.Tokens); Add(e.TokenTypes); Add(e.Positions); break;
                case AttentionOp at: Add(at.RelativeBias); break;
                case CrossKvOp c: Add(c.K.Weight); Add(c.V.Weight); break;
                case NormOp nm: Add(nm.Weight); Add(nm.Bias); break;
                case LinearOp l: Add(l.Weight); Add(l.Bias); break;
            }
        }

        private static DiagnosticInfo[] Distinct(List<DiagnosticInfo> diags)
        {
            var seen = new List<DiagnosticInfo>();
            foreach (var d in diags) if (!seen.Contains(d)) seen.Add(d);
            return seen.ToArray();
        }

        /// <summary>
        /// Tensor types from the spec's weights: matrices must be a type <see cref="WeightKinds"/> compiles with whole
        /// blocks per row, vectors f32; a tensor the layout needs but the spec does not list is ING0011; a spec role the
        /// layout never reads is ING0007.
        /// </summary>
        private sealed class SpecWeights : LayerWeights
        {
            private readonly ModelSpec _spec;
            private readonly LocationInfo? _where;
            private readonly string _name;
            private readonly List<DiagnosticInfo> _diags;
            private readonly HashSet<string> _used = new HashSet<string>(StringComparer.Ordinal);

            public SpecWeights(ModelSpec spec, LocationInfo? where, string name, List<DiagnosticInfo> diags)
            {
                _spec = spec; _where = where; _name = name; _diags = diags;
            }

            private string? TypeOf(int layer, string tensor, out string role, out string label)
            {
                role = tensor.EndsWith(".weight", StringComparison.Ordinal) ? tensor.Substring(0, tensor.Length - 7) : tensor;
                // A global read of one layer's tensor (T5's blk.0.attn_rel_b, shared by every layer) is that layer's role.
                if (layer < 0 && WeightsSpec.TryLayerRole(role, out int own, out string ownRole)) { layer = own; role = ownRole; }
                if (Stack.Length > 0) role = Stack + "." + role;
                _used.Add(role);
                string? type = layer < 0 ? _spec.Weights.Role(role) : _spec.Weights.ForLayer(layer, role);
                label = layer < 0 || _spec.Weights.Role(role) == type ? role : "blk." + I(layer) + "." + role;
                return type;
            }

            private void Report(string id, params string[] args)
            {
                var d = DiagnosticInfo.Create(id, _where, args);
                if (!_diags.Contains(d)) _diags.Add(d);
            }

            public override WeightRef Matrix(int layer, string name, int rows, int cols)
            {
                string? type = TypeOf(layer, name, out string role, out string label);
                var kind = WeightKind.F32;
                if (type is null) Report("ING0011", _name, role, _spec.Architecture);
                else if (!WeightKinds.TryParse(type, out kind)) Report("ING0004", _name, label, type, SupportedMatrixTypes);
                else if (cols % WeightKinds.BlockSize(kind) != 0) Report("ING0010", _name, label, type, I(cols), I(WeightKinds.BlockSize(kind)));
                return new WeightRef(name, layer >= 0, kind, rows, cols, Stack);
            }

            public override WeightRef Vector(int layer, string name, int cols)
            {
                // Biases are not weight roles of the spec (always f32 in GGUF); norm weights and rope factors are.
                if (name.EndsWith(".weight", StringComparison.Ordinal))
                {
                    string? type = TypeOf(layer, name, out string role, out string label);
                    if (type is null) Report("ING0011", _name, role, _spec.Architecture);
                    else if (type != "f32") Report("ING0004", _name, label, type, "f32");
                }
                return new WeightRef(name, layer >= 0, WeightKind.F32, 0, cols, Stack);
            }

            /// <summary>Spec roles (and per-layer overrides) the lowering never asked for: a spec of another layout.</summary>
            public void CheckUnused()
            {
                foreach (var r in _spec.Weights.Roles)
                {
                    if (!_used.Contains(r.Role)) Report("ING0007", _name, "weights." + r.Role, "is not a tensor of this " + _spec.Architecture + " layout");
                }
                foreach (var o in _spec.Weights.Layers)
                {
                    if (!_used.Contains(o.Role)) Report("ING0007", _name, "weights.layers." + I(o.Layer) + "." + o.Role, "is not a per-layer weight role");
                }
            }
        }
    }
}
