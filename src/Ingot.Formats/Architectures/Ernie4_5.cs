using Ingot.Formats.HuggingFace;
using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// ERNIE 4.5 dense (baidu/ERNIE-4.5-0.3B-PT): the llama graph — RMSNorm, GQA, SwiGLU, residual adds, tied output —
/// with head_dim decoupled from hidden / heads and NORM rope: HF's ERNIE rotates interleaved pairs (2i, 2i+1)
/// itself, so its q/k rows are already in ggml's order and are not permuted. Newer llama.cpp names the
/// architecture "ernie4_5" (keys ernie4_5.*); its graph is build_llama's without Granite's scales.
/// <para>
/// Hugging Face (Ernie4_5ForCausalLM / Ernie4_5_ForCausalLM, model_type ernie4_5): llama's names ("ernie." read as
/// "model."), Paddle-style fused self_attn.qkv_proj split by rows [Q | K | V] and mlp.up_gate_proj split in halves
/// (first = gate); use_bias → q/k/v/o and gate/up/down biases; Ernie4_5Config's defaults (head_dim 128, rope_theta
/// 500000, tied output); the original remote code's compression_ratio (positions divided by it) → linear scaling.
/// Sources: modelspecs/README.md, "ERNIE 4.5".
/// </para>
/// </summary>
public sealed class Ernie45Mapping : ArchitectureMapping
{
    public override string Name => "ernie4_5";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => LlamaMapping.Apply(s);

    /// <summary>
    /// The llama graph, tied unless asked otherwise (Ernie4_5Config), head_dim free; the rope rotates the whole head
    /// (llama.cpp c392e50 runs the family as its llama twin, which refuses anything else).
    /// </summary>
    internal override ModelSpec Synth(ModelSpec s, SynthOptions o)
    {
        SynthRequireWholeHeadRope(s);
        return LlamaMapping.Apply(s) with { Output = s.Output with { Tied = o.Tied ?? true } };
    }

    internal override string[] HfModelTypes => ["ernie4_5"];

    // transformers' Ernie4_5Config (head_dim 128 when absent; an explicit null means hidden_size / heads)
    internal override string HfDefaults => """
        {"max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "head_dim": 128,
         "use_bias": false, "tie_word_embeddings": true}
        """;

    internal override ModelSpec FromHfConfig(HfConfig c)
    {
        HfActivation(c, "hidden_act", "silu");
        var s = HfDecoder(c);
        bool bias = c.Bool("use_bias", false);
        float compression = c.Float("compression_ratio", 1f);
        if (compression != 1f && s.Rope.Scaling.Kind != RopeScalingKind.None)
            throw c.Error("compression_ratio", "cannot be combined with rope_scaling");
        return s with
        {
            Attention = s.Attention with { QkvBias = bias, OutputBias = bias },
            Rope = compression == 1f ? s.Rope : s.Rope with { Scaling = new RopeScalingSpec { Kind = RopeScalingKind.Linear, Factor = compression } },
            Ffn = s.Ffn with { Bias = bias },
        };
    }

    internal override string HfName(string name) => name.StartsWith("ernie.", StringComparison.Ordinal) ? "model." + name["ernie.".Length..] : name;

    internal override IEnumerable<HfTensor> HfTensors(ModelSpec s, HfConfig c, HfCheckpoint ck) =>
        LlamaStyleTensors(s, ropePairs: false).Select(t => ck.Has(t.Hf!) ? t : FromFused(t, s, ck) ?? t);

    /// <summary>q/k/v from a fused qkv_proj (rows [Q | K | V]), gate/up from a fused up_gate_proj (rows [gate | up]).</summary>
    private static HfTensor? FromFused(HfTensor t, ModelSpec s, HfCheckpoint ck)
    {
        long q = s.Attention.Heads * (long)s.ResolvedHeadDim, kv = s.Attention.KvHeads * (long)s.ResolvedHeadDim, ff = s.FfnDim;
        (string From, string To, long First, long Rows)[] parts =
        [
            (".self_attn.q_proj.", ".self_attn.qkv_proj.", 0, q + 2 * kv),
            (".self_attn.k_proj.", ".self_attn.qkv_proj.", q, q + 2 * kv),
            (".self_attn.v_proj.", ".self_attn.qkv_proj.", q + kv, q + 2 * kv),
            (".mlp.gate_proj.", ".mlp.up_gate_proj.", 0, 2 * ff),
            (".mlp.up_proj.", ".mlp.up_gate_proj.", ff, 2 * ff),
        ];
        foreach (var (from, to, first, rows) in parts)
        {
            if (!t.Hf!.Contains(from, StringComparison.Ordinal)) continue;
            string fused = t.Hf.Replace(from, to, StringComparison.Ordinal);
            return ck.Has(fused) ? t with { Hf = fused, Layout = HfLayout.Rows, FirstRow = first, SourceRows = rows } : null;
        }
        return null;
    }
}
