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
        return Layout(HfDecoder(c.WithDefaults($$"""{"intermediate_size": {{ffn}}}""")));
    }

    /// <summary>The tensors llama.cpp's gpt2 requires: learned positions, fused biased qkv, biases everywhere, an output.weight; no rope.</summary>
    private static ModelSpec Layout(ModelSpec s) => s with
    {
        Embedding = s.Embedding with { Positions = PositionKind.Learned },
        Attention = s.Attention with { FusedQkv = true, QkvBias = true, OutputBias = true },
        Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
        Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu, Bias = true },
        Output = s.Output with { Tied = false },
    };

    /// <summary>GPT-2's layout with LayerNorm; heads of dim / heads (llama.cpp declares attn_output {dim, dim}); position_embd has context rows.</summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return Layout(s) with { Norm = SynthLayerNorm(s) };
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
