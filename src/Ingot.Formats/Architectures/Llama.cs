using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// LLaMA 1–3, Mistral, TinyLlama, SmolLM, DeepSeek-R1-Distill-Llama: RMSNorm, NORM rope (the converter permuted q/k
/// rows so that interleaved pairs equal HF's rotate-half), SwiGLU, optional rope_freqs (Llama 3.1). A
/// llama.attention.sliding_window (Mistral) is honoured on every layer; llama.cpp ignores it (the host's --no-swa
/// reproduces that).
/// <para>
/// Hugging Face (LlamaForCausalLM, MistralForCausalLM; convert_hf_to_gguf's LlamaModel): q_proj/k_proj rows (and
/// biases) permuted to interleaved pairs per head; attention_bias → q/k/v/o biases, mlp_bias → gate/up/down biases;
/// rope_scaling linear/yarn, or llama3 → rope_freqs.weight (<see cref="Llama3RopeFactors"/>, no scaling keys);
/// Mistral's sliding_window → llama.attention.sliding_window (the converter drops it; llama.cpp never reads it).
/// </para>
/// </summary>
public sealed class LlamaMapping : ArchitectureMapping
{
    public override string Name => "llama";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => Apply(s);

    /// <summary>The llama graph's conventions (also Granite's and ERNIE 4.5's): NORM rope, SiLU.</summary>
    internal static ModelSpec Apply(ModelSpec s) => s with
    {
        Rope = s.Rope with { Kind = RopeKind.Norm },
        Ffn = s.Ffn with { Activation = Activation.Silu },
    };

    /// <summary>A window (Mistral) on every layer when asked for; the rope rotates the whole head.</summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireWholeHeadRope(s);
        return Apply(s) with { Attention = WindowOnAllLayers(s.Attention, o.Window ?? 0) };
    }

    internal override string[] HfModelTypes => ["llama", "mistral"];

    // transformers' LlamaConfig
    internal override string HfDefaults => """{"max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": false}""";

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "silu");
        var s = WithLinearBiases(c, HfDecoder(c, "linear", "yarn", "llama3"));
        int window = c.Int("sliding_window", 0);
        return s with
        {
            Attention = WindowOnAllLayers(s.Attention, window),
            Rope = s.Rope with { FreqFactors = HfRopeScalingKind(c) == "llama3" },
        };
    }

    /// <summary>LlamaAttention/LlamaMLP: attention_bias puts biases on q, k, v and o; mlp_bias on gate, up and down.</summary>
    internal static ModelSpec WithLinearBiases(HfConfig c, ModelSpec s)
    {
        bool attention = c.Bool("attention_bias", false), mlp = c.Bool("mlp_bias", false);
        return s with
        {
            Attention = s.Attention with { QkvBias = attention, OutputBias = attention },
            Ffn = s.Ffn with { Bias = mlp },
        };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck)
    {
        var list = LlamaStyleTensors(s, ropePairs: true);
        if (s.Rope.FreqFactors)
        {
            var rs = c.Object("rope_scaling")!;
            list.Insert(2, HfTensor.Generated("rope_freqs.weight", Llama3RopeFactors(s.Rope.Theta, s.Rope.Dimensions, rs.Float("factor", 8f),
                rs.Float("low_freq_factor", 1f), rs.Float("high_freq_factor", 4f),
                rs.OptionalInt("original_max_position_embeddings") ?? c.Int("original_max_position_embeddings", 8192))));
        }
        return list;
    }

    /// <summary>
    /// Llama 3.1's rope frequency divisors (convert_hf_to_gguf's LlamaModel.generate_extra_tensors, HF's llama3
    /// inv_freq rescale): for k &lt; dims/2, wavelength 2π·base^(2k/dims); 1 below originalContext/high, factor above
    /// originalContext/low, in between 1 / ((1 − s)/factor + s) with s = (originalContext/wavelength − low)/(high − low).
    /// Computed in float64 and rounded once (the converter's torch float32 steps can differ in the last bit).
    /// </summary>
    public static float[] Llama3RopeFactors(float theta, int dims, float factor, float low, float high, int originalContext)
    {
        var ff = new float[dims / 2];
        for (int k = 0; k < ff.Length; k++)
        {
            double wavelength = 2 * Math.PI * Math.Pow(theta, 2.0 * k / dims);
            double smooth = (originalContext / wavelength - low) / (high - low);
            ff[k] = wavelength < originalContext / (double)high ? 1f
                : wavelength > originalContext / (double)low ? factor
                : (float)(1 / ((1 - smooth) / factor + smooth));
        }
        return ff;
    }
}
