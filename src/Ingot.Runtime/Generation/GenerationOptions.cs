using Ingot.Runtime.Sampling;

namespace Ingot.Runtime.Generation;

/// <summary>Why a generation ended.</summary>
public enum StopReason
{
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were sampled.</summary>
    MaxTokens,
    /// <summary>The model emitted an end-of-generation token (or BOS with <see cref="GenerationOptions.StopAtBos"/>).</summary>
    EndOfGeneration,
    /// <summary>The text reached one of <see cref="GenerationOptions.StopSequences"/> (which is not part of it).</summary>
    StopSequence,
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
