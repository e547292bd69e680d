using System.Collections.Generic;
using Ingot.Specs;

namespace Ingot.Generators.Planning
{
    /// <summary>
    /// Resolves the weights a lowering asks for: the tensor's type from the spec (layer overrides honoured), checked
    /// against what the generator compiles (ING0004/ING0010, ING0011 when the spec lacks the role).
    /// </summary>
    public abstract class LayerWeights
    {
        /// <summary>The stack the next weights belong to (T5's "enc" / "dec"); empty for a single-stack model and shared tensors.</summary>
        public string Stack { get; set; } = "";

        /// <summary>A matrix (rows × cols); <paramref name="layer"/> -1 for a global tensor.</summary>
        public abstract WeightRef Matrix(int layer, string name, int rows, int cols);

        /// <summary>A vector of <paramref name="cols"/> f32 values (norm weights, biases, rope factors).</summary>
        public abstract WeightRef Vector(int layer, string name, int cols);
    }

    /// <summary>The lowered graph of a model: ops before the first layer, each layer's ops, and the ops after the last.</summary>
    public sealed record LoweredGraph(EquatableArray<Op> Prologue, EquatableArray<EquatableArray<Op>> Layers, EquatableArray<Op> Epilogue);

    /// <summary>An encoder–decoder's two stacks: the encoder (non-causal, its output feeds the decoder's cross-attention) and the decoder.</summary>
    public sealed record StackedGraph(LoweredGraph Encoder, LoweredGraph Decoder);

