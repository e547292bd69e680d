using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// GPT-NeoX / Pythia: pre-LayerNorm with biases, fused qkv [Q | K | V] with bias, NEOX rope on the first
/// rope.dimension_count dims of each head (partial rotary), FFN down(gelu(up(x))), and — when
/// gptneox.use_parallel_residual (required) — x = x + attn(ln1(x)) + ffn(ln2(x)).
/// <para>
/// Hugging Face (GPTNeoXForCausalLM; convert_hf_to_gguf's GPTNeoXModel): query_key_value rows reordered from per-head
/// [q; k; v] to [Q | K | V] (weight and bias); rope.dimension_count = int(rotary_pct · head_dim); rotary_emb_base →
/// rope.freq_base (the converter leaves it out: Pythia's 10000 is llama.cpp's default); use_parallel_residual
/// (default true) always written; attention_bias false drops the qkv/dense biases. HF Pythia's exact-erf "gelu" runs
/// as ggml's tanh GELU, as in llama.cpp.
/// </para>
/// </summary>
public sealed class GptNeoXMapping : ArchitectureMapping
{
    public override string Name => "gptneox";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        if (!f.TryGetBool("gptneox.use_parallel_residual", out bool parallel))
            throw new InvalidModelFileException(f.Path, "metadata key 'gptneox.use_parallel_residual'", null, "missing (required by this architecture)");
        return s with
        {
            Block = s.Block with { Residual = parallel ? ResidualKind.Parallel : ResidualKind.Sequential },
            Rope = s.Rope with { Kind = RopeKind.Neox },
            Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu },
        };
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w) =>
        w.Set("gptneox.use_parallel_residual", s.Block.Residual == ResidualKind.Parallel);

    /// <summary>
    /// LayerNorm with biases, fused biased qkv, biased output and FFN (all required by llama.cpp), an output.weight,
    /// partial NEOX rope (default a quarter of the head: GPTNeoXConfig's rotary_pct), parallel residual unless asked
    /// otherwise; heads of dim / heads.
    /// </summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return s with
        {
            Attention = s.Attention with { FusedQkv = true, QkvBias = true, OutputBias = true },
            Norm = SynthLayerNorm(s),
            Block = s.Block with { Residual = o.Residual ?? ResidualKind.Parallel },
            Rope = s.Rope with { Kind = RopeKind.Neox, Dimensions = o.RopeDims ?? Math.Max(2, s.ResolvedHeadDim / 8 * 2) },
            Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu, Bias = true },
            Output = s.Output with { Tied = false },
        };
    }

    internal override string[] HfModelTypes => ["gpt_neox"];

    // transformers' GPTNeoXConfig
    internal override string HfDefaults => """
        {"max_position_embeddings": 2048, "layer_norm_eps": 1e-5, "rotary_pct": 0.25, "rotary_emb_base": 10000,
         "use_parallel_residual": true, "attention_bias": true, "tie_word_embeddings": false}
        """;

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh");
        var s = HfDecoder(c);
        bool bias = c.Bool("attention_bias", true);
        return s with
        {
            Attention = s.Attention with { FusedQkv = true, QkvBias = bias, OutputBias = bias },
            Block = s.Block with { Residual = c.Bool("use_parallel_residual", true) ? ResidualKind.Parallel : ResidualKind.Sequential },
            Rope = s.Rope with { Theta = c.Float("rotary_emb_base"), Dimensions = (int)(c.Float("rotary_pct") * (double)s.ResolvedHeadDim) },
            Ffn = s.Ffn with { Gated = false, Bias = true },
        };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck)
    {
        long d = s.Dim, ff = s.FfnDim;
        var list = new List<HfTensor> { new("token_embd.weight", "gpt_neox.embed_in.weight", [d, s.VocabSize]) };
        list.AddRange(HfNorm(s, "output_norm", "gpt_neox.final_layer_norm"));
        list.Add(new HfTensor("output.weight", s.Output.Tied ? "gpt_neox.embed_in.weight" : "embed_out.weight", [d, s.VocabSize]));
        for (int l = 0; l < s.Layers; l++)
        {
            string g = $"blk.{l}.", h = $"gpt_neox.layers.{l}.";
            list.AddRange(HfNorm(s, g + "attn_norm", h + "input_layernorm"));
            list.AddRange(HfLinear(g + "attn_qkv", h + "attention.query_key_value", d, 3 * d, s.Attention.QkvBias, HfLayout.NeoXQkv, s.Attention.Heads));
            list.AddRange(HfLinear(g + "attn_output", h + "attention.dense", d, d, s.Attention.OutputBias));
            list.AddRange(HfNorm(s, g + "ffn_norm", h + "post_attention_layernorm"));
            list.AddRange(HfLinear(g + "ffn_up", h + "mlp.dense_h_to_4h", d, ff, bias: true));
            list.AddRange(HfLinear(g + "ffn_down", h + "mlp.dense_4h_to_h", ff, d, bias: true));
        }
        return list;
    }

    internal override bool HfDrops(string name, ModelSpec s) =>
        name.EndsWith(".attention.bias", StringComparison.Ordinal) || name.EndsWith(".attention.masked_bias", StringComparison.Ordinal)
        || s.Output.Tied && name == "embed_out.weight" || base.HfDrops(name, s);
}
