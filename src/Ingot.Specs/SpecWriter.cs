using System;
using System.Globalization;
using System.Text;

namespace Ingot.Specs
{
    /// <summary>
    /// <see cref="ModelSpec"/> → modelspecs/NAME.json in one canonical form: every key written, in the fixed order below,
    /// 2-space indent, "\n" line ends and a final newline, floats as their shortest round-trip invariant form
    /// ("1e-05", "0.35355338", "10000") so they read back bit-identical.
    /// </summary>
    public static class SpecWriter
    {
        /// <summary>The top-level keys, in writing order (the parser rejects any other).</summary>
        public static readonly string[] TopLevelKeys =
        {
            "schema", "name", "architecture", "vocab_size", "dim", "layers", "ffn_dim", "context_length",
            "embedding", "attention", "norm", "block", "rope", "ffn", "output", "tokenizer", "weights",
        };

        public static string Write(ModelSpec s)
        {
            var w = new Writer();
            w.Open(null);
            w.Int("schema", s.Schema);
            w.Str("name", s.Name);
            w.Str("architecture", s.Architecture);
            w.Int("vocab_size", s.VocabSize);
            w.Int("dim", s.Dim);
            w.Int("layers", s.Layers);
            w.Int("ffn_dim", s.FfnDim);
            w.Int("context_length", s.ContextLength);

            w.Open("embedding");
            w.Float("scale", s.Embedding.Scale);
            w.Str("positions", SpecNames.Of(s.Embedding.Positions));
            w.Int("token_types", s.Embedding.TokenTypes);
            w.Bool("norm", s.Embedding.Norm);
            w.Int("size", s.Embedding.Size);
            w.Close();

            var a = s.Attention;
            w.Open("attention");
            w.Int("heads", a.Heads);
            w.Int("kv_heads", a.KvHeads);
            w.Int("head_dim", a.HeadDim);
            w.Bool("causal", a.Causal);
            w.Bool("fused_qkv", a.FusedQkv);
            w.Bool("qkv_bias", a.QkvBias);
            w.Bool("output_bias", a.OutputBias);
            w.Float("scale", a.Scale);
            w.Bool("scale_query", a.ScaleQuery);
            w.Float("logit_softcap", a.LogitSoftcap);
            w.Int("sliding_window", a.SlidingWindow);
            w.Str("sliding_window_layers", SpecNames.Of(a.SlidingWindowLayers));
            w.Int("relative_buckets", a.RelativeBuckets);
            w.Close();

            w.Open("norm");
            w.Str("kind", SpecNames.Of(s.Norm.Kind));
            w.Float("epsilon", s.Norm.Epsilon);
            w.Bool("bias", s.Norm.Bias);
            w.Close();

            var b = s.Block;
            w.Open("block");
            w.Str("norm_position", SpecNames.Of(b.NormPosition));
            w.Str("residual", SpecNames.Of(b.Residual));
            w.Bool("post_attention_norm", b.PostAttentionNorm);
            w.Bool("post_ffn_norm", b.PostFfnNorm);
            w.Float("residual_scale", b.ResidualScale);
            w.Bool("shared_layers", b.SharedLayers);
            w.Close();

            var r = s.Rope;
            w.Open("rope");
            w.Str("kind", SpecNames.Of(r.Kind));
            w.Float("theta", r.Theta);
            w.Int("dimensions", r.Dimensions);
            w.Bool("freq_factors", r.FreqFactors);
            w.Open("scaling");
            w.Str("kind", SpecNames.Of(r.Scaling.Kind));
            w.Float("factor", r.Scaling.Factor);
            w.Int("original_context", r.Scaling.OriginalContext);
            w.Float("attn_factor", r.Scaling.AttnFactor);
            w.Float("beta_fast", r.Scaling.BetaFast);
            w.Float("beta_slow", r.Scaling.BetaSlow);
            w.Close();
            w.Close();

            w.Open("ffn");
            w.Bool("gated", s.Ffn.Gated);
            w.Str("activation", SpecNames.Of(s.Ffn.Activation));
            w.Bool("fused_gate_up", s.Ffn.FusedGateUp);
            w.Bool("bias", s.Ffn.Bias);
            w.Close();

            w.Open("output");
            w.Bool("tied", s.Output.Tied);
            w.Float("final_logit_softcap", s.Output.FinalLogitSoftcap);
            w.Float("logit_scale", s.Output.LogitScale);
            w.Str("pooling", SpecNames.Of(s.Output.Pooling));
            w.Int("labels", s.Output.Labels);
            w.Str("head_activation", SpecNames.Of(s.Output.HeadActivation));
            w.Close();

            w.Open("tokenizer");
            w.Str("kind", s.Tokenizer.Kind);
            w.Int("bos", s.Tokenizer.Bos);
            w.Int("eos", s.Tokenizer.Eos);
            w.Bool("add_bos", s.Tokenizer.AddBos);
            w.Bool("add_eos", s.Tokenizer.AddEos);
            w.Close();

            w.Open("weights");
            foreach (var role in s.Weights.Roles) w.Str(role.Role, role.Type);
            if (s.Weights.Layers.Count > 0)
            {
                w.Open("layers");
                int open = -1;
                foreach (var o in s.Weights.Layers)
                {
                    if (o.Layer != open)
                    {
                        if (open >= 0) w.Close();
                        w.Open(o.Layer.ToString(CultureInfo.InvariantCulture));
                        open = o.Layer;
                    }
                    w.Str(o.Role, o.Type);
                }
                if (open >= 0) w.Close();
                w.Close();
            }
            w.Close();
            w.Close();
            return w.ToString();
        }

        /// <summary>Shortest round-trip float, invariant, lowercase exponent ("1e-05"). NaN and infinities are not valid in a spec.</summary>
        public static string FormatFloat(float value)
        {
            if (float.IsNaN(value) || float.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), "spec floats must be finite");
            return value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
        }

        /// <summary>Indented JSON with commas placed as members follow each other.</summary>
        private sealed class Writer
        {
            private readonly StringBuilder _sb = new StringBuilder();
            private int _depth;
            private bool _first = true;

            private void Key(string? key)
            {
                if (_depth > 0)
                {
                    if (!_first) _sb.Append(',');
                    _sb.Append('\n').Append(' ', 2 * _depth);
                }
                if (key != null) _sb.Append(Quote(key)).Append(": ");
                _first = false;
            }

            public void Open(string? key)
            {
                Key(key);
                _sb.Append('{');
                _depth++;
                _first = true;
            }

            public void Close()
            {
                _depth--;
                if (!_first) _sb.Append('\n').Append(' ', 2 * _depth);
                _sb.Append('}');
                _first = false;
            }

            public void Int(string key, int v) { Key(key); _sb.Append(v.ToString(CultureInfo.InvariantCulture)); }
            public void Float(string key, float v) { Key(key); _sb.Append(FormatFloat(v)); }
            public void Bool(string key, bool v) { Key(key); _sb.Append(v ? "true" : "false"); }
            public void Str(string key, string v) { Key(key); _sb.Append(Quote(v)); }

            public override string ToString() => _sb.ToString() + "\n";

            private static string Quote(string s) => Grammars.JsonText.Quote(s);
        }
    }
}
