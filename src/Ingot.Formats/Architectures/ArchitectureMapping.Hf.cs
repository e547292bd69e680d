using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// The Hugging Face side of a family, following llama.cpp's convert_hf_to_gguf: which config.json model_type values
/// it imports, how config.json fields become the spec fields a GGUF stores, which HF tensor becomes which GGUF
/// tensor and how its rows move. <see cref="HfImporter"/> runs it: config → spec fields → GGUF metadata
/// (<see cref="WriteMetadata"/>) + tensor table → the final spec read back through <see cref="FromGguf"/>, so the
/// family's conventions (rope layout, activation, scales) live in one place and an HF import and the GGUF it
/// writes can never describe different models.
/// </summary>
public abstract partial class ArchitectureMapping
{
    /// <summary>config.json model_type values this family imports; empty = no Hugging Face import.</summary>
    internal virtual string[] HfModelTypes => [];

    /// <summary>The family's transformers config-class defaults for keys a config.json may leave out (a JSON object).</summary>
    internal virtual string HfDefaults => "{}";

    /// <summary>
    /// config.json → the spec fields GGUF metadata stores (dimensions, norm, rope, the family's scalars) and those that
    /// decide which tensors exist (biases, fused matrices, tied output, rope_freqs). A config feature the spec cannot
    /// express is one line naming config.json and the key.
    /// </summary>
    internal virtual ModelSpec FromHfConfig(HfConfig c) => throw c.Error("model_type", $"'{Name}' has no Hugging Face mapping");

