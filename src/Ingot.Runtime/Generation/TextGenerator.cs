using System.Diagnostics;
using System.Runtime.CompilerServices;
using Ingot.Runtime.Sampling;

namespace Ingot.Runtime.Generation;

/// <summary>
/// The generation loop: tokenize → prefill → (sample → stream text → decode)* until a stop condition.
/// <para>
/// Per token it allocates nothing but the returned strings: the logits row (VocabSize floats), the sampler's
/// buffers and the run state are made once per generator (the sampler again only when the options change).
/// Not thread-safe: one generator drives one model.
/// </para>
/// <para>
/// The streamed text is the continuation only; callers print the prompt themselves (as llama2.c and llama.cpp do).
/// The stream decoder is primed with the prompt ids first, so the continuation is detokenized in context
/// (SentencePiece's leading-space rule applies to the start of the sequence, not to the first new token).
/// </para>
/// </summary>
public sealed class TextGenerator
{
    private readonly ICompiledModel _model;
    private readonly ITokenCodec _codec;
    private readonly float[] _logits; // (VocabSize) the last row of logits
    private Sampler? _sampler;

    public TextGenerator(ICompiledModel model, ITokenCodec codec)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(codec);
        _model = model;
        _codec = codec;
        _logits = new float[model.VocabSize];
    }

    public ICompiledModel Model => _model;

    /// <summary>The seed of the sampler used last (the drawn one when the options had none); null before the first run.</summary>
    public ulong? SamplerSeed => _sampler?.Seed;

    /// <summary>The prompt's ids as generation feeds them (BOS as the tokenizer says).</summary>
    public IReadOnlyList<int> Tokenize(string prompt) => _codec.EncodePrompt(prompt ?? throw new ArgumentNullException(nameof(prompt)));

    /// <summary>The synchronous hot path: <paramref name="onText"/> receives each non-empty piece of text as it is decoded.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string> onText, CancellationToken ct = default) =>
        Generate(Tokenize(prompt), options, onText, ct);

    /// <inheritdoc cref="Generate(string, GenerationOptions, Action{string}, CancellationToken)"/>
    public GenerationResult Generate(IReadOnlyList<int> promptIds, GenerationOptions options, Action<string> onText, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(onText);
        var run = Start(promptIds, options);
        while (run.MoveNext(ct, out string text))
            if (text.Length > 0) onText(text);
        return run.Result;
    }

    /// <summary>
    /// Streams the continuation of <paramref name="prompt"/>. The model's work runs on the enumerating thread
    /// between items. Cancellation ends the stream with <see cref="OperationCanceledException"/> (the .NET convention
    /// for async streams); the synchronous <see cref="Generate(string, GenerationOptions, Action{string}, CancellationToken)"/>
    /// returns <see cref="StopReason.Cancelled"/> instead. <see cref="LastResult"/> holds the counts afterwards.
    /// </summary>
    public async IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var run = Start(Tokenize(prompt), options);
        await Task.Yield(); // return to the caller before the prefill's compute
        while (run.MoveNext(ct, out string text))
        {
            if (text.Length > 0) yield return text;
        }
        LastResult = run.Result;
        if (run.Result.StopReason == StopReason.Cancelled) throw new OperationCanceledException(ct);
    }

    /// <summary>The result of the last <see cref="GenerateAsync"/> that ran to its end.</summary>
    public GenerationResult? LastResult { get; private set; }

    /// <summary>The tokens whose keys and values the model's cache holds, in order (prompt and fed-back samples).</summary>
    public IReadOnlyList<int> CachedTokens => _cached;

    /// <summary>How many leading prompt tokens the last generation found already in the cache and did not re-run.</summary>
    public int ReusedPromptTokens { get; private set; }

    private readonly List<int> _cached = new();

    /// <summary>
    /// Prefills <paramref name="promptIds"/> (reusing the cached prefix) and returns the run: each
    /// <see cref="GenerationRun.MoveNext"/> samples one token and decodes it. The pull form of <see cref="Generate(IReadOnlyList{int}, GenerationOptions, Action{string}, CancellationToken)"/>
    /// for callers that stop on their own (a stop sequence); one run at a time.
    /// </summary>
    public GenerationRun Start(IReadOnlyList<int> promptIds, GenerationOptions options)
    {
        var ids = GenerationState.CheckPrompt(promptIds, options, _model);

        var sampling = options.SamplingOrDefault;
        if (_sampler is null || !_sampler.Options.Equals(sampling)) _sampler = new Sampler(sampling, _model.VocabSize);
        else _sampler.Reset();

        var stream = _codec.CreateStream();
        foreach (int id in ids)
        {
            _sampler.Accept(id);
            stream.Append(id); // prime: the prompt's own text is the caller's to print
        }

        long t0 = Stopwatch.GetTimestamp();
        // A chat resends the whole conversation each turn: when the KV cache already holds a prefix of the prompt
        // (and nothing else touched the model since), only the new tokens are run. The cache then holds exactly
        // what a full prefill would have computed (each token's math does not depend on the batch it ran in).
        int reuse = 0;
        if (_model.Position == _cached.Count)
        {
            while (reuse < _cached.Count && reuse < ids.Length - 1 && _cached[reuse] == ids[reuse]) reuse++;
            if (reuse < _cached.Count) reuse = 0; // the cache diverges from the prompt: start over
        }
        if (reuse == 0)
        {
            _model.Reset();
            _cached.Clear();
        }
        _model.Prefill(ids.AsSpan(reuse), _logits);
        for (int i = reuse; i < ids.Length; i++) _cached.Add(ids[i]);
        ReusedPromptTokens = reuse;
        double prefill = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return new GenerationRun(this, stream, ids.Length, options, prefill);
    }

    /// <summary>One generation's state; MoveNext does one sample (+ one decode) per call.</summary>
    public sealed class GenerationRun
    {
        private readonly TextGenerator owner;
        private readonly GenerationState state;

        internal GenerationRun(TextGenerator owner, ITokenTextStream stream, int promptTokens, GenerationOptions options, double prefillSeconds)
        {
            this.owner = owner;
            state = new GenerationState(owner._codec, owner._sampler!, stream, promptTokens, options, prefillSeconds, owner._model.VocabSize);
        }

        /// <summary>The counts so far (the stop reason once MoveNext has returned false).</summary>
        public GenerationResult Result => state.Result;

        /// <summary>False once generation has stopped and the stream is flushed; <paramref name="text"/> may be empty.</summary>
        public bool MoveNext(CancellationToken ct, out string text)
        {
            var model = owner._model;
            bool more = state.MoveNext(owner._logits, model.Position >= model.ContextSize, ct.IsCancellationRequested, out text, out bool feed);
            if (feed)
            {
                model.Decode(state.LastToken, owner._logits);
                owner._cached.Add(state.LastToken);
            }
            return more;
        }
    }
}
