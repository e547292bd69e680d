using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Xunit;

namespace Ingot.Tokenizers.Tests;

/// <summary>
/// Pre-tokenizer splits derived by hand from the public patterns. Llama 3 and Qwen2 vocabularies are too large to
/// ship, so their patterns are checked here directly:
/// Llama 3: <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>;
/// Qwen2: the same with <c>\p{N}</c> for <c>\p{N}{1,3}</c>.
/// </summary>
public class ByteLevelBpePreTokenizerTests
{
    private static readonly ByteLevelPreTokenizer Llama3 = ByteLevelPreTokenizer.FromName("llama-bpe");
    private static readonly ByteLevelPreTokenizer Qwen2 = ByteLevelPreTokenizer.FromName("qwen2");
    private static readonly ByteLevelPreTokenizer Gpt2 = ByteLevelPreTokenizer.FromName("gpt-2");

    public static TheoryData<string, string[]> Llama3Cases() => new()
    {
        { "Hello world", ["Hello", " world"] },
        { "1234567", ["123", "456", "7"] },                       // digits in groups of at most three, from the left
        { "I've 12345 apples", ["I", "'ve", " ", "123", "45", " apples"] }, // a space before a digit stands alone
        { "HELLO'S DON'T", ["HELLO", "'S", " DON", "'T"] },       // contractions ignore case
        { "we'Re", ["we", "'Re"] },
        { "  Hello", [" ", " Hello"] },                           // a space run leaves its last space to the word
        { "\t\tfoo", ["\t", "\tfoo"] },                           // any non-letter, non-digit, non-newline prefixes a word
        { "a\n\nb", ["a", "\n\n", "b"] },
        { "x  \n  y", ["x", "  \n", " ", " y"] },                 // \s*[\r\n]+ ends at the last line break
        { "!!!\n\nabc", ["!!!\n\n", "abc"] },                      // punctuation takes the line breaks after it
        { "$100.50", ["$", "100", ".", "50"] },
        { "héllo wörld", ["héllo", " wörld"] },
        { "\u0663\u0664\u0665\u0666", ["\u0663\u0664\u0665", "\u0666"] }, // Arabic-Indic digits are \p{N}
        { "hi 🙂!", ["hi", " 🙂!"] },
        { "end  ", ["end", "  "] },                               // trailing whitespace stays together
        { "a\r\nb", ["a", "\r\n", "b"] },
        { "'", ["'"] },
        { "x'y", ["x", "'y"] },                                  // not a contraction: ' prefixes the word
    };

    public static TheoryData<string, string[]> Qwen2Cases() => new()
    {
        { "1234567", ["1", "2", "3", "4", "5", "6", "7"] },
        { "abc123 def", ["abc", "1", "2", "3", " def"] },
        { "I've", ["I", "'ve"] },
        { "x  \n  y", ["x", "  \n", " ", " y"] },
        { "3.14", ["3", ".", "1", "4"] },
    };

    public static TheoryData<string, string[]> Gpt2Cases() => new()
    {
        { "Hello, world!", ["Hello", ",", " world", "!"] },
        { "   Hello", ["  ", " Hello"] },
        { "123 4567", ["123", " 4567"] },
        { "I'VE it's", ["I", "'", "VE", " it", "'s"] },           // contractions are case-sensitive here
        { "a\n\nb", ["a", "\n", "\n", "b"] },                      // \s+(?!\S) leaves the last newline
        { "  ", ["  "] },
    };

    [Theory]
    [MemberData(nameof(Llama3Cases))]
    public void Llama3Splits(string text, string[] expected) => Check(Llama3, text, expected);

    [Theory]
    [MemberData(nameof(Llama3Cases))]
    public void Llama3_TokenizerJsonPattern_SameAsFamily(string text, string[] expected) =>
        Check(ByteLevelPreTokenizer.FromRegexes([ByteLevelPreTokenizer.Llama3Pattern]), text, expected);

    [Theory]
    [MemberData(nameof(Qwen2Cases))]
    public void Qwen2Splits(string text, string[] expected) => Check(Qwen2, text, expected);

