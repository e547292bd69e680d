using Ingot.Formats;
using Ingot.Host.CommandLine;
using Ingot.Runtime;
using Ingot.Runtime.Generation;

namespace Ingot.Host;

/// <summary>
/// What a verb works with: the compiled model, the writers, and the options every verb shares
/// (<c>--model PATH</c>, <c>--ctx N</c>, <c>-t N</c>, <c>--no-swa</c>, <c>--kv-type</c>, <c>--mmap</c>), plus loading the weights and the tokenizer.
/// </summary>
public sealed class HostContext(IModel model, string program, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
{
    public IModel Model { get; } = model;

    /// <summary>The model as a causal LM (the text-generation verbs only run on one).</summary>
    public ICompiledModel Causal => Model as ICompiledModel ?? throw new NotSupportedException($"{Program} is an encoder: it has no text-generation verbs ({Program} --help lists its verbs)");

    /// <summary>The model as an encoder (the embedding verbs only run on one).</summary>
    public IEncoder Encoder => Model as IEncoder ?? throw new NotSupportedException($"{Program} is a causal language model: it has no encoder verbs ({Program} --help lists its verbs)");
    public string Program { get; } = program;
    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;
    public CancellationToken Cancellation { get; } = cancellation;
    /// <summary>Standard input (the chat verb's messages).</summary>
    public TextReader In { get; init; } = Console.In;

    /// <summary>Set by <see cref="ReadCommonOptions"/>.</summary>
    public string WeightsPath { get; private set; } = "";
    /// <summary>KV capacity asked for with --ctx; 0 = let the verb size it.</summary>
    public int RequestedContext { get; private set; }
    /// <summary>-t N; 0 = all cores.</summary>
    public int Threads { get; private set; }
    /// <summary>--no-swa: full causal attention on every layer, ignoring the spec's sliding window (llama.cpp's llama does).</summary>
    public bool NoSlidingWindow { get; private set; }
    /// <summary>
    /// --kv-type f32|f16 (llama.cpp's --cache-type-k/-v, both at once): the decoder's KV cache elements; f16 unless told,
    /// as llama.cpp's tools (InferenceOptions, for code, keeps F32 unless told).
    /// </summary>
    public KvCacheType KvType { get; private set; }

    /// <summary>
    /// --mmap: leave the weights file mapped (llama.cpp's default) instead of reading it into memory in 2 MB pages
    /// (<see cref="GgufFile.Open(string, long, long, bool)"/>; decode streams every weight per token, and with 4 KB
    /// pages one Zen 4 core read 1B-shape Q4_0 weights at 0.66–0.78 of the rate it reads them from 2 MB pages).
    /// </summary>
    public bool Mapped { get; private set; }

    /// <summary>
    /// The default weights: the executable's own file when weights are appended to it (--single-file; an --isa auto
    /// variant looks in its launcher, NAME beside NAME.x86-64-vN), else <c>&lt;executable's directory&gt;/&lt;model name&gt;.gguf</c>.
    /// </summary>
    public string DefaultWeightsPath
    {
        get
        {
            if (IsaDispatch.Build is not null) // a published executable
                foreach (string? candidate in new[] { Environment.ProcessPath, IsaDispatch.LauncherPath })
                    if (candidate is not null && File.Exists(candidate) && AppendedWeights.TryFind(candidate, out _, out _)) return candidate;
            return Path.Combine(AppContext.BaseDirectory, Model.Description.Name + ".gguf");
        }
    }

    public void ReadCommonOptions(ArgReader args)
    {
        WeightsPath = args.OptionOrNull("--model", "-m") ?? DefaultWeightsPath;
        RequestedContext = args.Int(0, "--ctx", "-c");
        if (RequestedContext < 0) throw new UsageException("--ctx must be >= 0");
        Threads = args.Int(0, "-t", "--threads");
        if (Threads < 0) throw new UsageException("-t must be >= 0");
        NoSlidingWindow = args.Flag("--no-swa");
        Mapped = args.Flag("--mmap");
        string kv = args.OptionOr("f16", "--kv-type"); // llama.cpp's default cache
        KvType = kv.ToLowerInvariant() switch
        {
            "f32" => KvCacheType.F32,
            "f16" => KvCacheType.F16,
            _ => throw new UsageException($"--kv-type must be f32 or f16, not '{kv}'"),
        };
    }

    /// <summary>The thread count in effect (what -t 0 resolves to).</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>Opens the weights file (read into memory in 2 MB pages where worthwhile, else or with --mmap mapped). A missing file is one clear line.</summary>
    public GgufFile OpenWeights()
    {
        string full = Path.GetFullPath(WeightsPath);
        if (!File.Exists(full))
            throw new FileNotFoundException($"weights not found: {full} (pass --model PATH)", full);
        // An executable built with --single-file carries its GGUF after its own bytes.
        return AppendedWeights.TryFind(full, out long offset, out long length) ? GgufFile.Open(full, offset, length, inMemory: !Mapped) : GgufFile.Open(full, inMemory: !Mapped);
    }

    /// <summary>
    /// Binds the weights with a KV cache of --ctx tokens if given, else <paramref name="neededContext"/>
    /// (what the verb will use; 0 = the spec's context length, capped at 4096 so a 128k-context model does not
    /// allocate a giant cache by default).
    /// </summary>
    public void LoadModel(GgufFile weights, int neededContext, int sequences = 1)
    {
        int ctx = RequestedContext;
        if (ctx == 0)
            ctx = neededContext > 0 ? neededContext : Math.Min(Model.Description.ContextLength, 4096);
        Model.Load(weights, new InferenceOptions(ctx, Threads, NoSlidingWindow, sequences, KvType));
    }

    /// <summary>The tokenizer the weights file describes, as the generation loop uses it.</summary>
    public static ITokenCodec LoadTokenizer(GgufFile weights) => TokenizerCodec.FromGguf(weights);
}
