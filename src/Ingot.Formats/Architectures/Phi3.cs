using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// Phi-3/3.5-mini, Phi-4: fused attn_qkv (rows [Q | K | V]) and fused ffn_up (rows [gate | up], SwiGLU), NEOX rope, Q
/// multiplied by 1/sqrt(head_dim) after rope, and a sliding window on every layer when phi3.attention.sliding_window
/// is non-zero (0 = Phi-4, no window). A file with rope_factors_long.weight uses LongRoPE (the converter writes no
/// scaling type; llama.cpp picks the factors and phi3.rope.scaling.attn_factor from the tensors' presence).
/// <para>
/// Hugging Face (Phi3ForCausalLM; convert_hf_to_gguf's Phi3MiniModel): qkv_proj and gate_up_proj stay fused, no
/// permutation (NEOX); sliding_window (null = 0) is always written; rope_scaling su/longrope → rope_factors_long and
/// rope_factors_short (F32, one per rotated pair) and attn_factor √(1 + ln(s)/ln(original)) with s = context /
/// original_max_position_embeddings; partial_rotary_factor → rope.dimension_count.
/// </para>
/// </summary>
public sealed class Phi3Mapping : ArchitectureMapping
{
    public override string Name => "phi3";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "blk.0.attn_qkv.weight");
        bool fusedGateUp = f.FindTensor("blk.0.ffn_gate.weight") is null;
        var scaling = f.FindTensor("rope_factors_long.weight") is not null && s.Rope.Scaling.Kind == RopeScalingKind.None
            ? new RopeScalingSpec
            {
                Kind = RopeScalingKind.LongRope,
                OriginalContext = f.GetInt32("phi3.rope.scaling.original_context_length", 0),
                AttnFactor = f.GetFloat("phi3.rope.scaling.attn_factor", 1f),
            }
            : s.Rope.Scaling;
        return s with
        {
            Attention = s.Attention with { Scale = 1f / MathF.Sqrt(s.ResolvedHeadDim), ScaleQuery = true },
            Rope = s.Rope with { Kind = RopeKind.Neox, Scaling = scaling },
            Ffn = s.Ffn with { Gated = true, FusedGateUp = fusedGateUp, Activation = Activation.Silu },
        };
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w)
    {
        w.Set("phi3.attention.sliding_window", (uint)s.Attention.SlidingWindow); // 0 written too: without the key llama.cpp guesses from the shape
        if (s.Rope.Scaling.Kind == RopeScalingKind.LongRope) w.Remove("phi3.rope.scaling.type"); // as the converter: the factor tensors say it
    }

    /// <summary>
    /// Fused qkv and gate|up, NEOX, Q pre-scaled, a window on every layer when asked for (0 written: Phi-4), always an
    /// output.weight (llama.cpp requires it), and heads of dim / heads (its matrices are declared {dim, dim}).
    /// </summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireFullWidthHeads(s);
        return s with
        {
            Attention = WindowOnAllLayers(s.Attention with { FusedQkv = true, ScaleQuery = true }, o.Window ?? 0),
            Rope = s.Rope with { Kind = RopeKind.Neox },
            Ffn = s.Ffn with { Gated = true, FusedGateUp = true, Activation = Activation.Silu },
            Output = s.Output with { Tied = false },
        };
    }

    /// <summary>llama.cpp's vocabulary loader looks &lt;|endoftext|&gt; up when general.name contains "phi3" or "phi-3".</summary>
    internal override string[] SynthControlTokens => ["<|endoftext|>"];

    internal override string[] HfModelTypes => ["phi3"];

    // transformers' Phi3Config
    internal override string HfDefaults => """{"max_position_embeddings": 4096, "original_max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false}""";

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "silu");
        var s = HfDecoder(c, "longrope", "su");
        int window = c.Int("sliding_window", 0);
        int rotary = (int)(s.ResolvedHeadDim * (double)c.Float("partial_rotary_factor", 1f));
        s = s with
        {
            Attention = WindowOnAllLayers(s.Attention with { FusedQkv = true }, window),
            Rope = s.Rope with { Dimensions = rotary },
            Ffn = s.Ffn with { Gated = true, FusedGateUp = true },
        };
        if (HfRopeScalingKind(c) == "none") return s;
        int original = c.Int("original_max_position_embeddings");
        double scale = (double)s.ContextLength / original;
        float attnFactor = scale > 1 ? (float)Math.Sqrt(1 + Math.Log(scale) / Math.Log(original)) : 1f;
        return s with { Rope = s.Rope with { Scaling = new RopeScalingSpec { Kind = RopeScalingKind.LongRope, OriginalContext = original, AttnFactor = attnFactor } } };
    }

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck)
    {
        var list = LlamaStyleTensors(s, ropePairs: false);
        if (s.Rope.Scaling.Kind == RopeScalingKind.LongRope)
        {
            var rs = c.Object("rope_scaling")!;
            list.Insert(2, HfTensor.Generated("rope_factors_long.weight", Factors(rs, "long_factor", s.Rope.Dimensions / 2)));
            list.Insert(3, HfTensor.Generated("rope_factors_short.weight", Factors(rs, "short_factor", s.Rope.Dimensions / 2)));
        }
        return list;
    }

    private static float[] Factors(HfConfig rs, string key, int pairs)
    {
        float[] f = rs.Floats(key) ?? throw rs.Error(key, "missing (LongRoPE needs long_factor and short_factor)");
        return f.Length == pairs ? f : throw rs.Error(key, $"{f.Length} factors, but the rope rotates {pairs} pairs");
    }
}