    [Theory]
    [MemberData(nameof(Gpt2Cases))]
    public void Gpt2Splits(string text, string[] expected) => Check(Gpt2, text, expected);

    [Fact]
    public void Qwen2_MatchesLlama3_ExceptForDigitGrouping()
    {
        string text = "Hello, y'all! How are you 😁 ?我想在apple工作 天～ ------======= нещо I've 'told\n\n  x";
        Assert.Equal(Llama3.Split(text), Qwen2.Split(text));
    }

    [Fact]
    public void RegexSteps_RunInOrder_OverCodePoints()
    {
        // StarCoder: every digit first, then GPT-2's pattern inside what is left.
        Check(ByteLevelPreTokenizer.FromRegexes([@"\p{N}", ByteLevelPreTokenizer.Gpt2Pattern]), "abc 123", ["abc", " ", "1", "2", "3"]);
        Check(ByteLevelPreTokenizer.FromName("starcoder"), "x=42;", ["x", "=", "4", "2", ";"]);
        // Falcon: punctuation runs first, then GPT-2, then three-digit groups.
        Check(ByteLevelPreTokenizer.FromName("falcon"), "a, 123456", ["a", ",", " ", "123", "456"]);
        // DeepSeek LLM's letter class includes supplementary-plane letters (Deseret); an emoji is not in it.
        var deepseek = ByteLevelPreTokenizer.FromName("deepseek-llm");
        Check(deepseek, "\U00010400\U00010401 x", ["\U00010400\U00010401", " x"]);
        Check(deepseek, "a🙂b", ["a", "🙂", "b"]);
        // $ is the end of the piece, not "before a final newline".
        Check(ByteLevelPreTokenizer.FromRegexes(["a$"]), "a\n", ["a\n"]);
        Check(ByteLevelPreTokenizer.FromRegexes(["a$"]), "ba", ["b", "a"]);
    }

    [Fact]
    public void Pieces_AlwaysCoverTheTextExactly()
    {
        string text = "Hello, y'all! 🦙🦙 3.3 3...3 កាន់តែ\n\n \t\u00A0x\u2028y \uD800 lone surrogate";
        foreach (string name in new[] { "default", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "falcon", "mpt", "starcoder", "refact", "deepseek-v3", "bloom", "chameleon", "tekken" })
        {
            var pieces = ByteLevelPreTokenizer.FromName(name).Split(text);
            Assert.Equal(text, string.Concat(pieces));
            Assert.All(pieces, p => Assert.NotEqual(0, p.Length));
        }
    }

    [Fact]
    public void UnknownName_AndUnsupportedPattern_AreErrors()
    {
        Assert.False(ByteLevelPreTokenizer.TryFromName("no-such-family", out _));
        Assert.Throws<ArgumentException>(() => ByteLevelPreTokenizer.FromName("no-such-family"));
        Assert.Throws<ArgumentException>(() => ByteLevelPreTokenizer.FromRegexes([@"\p{Lu}+"]));
        Assert.Throws<ArgumentException>(() => ByteLevelPreTokenizer.FromRegexes([@"[\p{L}é]+"]));
    }

    [Fact]
    public void NeoxVocabularyWithoutPreKey_UsesLlamaCppsDefault()
    {
        using var f = GgufFile.Open(VocabSuite.Gguf("gpt-neox"));
        var t = Assert.IsType<ByteLevelBpeTokenizer>(Tokenizer.FromGguf(f));
        Assert.Equal("default", t.PreTokenizerRules.Name);
        Assert.Equal("Hello, world! 123", t.Decode(t.Tokenize("Hello, world! 123")));
    }

    private static void Check(ByteLevelPreTokenizer p, string text, string[] expected)
    {
        var actual = p.Split(text);
        Assert.True(expected.SequenceEqual(actual),
            $"{VocabSuite.Show(text)}: expected [{string.Join(", ", expected.Select(VocabSuite.Show))}] got [{string.Join(", ", actual.Select(VocabSuite.Show))}]");
    }
}
