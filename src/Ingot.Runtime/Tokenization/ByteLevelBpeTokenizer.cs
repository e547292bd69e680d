using System.Text;
using Ingot.Formats;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Byte-level BPE (GPT-2 style, <c>tokenizer.ggml.model = gpt2</c>) as llama.cpp runs it: special tokens are cut out
/// first (<see cref="SpecialTokenSplitter"/>), the rest is split into words by a <see cref="ByteLevelPreTokenizer"/>,
/// each word's UTF-8 bytes are spelled with GPT-2's byte→character table, and adjacent symbols are merged lowest
/// merge rank first (ties: leftmost) until no ranked pair remains. Merging uses a heap over a linked list of symbols,
/// so a word of n bytes costs O(n log n); a word-level cache makes repeated words one dictionary probe.
/// </summary>
public sealed class ByteLevelBpeTokenizer : Tokenizer
{
    private const int TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4;

    /// <summary>GPT-2's byte→character table: printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards.</summary>
    private static readonly char[] ByteToChar = BuildByteToChar();
    /// <summary>The inverse, indexed by character (−1 = not a byte character).</summary>
    private static readonly short[] CharToByte = BuildCharToByte();

    /// <summary>Texts llama.cpp treats as end-of-generation (and forces to control type) whatever their stored type.</summary>
    private static readonly string[] EndOfGenerationTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
        "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<|fim_pad|>", "<fim-pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>",
        "<fim-repo>", "<REPO>", "<|file_sep|>",
    ];

    /// <summary>Fill-in-the-middle markers llama.cpp also forces to control type.</summary>
    private static readonly string[] FimTexts =
    [
        "<|fim_prefix|>", "<fim-prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>", "<|fim_suffix|>", "<fim-suffix>",
        "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>", "<|fim_middle|>", "<fim-middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>",
    ];

    private const int MaxCachedWordChars = 64, MaxCacheEntries = 1 << 17;

    private readonly string[] _tokens;
    private readonly int[] _types;
    private readonly Dictionary<string, int> _symbolIds;   // token text (GPT-2 form) or merge-only text → symbol id
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _symbolLookup;
    private readonly List<string> _mergeOnlySymbols = new(); // symbol id − VocabSize → text never in the vocabulary
    private readonly Dictionary<long, long> _merges = new(PairKeyComparer.Instance); // (left << 32 | right) → (rank << 32 | merged)
    private readonly int[] _byteSymbols = new int[256];
    private readonly int[] _asciiTokens = new int[128];
    private readonly SpecialTokenSplitter _specials;
    private readonly HashSet<int> _endOfGeneration = new();
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private readonly Lock _cacheLock = new();

    /// <param name="tokens">Token texts in GPT-2's byte→character spelling (special tokens verbatim).</param>
    /// <param name="tokenTypes">llama.cpp token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).</param>
    /// <param name="merges">"left right" pairs, rank = index (lower merges first).</param>
    public ByteLevelBpeTokenizer(string[] tokens, int[] tokenTypes, string[] merges, ByteLevelPreTokenizer preTokenizer,
                                 int? bos, int? eos, bool addBos, bool addEos)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(tokenTypes);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(preTokenizer);
        if (tokenTypes.Length != tokens.Length)
            throw new ArgumentException($"{tokenTypes.Length} token types for {tokens.Length} tokens", nameof(tokenTypes));

        _tokens = tokens.Select((t, i) => string.IsNullOrEmpty(t) ? $"[EMPTY_{i}]" : t).ToArray();
        _types = (int[])tokenTypes.Clone();
        PreTokenizerRules = preTokenizer;
        BosTokenId = bos;
        EosTokenId = eos;
        AddBosToken = addBos;
        AddEosToken = addEos;

        _symbolIds = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Length; i++) _symbolIds[_tokens[i]] = i; // a repeated text resolves to its last id, as in llama.cpp
        _symbolLookup = _symbolIds.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        for (int b = 0; b < 256; b++) _byteSymbols[b] = SymbolId(ByteToChar[b].ToString());
        for (int c = 0; c < 128; c++) _asciiTokens[c] = _symbolIds.TryGetValue(((char)c).ToString(), out int id) ? id : -1;

        for (int rank = 0; rank < merges.Length; rank++)
        {
            string m = merges[rank];
            int space = m.Length > 1 ? m.IndexOf(' ', 1) : -1;
            if (space < 0) continue;
            int left = SymbolId(m[..space]), right = SymbolId(m[(space + 1)..]);
            int merged = SymbolId(string.Concat(m.AsSpan(0, space), m.AsSpan(space + 1)));
            _merges.TryAdd(((long)left << 32) | (uint)right, ((long)rank << 32) | (uint)merged); // first rank wins
        }

        // llama.cpp forces end-of-generation and FIM markers to control type, then treats these as end of generation.
        foreach (string text in EndOfGenerationTexts.Concat(FimTexts))
        {
            if (!_symbolIds.TryGetValue(text, out int id) || id >= _tokens.Length) continue;
            if (_types[id] != TypeControl) _types[id] = TypeControl;
            if (Array.IndexOf(EndOfGenerationTexts, text) >= 0) _endOfGeneration.Add(id);
        }
        if (eos is { } e) _endOfGeneration.Add(e);

        _specials = SpecialTokenSplitter.FromTokenTypes(_tokens, _types);
    }

    /// <summary>
    /// From llama.cpp GGUF metadata: tokenizer.ggml.{tokens, token_type, merges, pre, bos_token_id, eos_token_id,
    /// add_bos_token, add_eos_token}. Defaults as llama.cpp's for gpt2 vocabularies: BOS = EOS = 11, BOS added only
    /// for the Llama 3 / Tekken / Chameleon families unless add_bos_token says otherwise.
    /// </summary>
    public static ByteLevelBpeTokenizer FromGgufMetadata(GgufFile f)
    {
        const string TokensKey = "tokenizer.ggml.tokens", TypesKey = "tokenizer.ggml.token_type",
            MergesKey = "tokenizer.ggml.merges", PreKey = "tokenizer.ggml.pre";
        InvalidModelFileException Bad(string key, string problem) => new(f.Path, key, f.GetMetadataOffset(key), problem);

        string[] tokens = f.TryGetArray<string>(TokensKey, out var t) ? t : throw Bad(TokensKey, "missing or not an array of strings");
        int[] types;
        if (!f.ContainsKey(TypesKey)) types = Enumerable.Repeat(TypeNormal, tokens.Length).ToArray();
        else if (!f.TryGetArray(TypesKey, out types)) throw Bad(TypesKey, "not an integer array");
        if (types.Length != tokens.Length) throw Bad(TypesKey, $"{types.Length} entries for {tokens.Length} tokens");
        string[] merges = f.TryGetArray<string>(MergesKey, out var m) ? m : throw Bad(MergesKey, "missing or not an array of strings");

        string? pre = f.TryGetString(PreKey, out var p) ? p : null;
        if (f.ContainsKey(PreKey) && pre is null) throw Bad(PreKey, "not a string");
        if (!ByteLevelPreTokenizer.TryFromName(pre, out var preTokenizer)) throw Bad(PreKey, $"unknown pre-tokenizer '{pre}'");

        bool llama3Family = pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "tekken";
        int? Id(string key, int? dflt) =>
            f.TryGetInt(key, out long v) && v >= 0 && v < tokens.Length ? (int)v : dflt; // out of range: llama.cpp keeps the default
        int? defaultSpecial = tokens.Length > 11 ? 11 : null;
        bool Flag(string key, bool dflt) => f.TryGetBool(key, out bool v) ? v : dflt;

        var extraEog = new List<int>();
        foreach (string key in new[] { "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id", "tokenizer.ggml.fim_pad_token_id",
                                       "tokenizer.ggml.fim_rep_token_id", "tokenizer.ggml.fim_sep_token_id" })
            if (Id(key, null) is { } id) extraEog.Add(id);

        var tokenizer = new ByteLevelBpeTokenizer(tokens, types, merges, preTokenizer,
            Id("tokenizer.ggml.bos_token_id", defaultSpecial), Id("tokenizer.ggml.eos_token_id", defaultSpecial),
            Flag("tokenizer.ggml.add_bos_token", llama3Family || pre == "chameleon"), Flag("tokenizer.ggml.add_eos_token", false))
        {
            IgnoreMerges = llama3Family,
        };
        foreach (int id in extraEog) tokenizer._endOfGeneration.Add(id);
        return tokenizer;
    }

    /// <summary>llama.cpp's pre-tokenizer regexes for this vocabulary (ML.NET's PreTokenizer property is another type: it stays null).</summary>
    public ByteLevelPreTokenizer PreTokenizerRules { get; }

    /// <summary>A word that is itself a token is emitted whole, without merging (llama.cpp's ignore_merges, Llama 3).</summary>
    public bool IgnoreMerges { get; init; }

    public override int VocabSize => _tokens.Length;

    public override string PieceText(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : throw new ArgumentOutOfRangeException(nameof(id), id, "token id outside the vocabulary");
    public override int? BosTokenId { get; }
    public override int? EosTokenId { get; }
    public override bool AddBosToken { get; }
    public override bool AddEosToken { get; }

    public override bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    /// <summary>The token text as stored (GPT-2 spelling for normal tokens).</summary>
    public string GetTokenText(int id) => _tokens[id];

    /// <summary>Whether words (pre-tokens up to 64 chars) are cached; off only to measure raw merging speed.</summary>
    public bool WordCacheEnabled { get; set; } = true;

    /// <summary>Drops the word cache (benchmarks use this to measure cold encoding).</summary>
    public void ClearCache()
    {
        lock (_cacheLock) _cache.Clear();
    }

    public override IReadOnlyList<int> Tokenize(string text, bool addSpecialTokens = false, bool parseSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addSpecialTokens && AddBosToken && BosTokenId is { } bos) ids.Add(bos);

        var scratch = BpeScratch.Rent();
        try
        {
            if (_specials.IsEmpty) EncodeText(text, scratch, ids);
            else
            {
                var fragments = scratch.Fragments;
                fragments.Clear();
                _specials.Split(text, parseSpecialTokens, fragments);
                foreach (var fragment in fragments)
                {
                    if (fragment.IsText) EncodeText(text.AsSpan(fragment.Start, fragment.Length), scratch, ids);
                    else ids.Add(fragment.TokenId);
                }
            }
        }
        finally { BpeScratch.Return(scratch); }

        if (addSpecialTokens && AddEosToken && EosTokenId is { } eos) ids.Add(eos);
        return ids;
    }

    private void EncodeText(ReadOnlySpan<char> text, BpeScratch scratch, List<int> ids)
    {
        var pieces = scratch.Pieces;
        pieces.Clear();
        PreTokenizerRules.Split(text, scratch.PreTokenizer, pieces);
        foreach (var (start, length) in pieces)
        {
            ReadOnlySpan<char> word = text.Slice(start, length);
            bool cacheable = length <= MaxCachedWordChars && WordCacheEnabled;
            if (cacheable)
            {
                int[]? hit;
                lock (_cacheLock) _cacheLookup.TryGetValue(word, out hit);
                if (hit is not null) { ids.AddRange(hit); continue; }
            }

            int before = ids.Count;
            EncodeWord(word, scratch, ids);
            if (cacheable)
            {
                int[] result = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids)[before..].ToArray();
                lock (_cacheLock)
                {
                    if (_cache.Count >= MaxCacheEntries) _cache.Clear();
                    _cacheLookup.TryAdd(word, result);
                }
            }
        }
    }

    /// <summary>BPE over one pre-token: bytes → byte symbols → merges by rank → token ids.</summary>
    private void EncodeWord(ReadOnlySpan<char> word, BpeScratch s, List<int> ids)
    {
        int n = Encoding.UTF8.GetByteCount(word);
        s.EnsureBytes(n);
        Encoding.UTF8.GetBytes(word, s.Bytes);
        Span<byte> bytes = s.Bytes.AsSpan(0, n);

        if (IgnoreMerges)
        {
            Span<char> spelled = s.Chars.AsSpan(0, n);
            for (int i = 0; i < n; i++) spelled[i] = ByteToChar[bytes[i]];
            if (_symbolLookup.TryGetValue(spelled, out int whole) && whole < _tokens.Length) { ids.Add(whole); return; }
        }

        int[] sym = s.Symbols, prev = s.Prev, next = s.Next;
        for (int i = 0; i < n; i++)
        {
            sym[i] = _byteSymbols[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Heap entries are just (rank << 32 | left): a rank names exactly one pair of symbols, so an entry is live
        // iff the pair now starting at `left` still has that rank. 8 bytes per entry keeps long words cache-friendly.
        var queue = s.Queue;
        queue.Clear();
        for (int i = 1; i < n; i++) QueuePair(queue, sym, i - 1, i);
        while (queue.TryPop(out long entry))
        {
            int rank = (int)(entry >> 32), left = (int)entry;
            int right = next[left];
            if (sym[left] < 0 || right < 0
                || !_merges.TryGetValue(((long)sym[left] << 32) | (uint)sym[right], out long rankMerged)
                || (int)(rankMerged >> 32) != rank)
                continue; // stale: one side merged since
            sym[left] = (int)rankMerged;
            sym[right] = -1;
            int after = next[right];
            next[left] = after;
            if (after >= 0) prev[after] = left;
            if (prev[left] >= 0) QueuePair(queue, sym, prev[left], left);
            if (after >= 0) QueuePair(queue, sym, left, after);
        }

        for (int i = 0; i >= 0 && n > 0; i = next[i])
        {
            int id = sym[i];
            if (id < _tokens.Length) { ids.Add(id); continue; }
            // A merge result that is not a token: llama.cpp falls back to single-byte tokens of its text, which only
            // exist for ASCII characters.
            foreach (char c in _mergeOnlySymbols[id - _tokens.Length])
                if (c < 128 && _asciiTokens[c] >= 0) ids.Add(_asciiTokens[c]);
        }
    }

    private void QueuePair(LongMinHeap queue, int[] sym, int left, int right)
    {
        // Priority: rank, then position (leftmost first) — llama.cpp's ordering.
        if (_merges.TryGetValue(((long)sym[left] << 32) | (uint)sym[right], out long rankMerged))
            queue.Push((rankMerged & ~0xFFFFFFFFL) | (uint)left);
    }

    private int SymbolId(string text)
    {
        if (_symbolIds.TryGetValue(text, out int id)) return id;
        id = _tokens.Length + _mergeOnlySymbols.Count;
        _mergeOnlySymbols.Add(text);
        _symbolIds.Add(text, id);
        return id;
    }

    public override void AppendTokenBytes(int id, List<byte> bytes, bool includeSpecialTokens, bool afterBos)
    {
        if ((uint)id >= (uint)_tokens.Length) return;
        switch (_types[id])
        {
            case TypeNormal:
                AppendSpelled(_tokens[id], bytes);
                break;
            case TypeUserDefined:
                bytes.AddRange(Encoding.UTF8.GetBytes(_tokens[id]));
                break;
            case TypeControl or TypeUnknown when includeSpecialTokens:
                bytes.AddRange(Encoding.UTF8.GetBytes(_tokens[id]));
                break;
            // unused, byte and undefined types print nothing (llama.cpp).
        }
    }

    /// <summary>GPT-2 spelling back to bytes; a character outside the table is kept as its own UTF-8.</summary>
    private static void AppendSpelled(string spelled, List<byte> bytes)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < spelled.Length; i++)
        {
            char c = spelled[i];
            if (c < CharToByte.Length && CharToByte[c] >= 0) { bytes.Add((byte)CharToByte[c]); continue; }
            int len = char.IsHighSurrogate(c) && i + 1 < spelled.Length && char.IsLowSurrogate(spelled[i + 1]) ? 2 : 1;
            int written = Encoding.UTF8.GetBytes(spelled.AsSpan(i, len), utf8);
            for (int k = 0; k < written; k++) bytes.Add(utf8[k]);
            i += len - 1;
        }
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static short[] BuildCharToByte()
    {
        var inverse = new short[256 + 68];
        Array.Fill(inverse, (short)-1);
        for (int b = 0; b < 256; b++) inverse[ByteToChar[b]] = (short)b;
        return inverse;
    }

    /// <summary>
    /// Hashes a (left &lt;&lt; 32 | right) pair key. long's own hash is left ^ right, which sends every "x x" pair to
    /// the same bucket (a long run of one character then probes one huge chain per merge).
    /// </summary>
    private sealed class PairKeyComparer : IEqualityComparer<long>
    {
        public static readonly PairKeyComparer Instance = new();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15UL)) >> 32);
    }

    /// <summary>A binary min-heap of longs (merge candidates), reused across words.</summary>
    private sealed class LongMinHeap
    {
        private long[] _items = new long[256];
        private int _count;

        public void Clear() => _count = 0;

        public void Push(long value)
        {
            if (_count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (_items[parent] <= value) break;
                _items[i] = _items[parent];
                i = parent;
            }
            _items[i] = value;
        }

        public bool TryPop(out long value)
        {
            if (_count == 0) { value = 0; return false; }
            value = _items[0];
            long last = _items[--_count];
            int i = 0, half = _count >> 1;
            while (i < half)
            {
                int child = 2 * i + 1;
                if (child + 1 < _count && _items[child + 1] < _items[child]) child++;
                if (_items[child] >= last) break;
                _items[i] = _items[child];
                i = child;
            }
            if (_count > 0) _items[i] = last;
            return true;
        }

        public int Capacity => _items.Length;
    }

    /// <summary>Per-thread buffers reused across calls: no allocation per word once warmed up.</summary>
    private sealed class BpeScratch
    {
        public readonly PreTokenizerScratch PreTokenizer = new();
        public readonly List<TextFragment> Fragments = new();
        public readonly List<(int Start, int Length)> Pieces = new();
        public readonly LongMinHeap Queue = new();
        public byte[] Bytes = new byte[256];
        public char[] Chars = new char[256];
        public int[] Symbols = new int[256], Prev = new int[256], Next = new int[256];

        [ThreadStatic] private static BpeScratch? t_cached;

        public static BpeScratch Rent()
        {
            var s = t_cached ?? new BpeScratch();
            t_cached = null;
            return s;
        }

        public static void Return(BpeScratch s)
        {
            if (s.Bytes.Length > 1 << 20 || s.Queue.Capacity > 1 << 20 || s.PreTokenizer.Codepoints.Length > 1 << 20) s = new BpeScratch();
            t_cached = s;
        }

        public void EnsureBytes(int n)
        {
            if (Bytes.Length >= n) return;
            int size = Math.Max(n, Bytes.Length * 2);
            Bytes = new byte[size];
            Chars = new char[size];
            Symbols = new int[size];
            Prev = new int[size];
            Next = new int[size];
        }
    }
}
