using System.Diagnostics;
using Ingot.Runtime.Sampling;

namespace Ingot.Runtime.Generation;

/// <summary>
/// One generation's per-token state, whoever runs the model: the sampler, the stream decoder, the stop-sequence
/// filter, the counts and the stop reason. <see cref="TextGenerator"/> drives one on a one-sequence model;
/// <see cref="BatchedGenerator"/> drives one per sequence of a batch. The caller runs the model: after a MoveNext that
/// says <c>feed</c>, it runs <see cref="LastToken"/> and passes the next logits row to the next MoveNext.
/// </summary>
public sealed class GenerationState
{
    private readonly ITokenCodec _codec;
    private readonly Sampler _sampler;
    private readonly ITokenTextStream _stream;
    private readonly GenerationOptions _options;
    private readonly StopSequenceFilter? _stops; // null without stop sequences
    private readonly Grammars.GrammarConstraint? _grammar; // null without a grammar
    private readonly float[] _masked = [];   // (VocabSize) the logits with the grammar's disallowed tokens at −∞
    private readonly int _promptTokens;
    private readonly double _prefillSeconds;
    private readonly long _start = Stopwatch.GetTimestamp();
    private int _generated;
    private bool _done, _flushed;
    private StopReason _reason;

    /// <param name="sampler">Reset, with the prompt's ids accepted.</param>
    /// <param name="stream">Primed with the prompt's ids (its text is the caller's).</param>
    /// <param name="vocabSize">Needed with a grammar (<see cref="GenerationOptions.Grammar"/>): the logits' length.</param>
    public GenerationState(ITokenCodec codec, Sampler sampler, ITokenTextStream stream, int promptTokens, GenerationOptions options, double prefillSeconds, int vocabSize = 0)
    {
        (_codec, _sampler, _stream, _promptTokens, _options, _prefillSeconds) = (codec, sampler, stream, promptTokens, options, prefillSeconds);
        if (options.StopSequences is { Count: > 0 } stops) _stops = new StopSequenceFilter(stops);
        if (options.Grammar is { } grammar)
        {
            _grammar = codec.CreateConstraint(grammar) ?? throw new NotSupportedException("this tokenizer cannot give token bytes: grammars need them");
            _masked = new float[vocabSize];
        }
    }

    /// <summary>
    /// The checks every generation makes before it runs: options present, MaxNewTokens ≥ 0, a prompt of at least one
    /// token that fits the model's context, every id in the vocabulary. Returns the ids as an array.
    /// </summary>
    public static int[] CheckPrompt(IReadOnlyList<int> promptIds, GenerationOptions options, ICompiledModel model)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxNewTokens, "MaxNewTokens must be >= 0");
        if (promptIds.Count == 0) throw new ArgumentException("the prompt is empty and the model adds no BOS token: nothing to start from", nameof(promptIds));
        if (promptIds.Count > model.ContextSize)
            throw new ContextOverflowException($"the prompt has {promptIds.Count} tokens but the context holds {model.ContextSize}; raise --ctx");
        var ids = new int[promptIds.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            int id = promptIds[i];
            if ((uint)id >= (uint)model.VocabSize) throw new ArgumentException($"prompt token {id} at index {i} is outside the vocabulary (0..{model.VocabSize - 1})", nameof(promptIds));
            ids[i] = id;
        }
        return ids;
    }

    /// <summary>The counts so far (the stop reason once MoveNext has returned false).</summary>
    public GenerationResult Result => new(_promptTokens, _generated, _reason, _prefillSeconds, Stopwatch.GetElapsedTime(_start).TotalSeconds);

    /// <summary>The token sampled last (the one to feed back when MoveNext said so).</summary>
    public int LastToken { get; private set; } = -1;

    /// <summary>Generation has stopped (MoveNext may still return the stream's tail once).</summary>
    public bool Stopped => _done;

    /// <summary>
    /// One step: samples from <paramref name="logits"/> (the row after the last fed token), decodes the token's text,
    /// and checks the stop conditions. <paramref name="feed"/>: the caller must run <see cref="LastToken"/> before the
    /// next call. <paramref name="cacheFull"/>: the sequence has no cell left for a fed-back token. False once
    /// generation has stopped and the stream is flushed; <paramref name="text"/> may be empty.
    /// </summary>
    public bool MoveNext(ReadOnlySpan<float> logits, bool cacheFull, bool cancelled, out string text, out bool feed)
    {
        text = "";
        feed = false;
        if (_done)
        {
            if (_flushed) return false;
            _flushed = true;
            text = Tail();
            return text.Length > 0;
        }
        if (cancelled) return Stop(StopReason.Cancelled, out text);
        if (_generated >= _options.MaxNewTokens) return Stop(StopReason.MaxTokens, out text);

        if (_grammar is not null)
        {
            // The mask before the sampler: disallowed tokens get no probability, so temperature, top-k and top-p see only
            // the allowed ones (llama.cpp samples first and checks after; this renormalizes over the grammar's tokens).
            logits.CopyTo(_masked);
            if (_grammar.Apply(_masked) == 0) return Stop(StopReason.EndOfGeneration, out text); // nothing can follow
            logits = _masked;
        }
        int next = _sampler.Sample(logits);
        _grammar?.AcceptToken(next);
        _sampler.Accept(next);
        LastToken = next;
        _generated++;
        if (_codec.IsEndOfGeneration(next) || (_options.StopAtBos && next == _codec.BosTokenId))
            return Stop(StopReason.EndOfGeneration, out text);

        text = _stream.Append(next);
        if (_stops is not null)
        {
            text = _stops.Push(text, out bool stopped);
            if (stopped) { _done = _flushed = true; _reason = StopReason.StopSequence; return true; } // the sequence and what follows are dropped
        }
        if (_generated >= _options.MaxNewTokens) { _done = true; _reason = StopReason.MaxTokens; return true; }
        // The sampled token needs a cache cell to be fed back; without one we stop cleanly, text already out.
        if (cacheFull) { _done = true; _reason = StopReason.ContextFull; return true; }
        feed = true;
        return true;
    }

    private bool Stop(StopReason reason, out string text)
    {
        _done = true;
        _reason = reason;
        _flushed = true;
        text = Tail();
        return text.Length > 0;
    }

    /// <summary>What the stream decoder and the stop-sequence filter still hold, at the end (a stop sequence completed by it cuts it).</summary>
    private string Tail()
    {
        string text = _stream.Flush();
        if (_stops is null) return text;
        text = _stops.Push(text, out bool stopped);
        if (stopped) _reason = StopReason.StopSequence;
        return stopped ? text : text + _stops.Flush();
    }
}
