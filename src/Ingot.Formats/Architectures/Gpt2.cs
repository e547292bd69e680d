using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// GPT-2: learned absolute positions added to the token rows, no rope, pre-LayerNorm with biases, fused qkv with bias,
/// all projections biased, FFN down(gelu(up(x))).
/// <para>
/// Hugging Face (GPT2LMHeadModel; convert_hf_to_gguf's GPT2Model): names with or without "transformer."; Conv1D
/// weights c_attn, c_proj, c_fc stored [in, out] are transposed; wpe stays F32; output.weight is lm_head when the
/// checkpoint has it untied, else a copy of wte (llama.cpp requires the tensor). n_inner (null = 4·n_embd) is the
/// FFN width (the converter writes 4·n_embd regardless); the context is n_ctx, else n_positions.
/// </para>
/// </summary>
public sealed class Gpt2Mapping : ArchitectureMapping
{
    public override string Name => "gpt2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "position_embd.weight");
        return s with
        {
            Embedding = s.Embedding with { Positions = PositionKind.Learned },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu },
        };
    }

    internal override string[] HfModelTypes => ["gpt2"];

    // transformers' GPT2Config
    internal override string HfDefaults => """{"n_positions": 1024, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "tie_word_embeddings": true}""";

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "activation_function", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu");
        if (c.Bool("scale_attn_by_inverse_layer_idx", false)) throw c.Error("scale_attn_by_inverse_layer_idx", "true cannot be expressed: llama.cpp's gpt2 scales every layer by 1/sqrt(head_dim)");
        if (!c.Bool("scale_attn_weights", true)) throw c.Error("scale_attn_weights", "false cannot be expressed: llama.cpp's gpt2 scales scores by 1/sqrt(head_dim)");
        // n_inner null means 4·n_embd; GPT-2 configs have no intermediate_size, so the width goes there.
        int ffn = c.OptionalInt("n_inner") ?? 4 * c.Int("n_embd");
        var s = HfDecoder(c.WithDefaults($$"""{"intermediate_size": {{ffn}}}"""));
        return s with
        {
            Embedding = s.Embedding with { Positions = PositionKind.Learned },
            Attention = s.Attention with { FusedQkv = true, QkvBias = true, OutputBias = true },
            Rope = new RopeSpec { Kind = RopeKind.None },
            Ffn = s.Ffn with { Gated = false, Bias = true },
            Output = s.Output with { Tied = false },
        };
    }

    internal override string HfName(string name) => name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck)
    {
        long d = s.Dim, ff = s.FfnDim;
        var list = new List<HfTensor>
        {
            new("token_embd.weight", "wte.weight", [d, s.VocabSize]),
            new("position_embd.weight", "wpe.weight", [d, s.ContextLength]) { KeepF32 = true },
        };
        list.AddRange(HfNorm(s, "output_norm", "ln_f"));
        bool ownHead = ck.Has("lm_head.weight") && !c.Bool("tie_word_embeddings", true);
        list.Add(new HfTensor("output.weight", ownHead ? "lm_head.weight" : "wte.weight", [d, s.VocabSize]));
        for (int l = 0; l < s.Layers; l++)
        {
            string g = $"blk.{l}.", h = $"h.{l}.";
            list.AddRange(HfNorm(s, g + "attn_norm", h + "ln_1"));
            list.AddRange(HfLinear(g + "attn_qkv", h + "attn.c_attn", d, 3 * d, bias: true, HfLayout.Conv1D));
            list.AddRange(HfLinear(g + "attn_output", h + "attn.c_proj", d, d, bias: true, HfLayout.Conv1D));
            list.AddRange(HfNorm(s, g + "ffn_norm", h + "ln_2"));
            list.AddRange(HfLinear(g + "ffn_up", h + "mlp.c_fc", d, ff, bias: true, HfLayout.Conv1D));
            list.AddRange(HfLinear(g + "ffn_down", h + "mlp.c_proj", ff, d, bias: true, HfLayout.Conv1D));
        }
        // Conv1D's layout is for the [in, out] weights only; biases are plain vectors.
        return list.Select(t => t.Layout == HfLayout.Conv1D && t.Ne.Length == 1 ? t with { Layout = HfLayout.AsIs } : t);
    }

    internal override bool HfDrops(string name, ModelSpec s) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal) || name == "lm_head.weight";
}

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

/// <summary>
/// StarCoder2: pre-LayerNorm with biases, separate q/k/v with biases (GQA), NEOX rope, FFN down(gelu(up(x))) with
/// biases, optional output.weight. llama.cpp ignores a sliding window here, as do we.
/// <para>
/// Hugging Face (Starcoder2ForCausalLM; convert_hf_to_gguf's base Model): llama-style names with mlp.c_fc → ffn_up and
/// mlp.c_proj → ffn_down, norm_epsilon → LayerNorm epsilon, use_bias (default true) → every linear bias; no
/// permutation (NEOX); sliding_window is not written (llama.cpp never reads it for starcoder2).
/// </para>
/// </summary>
public sealed class StarCoder2Mapping : ArchitectureMapping
{
    public override string Name => "starcoder2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => s with
    {
        Attention = s.Attention with { SlidingWindow = 0, SlidingWindowLayers = WindowLayers.None },
        Rope = s.Rope with { Kind = RopeKind.Neox },
        Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu },
    };

    internal override string[] HfModelTypes => ["starcoder2"];

    // transformers' Starcoder2Config
    internal override string HfDefaults => """{"max_position_embeddings": 4096, "norm_epsilon": 1e-5, "rope_theta": 10000.0, "use_bias": true, "tie_word_embeddings": true}""";

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "gelu_pytorch_tanh", "gelu", "gelu_new", "gelu_fast");
        var s = HfDecoder(c);
        bool bias = c.Bool("use_bias", true);
        return s with
        {
            Attention = s.Attention with { QkvBias = bias, OutputBias = bias },
            Ffn = s.Ffn with { Gated = false, Bias = bias },
        };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) =>
        LlamaStyleTensors(s, ropePairs: false, new HfLayerNames { Up = "mlp.c_fc", Down = "mlp.c_proj" });
}