    /// <summary>The GGUF tensors in GGUF order, each with its HF source and layout.</summary>
    internal virtual IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) => [];

    /// <summary>A checkpoint tensor name as <see cref="HfTensors"/> names it (GPT-2's optional "transformer." prefix, ERNIE's "ernie.").</summary>
    internal virtual string HfName(string name) => name;

    /// <summary>Checkpoint tensors the converter drops: rotary buffers, and lm_head when the output is tied.</summary>
    internal virtual bool HfDrops(string name, ModelSpec s) =>
        name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || s.Output.Tied && name == "lm_head.weight";

    /// <summary>Metadata config.json states beyond the spec (a classifier's label names), written after the spec's own.</summary>
    internal virtual void HfMetadata(HfConfig c, GgufWriter w) { }

    /// <summary>tokenizer.ggml.add_space_prefix the converter fixes for the family (Gemma: false); null = tokenizer_config.json's add_prefix_space.</summary>
    internal virtual bool? HfAddSpacePrefix => null;

    internal static ArchitectureMapping? ForHfModelType(string modelType) => All.FirstOrDefault(m => m.HfModelTypes.Contains(modelType));

    internal static IEnumerable<string> HfModelTypeNames => All.SelectMany(m => m.HfModelTypes);

    /// <summary>
    /// What every decoder's config.json states, under the names convert_hf_to_gguf's find_hparam tries:
    /// hidden_size|n_embd, num_hidden_layers|n_layer, intermediate_size|n_inner, num_attention_heads|n_head,
    /// num_key_value_heads (default: heads), head_dim (default: hidden / heads), max_position_embeddings|n_ctx|n_positions,
    /// vocab_size, rms_norm_eps (RMSNorm) or layer_norm_eps|layer_norm_epsilon|norm_epsilon (LayerNorm with bias),
    /// rope_theta, rope_scaling (see <see cref="HfRopeScaling"/>), tie_word_embeddings.
    /// </summary>
    internal ModelSpec HfDecoder(HfConfig c, params string[] ropeScalings)
    {
        int dim = Positive(c, "hidden_size", "n_embd"), heads = Positive(c, "num_attention_heads", "n_head");
        int kvHeads = c.Int("num_key_value_heads", heads);
        if (kvHeads <= 0 || heads % kvHeads != 0) throw c.Error("num_key_value_heads", $"{kvHeads} does not divide num_attention_heads {heads}");
        int headDim = c.OptionalInt("head_dim") ?? (dim % heads == 0 ? dim / heads : throw c.Error("num_attention_heads", $"{heads} does not divide hidden_size {dim} and there is no head_dim"));
        if (headDim <= 0) throw c.Error("head_dim", $"{headDim} must be positive");
        var norm = c.OptionalFloat("rms_norm_eps") is { } rms ? new NormSpec { Kind = NormKind.RmsNorm, Epsilon = rms }
            : c.OptionalFloat("layer_norm_eps", "layer_norm_epsilon", "norm_epsilon") is { } ln ? new NormSpec { Kind = NormKind.LayerNorm, Epsilon = ln, Bias = true }
            : throw c.Error("rms_norm_eps", "missing (and no layer_norm_eps either): the norm is unknown");
        return new ModelSpec
        {
            Architecture = Name,
            VocabSize = Positive(c, "vocab_size"),
            Dim = dim,
            Layers = Positive(c, "num_hidden_layers", "n_layer"),
            FfnDim = Positive(c, "intermediate_size", "n_inner"),
            ContextLength = Positive(c, "max_position_embeddings", "n_ctx", "n_positions"),
            Attention = new AttentionSpec { Heads = heads, KvHeads = kvHeads, HeadDim = headDim },
            Norm = norm,
            Rope = new RopeSpec { Theta = c.Float("rope_theta", 10000f), Dimensions = headDim, Scaling = HfRopeScaling(c, ropeScalings) },
            Output = new OutputSpec { Tied = c.Bool("tie_word_embeddings", false) },
        };
    }

    private static int Positive(HfConfig c, params string[] keys)
    {
        int v = c.Int(keys);
        return v > 0 ? v : throw c.Error(c.FirstPresent(keys)!, $"{v} must be positive");
    }

    /// <summary>rope_scaling's kind (rope_type, or the older type), lower-case; "none" when absent.</summary>
    internal static string HfRopeScalingKind(HfConfig c) =>
        c.Object("rope_scaling") is { } rs ? (rs.String("rope_type") ?? rs.String("type") ?? "default").ToLowerInvariant() : "none";

    /// <summary>
    /// rope_scaling → the spec's scaling, for the kinds the family accepts (<paramref name="accepted"/>; default
    /// linear and yarn, which every llama.cpp family reads from the generic rope.scaling.* keys). linear: factor.
    /// yarn: factor and original_max_position_embeddings (ggml's own attention factor and betas 32/1 only). A kind the
    /// family handles itself (llama3, longrope) gives none here. Anything else is one line naming the key.
    /// </summary>
    internal static RopeScalingSpec HfRopeScaling(HfConfig c, string[] accepted)
    {
        if (accepted.Length == 0) accepted = ["linear", "yarn"];
        string kind = HfRopeScalingKind(c);
        if (kind is "none" or "default") return new RopeScalingSpec();
        var rs = c.Object("rope_scaling")!;
        string key = rs.Has("rope_type") ? "rope_type" : "type";
        if (!accepted.Contains(kind)) throw rs.Error(key, $"'{kind}' cannot be expressed for {c.String("model_type")} (supported: {string.Join(", ", accepted)})");
        switch (kind)
        {
            case "linear":
                return new RopeScalingSpec { Kind = RopeScalingKind.Linear, Factor = rs.Float("factor") };
            case "yarn":
                foreach (var k in new[] { "attention_factor", "mscale", "mscale_all_dim" })
                    if (rs.Has(k)) throw rs.Error(k, "cannot be expressed (GGUF's YaRN derives its attention factor from the factor)");
                if (rs.Float("beta_fast", 32f) != 32f || rs.Float("beta_slow", 1f) != 1f) throw rs.Error("beta_fast", "cannot be expressed (GGUF's YaRN uses beta_fast 32, beta_slow 1)");
                return new RopeScalingSpec { Kind = RopeScalingKind.Yarn, Factor = rs.Float("factor"), OriginalContext = rs.Int("original_max_position_embeddings") };
            default:
                return new RopeScalingSpec();
        }
    }

    /// <summary>An activation the family's llama.cpp graph computes, or one line naming the key.</summary>
    internal void HfActivation(HfConfig c, string key, params string[] allowed)
    {
        if (c.String(key) is { } act && !allowed.Contains(act))
            throw c.Error(key, $"'{act}' cannot be expressed: llama.cpp's {Name} computes {allowed[0]}");
    }

    /// <summary>HF module names of a llama-style layer (LlamaForCausalLM's by default).</summary>
    internal sealed record HfLayerNames
    {
        public string AttnNorm { get; init; } = "input_layernorm";
        public string FfnNorm { get; init; } = "post_attention_layernorm";
        public string Up { get; init; } = "mlp.up_proj";
        public string Down { get; init; } = "mlp.down_proj";
    }

    /// <summary>
    /// A llama-style checkpoint: model.embed_tokens → token_embd, model.norm → output_norm, lm_head → output (untied),
    /// and per layer model.layers.N.{input_layernorm → attn_norm, self_attn.q/k/v/o_proj → attn_q/k/v/output (or
    /// self_attn.qkv_proj → attn_qkv), post_attention_layernorm → ffn_norm, mlp.gate/up/down_proj → ffn_gate/up/down
    /// (or mlp.gate_up_proj → ffn_up, rows [gate | up])}, with biases where the spec has them. With
    /// <paramref name="ropePairs"/> q/k rows (and biases) move from rotate-half to interleaved pairs.
    /// </summary>
    internal static List<HfTensor> LlamaStyleTensors(ModelSpec s, bool ropePairs, HfLayerNames? names = null)
    {
        names ??= new HfLayerNames();
        long d = s.Dim, ff = s.FfnDim, hd = s.ResolvedHeadDim, q = s.Attention.Heads * hd, kv = s.Attention.KvHeads * hd;
        var pairs = ropePairs ? HfLayout.RopePairs : HfLayout.AsIs;
        var list = new List<HfTensor> { new("token_embd.weight", "model.embed_tokens.weight", [d, s.VocabSize]) };
        list.AddRange(HfNorm(s, "output_norm", "model.norm"));
        if (!s.Output.Tied) list.Add(new HfTensor("output.weight", "lm_head.weight", [d, s.VocabSize]));
        for (int l = 0; l < s.Layers; l++)
        {
            string g = $"blk.{l}.", h = $"model.layers.{l}.";
            list.AddRange(HfNorm(s, g + "attn_norm", h + names.AttnNorm));
            if (s.Attention.FusedQkv)
            {
                list.AddRange(HfLinear(g + "attn_qkv", h + "self_attn.qkv_proj", d, q + 2 * kv, s.Attention.QkvBias));
            }
            else
            {
                list.AddRange(HfLinear(g + "attn_q", h + "self_attn.q_proj", d, q, s.Attention.QkvBias, pairs, s.Attention.Heads));
                list.AddRange(HfLinear(g + "attn_k", h + "self_attn.k_proj", d, kv, s.Attention.QkvBias, pairs, s.Attention.KvHeads));
                list.AddRange(HfLinear(g + "attn_v", h + "self_attn.v_proj", d, kv, s.Attention.QkvBias));
            }
            list.AddRange(HfLinear(g + "attn_output", h + "self_attn.o_proj", q, d, s.Attention.OutputBias));
            list.AddRange(HfNorm(s, g + "ffn_norm", h + names.FfnNorm));
            if (s.Ffn.FusedGateUp)
            {
                list.AddRange(HfLinear(g + "ffn_up", h + "mlp.gate_up_proj", d, 2 * ff, s.Ffn.Bias));
            }
            else
            {
                if (s.Ffn.Gated) list.AddRange(HfLinear(g + "ffn_gate", h + "mlp.gate_proj", d, ff, s.Ffn.Bias));
                list.AddRange(HfLinear(g + "ffn_up", h + names.Up, d, ff, s.Ffn.Bias));
            }
            list.AddRange(HfLinear(g + "ffn_down", h + names.Down, ff, d, s.Ffn.Bias));
        }
        return list;
    }

    /// <summary>An nn.Linear (ggml ne {in, out}) and its bias; the layout applies to both (rows move together).</summary>
    internal static IEnumerable<HfTensor> HfLinear(string gguf, string hf, long inDim, long outDim, bool bias, HfLayout layout = HfLayout.AsIs, int heads = 0)
    {
        yield return new HfTensor(gguf + ".weight", hf + ".weight", [inDim, outDim], layout) { Heads = heads };
        if (bias) yield return new HfTensor(gguf + ".bias", hf + ".bias", [outDim], layout) { Heads = heads };
    }

    /// <summary>A norm's weight, and its bias when the spec's norm has one.</summary>
    internal static IEnumerable<HfTensor> HfNorm(ModelSpec s, string gguf, string hf)
    {
        yield return new HfTensor(gguf + ".weight", hf + ".weight", [s.Dim]);
        if (s.Norm.Bias) yield return new HfTensor(gguf + ".bias", hf + ".bias", [s.Dim]);
    }
}
