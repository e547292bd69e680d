namespace Ingot.Runtime.Sampling;

/// <summary>
/// How the next token is chosen from a row of logits. Defaults are llama.cpp's classic ones.
/// <see cref="Temperature"/> &lt;= 0 means greedy (argmax); every other knob is then ignored, so a greedy run
/// reproduces llama2.c's <c>run.c -t 0</c> exactly.
/// </summary>
/// <param name="Temperature">Logits are divided by it before the softmax; &lt;= 0 = greedy.</param>
/// <param name="TopK">Keep the K most likely tokens; &lt;= 0 or &gt;= vocab = keep all.</param>
/// <param name="TopP">Keep the smallest set of most likely tokens whose probability sums to at least P; &gt;= 1 = off.</param>
/// <param name="MinP">Drop tokens whose probability is below MinP × the best token's; &lt;= 0 = off.</param>
/// <param name="RepeatPenalty">Divide positive (multiply negative) logits of recently seen tokens by it; 1 = off.</param>
/// <param name="RepeatLastN">How many recent tokens the penalty looks at; 0 = off.</param>
/// <param name="Seed">PRNG seed; null = a fresh seed per sampler (from the OS).</param>
/// <param name="FrequencyPenalty">Subtract it times a token's count among the last RepeatLastN from its logit (OpenAI's frequency_penalty); 0 = off.</param>
/// <param name="PresencePenalty">Subtract it once from the logit of every token among the last RepeatLastN (OpenAI's presence_penalty); 0 = off.</param>
public sealed record SamplerOptions(
    float Temperature = 0.8f,
    int TopK = 40,
    float TopP = 0.95f,
    float MinP = 0.05f,
    float RepeatPenalty = 1.1f,
    int RepeatLastN = 64,
    ulong? Seed = null,
    float FrequencyPenalty = 0f,
    float PresencePenalty = 0f)
{
    /// <summary>Argmax with no penalties: the deterministic setting the golden texts use.</summary>
    public static SamplerOptions Greedy { get; } = new(Temperature: 0f);

    /// <summary>llama.cpp's classic defaults (the parameters' defaults above).</summary>
    public static SamplerOptions Default { get; } = new();

    public bool IsGreedy => Temperature <= 0f || float.IsNaN(Temperature);
}
