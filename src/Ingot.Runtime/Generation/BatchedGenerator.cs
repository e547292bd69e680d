using System.Diagnostics;
using System.Threading.Channels;
using Ingot.Runtime.Sampling;

namespace Ingot.Runtime.Generation;

/// <summary>
/// Continuous batching: many generations share one model, each in a sequence (slot) of its KV cache
/// (<see cref="ICompiledModel.Sequences"/>), and every step runs all of them as one batch
/// (<see cref="ICompiledModel.Prefill(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float})"/>), so
/// each weight row is read once per step for all active sequences.
/// <list type="bullet">
/// <item>A step holds one fed-back token of every decoding sequence, then prompt tokens of admitted requests up to
/// <see cref="StepTokens"/> in all: a long prompt is prefilled over several steps while the others keep streaming.</item>
/// <item>A generation that ends (or whose caller cancels) frees its slot at once; the oldest queued request takes it.</item>
/// <item>A slot keeps the tokens it holds: a request whose prompt extends them (the next turn of a chat) goes to that
/// slot and runs only its new tokens.</item>
/// <item>Each sequence's tokens are what it gives alone: batching changes no logits (SequenceBatchTests).</item>
/// </list>
/// The model runs on one thread of its own; text reaches each caller through its <see cref="Generation.Text"/>
/// channel. Per step it allocates nothing but the text pieces.
/// </summary>
public sealed class BatchedGenerator : IDisposable
{
    private readonly ICompiledModel _model;
    private readonly ITokenCodec _codec;
    private readonly Slot[] _slots;
    private readonly Queue<Generation> _queue = new();
    private readonly object _lock = new();
    private readonly Thread _thread;
    private readonly int[] _tokens, _lengths, _sequences;
    private readonly Slot[] _runSlots;
    private readonly float[] _logits; // (slots, VocabSize): each run's last row
    private bool _disposed;
    private int _active;

    /// <param name="stepTokens">Tokens per step at most (decodes first, then prompt chunks); at least the slot count.</param>
    public BatchedGenerator(ICompiledModel model, ITokenCodec codec, int stepTokens = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(codec);
        (_model, _codec) = (model, codec);
        int n = model.Sequences;
        StepTokens = Math.Max(stepTokens, n);
        _slots = new Slot[n];
        for (int i = 0; i < n; i++) _slots[i] = new Slot(i);
        _tokens = new int[StepTokens];
        _lengths = new int[n];
        _sequences = new int[n];
        _runSlots = new Slot[n];
        _logits = new float[(long)n * model.VocabSize];
        model.Reset();
        _thread = new Thread(Loop) { IsBackground = true, Name = "ingot-batch" };
        _thread.Start();
    }

    public ICompiledModel Model => _model;

    /// <summary>Sequences generated at once (the model's <see cref="ICompiledModel.Sequences"/>).</summary>
    public int Slots => _slots.Length;

    public int StepTokens { get; }

    /// <summary>Requests waiting for a slot.</summary>
    public int Queued { get { lock (_lock) return _queue.Count; } }

    /// <summary>Sequences being generated.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Batches run so far, and the runs in them (runs ÷ steps: the mean batch).</summary>
    public long Steps => Volatile.Read(ref _steps);

    public long Runs => Volatile.Read(ref _runs);

    private long _steps, _runs;

