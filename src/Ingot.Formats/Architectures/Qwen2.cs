using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Qwen2/2.5, DeepSeek-R1-Distill-Qwen: llama with q/k/v biases (added before rope) and NEOX rope. llama.cpp ignores a
/// sliding window here, as do we. Hugging Face (Qwen2ForCausalLM): q/k/v always biased, no permutation (NEOX);
/// rope_scaling yarn/linear; use_sliding_window true is refused (llama.cpp's qwen2 has no window).
/// </summary>
public sealed class Qwen2Mapping : ArchitectureMapping
{
    public override string Name => "qwen2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => s with
    {
        Attention = s.Attention with { SlidingWindow = 0, SlidingWindowLayers = WindowLayers.None },
        Rope = s.Rope with { Kind = RopeKind.Neox },
        Ffn = s.Ffn with { Activation = Activation.Silu },
    };

    /// <summary>q/k/v biases, NEOX; heads of dim / heads (llama.cpp declares q and o {dim, dim}).</summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return s with { Attention = s.Attention with { QkvBias = true }, Rope = s.Rope with { Kind = RopeKind.Neox } };
    }

    internal override string[] HfModelTypes => ["qwen2"];

    // transformers' Qwen2Config
    internal override string HfDefaults => """{"max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": false}""";

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "silu");
        if (c.Bool("use_sliding_window", false)) throw c.Error("use_sliding_window", "true cannot be expressed: llama.cpp's qwen2 attends to the whole context");
        var s = HfDecoder(c);
        return s with { Attention = s.Attention with { QkvBias = true } };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) => LlamaStyleTensors(s, ropePairs: false);
}
