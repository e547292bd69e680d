using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

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

    /// <summary>LayerNorm with biases, biased q/k/v/o and up/down (all required by llama.cpp), NEOX, plain GELU; heads of dim / heads.</summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return s with
        {
            Attention = s.Attention with { QkvBias = true, OutputBias = true },
            Norm = SynthLayerNorm(s),
            Rope = s.Rope with { Kind = RopeKind.Neox },
            Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu, Bias = true },
        };
    }

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
