using System;
using System.Collections.Generic;
using Ingot.Generators.Emit;
using Ingot.Generators.Planning;
using Ingot.Specs;

namespace Ingot.Generators.Architectures
{
    /// <summary>
    /// T5 (llama.cpp's t5 encoder and decoder graphs, golden/README item 22): two pre-RMSNorm stacks, enc.* and dec.*,
    /// sharing token_embd. No positions but a relative position bias from layer 0's attn_rel_b, added to the raw scores
    /// (bidirectional buckets in the encoder, causal in the decoder); no 1/sqrt(d) scaling; attention output attn_o.
    /// The encoder ends with enc.output_norm. Each decoder layer: self-attention, then cross-attention (cross_attn_norm,
    /// cross_attn_q on x, cross_attn_k/v on the encoder's output, no bias, no scale), then the FFN — gated GELU when
    /// the encoder has ffn_gate, else ReLU — and dec.output_norm → output (or token_embd when tied).
    /// </summary>
    public sealed class T5 : Architecture
    {
        public override string Name => "t5";

        public override void Validate(ModelSpec spec, Action<string> shape, Action<string> feature)
        {
            if (spec.Attention.RelativeBuckets <= 0) shape("attention.relative_buckets must be positive for t5");
            if (spec.Norm.Kind != NormKind.RmsNorm || spec.Norm.Bias) feature("t5 with a norm other than RMSNorm without bias");
            if (spec.Rope.Kind != RopeKind.None || spec.Embedding.Positions != PositionKind.None) feature("t5 with rope or learned positions");
            if (!spec.Attention.Causal) feature("attention.causal false on t5 (the spec describes its causal decoder)");
            if (spec.Attention.FusedQkv || spec.Attention.QkvBias || spec.Attention.OutputBias || spec.Ffn.Bias || spec.Ffn.FusedGateUp)
                feature("t5 with fused matrices or biases");
        }

        public override IEnumerable<MetadataCheck> Checks(ModelSpec spec)
        {
            yield return new MetadataCheck("t5.attention.relative_buckets_count", MetadataKind.Int, Literals.I(spec.Attention.RelativeBuckets), true, null);
        }

        public override LoweredGraph? LowerEncoder(ModelSpec s, LayerWeights w)
        {
            w.Stack = "";
            var prologue = new List<Op> { new EmbedOp(w.Matrix(-1, "token_embd.weight", s.VocabSize, s.Dim), 1f, null) };
            w.Stack = "enc";
            var relB = w.Matrix(-1, "blk.0.attn_rel_b.weight", s.Attention.RelativeBuckets, s.Attention.Heads);
            var layers = new List<EquatableArray<Op>>();
            for (int l = 0; l < s.Layers; l++)
            {
                var ops = new List<Op>();
                SelfAttention(s, w, l, relB, causal: false, ops);
                Ffn(s, w, l, ops);
                layers.Add(new EquatableArray<Op>(ops.ToArray()));
            }
            var epilogue = new List<Op> { Norm(s, w, -1, "output_norm", Buf.X, Buf.X) };
            w.Stack = "";
            return new LoweredGraph(new EquatableArray<Op>(prologue.ToArray()), new EquatableArray<EquatableArray<Op>>(layers.ToArray()), new EquatableArray<Op>(epilogue.ToArray()));
        }

