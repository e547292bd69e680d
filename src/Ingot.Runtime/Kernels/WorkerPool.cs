using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Ingot.Runtime.Kernels;

/// <summary>A row range [start, end) of a parallel loop. The generator emits fused structs implementing it.</summary>
public interface IRangeBody
{
    void Run(int start, int end);
}

/// <summary>
/// Persistent fork-join pool for decode/prefill loops: <see cref="For{TBody}"/> is called ~100 times per token,
/// so a dispatch must cost a few microseconds and allocate nothing. Workers spin on a generation counter for a
/// short while after each job (the next For usually follows within microseconds), then park on a per-worker
/// semaphore. Chunks are claimed with a CAS on (job id, next chunk), so the caller and whichever workers are awake
/// share them (on a busy 2-core machine a descheduled worker does not stall the join); the caller spins until all
/// chunks of its job are done.
/// The body is passed to workers as a pointer to a copy on the caller's stack plus a static generic trampoline
/// (<c>delegate*&lt;void*, int, int, void&gt;</c>), so there is no boxing and no delegate allocation.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    // Per-worker state, padded to its own cache line so sleeping flags do not false-share.
    private sealed class Worker
    {
        public Thread Thread = null!;
        public readonly SemaphoreSlim Wake = new(0, int.MaxValue);
        public int Sleeping; // 1 while parked (or about to park) on Wake
    }

    // A worker spins for this long after its last job before parking (clock-based: Thread.SpinWait's unit varies
    // by machine). Long enough to bridge the gaps between the ~100 For calls of a decode step and back-to-back
    // matvecs (a park + futex wake costs tens of µs in a VM), short enough not to burn a core while the host
    // samples or waits for input.
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 500; // 2 ms

    /// <summary>The smallest chunk is count / (threads × this): it bounds the number of claims (stream restarts) per For.</summary>
    public const int MinChunkDivisor = 16;

    private readonly Worker[] _workers;
    private readonly int _threads;

    // Current job (written by the caller before the generation bump, read by workers after they see it).
    private void* _body;
    private delegate*<void*, int, int, void> _invoke;
    private int _count;
    private int _minChunk;
    private bool _align16;
    private long _claim;    // (job id << 32) | next unclaimed row: chunks are claimed by CAS, so an awake thread
                            // takes the rows of a worker the OS has not scheduled yet (2 cores, busy machine)
    private int _doneRows;  // rows finished in the current job
    private int _jobId;
    private volatile int _generation;
    private volatile bool _disposed;
    private int _busy; // 1 while a For is in flight (a concurrent or nested For runs inline)
    private Exception? _error;

    [ThreadStatic] private static bool t_inWorker;

    public WorkerPool(int threads)
    {
        _threads = threads <= 0 ? Environment.ProcessorCount : threads;
        _workers = new Worker[_threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            var w = new Worker();
                        w.Thread = new Thread(() => WorkerLoop(w)) { IsBackground = true, Name = "Ingot worker " + (i + 1) };
            _workers[i] = w;
            w.Thread.Start();
        }
    }

    /// <summary>Threads taking part in a For, the caller included.</summary>
    public int ThreadCount => _threads;

    /// <summary>
    /// Runs body.Run over [0, count) in contiguous chunks claimed dynamically, long first and shorter towards the end
    /// (guided scheduling; multiples of 4 rows when count ≥ 64);
    /// the calling thread takes part and the call returns when every chunk is done. An exception thrown by any chunk
    /// is rethrown here (the first one wins). Zero allocation.
    /// </summary>
    public void For<TBody>(int count, ref TBody body) where TBody : struct, IRangeBody
    {
        if (count <= 0) return;
        if (_threads == 1 || count == 1 || t_inWorker || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            body.Run(0, count);
            return;
        }

        try
        {
            // Guided self-scheduling: each claim takes remaining / (2 × threads) rows (at least MinChunk's share), so
            // the first chunks are long sequential streams and the last ones short, and a thread that started late or
            // ran slower (a busy 2-core VM) leaves the others little to wait for at the join. Measured: 2 equal halves
            // left ~8-18 % of decode time spinning at the joins. Counts of 64 or more, and multiples of 16, are claimed in multiples of 16
            // rows, so every chunk starts at a multiple of 16: 4-row kernels see the same row groups whatever the
            // thread count or timing, and a row tile of Q4_0 weights in Ingot's layout (16 rows interleaved,
            // Formats.Q4_0x16) starts on a group.
            int min = Math.Max(1, count / (_threads * MinChunkDivisor));
            bool align16 = count >= 64 || count % 16 == 0;
            if (align16) min = (min + 15) & ~15;

            // Close the previous job's claim word before touching the job fields: a worker still looping in RunChunks
            // for it may hold its last state (old job, its count) and read the fields next; with the word changed its
            // CAS fails. (Writing _count first let such a worker claim rows past the old job's end with the new count,
            // and its late Add overshot the new job's done count: a hang.) Start = int.MaxValue: nothing claimable yet.
            int job = ++_jobId;
            Volatile.Write(ref _claim, ((long)job << 32) | int.MaxValue);

            TBody local = body; // stack copy: its address is stable while we wait below
            _body = Unsafe.AsPointer(ref local);
            _invoke = &Invoke<TBody>;
            _count = count;
            _minChunk = min;
            _align16 = align16;
            _error = null;
            _doneRows = 0;
            Volatile.Write(ref _claim, (long)job << 32); // opens the job: the fields above are visible to whoever claims
            _generation++; // volatile write publishes the job
            for (int i = 0; i < _workers.Length; i++)
            {
                Worker w = _workers[i];
                if (Volatile.Read(ref w.Sleeping) == 1 && Interlocked.Exchange(ref w.Sleeping, 0) == 1) w.Wake.Release();
            }

            RunChunks(job);
            var spin = new SpinWait();
            while (Volatile.Read(ref _doneRows) != count) spin.SpinOnce(-1); // never Sleep(1): chunks take microseconds
            _body = null;
            body = local;
            Exception? error = _error;
            if (error != null) ExceptionDispatchInfo.Capture(error).Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Claims and runs chunks of job <paramref name="job"/> until none is left (or the job is over).</summary>
    private void RunChunks(int job)
    {
        while (true)
        {
            long state = Volatile.Read(ref _claim);
            if ((int)(state >> 32) != job) return; // a later job: ours is finished
            int start = (int)state, count = _count;
            if (start >= count) return;
            int size = Math.Max(_minChunk, (count - start + 2 * _threads - 1) / (2 * _threads));
            if (_align16) size = (size + 15) & ~15;
            int end = (int)Math.Min((long)start + size, count);
            if (Interlocked.CompareExchange(ref _claim, (state & ~0xFFFFFFFFL) | (uint)end, state) != state) continue;
            // The claim succeeded in this job, so the caller is still waiting for these rows: the job fields are ours.
            // (_count and _minChunk were read before the CAS: a stale read from an older job fails the CAS, since the
            // job id in _claim changed.)
            try
            {
                _invoke(_body, start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            Interlocked.Add(ref _doneRows, end - start);
        }
    }

    private static void Invoke<TBody>(void* body, int start, int end) where TBody : struct, IRangeBody
        => Unsafe.AsRef<TBody>(body).Run(start, end);

    private void WorkerLoop(Worker w)
    {
        t_inWorker = true;
        int seen = 0;
        while (true)
        {
            // Wait for a new generation: spin first, then park.
            long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            int spins = 0;
            while (_generation == seen)
            {
                if ((++spins & 63) != 0 || System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
                {
                    Thread.SpinWait(4);
                    continue;
                }
                Volatile.Write(ref w.Sleeping, 1);
                Interlocked.MemoryBarrier();
                if (_generation != seen)
                {
                    // A job arrived while we were deciding to sleep. If the caller already claimed our flag it
                    // will Release the semaphore, so we must consume that release to keep the count balanced.
                    if (Interlocked.Exchange(ref w.Sleeping, 0) == 0) w.Wake.Wait();
                    break;
                }
                w.Wake.Wait();
                deadline = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
            }
            if (_disposed) return;
            seen = _generation;
            RunChunks((int)(Volatile.Read(ref _claim) >> 32));
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _generation++;
        foreach (Worker w in _workers)
        {
            if (Interlocked.Exchange(ref w.Sleeping, 0) == 1) w.Wake.Release();
        }
        foreach (Worker w in _workers) w.Thread.Join();
        foreach (Worker w in _workers) w.Wake.Dispose();
    }
}
