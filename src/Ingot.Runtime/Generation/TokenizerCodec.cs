using Ingot.Formats;
using Ingot.Runtime.Tokenization;

namespace Ingot.Runtime.Generation;

/// <summary>Adapts the shared <see cref="Tokenizer"/> to the generation loop.</summary>
public sealed class TokenizerCodec(Tokenizer tokenizer, IReadOnlySet<int>? endOfTurnIds = null) : ITokenCodec
{
    /// <summary>
    /// Control-token texts that end a turn in chat models although they are not the file's EOS (llama.cpp treats
    /// the same texts as end-of-generation): Llama 3 <c>&lt;|eot_id|&gt;</c>/<c>&lt;|eom_id|&gt;</c>, ChatML
    /// <c>&lt;|im_end|&gt;</c>, Phi-3 <c>&lt;|end|&gt;</c>, Gemma <c>&lt;end_of_turn&gt;</c>, Command-R, DeepSeek and others.
    /// </summary>
    public static readonly string[] EndOfTurnTexts =
    [
        "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
        "<|END_OF_TURN_TOKEN|>", "<｜end▁of▁sentence｜>", "<|end_of_text|>", "</s>",
    ];

    private readonly IReadOnlySet<int> _endOfTurn = endOfTurnIds ?? new HashSet<int>();

    public Tokenizer Tokenizer { get; } = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    /// <summary>Loads the tokenizer a GGUF file describes, with its end-of-turn tokens (eot/eom ids and the texts above).</summary>
    public static TokenizerCodec FromGguf(GgufFile weights)
    {
        var eot = new HashSet<int>();
        foreach (string key in new[] { "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" })
            if (weights.TryGetInt(key, out long id) && id >= 0) eot.Add((int)id);
        if (weights.TryGetArray<string>("tokenizer.ggml.tokens", out var tokens))
        {
            int[]? types = weights.TryGetArray<int>("tokenizer.ggml.token_type", out var t) && t.Length == tokens.Length ? t : null;
            for (int i = 0; i < tokens.Length; i++)
            {
                // only control / user-defined tokens: a normal piece that happens to read "</s>" is text
                if (types is not null && types[i] is not (3 or 4)) continue;
                if (Array.IndexOf(EndOfTurnTexts, tokens[i]) >= 0) eot.Add(i);
            }
        }
        return new TokenizerCodec(Tokenizer.FromGguf(weights), eot);
    }

    /// <summary>Adds BOS (and EOS) exactly as the model's metadata says; special-token text in the prompt is parsed.</summary>
    public IReadOnlyList<int> EncodePrompt(string text) => Tokenizer.Tokenize(text, addSpecialTokens: true, parseSpecialTokens: true);

    public int? BosTokenId => Tokenizer.BosTokenId;

    public bool IsEndOfGeneration(int id) => Tokenizer.IsEndOfGeneration(id) || _endOfTurn.Contains(id);

    public ITokenTextStream CreateStream() => new Stream(Tokenizer.CreateStreamDecoder());

    private Grammars.GrammarVocabulary? _grammarVocabulary; // built on first use: a byte trie of every token

    /// <summary>The bytes a token stands for (none for special tokens), as a grammar sees them.</summary>
    public byte[] TokenBytes(int id)
    {
        var bytes = new List<byte>();
        Tokenizer.AppendTokenBytes(id, bytes, includeSpecialTokens: false, afterBos: false);
        return [.. bytes];
    }

    // One automaton per grammar, shared by every generation that uses it: their states and masks are built once.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Grammars.Grammar, Grammars.GrammarAutomaton> _automata = new();

    public Grammars.GrammarConstraint CreateConstraint(Grammars.Grammar grammar)
    {
        lock (_automata)
        {
            _grammarVocabulary ??= new Grammars.GrammarVocabulary(Tokenizer.VocabSize, TokenBytes);
            var automaton = _automata.GetValue(grammar, g => new Grammars.GrammarAutomaton(g, _grammarVocabulary, TokenBytes, IsEndOfGeneration));
            return new Grammars.GrammarConstraint(automaton);
        }
    }

    private sealed class Stream(TokenStreamDecoder decoder) : ITokenTextStream
    {
        public string Append(int id) => decoder.Append(id);
        public string Flush() => decoder.Flush();
    }
}
