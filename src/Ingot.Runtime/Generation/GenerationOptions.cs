using Ingot.Runtime.Sampling;

namespace Ingot.Runtime.Generation;

/// <summary>What one generation may do.</summary>
/// <param name="MaxNewTokens">Tokens to sample after the prompt (an end-of-generation token counts); 0 = only prefill.</param>
/// <param name="Sampling">How each token is chosen; null = <see cref="SamplerOptions"/> defaults.</param>
public sealed record GenerationOptions(int MaxNewTokens = 256, SamplerOptions? Sampling = null)
{
    /// <summary>
    /// Stop when the model emits BOS, as llama2.c's run.c does (BOS delimits stories in its training data).
    /// On by default; the BOS is not printed.
    /// </summary>
    public bool StopAtBos { get; init; } = true;
}

/// <summary>Why a generation ended.</summary>
public enum StopReason
{
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were sampled.</summary>
    MaxTokens,
    /// <summary>The model emitted an end-of-generation token (or BOS with <see cref="GenerationOptions.StopAtBos"/>).</summary>
    EndOfGeneration,
    /// <summary>The KV cache is full: the next token has no position to go to.</summary>
    ContextFull,
    /// <summary>The cancellation token fired.</summary>
    Cancelled,
}

/// <summary>Counts and timings of one generation (for `generate`'s summary line and for tests).</summary>
/// <param name="PromptTokens">Prompt ids fed by prefill (including BOS).</param>
/// <param name="GeneratedTokens">Tokens sampled, including a final end-of-generation token.</param>
/// <param name="PrefillSeconds">Wall time of the prefill.</param>
/// <param name="DecodeSeconds">Wall time of sampling + decoding after the prefill.</param>
public sealed record GenerationResult(int PromptTokens, int GeneratedTokens, StopReason StopReason, double PrefillSeconds, double DecodeSeconds);
