using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Gemma 2: Gemma plus RMSNorms on the attention and FFN outputs before each residual add, scores soft-capped
/// (attn_logit_softcapping, default 50) and logits soft-capped (final_logit_softcapping, default 30), and a sliding
/// window (default 4096) on even layers. llama.cpp picks the query scale from the layer count (its model type): 46
/// layers (27B) use 1/sqrt(dim / heads), 26 and 42 use 1/sqrt(head_dim); it aborts on any other count, where we use
/// 1/sqrt(head_dim) (what HF's query_pre_attn_scalar is for the 2B and 9B models).
/// <para>
/// Hugging Face (Gemma2ForCausalLM; convert_hf_to_gguf's Gemma2Model): Gemma's conventions plus
/// attn_logit_softcapping, final_logit_softcapping (null = off, written as 0) and sliding_window, always written;
/// post_attention_layernorm → post_attention_norm, pre_feedforward_layernorm → ffn_norm, post_feedforward_layernorm →
/// post_ffw_norm. A query_pre_attn_scalar other than the scale llama.cpp derives is refused.
/// </para>
/// </summary>
public sealed class Gemma2Mapping : ArchitectureMapping
{
    public override string Name => "gemma2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => Apply(s, f.GetInt32("gemma2.attention.sliding_window", 4096),
        f.GetFloat("gemma2.attn_logit_softcapping", 50f), f.GetFloat("gemma2.final_logit_softcapping", 30f));

    /// <summary>Gemma's conventions plus Gemma 2's: post-norms, the query scale, the soft-caps, a window on even layers.</summary>
    private static ModelSpec Apply(ModelSpec s, int window, float attnSoftcap, float finalSoftcap)
    {
        s = GemmaMapping.Apply(s);
        return s with
        {
            Attention = s.Attention with
            {
                Scale = 1f / MathF.Sqrt(QueryScalar(s)),
                LogitSoftcap = attnSoftcap,
                SlidingWindow = window,
                SlidingWindowLayers = window > 0 ? WindowLayers.Even : WindowLayers.None,
            },
            Block = s.Block with { PostAttentionNorm = true, PostFfnNorm = true },
            Output = s.Output with { FinalLogitSoftcap = finalSoftcap },
        };
    }

    /// <summary>
    /// Gemma 2 with llama.cpp c392e50's limits: 26, 42 or 46 layers (its model type; any other count aborts at graph
    /// build), a window (default 4096) and both soft-caps (defaults 50 and 30) positive (it always applies them).
    /// </summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        if (s.Layers is not (26 or 42 or 46)) throw SynthError($"needs 26, 42 or 46 layers, not {s.Layers}: llama.cpp c392e50 aborts on any other count");
        int window = o.Window ?? 4096;
        float attnSoftcap = o.Softcaps.Attention ?? 50f, finalSoftcap = o.Softcaps.Final ?? 30f;
        if (window <= 0 || attnSoftcap <= 0 || finalSoftcap <= 0) throw SynthError("needs a positive --window, --attn-softcap and --final-softcap: llama.cpp always applies them");
        return Apply(s, window, attnSoftcap, finalSoftcap);
    }

    /// <summary>The denominator of llama.cpp's query scale: dim / heads for the 46-layer 27B model, else head_dim.</summary>
    private static int QueryScalar(ModelSpec s) => s.Layers == 46 ? s.Dim / s.Attention.Heads : s.ResolvedHeadDim;

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        GemmaMapping.WriteHeadDim(Name, s, w);
        w.Set("gemma2.attention.sliding_window", (uint)s.Attention.SlidingWindow);
        w.Set("gemma2.attn_logit_softcapping", s.Attention.LogitSoftcap);
        w.Set("gemma2.final_logit_softcapping", s.Output.FinalLogitSoftcap);
    }

    internal override string[] HfModelTypes => ["gemma2"];

    // transformers' Gemma2Config
    internal override string HfDefaults => """
        {"max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": true,
         "query_pre_attn_scalar": 256, "sliding_window": 4096, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0}
        """;

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        var s = GemmaMapping.FromGemmaConfig(this, c);
        if (c.Int("query_pre_attn_scalar") != QueryScalar(s))
            throw c.Error("query_pre_attn_scalar", $"{c.Int("query_pre_attn_scalar")} cannot be expressed: llama.cpp scales queries by 1/sqrt({QueryScalar(s)}) for {s.Layers} layers");
        return s with
        {
            Attention = s.Attention with
            {
                LogitSoftcap = c.Float("attn_logit_softcapping", 0f),
                SlidingWindow = c.Int("sliding_window"),
                SlidingWindowLayers = WindowLayers.Even,
            },
            Block = s.Block with { PostAttentionNorm = true, PostFfnNorm = true },
            Output = s.Output with { FinalLogitSoftcap = c.Float("final_logit_softcapping", 0f) },
        };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck)
    {
        var list = LlamaStyleTensors(s, ropePairs: false, new HfLayerNames { FfnNorm = "pre_feedforward_layernorm" });
        for (int l = 0; l < s.Layers; l++)
        {
            list.AddRange(HfNorm(s, $"blk.{l}.post_attention_norm", $"model.layers.{l}.post_attention_layernorm"));
            list.AddRange(HfNorm(s, $"blk.{l}.post_ffw_norm", $"model.layers.{l}.post_feedforward_layernorm"));
        }
        return GemmaMapping.PlusOneNorms(list);
    }

    internal override bool HfDrops(string name, ModelSpec s) => name == "lm_head.weight" || base.HfDrops(name, s);

    internal override bool? HfAddSpacePrefix => false;
}
