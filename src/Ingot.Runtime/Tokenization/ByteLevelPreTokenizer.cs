using System.Diagnostics.CodeAnalysis;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Splits text into the words a byte-level BPE merges within, as llama.cpp does for a <c>tokenizer.ggml.pre</c>
/// family: an ordered list of patterns, each applied to every piece the previous ones produced; a pattern's matches
/// become pieces and so does the unmatched text between them. The common patterns (GPT-2, Llama 3, Qwen2) run as
/// hand-written scanners; the rest run on .NET's regex interpreter over a per-code-point transcoding of the text
/// (see <see cref="PreTokenizerRegexStep"/>), so both see code points, not UTF-16 units.
/// </summary>
public sealed class ByteLevelPreTokenizer
{
    /// <summary>GPT-2's pattern as llama.cpp lists it (the trailing <c>|\s+</c> of the original is implied).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    /// <summary>Llama 3's pattern (tokenizer.json form): digits in groups of up to three.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's pattern: Llama 3's with every digit on its own.</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string Cjk = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";

    // The family lists below are the public pre-tokenizer patterns of each model (its tokenizer.json), in the
    // order llama.cpp applies them.
    private static readonly string[] DefaultPatterns = [@"[\p{P}\$\+<=>\^~\|]+", Gpt2Pattern, @"\p{N}+", "[0-9][0-9][0-9]"];
    private static readonly string[] FalconPatterns = [@"[\p{P}\$\+<=>\^~\|`]+", Gpt2Pattern, "[0-9][0-9][0-9]"];
    private static readonly string[] StarCoderPatterns = [@"\p{N}", Gpt2Pattern];
    private static readonly string[] DeepSeekCoderPatterns = ["[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", Cjk, @"\p{N}"];

    private static readonly string[] DeepSeekLlmPatterns =
    [
        "[\r\n]",
        "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377" +
        "\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556" +
        "\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15" +
        "\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE" +
        "\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113" +
        "\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184" +
        "\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E" +
        "\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3" +
        "\U000104D8-\U000104FB\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+",
        "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
        @"\s+$",
        Cjk,
        @"\p{N}+",
    ];