        public override LoweredGraph Lower(ModelSpec s, LayerWeights w)
        {
            int dim = s.Dim, qDim = s.Attention.Heads * s.ResolvedHeadDim, kvDim = s.Attention.KvHeads * s.ResolvedHeadDim;
            w.Stack = "";
            var prologue = new List<Op> { new EmbedOp(w.Matrix(-1, "token_embd.weight", s.VocabSize, dim), 1f, null) };
            w.Stack = "dec";
            var relB = w.Matrix(-1, "blk.0.attn_rel_b.weight", s.Attention.RelativeBuckets, s.Attention.Heads);
            var layers = new List<EquatableArray<Op>>();
            for (int l = 0; l < s.Layers; l++)
            {
                var ops = new List<Op>
                {
                    new CrossKvOp(new LinearOp("cross_k", w.Matrix(l, "cross_attn_k.weight", kvDim, dim), 0, kvDim, null, Buf.Enc, Buf.CK),
                                  new LinearOp("cross_v", w.Matrix(l, "cross_attn_v.weight", kvDim, dim), 0, kvDim, null, Buf.Enc, Buf.CV)),
                };
                SelfAttention(s, w, l, relB, causal: true, ops);
                ops.Add(Norm(s, w, l, "cross_attn_norm", Buf.X, Buf.Xn));
                ops.Add(new LinearOp("cross_q", w.Matrix(l, "cross_attn_q.weight", qDim, dim), 0, qDim, null, Buf.Xn, Buf.Q));
                ops.Add(new AttentionOp(1f, 0f, 0, WindowLayers.None, Causal: false) { Cross = true });
                ops.Add(new LinearOp("cross_o", w.Matrix(l, "cross_attn_o.weight", dim, qDim), 0, dim, null, Buf.Att, Buf.O));
                ops.Add(new AddOp(Buf.X, Buf.O, null));
                Ffn(s, w, l, ops);
                layers.Add(new EquatableArray<Op>(ops.ToArray()));
            }
            var epilogue = new List<Op> { Norm(s, w, -1, "output_norm", Buf.X, Buf.Xn) };
            w.Stack = "";
            var output = s.Output.Tied ? w.Matrix(-1, "token_embd.weight", s.VocabSize, dim) : w.Matrix(-1, "output.weight", s.VocabSize, dim);
            epilogue.Add(new LinearOp("output", output, 0, s.VocabSize, null, Buf.Xn, Buf.Logits));
            epilogue.Add(new LogitsOp(1f, 0f));
            return new LoweredGraph(new EquatableArray<Op>(prologue.ToArray()), new EquatableArray<EquatableArray<Op>>(layers.ToArray()), new EquatableArray<Op>(epilogue.ToArray()));
        }

        private static NormOp Norm(ModelSpec s, LayerWeights w, int layer, string name, Buf from, Buf to) =>
            new NormOp(NormKind.RmsNorm, w.Vector(layer, name + ".weight", s.Dim), null, s.Norm.Epsilon, from, to, s.Dim);

        private static void SelfAttention(ModelSpec s, LayerWeights w, int l, WeightRef relB, bool causal, List<Op> ops)
        {
            int dim = s.Dim, qDim = s.Attention.Heads * s.ResolvedHeadDim, kvDim = s.Attention.KvHeads * s.ResolvedHeadDim;
            ops.Add(Norm(s, w, l, "attn_norm", Buf.X, Buf.Xn));
            ops.Add(new LinearOp("q", w.Matrix(l, "attn_q.weight", qDim, dim), 0, qDim, null, Buf.Xn, Buf.Q));
            ops.Add(new LinearOp("k", w.Matrix(l, "attn_k.weight", kvDim, dim), 0, kvDim, null, Buf.Xn, Buf.K));
            ops.Add(new LinearOp("v", w.Matrix(l, "attn_v.weight", kvDim, dim), 0, kvDim, null, Buf.Xn, Buf.V));
            // No 1/sqrt(d): T5 folds it into its weights.
            ops.Add(new AttentionOp(1f, 0f, 0, WindowLayers.None, causal) { RelativeBias = relB, RelativeBuckets = s.Attention.RelativeBuckets });
            ops.Add(new LinearOp("o", w.Matrix(l, "attn_o.weight", dim, qDim), 0, dim, null, Buf.Att, Buf.O));
            ops.Add(new AddOp(Buf.X, Buf.O, null));
        }

        /// <summary>Gated GELU (Flan-T5) when the spec's FFN is gated, else ReLU; no biases.</summary>
        private static void Ffn(ModelSpec s, LayerWeights w, int l, List<Op> ops)
        {
            int dim = s.Dim, ffn = s.FfnDim;
            ops.Add(Norm(s, w, l, "ffn_norm", Buf.X, Buf.Xn));
            if (s.Ffn.Gated) ops.Add(new LinearOp("gate", w.Matrix(l, "ffn_gate.weight", ffn, dim), 0, ffn, null, Buf.Xn, Buf.Gate));
            ops.Add(new LinearOp("up", w.Matrix(l, "ffn_up.weight", ffn, dim), 0, ffn, null, Buf.Xn, Buf.Up));
            ops.Add(new GluOp(s.Ffn.Activation, s.Ffn.Gated ? Buf.Gate : (Buf?)null, Buf.Up, Buf.Hb));
            ops.Add(new LinearOp("down", w.Matrix(l, "ffn_down.weight", dim, ffn), 0, dim, null, Buf.Hb, Buf.F));
            ops.Add(new AddOp(Buf.X, Buf.F, null));
        }
    }
}
