using Ingot.Formats;

namespace Ingot.Runtime;

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
/// What every compiled model offers, whatever its kind: its description, its weights bound from a file. The kind
/// says the rest: <see cref="ICompiledModel"/> (a causal LM) or <see cref="IEncoder"/>; the host picks its verbs from it.
/// </summary>
public interface IModel : IDisposable
{
    ModelDescription Description { get; }

    /// <summary>Bytes of weights bound (for roofline figures).</summary>
    long WeightBytes { get; }

    /// <summary>
    /// Binds every tensor by name and checks architecture, shapes and types against the compiled spec.
    /// Throws <see cref="WeightMismatchException"/> naming the first mismatch.
    /// </summary>
    void Load(GgufFile weights, InferenceOptions options);
}

/// <summary>
/// A causal language model: the contract between a generated `[CompiledModel]` decoder class and the shared host.
/// The generated class implements it with every shape a constant; the host drives it (tokenize, sample, stream).
/// </summary>
public interface ICompiledModel : IModel
{
    int VocabSize { get; }

    /// <summary>KV capacity after <see cref="IModel.Load"/>.</summary>
    int ContextSize { get; }

    /// <summary>Tokens currently held in the KV cache (the position of the next token).</summary>
    int Position { get; }

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

    /// <summary>
    /// Sequences the KV cache holds (<see cref="InferenceOptions.Sequences"/>), each with <see cref="ContextSize"/>
    /// cells. <see cref="Position"/>, <see cref="Reset()"/>'s sequence, <see cref="Prefill(ReadOnlySpan{int}, Span{float})"/>
    /// and <see cref="Decode"/> are sequence 0's; <see cref="Reset()"/> empties them all.
    /// </summary>
    int Sequences => 1;

    /// <summary>Tokens sequence <paramref name="sequence"/> holds (the position of its next token).</summary>
    int PositionOf(int sequence) => sequence == 0 ? Position : throw new ArgumentOutOfRangeException(nameof(sequence), sequence, "this model holds one sequence");

    /// <summary>Empties one sequence's cache; the others keep theirs.</summary>
    void Reset(int sequence)
    {
        if (sequence != 0) throw new ArgumentOutOfRangeException(nameof(sequence), sequence, "this model holds one sequence");
        Reset();
    }

    /// <summary>
    /// Several sequences in one batch (continuous batching): run i is <paramref name="lengths"/>[i] tokens of sequence
    /// <paramref name="sequences"/>[i] (each sequence at most once), at its next positions; <paramref name="tokens"/>
    /// holds the runs back to back. Each weight row is read once per chunk for all of them, and each run's logits are
    /// what it gives alone. <paramref name="logits"/>: runs × VocabSize, each run's last row.
    /// </summary>
    void Prefill(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, ReadOnlySpan<int> sequences, Span<float> logits)
    {
        if (lengths.Length != 1 || sequences.Length != 1 || sequences[0] != 0 || lengths[0] != tokens.Length)
            throw new ArgumentException("this model holds one sequence: one run of sequence 0", nameof(sequences));
        Prefill(tokens, logits.Slice(0, VocabSize));
    }
}

/// <summary>
/// An encoder (BERT and its kin): tokens in, one hidden state per token out, attention over the whole input. Pooling
/// and normalisation are the runtime's (<see cref="Kernels.Pooling"/>), so one compiled model serves every pooling.
/// </summary>
public interface IEncoder : IModel
{
    /// <summary>Width of a hidden state (the model's dim).</summary>
    int HiddenSize { get; }

    /// <summary>The longest input after <see cref="IModel.Load"/> (the position table bounds it).</summary>
    int MaxTokens { get; }

    /// <summary>The pooling the model file asks for (BERT's pooling_type); the caller may choose another.</summary>
    Ingot.Specs.PoolingKind Pooling { get; }

    /// <summary>
    /// Runs <paramref name="tokens"/> as one input at positions 0 ..; <paramref name="hidden"/> (tokens.Length ×
    /// HiddenSize) receives the last layer's hidden states. Throws <see cref="ContextOverflowException"/> naming both
    /// lengths when the input is longer than <see cref="MaxTokens"/>.
    /// </summary>
    void Encode(ReadOnlySpan<int> tokens, Span<float> hidden);

    /// <summary>Scores the model's head gives per input (a reranker's 1, a classifier's labels), or per token (a token classifier's labels); 0 when it has none.</summary>
    int ScoreCount { get; }

    /// <summary>The head scores every token (a token classifier, NER): scores are tokens × <see cref="ScoreCount"/>, row-major.</summary>
    bool TokenScores { get; }

    /// <summary>
    /// <see cref="Encode(ReadOnlySpan{int}, Span{float})"/>, plus the head's scores into <paramref name="scores"/>: the
    /// <see cref="ScoreCount"/> scores of the first ([CLS]) row, or of every token when <see cref="TokenScores"/>
    /// (empty: the head is skipped).
    /// </summary>
    void Encode(ReadOnlySpan<int> tokens, Span<float> hidden, Span<float> scores);

    /// <summary>
    /// Several inputs as one batch, so each weight row is read once for all of them: <paramref name="tokens"/> holds
    /// the inputs back to back, <paramref name="lengths"/>[i] tokens each (at most <see cref="MaxTokens"/> in all). Each
    /// input sees only its own tokens, at positions from 0, so its rows of <paramref name="hidden"/> (tokens ×
    /// HiddenSize) are what it gives alone. <paramref name="scores"/>: inputs × <see cref="ScoreCount"/> (each input's
    /// first row), or tokens × ScoreCount when <see cref="TokenScores"/>; empty skips the head.
    /// </summary>
    void Encode(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, Span<float> hidden, Span<float> scores);
}

/// <summary>
/// An encoder–decoder (T5): <see cref="Encode"/> runs the encoder once over the input and keeps its output for the
/// decoder's cross-attention; then the decoder is a causal LM (<see cref="ICompiledModel"/>) over the output tokens,
/// starting from <see cref="DecoderStartToken"/>.
/// </summary>
public interface IEncoderDecoder : ICompiledModel
{
    /// <summary>The token the decoder starts from (T5: decoder_start_token_id, the pad token 0).</summary>
    int DecoderStartToken { get; }

    /// <summary>Tokens of the input encoded last (0 before the first <see cref="Encode"/>).</summary>
    int EncodedTokens { get; }

    /// <summary>
    /// Encodes <paramref name="tokens"/> (the whole input, at most the trained context) and empties the decoder's KV
    /// cache. Throws <see cref="ContextOverflowException"/> naming both lengths for a longer input.
    /// </summary>
    void Encode(ReadOnlySpan<int> tokens);
}

/// <summary>Weights that do not match the compiled spec; the message names the tensor or key and both values.</summary>
public sealed class WeightMismatchException(string message) : Exception(message);

/// <summary>The KV cache is full, or an input is longer than the model takes; the message says both lengths.</summary>
public sealed class ContextOverflowException(string message) : Exception(message);
