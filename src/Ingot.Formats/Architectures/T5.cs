using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>
/// T5 (llama.cpp's t5: an encoder stack enc.* and a decoder stack dec.* sharing token_embd). What the file states:
/// RMSNorm without bias, no positions but t5.attention.relative_buckets_count buckets of relative position bias, no
/// 1/sqrt(d) score scaling, the FFN gated GELU when enc.blk.0.ffn_gate exists (Flan-T5), else ReLU; output.weight
/// or tied. The spec describes the decoder (causal); the t5 family lowers both stacks from it.
/// </summary>
public sealed class T5Mapping : ArchitectureMapping
{
    public override string Name => "t5";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s)
    {
        RequireTensor(f, "enc.output_norm.weight");
        RequireTensor(f, "dec.output_norm.weight");
        if (!f.TryGetValue("t5.attention.relative_buckets_count", out _))
            throw new InvalidModelFileException(f.Path, "metadata key 't5.attention.relative_buckets_count'", null, "missing (required by t5)");
        bool gated = f.FindTensor("enc.blk.0.ffn_gate.weight") is not null;
        return s with
        {
            Attention = s.Attention with { Scale = 1f, RelativeBuckets = f.GetInt32("t5.attention.relative_buckets_count") },
            Norm = s.Norm with { Bias = false },
            Rope = new RopeSpec { Kind = RopeKind.None, Dimensions = 0 },
            Ffn = s.Ffn with { Gated = gated, Activation = gated ? Activation.Gelu : Activation.Relu, Bias = false },
        };
    }

    protected override void WriteFamilyMetadata(ModelSpec s, GgufWriter w) =>
        w.Set("t5.attention.relative_buckets_count", (uint)s.Attention.RelativeBuckets);

    internal override ModelSpec Synth(ModelSpec common, SynthOptions o) =>
        throw SynthError("is an encoder–decoder: ingot synth writes single-stack families only");
}