    private static readonly string[] DeepSeekV3Patterns =
    [
        @"\p{N}{1,3}",
        "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ];

    private static readonly string[] BloomPatterns = [" ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+"];

    private static readonly string[] ChameleonPatterns =
    [
        "<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", @"\p{N}",
        @"[\p{P}!-/:-@\[-`{-~]", Gpt2Pattern,
    ];

    private const string TekkenPattern =
        @"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly PreTokenizerStep[] _steps;

    private ByteLevelPreTokenizer(string name, IReadOnlyList<string> patterns)
    {
        Name = name;
        Patterns = patterns.ToArray();
        _steps = patterns.Select(PreTokenizerStep.Create).ToArray();
    }

    /// <summary>The family name (<c>tokenizer.ggml.pre</c>) or "custom" for <see cref="FromRegexes"/>.</summary>
    public string Name { get; }

    /// <summary>The patterns in the order they are applied.</summary>
    public IReadOnlyList<string> Patterns { get; }

    /// <summary>
    /// The pre-tokenizer llama.cpp uses for a <c>tokenizer.ggml.pre</c> value; <c>null</c> or empty means a GGUF
    /// without the key, which llama.cpp treats as "default". "gpt-neox" (not a llama.cpp name) is GPT-2's pattern,
    /// as in the GPT-NeoX tokenizer.json.
    /// </summary>
    public static bool TryFromName(string? name, [NotNullWhen(true)] out ByteLevelPreTokenizer? preTokenizer)
    {
        string[]? patterns = (name ?? "") switch
        {
            "" or "default" => DefaultPatterns,
            "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "dbrx" or "smaug-bpe" or "chatglm-bpe" => [Llama3Pattern],
            "deepseek-llm" => DeepSeekLlmPatterns,
            "deepseek-coder" => DeepSeekCoderPatterns,
            "deepseek-v3" => DeepSeekV3Patterns,
            "falcon" => FalconPatterns,
            "starcoder" or "refact" or "command-r" or "smollm" or "codeshell" or "exaone" or "minerva-7b" => StarCoderPatterns,
            "gpt-2" or "gpt-neox" or "mpt" or "olmo" or "jais" or "phi-2" or "jina-es" or "jina-de" or "gigachat"
                or "jina-v1-en" or "jina-v2-es" or "jina-v2-de" or "jina-v2-code" or "roberta-bpe" => [Gpt2Pattern],
            "qwen2" or "deepseek-r1-qwen" or "megrez" or "stablelm2" => [Qwen2Pattern],
            "poro-chat" or "bloom" or "gpt3-finnish" => BloomPatterns,
            "viking" => [BloomPatterns[0], @"\p{N}"],
            "chameleon" => ChameleonPatterns,
            "tekken" => [TekkenPattern],
            _ => null,
        };
        preTokenizer = patterns is null ? null : new ByteLevelPreTokenizer(string.IsNullOrEmpty(name) ? "default" : name, patterns);
        return preTokenizer is not null;
    }

    /// <summary>Like <see cref="TryFromName"/>; an unknown name is an <see cref="ArgumentException"/>.</summary>
    public static ByteLevelPreTokenizer FromName(string? name) =>
        TryFromName(name, out var p) ? p : throw new ArgumentException($"unknown byte-level pre-tokenizer '{name}'", nameof(name));

    /// <summary>
    /// From explicit patterns (e.g. a tokenizer.json's Split pre-tokenizers), applied in order. The GPT-2, Llama 3
    /// and Qwen2 patterns are recognised and run by the fast scanners; others must use only what the regex step
    /// supports (\p{L}, \p{N}, \p{P}, \p{S}, \p{M} in ASCII-only patterns, or any pattern without categories).
    /// </summary>
    public static ByteLevelPreTokenizer FromRegexes(IReadOnlyList<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (patterns.Count == 0) throw new ArgumentException("at least one pattern is needed", nameof(patterns));
        return new ByteLevelPreTokenizer("custom", patterns);
    }

    /// <summary>Splits <paramref name="text"/> into pre-tokens (convenience for tests and tools).</summary>
    public List<string> Split(string text)
    {
        var ranges = new List<Range>();
        Split(text, ranges);
        return ranges.Select(r => text[r]).ToList();
    }

    /// <summary>Appends the UTF-16 range of each pre-token of <paramref name="text"/>, in order, to <paramref name="pieces"/>.</summary>
    public void Split(ReadOnlySpan<char> text, List<Range> pieces)
    {
        var scratch = PreTokenizerScratch.Rent();
        try
        {
            var starts = new List<(int Start, int Length)>();
            Split(text, scratch, starts);
            foreach (var (s, l) in starts) pieces.Add(new Range(s, s + l));
        }
        finally { PreTokenizerScratch.Return(scratch); }
    }

    /// <summary>The workhorse: pieces as (UTF-16 start, UTF-16 length), using caller-owned scratch buffers.</summary>
    internal void Split(ReadOnlySpan<char> text, PreTokenizerScratch scratch, List<(int Start, int Length)> pieces)
    {
        if (text.IsEmpty) return;
        scratch.Ensure(text.Length);
        int n = PreTokenizerUnicode.Decode(text, scratch.Codepoints, scratch.Flags, scratch.CharStart);
        var view = new CodepointText(scratch.Codepoints.AsSpan(0, n), scratch.Flags.AsSpan(0, n));

        // Segment lengths in code points, consecutive from 0, like llama.cpp's offsets vector.
        List<int> current = scratch.SegmentsA, next = scratch.SegmentsB;
        current.Clear();
        current.Add(n);
        foreach (var step in _steps)
        {
            next.Clear();
            step.Split(view, scratch, current, next);
            (current, next) = (next, current);
        }

        int cp = 0;
        int[] charStart = scratch.CharStart;
        foreach (int len in current)
        {
            if (len <= 0) continue;
            int s = charStart[cp], e = charStart[cp + len];
            pieces.Add((s, e - s));
            cp += len;
        }
    }
}

/// <summary>Code points and their <see cref="PreTokenizerUnicode"/> flags for one text.</summary>
internal readonly ref struct CodepointText(ReadOnlySpan<int> codepoints, ReadOnlySpan<ushort> flags)
{
    public readonly ReadOnlySpan<int> Codepoints = codepoints;
    public readonly ReadOnlySpan<ushort> Flags = flags;
    public int Length => Codepoints.Length;
}

/// <summary>Reusable per-thread buffers so a split allocates nothing once warmed up.</summary>
internal sealed class PreTokenizerScratch
{
    public int[] Codepoints = [];
    public ushort[] Flags = [];
    public int[] CharStart = [0];
    public char[] Transcoded = [];
    public readonly List<int> SegmentsA = new(), SegmentsB = new();

    [ThreadStatic] private static PreTokenizerScratch? t_cached;

    public static PreTokenizerScratch Rent()
    {
        var s = t_cached ?? new PreTokenizerScratch();
        t_cached = null;
        return s;
    }

    public static void Return(PreTokenizerScratch s)
    {
        // Do not pin a huge one-off input's buffers to the thread forever.
        if (s.Codepoints.Length > 1 << 20) s = new PreTokenizerScratch();
        t_cached = s;
    }

    public void Ensure(int chars)
    {
        if (Codepoints.Length < chars)
        {
            int size = Math.Max(chars, 256);
            Codepoints = new int[size];
            Flags = new ushort[size];
            CharStart = new int[size + 1];
        }
    }

    public char[] TranscodeBuffer(int n)
    {
        if (Transcoded.Length < n) Transcoded = new char[Math.Max(n, 256)];
        return Transcoded;
    }
}
