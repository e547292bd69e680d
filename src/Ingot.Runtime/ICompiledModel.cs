using Ingot.Formats;

namespace Ingot.Runtime;

/// <summary>Options fixed when weights are bound: KV capacity, worker threads, and whether sliding windows apply.</summary>
/// <param name="ContextSize">KV cache capacity in tokens; 0 = the spec's context length.</param>
/// <param name="Threads">Worker threads for matrix rows; 0 = all cores.</param>
/// <param name="NoSlidingWindow">Full causal attention on every layer even where the spec has a sliding window: what
/// llama.cpp computes for a llama-architecture (Mistral) file, whose window it ignores (the host's --no-swa).</param>
public sealed record InferenceOptions(int ContextSize = 0, int Threads = 0, bool NoSlidingWindow = false);

/// <summary>What a compiled model says about itself (the `info` verb prints it).</summary>
public sealed record ModelDescription(
    string Name,
    string Architecture,
    string SpecJson,
    int VocabSize,
    int ContextLength,
    long ParameterCount,
    IReadOnlyList<string> IsaPathsCompiled,
    string IsaPathInUse);

/// <summary>
/// The contract between a generated `[CompiledModel]` class and the shared host. The generated class
/// implements it with every shape a constant; the host drives it (tokenize, sample, stream).
/// </summary>
public interface ICompiledModel : IDisposable
{
    ModelDescription Description { get; }

    int VocabSize { get; }

    /// <summary>KV capacity after <see cref="Load"/>.</summary>
    int ContextSize { get; }

    /// <summary>Tokens currently held in the KV cache (the position of the next token).</summary>
    int Position { get; }

    /// <summary>Bytes of weights bound (for roofline figures).</summary>
    long WeightBytes { get; }

    /// <summary>
    /// Binds every tensor by name and checks architecture, shapes and types against the compiled spec.
    /// Throws <see cref="WeightMismatchException"/> naming the first mismatch.
    /// </summary>
    void Load(GgufFile weights, InferenceOptions options);

    /// <summary>Empties the KV cache.</summary>
    void Reset();

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions Position.. as one batch (split into the compiled batch size
    /// internally) and appends them to the KV cache. <paramref name="logits"/> receives either the last row
    /// (length VocabSize) or every row (length tokens.Length * VocabSize), decided by its length.
    /// Throws <see cref="ContextOverflowException"/> when the cache would overflow.
    /// </summary>
    void Prefill(ReadOnlySpan<int> tokens, Span<float> logits);

    /// <summary>One token at Position; <paramref name="logits"/> has length VocabSize.</summary>
    void Decode(int token, Span<float> logits);
}

/// <summary>Weights that do not match the compiled spec; the message names the tensor or key and both values.</summary>
public sealed class WeightMismatchException(string message) : Exception(message);

/// <summary>The KV cache is full; the message says the capacity and how to raise it (--ctx).</summary>
public sealed class ContextOverflowException(string message) : Exception(message);