    /// <summary>
    /// Queues a generation of <paramref name="promptIds"/>. Its text arrives on <see cref="Generation.Text"/> as it is
    /// sampled; <see cref="Generation.Completion"/> ends with the counts and stop reason. Cancelling
    /// <paramref name="ct"/> stops it within a step and frees its slot (the result says Cancelled). Throws
    /// <see cref="ContextOverflowException"/> when the prompt does not fit a sequence.
    /// </summary>
    public Generation Submit(IReadOnlyList<int> promptIds, GenerationOptions options, CancellationToken ct = default)
    {
        var ids = GenerationState.CheckPrompt(promptIds, options, _model);
        var g = new Generation(ids, options, ct);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _queue.Enqueue(g);
            Monitor.Pulse(_lock);
        }
        // Wake the loop if it waits for work while this request is cancelled in the queue.
        if (ct.CanBeCanceled) g.Registration = ct.Register(() => { lock (_lock) Monitor.Pulse(_lock); });
        return g;
    }

    /// <summary>One queued or running generation: its text as it comes, then its result.</summary>
    public sealed class Generation
    {
        internal readonly int[] Prompt;
        internal readonly GenerationOptions Options;
        internal readonly CancellationToken Cancellation;
        internal CancellationTokenRegistration Registration;
        internal readonly Channel<string> Channel = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        internal readonly TaskCompletionSource<GenerationResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Generation(int[] prompt, GenerationOptions options, CancellationToken ct) => (Prompt, Options, Cancellation) = (prompt, options, ct);

        /// <summary>The continuation's text, piece by piece; completes when the generation ends.</summary>
        public ChannelReader<string> Text => Channel.Reader;

        /// <summary>The counts and stop reason (Cancelled when the caller's token fired first).</summary>
        public Task<GenerationResult> Completion => Done.Task;

        /// <summary>Prompt tokens the slot already held and did not run again.</summary>
        public int ReusedPromptTokens { get; internal set; }
    }

    /// <summary>A sequence of the model and the generation in it.</summary>
    private sealed class Slot(int sequence)
    {
        public readonly int Sequence = sequence;
        public readonly List<int> Cached = new(); // the tokens the sequence holds
        public Generation? Generation;
        public GenerationState? State;
        public Sampler? Sampler;
        public ITokenTextStream? Stream; // primed with the prompt, until its state takes it
        public int Prefilled;      // prompt tokens the sequence holds
        public int Feed = -1;      // the token to run next step (decoding), −1 while the prompt is being prefilled
        public long PrefillStart;
    }

    private void Loop()
    {
        while (true)
        {
            lock (_lock)
            {
                while (!_disposed && _queue.Count == 0 && _active == 0) Monitor.Wait(_lock);
                if (_disposed) break;
                Admit();
            }
            try
            {
                if (Volatile.Read(ref _active) > 0) Step();
            }
            catch (Exception e)
            {
                // The model failed (a bug, not a request's fault): every running generation ends with the error.
                foreach (var s in _slots) if (s.Generation is { } g) { Finish(s, null, e); }
            }
        }
        foreach (var s in _slots) if (s.Generation is not null) Finish(s, null, new ObjectDisposedException(nameof(BatchedGenerator)));
        lock (_lock)
            while (_queue.Count > 0) _queue.Dequeue().Done.TrySetException(new ObjectDisposedException(nameof(BatchedGenerator)));
    }

    /// <summary>Queued requests into free slots (under the lock): the slot whose cached tokens the prompt extends, else the emptiest.</summary>
    private void Admit()
    {
        while (_queue.Count > 0)
        {
            var g = _queue.Peek();
            if (g.Cancellation.IsCancellationRequested)
            {
                _queue.Dequeue();
                g.Registration.Dispose();
                g.Channel.Writer.TryComplete();
                g.Done.TrySetResult(new GenerationResult(g.Prompt.Length, 0, StopReason.Cancelled, 0, 0));
                continue;
            }
            Slot? best = null;
            int bestReuse = -1;
            foreach (var s in _slots)
            {
                if (s.Generation is not null) continue;
                int reuse = Reusable(s.Cached, g.Prompt);
                if (reuse > bestReuse || (reuse == bestReuse && best is not null && s.Cached.Count < best.Cached.Count)) (best, bestReuse) = (s, reuse);
            }
            if (best is null) return;
            _queue.Dequeue();
            Start(best, g, bestReuse);
        }
    }

    /// <summary>How many leading prompt tokens a slot holds already: all it holds when they are a prefix of the prompt (leaving at least one to run), else 0.</summary>
    private static int Reusable(List<int> cached, int[] prompt)
    {
        if (cached.Count == 0 || cached.Count >= prompt.Length) return 0;
        for (int i = 0; i < cached.Count; i++) if (cached[i] != prompt[i]) return 0;
        return cached.Count;
    }

    private void Start(Slot s, Generation g, int reuse)
    {
        if (reuse == 0)
        {
            _model.Reset(s.Sequence);
            s.Cached.Clear();
        }
        var sampling = g.Options.SamplingOrDefault;
        if (s.Sampler is null || !s.Sampler.Options.Equals(sampling)) s.Sampler = new Sampler(sampling, _model.VocabSize);
        else s.Sampler.Reset();
        var stream = _codec.CreateStream();
        foreach (int id in g.Prompt)
        {
            s.Sampler.Accept(id);
            stream.Append(id); // prime: the prompt's own text is the caller's
        }
        g.ReusedPromptTokens = reuse;
        s.Generation = g;
        s.State = null;
        s.Prefilled = reuse;
        s.Feed = -1;
        s.PrefillStart = Stopwatch.GetTimestamp();
        s.Stream = stream;
        Interlocked.Increment(ref _active);
    }

    /// <summary>One batch: every decoding slot's token, then prompt chunks in slot order up to StepTokens.</summary>
    private void Step()
    {
        int runs = 0, count = 0;
        foreach (var s in _slots)
        {
            if (s.Generation is not { } g) continue;
            if (g.Cancellation.IsCancellationRequested) { Cancel(s); continue; }
            if (s.Feed < 0) continue;
            _tokens[count++] = s.Feed;
            Add(s, 1, ref runs);
        }
        foreach (var s in _slots)
        {
            if (s.Generation is not { } g || s.Feed >= 0 || count == StepTokens) continue;
            int take = Math.Min(g.Prompt.Length - s.Prefilled, StepTokens - count);
            g.Prompt.AsSpan(s.Prefilled, take).CopyTo(_tokens.AsSpan(count));
            count += take;
            Add(s, take, ref runs);
        }
        if (runs == 0) return;
        _model.Prefill(_tokens.AsSpan(0, count), _lengths.AsSpan(0, runs), _sequences.AsSpan(0, runs), _logits.AsSpan(0, runs * _model.VocabSize));
        Volatile.Write(ref _steps, _steps + 1);
        Volatile.Write(ref _runs, _runs + runs);
        for (int i = 0, at = 0; i < runs; at += _lengths[i], i++)
        {
            var s = _runSlots[i];
            var g = s.Generation!;
            for (int t = 0; t < _lengths[i]; t++) s.Cached.Add(_tokens[at + t]);
            if (s.Feed < 0)
            {
                s.Prefilled += _lengths[i];
                if (s.Prefilled < g.Prompt.Length) continue; // more prompt next step
                s.State = new GenerationState(_codec, s.Sampler!, s.Stream!, g.Prompt.Length, g.Options, Stopwatch.GetElapsedTime(s.PrefillStart).TotalSeconds, _model.VocabSize);
            }
            Advance(s, _logits.AsSpan(i * _model.VocabSize, _model.VocabSize));
        }
    }

    private void Add(Slot s, int length, ref int runs)
    {
        _lengths[runs] = length;
        _sequences[runs] = s.Sequence;
        _runSlots[runs] = s;
        runs++;
    }

    /// <summary>Samples a slot's next token from its logits row and streams its text; a finished generation frees the slot.</summary>
    private void Advance(Slot s, ReadOnlySpan<float> logits)
    {
        var state = s.State!;
        var writer = s.Generation!.Channel.Writer;
        bool more = state.MoveNext(logits, _model.PositionOf(s.Sequence) >= _model.ContextSize, s.Generation.Cancellation.IsCancellationRequested, out string text, out bool feed);
        if (text.Length > 0) writer.TryWrite(text);
        if (feed) { s.Feed = state.LastToken; return; }
        while (more)
        {
            more = state.MoveNext(default, true, false, out text, out _);
            if (text.Length > 0) writer.TryWrite(text);
        }
        Finish(s, state.Result, null);
    }

    private void Cancel(Slot s)
    {
        var g = s.Generation!;
        if (s.State is { } state)
        {
            while (state.MoveNext(default, true, true, out _, out _)) { }
            Finish(s, state.Result, null);
        }
        else Finish(s, new GenerationResult(g.Prompt.Length, 0, StopReason.Cancelled, Stopwatch.GetElapsedTime(s.PrefillStart).TotalSeconds, 0), null);
    }

    private void Finish(Slot s, GenerationResult? result, Exception? error)
    {
        var g = s.Generation!;
        // A sequence cut mid-prompt holds tokens its Cached list may not describe in full: start it over next time.
        if (s.State is null || error is not null)
        {
            s.Cached.Clear();
            _model.Reset(s.Sequence);
        }
        s.Generation = null;
        s.State = null;
        s.Stream = null;
        s.Feed = -1;
        Interlocked.Decrement(ref _active);
        g.Registration.Dispose();
        g.Channel.Writer.TryComplete(error);
        if (error is not null) g.Done.TrySetException(error);
        else g.Done.TrySetResult(result!);
    }

    /// <summary>Stops the loop: running and queued generations end with ObjectDisposedException. The model stays its owner's.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_lock);
        }
        if (Thread.CurrentThread != _thread) _thread.Join();
    }
}