    /// <summary>
    /// The block as the spec describes it, lowered to unfused ops in llama.cpp's order (golden/README items 13–21):
    /// embed (· scale, + token type row 0, + learned positions, then the embedding norm); per layer, pre-norm:
    /// norm → q/k/v (+ biases) → rope → Q pre-scale → attention → output projection (+ bias) → · residual scale →
    /// post-norm → residual add, then the same for the FFN (gated or plain, fused gate|up or not); a parallel residual
    /// keeps the attention output for the FFN's add. Post-norm (BERT): q/k/v read x itself and each residual add is
    /// followed by its norm (attn_output_norm, layer_output_norm). A decoder ends with the final norm → logits →
    /// · 1/logit_scale → soft-cap; an encoder (non-causal attention) ends with the last layer's x.
    /// </summary>
    public static class BlockLowering
    {
        public static LoweredGraph Lower(ModelSpec s, LayerWeights w)
        {
            int dim = s.Dim, headDim = s.ResolvedHeadDim;
            int qDim = s.Attention.Heads * headDim, kvDim = s.Attention.KvHeads * headDim, ffn = s.FfnDim;
            var norm = s.Norm;

            NormOp Norm(int layer, string name, Buf from, Buf to) => new NormOp(norm.Kind, w.Vector(layer, name + ".weight", dim),
                norm.Bias ? w.Vector(layer, name + ".bias", dim) : null, norm.Epsilon, from, to, dim);

            // ALBERT's factorized embedding: rows of the embedding size in Xn, normalized there, then projected to dim.
            int e = s.Embedding.Size > 0 ? s.Embedding.Size : dim;
            Buf embedded = e == dim ? Buf.X : Buf.Xn;
            var prologue = new List<Op>
            {
                new EmbedOp(w.Matrix(-1, "token_embd.weight", s.VocabSize, e), s.Embedding.Scale,
                    s.Embedding.Positions == PositionKind.Learned ? w.Matrix(-1, "position_embd.weight", s.ContextLength, e) : null,
                    s.Embedding.TokenTypes > 0 ? w.Matrix(-1, "token_types.weight", s.Embedding.TokenTypes, e) : null) { Target = embedded, Width = e == dim ? 0 : e },
            };
            if (s.Embedding.Norm)
            {
                prologue.Add(new NormOp(norm.Kind, w.Vector(-1, "token_embd_norm.weight", e), norm.Bias ? w.Vector(-1, "token_embd_norm.bias", e) : null, norm.Epsilon, embedded, embedded, e));
            }
            if (e != dim) prologue.Add(new LinearOp("embedding_proj", w.Matrix(-1, "token_embd_proj.weight", dim, e), 0, dim, w.Vector(-1, "token_embd_proj.bias", dim), Buf.Xn, Buf.X));
            bool post = s.Block.NormPosition == NormPosition.Post;
            Buf input = post ? Buf.X : Buf.Xn; // what the sublayers read

            var layers = new List<EquatableArray<Op>>();
            for (int l = 0; l < s.Layers; l++)
            {
                var ops = new List<Op>();
                if (!post) ops.Add(Norm(l, "attn_norm", Buf.X, Buf.Xn));
                var a = s.Attention;
                if (a.FusedQkv)
                {
                    var wqkv = w.Matrix(l, "attn_qkv.weight", qDim + 2 * kvDim, dim);
                    var bqkv = a.QkvBias ? w.Vector(l, "attn_qkv.bias", qDim + 2 * kvDim) : null;
                    ops.Add(new LinearOp("q", wqkv, 0, qDim, bqkv, input, Buf.Q));
                    ops.Add(new LinearOp("k", wqkv, qDim, kvDim, bqkv, input, Buf.K));
                    ops.Add(new LinearOp("v", wqkv, qDim + kvDim, kvDim, bqkv, input, Buf.V));
                }
                else
                {
                    ops.Add(Projection(w, l, "q", "attn_q", qDim, dim, a.QkvBias, input, Buf.Q));
                    ops.Add(Projection(w, l, "k", "attn_k", kvDim, dim, a.QkvBias, input, Buf.K));
                    ops.Add(Projection(w, l, "v", "attn_v", kvDim, dim, a.QkvBias, input, Buf.V));
                }
                if (s.Rope.Kind != RopeKind.None)
                {
                    int ropeDims = s.Rope.Dimensions == 0 ? headDim : s.Rope.Dimensions;
                    ops.Add(new RopeOp(Buf.Q, s.Rope.Kind, ropeDims));
                    ops.Add(new RopeOp(Buf.K, s.Rope.Kind, ropeDims));
                }
                if (a.ScaleQuery) ops.Add(new ScaleOp(Buf.Q, a.Scale));
                ops.Add(new AttentionOp(a.ScaleQuery ? 1f : a.Scale, a.LogitSoftcap, a.SlidingWindow, a.SlidingWindowLayers, a.Causal));
                ops.Add(Projection(w, l, "o", "attn_output", dim, qDim, a.OutputBias, Buf.Att, Buf.O));
                if (s.Block.ResidualScale != 1f) ops.Add(new ScaleOp(Buf.O, s.Block.ResidualScale));
                if (s.Block.PostAttentionNorm) ops.Add(Norm(l, "post_attention_norm", Buf.O, Buf.O));
                bool parallel = s.Block.Residual == ResidualKind.Parallel;
                if (!parallel) ops.Add(new AddOp(Buf.X, Buf.O, null));
                if (post) ops.Add(Norm(l, "attn_output_norm", Buf.X, Buf.X));

                if (!post) ops.Add(Norm(l, "ffn_norm", Buf.X, Buf.Xn));
                var f = s.Ffn;
                if (f.Gated && f.FusedGateUp)
                {
                    var wgu = w.Matrix(l, "ffn_up.weight", 2 * ffn, dim);
                    var bgu = f.Bias ? w.Vector(l, "ffn_up.bias", 2 * ffn) : null;
                    ops.Add(new LinearOp("gate", wgu, 0, ffn, bgu, input, Buf.Gate));
                    ops.Add(new LinearOp("up", wgu, ffn, ffn, bgu, input, Buf.Up));
                }
                else
                {
                    if (f.Gated) ops.Add(Projection(w, l, "gate", "ffn_gate", ffn, dim, f.Bias, input, Buf.Gate));
                    ops.Add(Projection(w, l, "up", "ffn_up", ffn, dim, f.Bias, input, Buf.Up));
                }
                ops.Add(new GluOp(f.Activation, f.Gated ? Buf.Gate : (Buf?)null, Buf.Up, Buf.Hb));
                ops.Add(Projection(w, l, "down", "ffn_down", dim, ffn, f.Bias, Buf.Hb, Buf.F));
                if (s.Block.ResidualScale != 1f) ops.Add(new ScaleOp(Buf.F, s.Block.ResidualScale));
                if (s.Block.PostFfnNorm) ops.Add(Norm(l, "post_ffw_norm", Buf.F, Buf.F));
                ops.Add(new AddOp(Buf.X, Buf.F, parallel ? Buf.O : (Buf?)null));
                if (post) ops.Add(Norm(l, "layer_output_norm", Buf.X, Buf.X));
                layers.Add(new EquatableArray<Op>(ops.ToArray()));
            }

            if (!s.Attention.Causal)
            {
                // An encoder's result is the last layer's x (pooling is the runtime's): no final norm, no logits. A rank
                // head (llama.cpp's rerankers, BERT's sequence classifier) reads the CLS row: scores = W₂ act(W₁ x₀ + b₁) + b₂,
                // one per label (a reranker has one); act is tanh (BERT's pooler) or relu (DistilBERT's pre_classifier). With
                // pooling none and labels, the head is a token classifier: scores = W₂ x_t + b₂ for every token t.
                var head = new List<Op>();
                int labels = s.Output.Labels;
                if (s.Output.Pooling == PoolingKind.Rank)
                {
                    head.Add(new LinearOp("pooler", w.Matrix(-1, "cls.weight", dim, dim), 0, dim, w.Vector(-1, "cls.bias", dim), Buf.X, Buf.T));
                    head.Add(new ActivationOp(Buf.T, s.Output.HeadActivation));
                    head.Add(new LinearOp("classifier", w.Matrix(-1, "cls.output.weight", labels, dim), 0, labels, w.Vector(-1, "cls.output.bias", labels), Buf.T, Buf.Logits));
                    head.Add(new LogitsOp(1f, 0f));
                }
                else if (labels > 0)
                {
                    // A token classifier (NER): the classifier on every token's row, no pooler.
                    head.Add(new LinearOp("classifier", w.Matrix(-1, "cls.output.weight", labels, dim), 0, labels, w.Vector(-1, "cls.output.bias", labels), Buf.X, Buf.Logits));
                    head.Add(new LogitsOp(1f, 0f));
                }
                return new LoweredGraph(new EquatableArray<Op>(prologue.ToArray()), new EquatableArray<EquatableArray<Op>>(layers.ToArray()), new EquatableArray<Op>(head.ToArray()));
            }
            var output = s.Output.Tied ? w.Matrix(-1, "token_embd.weight", s.VocabSize, dim) : w.Matrix(-1, "output.weight", s.VocabSize, dim);
            var epilogue = new List<Op>
            {
                Norm(-1, "output_norm", Buf.X, Buf.Xn),
                new LinearOp("output", output, 0, s.VocabSize, null, Buf.Xn, Buf.Logits),
                new LogitsOp(1f / s.Output.LogitScale, s.Output.FinalLogitSoftcap),
            };
            return new LoweredGraph(new EquatableArray<Op>(prologue.ToArray()), new EquatableArray<EquatableArray<Op>>(layers.ToArray()),
                new EquatableArray<Op>(epilogue.ToArray()));
        }

        private static LinearOp Projection(LayerWeights w, int layer, string name, string tensor, int rows, int cols, bool bias, Buf from, Buf to) =>
            new LinearOp(name, w.Matrix(layer, tensor + ".weight", rows, cols), 0, rows, bias ? w.Vector(layer, tensor + ".bias", rows) : null, from, to);
    }
}
