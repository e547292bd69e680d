using Ingot.Runtime.Sampling;

namespace Ingot;

/// <summary>
/// What one generation may do: how many tokens, and how each is chosen. <c>new GenerationOptions { MaxNewTokens = 200,
/// Temperature = 0 }</c> is greedy; the sampling properties (<see cref="Temperature"/>, <see cref="TopK"/>,
/// <see cref="TopP"/>, <see cref="MinP"/>, <see cref="RepeatPenalty"/>, <see cref="Seed"/>) read and set
/// <see cref="Sampling"/>, whose defaults are llama.cpp's. <see cref="StopSequences"/> end the text.
/// </summary>
/// <param name="MaxNewTokens">Tokens to sample after the prompt (an end-of-generation token counts); 0 = only prefill.</param>
/// <param name="Sampling">How each token is chosen; null = <see cref="SamplerOptions"/> defaults.</param>
public sealed record GenerationOptions(int MaxNewTokens = 256, SamplerOptions? Sampling = null)
{
    /// <summary>
    /// Stop when the model emits BOS, as llama2.c's run.c does (BOS delimits stories in its training data).
    /// On by default; the BOS is not printed.
    /// </summary>
    public bool StopAtBos { get; init; } = true;

    /// <summary>
    /// Constrains every token to a GBNF grammar (<see cref="Ingot.Runtime.Grammars.Grammar.Parse"/>): disallowed tokens
    /// get no probability, and generation ends only where the grammar accepts the text. Null = free text.
    /// </summary>
    public Ingot.Runtime.Grammars.Grammar? Grammar { get; init; }

    /// <summary>The sampler's options in effect (<see cref="Sampling"/> or the defaults).</summary>
    public SamplerOptions SamplingOrDefault => Sampling ?? SamplerOptions.Default;

    /// <summary>Logits are divided by it before the softmax; 0 = greedy (argmax). Default 0.8.</summary>
    public float Temperature
    {
        get => SamplingOrDefault.Temperature;
        init => Sampling = SamplingOrDefault with { Temperature = value };
    }

    /// <summary>Keep the K most likely tokens; 0 = all. Default 40.</summary>
    public int TopK
    {
        get => SamplingOrDefault.TopK;
        init => Sampling = SamplingOrDefault with { TopK = value };
    }

    /// <summary>Keep the most likely tokens up to probability P; 1 = off. Default 0.95.</summary>
    public float TopP
    {
        get => SamplingOrDefault.TopP;
        init => Sampling = SamplingOrDefault with { TopP = value };
    }

    /// <summary>Drop tokens below MinP × the best token's probability; 0 = off. Default 0.05.</summary>
    public float MinP
    {
        get => SamplingOrDefault.MinP;
        init => Sampling = SamplingOrDefault with { MinP = value };
    }

    /// <summary>Divide the logits of recent tokens by it (multiply when negative); 1 = off. Default 1.1.</summary>
    public float RepeatPenalty
    {
        get => SamplingOrDefault.RepeatPenalty;
        init => Sampling = SamplingOrDefault with { RepeatPenalty = value };
    }

    /// <summary>
    /// Texts that end the generation where they appear (as OpenAI's <c>stop</c>): the sequence and what follows are
    /// not part of the output, even when it spans several tokens. Empty = none.
    /// </summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>The sampler's seed; null = a fresh one per generation.</summary>
    public ulong? Seed
    {
        get => SamplingOrDefault.Seed;
        init => Sampling = SamplingOrDefault with { Seed = value };
    }
}
