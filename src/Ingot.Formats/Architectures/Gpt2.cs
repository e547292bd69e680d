using Ingot.Specs;

namespace Ingot.Formats.Architectures;

/// <summary>GPT-2: learned absolute positions added to the token rows, no rope, pre-LayerNorm with biases, fused qkv with bias, all projections biased, FFN down(gelu(up(x))).</summary>
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
}

/// <summary>
/// GPT-NeoX / Pythia: pre-LayerNorm with biases, fused qkv [Q | K | V] with bias, NEOX rope on the first
/// rope.dimension_count dims of each head (partial rotary), FFN down(gelu(up(x))), and — when
/// gptneox.use_parallel_residual (required) — x = x + attn(ln1(x)) + ffn(ln2(x)).
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
}

/// <summary>StarCoder2: pre-LayerNorm with biases, separate q/k/v with biases (GQA), NEOX rope, FFN down(gelu(up(x))) with biases, optional output.weight. llama.cpp ignores a sliding window here, as do we.</summary>
public sealed class StarCoder2Mapping : ArchitectureMapping
{
    public override string Name => "starcoder2";

    public override ModelSpec FromGguf(GgufFile f, ModelSpec s) => s with
    {
        Attention = s.Attention with { SlidingWindow = 0, SlidingWindowLayers = WindowLayers.None },
        Rope = s.Rope with { Kind = RopeKind.Neox },
        Ffn = s.Ffn with { Gated = false, Activation = Activation.Gelu },
    };
}
