using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Xunit;

namespace Ingot.Tokenizers.Tests;

/// <summary>WordPiece (BERT, bge-small vocabulary from llama.cpp's suite): special tokens, normalization, decoding, bad metadata.</summary>
public class WordPieceTests
{
    private static WordPieceTokenizer Bert => (WordPieceTokenizer)VocabSuite.Load("bert-bge");

    private const int Cls = 101, Sep = 102, Unk = 100, Hello = 7592, World = 2088, Comma = 1010, Bang = 999;

    [Fact]
    public void Metadata_ClsSepUnk_AndAddFlags()
    {
        var t = Bert;
        Assert.Equal(30522, t.VocabSize);
        Assert.Equal(Cls, t.BosTokenId);
        Assert.Equal(Sep, t.EosTokenId); // seperator_token_id: what BERT appends
        Assert.Equal(Unk, t.UnknownTokenId);
        Assert.True(t.AddBosToken);
        Assert.True(t.AddEosToken);
    }

    [Fact]
    public void AddSpecialTokens_WrapsInClsAndSep()
    {
        Assert.Equal([Cls, Hello, World, Sep], Bert.Tokenize("Hello world", addSpecialTokens: true));
        Assert.Equal([Cls, Sep], Bert.Tokenize("", addSpecialTokens: true));
        Assert.Equal([Hello, World], Bert.Tokenize("Hello world"));
    }

    [Fact]
    public void SpecialTokenText_IsParsedOnlyWhenAsked()
    {
        Assert.Equal([Cls, Hello, Sep], Bert.Tokenize("[CLS] hello[SEP]"));
        Assert.Equal([Unk], Bert.Tokenize("[UNK]"));
        var literal = Bert.Tokenize("[CLS] hello[SEP]", parseSpecialTokens: false);
        Assert.DoesNotContain(Cls, literal);
        Assert.DoesNotContain(Sep, literal);
        Assert.Equal(1031, literal[0]); // "[" is punctuation: a word of its own
        Assert.Contains(Hello, literal);
    }

    [Fact]
    public void Normalization_LowercasesAndStripsAccents()
    {
        Assert.Equal(Bert.Tokenize("fuhrer"), Bert.Tokenize("Führer"));
        Assert.Equal([11865, 17875], Bert.Tokenize("fuhrer")); // "▁fu" + "hrer"
        Assert.Equal([7668], Bert.Tokenize("Café"));
    }

    [Fact]
    public void Punctuation_Splits_ControlCharactersVanish_WhitespaceSeparates()
    {
        Assert.Equal([Hello, Comma, World, Bang], Bert.Tokenize("hello,world!"));
        Assert.Equal([Hello, World], Bert.Tokenize("hel\u0000lo\u200B\tworld\u3000")); // NUL and ZWSP (Cf) dropped
        Assert.Empty(Bert.Tokenize(" \t\n\u00A0 "));
    }

    [Fact]
    public void UnknownWord_IsOneUnk_EvenWhenPartlyMatched()
    {
        // "🦙" has no piece: the word is one [UNK]; the rest is unaffected.
        Assert.Equal([Hello, Unk, World], Bert.Tokenize("hello 🦙 world"));
        // "hello🦙": "▁hello" matches, then no piece for "🦙": the whole word becomes a single [UNK].
        Assert.Equal([Unk, World], Bert.Tokenize("hello🦙 world"));
    }

    [Fact]
    public void Decode_JoinsContinuations_SpacesWords_CleansPunctuation()
    {
        Assert.Equal("hello, world!", Bert.Decode([Hello, Comma, World, Bang]));
        Assert.Equal("fuhrer", Bert.Decode([11865, 17875]));
        Assert.Equal("hello world", Bert.Decode([Cls, Hello, World, Sep]));
        string shown = Bert.Decode([Cls, Hello, World, Sep], includeSpecialTokens: true);
        Assert.StartsWith("[CLS]", shown);
        Assert.EndsWith("[SEP]", shown);
        Assert.Equal("", Bert.Decode([Unk]));
    }

    [Fact]
    public void StreamDecoder_AgreesWithDecode()
    {
        var ids = Bert.Tokenize("Hello, y'all! How are you ?我想在apple工作", addSpecialTokens: true);
        var stream = Bert.CreateStreamDecoder();
        string streamed = string.Concat(ids.Select(stream.Append)) + stream.Flush();
        Assert.Equal(Bert.Decode(ids), streamed);
        // Lowercased, punctuation spaced apart except before . , ! ? (llama.cpp's first clean-up pass); unknown words vanish.
        Assert.Equal("hello, y ' all! how are you? 我 apple", streamed);
    }

    [Fact]
    public void Nfd_KeepsOnlyTheBaseCharacter()
    {
        // Each character becomes the first code point of its canonical decomposition (then lowercased).
        Assert.Equal(Bert.Tokenize("aeiou naive"), Bert.Tokenize("ÅÉÎÕÜ naïve"));
        Assert.Equal(Bert.Tokenize("\u1112"), Bert.Tokenize("한")); // Hangul syllable → its leading jamo
        Assert.NotEqual([Unk], Bert.Tokenize("\u1112"));
    }

    private static string WriteVocab(Action<GgufWriter> edit)
    {
        var w = new GgufWriter();
        w.Set("general.architecture", "bert");
        w.Set("tokenizer.ggml.model", "bert");
        w.Set("tokenizer.ggml.tokens", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "▁a", "b" });
        w.Set("tokenizer.ggml.token_type", new[] { 3, 3, 3, 3, 1, 1 });
        w.Set("tokenizer.ggml.unknown_token_id", 1u);
        w.Set("tokenizer.ggml.cls_token_id", 2u);
        w.Set("tokenizer.ggml.seperator_token_id", 3u);
        edit(w);
        string path = Path.Combine(Path.GetTempPath(), $"ingot-wpm-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        w.Write(path);
        return path;
    }

    [Fact]
    public void TinyGguf_RoundTrips_ThroughTokenizerFromGguf()
    {
        string path = WriteVocab(_ => { });
        try
        {
            using var f = GgufFile.Open(path);
            var t = Assert.IsType<WordPieceTokenizer>(Tokenizer.FromGguf(f));
            Assert.Equal([2, 4, 5, 4, 1, 3], t.Tokenize("ab A c", addSpecialTokens: true));
            Assert.Equal("ab a", t.Decode([2, 4, 5, 4, 3]));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void BadMetadata_IsOneClearError()
    {
        string path = WriteVocab(w => w.Set("tokenizer.ggml.token_type", new[] { 3, 3, 1 }));
        string path2 = WriteVocab(w => w.Set("tokenizer.ggml.cls_token_id", 99u));
        try
        {
            using var f = GgufFile.Open(path);
            var e = Assert.Throws<InvalidModelFileException>(() => Tokenizer.FromGguf(f));
            Assert.Contains("token_type", e.Message);
            using var f2 = GgufFile.Open(path2);
            var e2 = Assert.Throws<InvalidModelFileException>(() => Tokenizer.FromGguf(f2));
            Assert.Contains("cls_token_id", e2.Message);
            Assert.DoesNotContain('\n', e2.Message);
        }
        finally { File.Delete(path); File.Delete(path2); }
    }
}
