using BenchmarkDotNet.Attributes;
using Ingot.Formats;
using Ingot.Runtime.Generation;
using Ingot.Runtime.Grammars;

namespace Ingot.Benchmarks.Tokenizers;

/// <summary>
/// The cost of grammar masks on a 32k vocabulary (llama's SentencePiece vocab from ../shared/vocab): a fresh
/// constraint walks a whole JSON document, computing and applying the mask before every token and accepting it, as
/// generation does.
/// Divide by the document's tokens for the mean per step, and compare with a decode step of the stories110M shape
/// (about 2.5 ms at 2 threads on Zen 5). "bounded": every string has a maxLength (each length is a new state);
/// "free": unbounded strings (states repeat, the mask cache answers). "fresh": the first request with this schema (an
/// automaton of its own, built as the document goes); "shared": a later request, whose automaton the codec kept.
/// dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*GrammarMaskBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class GrammarMaskBenchmarks
{
    private TokenizerCodec _codec = null!;
    private Grammar _grammar = null!;
    private int[] _ids = [];
    private float[] _logits = [];

    private GrammarVocabulary _vocabulary = null!;

    [Params("bounded", "free")]
    public string Schema { get; set; } = "bounded";

    [Params("fresh", "shared")]
    public string Automaton { get; set; } = "fresh";

    [GlobalSetup]
    public void Setup()
    {
        using (var gguf = GgufFile.Open(Path.Combine(ByteLevelBpeBenchmarks.FindShared(), "vocab", "ggml-vocab-llama-spm.gguf")))
            _codec = TokenizerCodec.FromGguf(gguf);
        (string schema, string document) = Schema == "bounded"
            ? ("""{"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120},"pet":{"enum":["cat","dog","bird"]},"born":{"type":"string","format":"date"},"code":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{3}$"},"tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3},"home":{"type":"object","properties":{"city":{"type":"string","maxLength":10}},"required":["city"]}},"required":["name","age","pet","born","code","home"]}""",
               """{"name": "Lily Brown", "age": 31, "pet": "dog", "born": "1993-04-12", "code": "AB-123", "tags": ["kind", "tall"], "home": {"city": "Paris"}}""")
            : ("""{"type":"object","properties":{"name":{"type":"string"},"story":{"type":"string"}},"required":["name","story"]}""",
               """{"name": "Lily Brown", "story": "Once upon a time there was a little girl who liked to play in the park with her dog and her friends every day."}""");
        _grammar = JsonSchemaGrammar.FromSchema(schema);
        // SentencePiece gives the first token a leading space: tokenize after a letter and drop it.
        _ids = [.. _codec.Tokenizer.Tokenize("x" + document, addSpecialTokens: false, parseSpecialTokens: false).Skip(1)];
        _logits = new float[_codec.Tokenizer.VocabSize];
        _vocabulary = new GrammarVocabulary(_codec.Tokenizer.VocabSize, _codec.TokenBytes);
        _codec.CreateConstraint(_grammar); // builds the vocabulary's trie once
    }

    [Benchmark]
    public int MaskEveryTokenOfADocument()
    {
        var c = Automaton == "shared" ? _codec.CreateConstraint(_grammar) : new GrammarConstraint(_grammar, _vocabulary, _codec.TokenBytes, _codec.IsEndOfGeneration);
        int allowed = 0;
        foreach (int id in _ids)
        {
            allowed += c.Apply(_logits); // as GenerationState applies it: disallowed logits to −∞
            if (!c.AcceptToken(id)) throw new InvalidOperationException($"token {id} refused");
        }
        return allowed;
    }
}
