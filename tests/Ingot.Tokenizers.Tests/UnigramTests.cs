using System.Buffers.Binary;
using Ingot.Formats;
using Ingot.Runtime.Tokenization;
using Xunit;

namespace Ingot.Tokenizers.Tests;

/// <summary>
/// Unigram (T5-style SentencePiece) on a small hand-made vocabulary. Every expected id list below is the Viterbi
/// optimum worked out by hand from the scores (sums written next to each case).
/// </summary>
public class UnigramTests
{
    // id: piece (type, score). Types: 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte.
    internal static readonly (string Piece, int Type, float Score)[] Vocab =
    [
        ("<pad>", 3, 0),      // 0
        ("</s>", 3, 0),       // 1
        ("<unk>", 2, 0),      // 2
        ("\u2581", 1, -3),    // 3  ▁
        ("a", 1, -2),         // 4
        ("b", 1, -2),         // 5
        ("ab", 1, -3.5f),     // 6
        ("\u2581ab", 1, -5),  // 7  ▁ab
        ("abc", 1, -7),       // 8  (lowest normal score: unknown costs -7 - 10 = -17)
        ("c", 1, -2.5f),      // 9
        ("bc", 1, -3),        // 10
        ("x", 1, -1),         // 11
        ("y", 1, -1),         // 12
        ("xy", 1, -2),        // 13
        ("<sep>", 4, 0),      // 14 user-defined
    ];

    private const int Eos = 1, Unk = 2, Mark = 3, A = 4, B = 5, AB = 6, MarkAB = 7, C = 9, BC = 10, X = 11, Y = 12, XY = 13, SepUser = 14;

    private static UnigramTokenizer Make(bool addSpacePrefix = true, bool removeExtraWhitespaces = false, byte[]? charsmap = null,
                                         (string, int, float)[]? extra = null)
    {
        var v = Vocab.Concat(extra ?? []).ToArray();
        return new UnigramTokenizer([.. v.Select(p => p.Item1)], [.. v.Select(p => p.Item3)], [.. v.Select(p => p.Item2)],
            bos: null, eos: Eos, unk: Unk, addBos: false, addEos: true, addSpacePrefix, removeExtraWhitespaces, charsmap);
    }

    public static TheoryData<string, int[]> PrefixCases() => new()
    {
        // "▁abc": ▁ab+c = -5-2.5 = -7.5 beats ▁+a+bc = -8, ▁+ab+c = -9, ▁+a+b+c = -9.5, ▁+abc = -10.
        { "abc", [MarkAB, C] },
        // "▁xy": after ▁ (-3), xy = -2 ties x+y = -1-1; the piece that starts earlier (found first) is kept.
        { "xy", [Mark, XY] },
        // "▁aZb": Z has no piece → [UNK] at -17: ▁ a [UNK] b.
        { "aZb", [Mark, A, Unk, B] },
        // Consecutive unknown code points merge into one [UNK]; an emoji (4 UTF-8 bytes) is one code point.
        { "aZZb", [Mark, A, Unk, B] },
        { "a🙂b", [Mark, A, Unk, B] },
        // Spaces become ▁; "▁a" is no piece, so ▁ a ▁ b.
        { "a b", [Mark, A, Mark, B] },
        // Leading spaces are kept as ▁ and the prefix ▁ goes right before the first word: "▁▁▁ab" → ▁ ▁ ▁ab (-5 beats ▁+ab = -6.5).
        { "  ab", [Mark, Mark, MarkAB] },
        { "ab ", [MarkAB, Mark] },
        // Only spaces: no word, so no prefix.
        { "   ", [Mark, Mark, Mark] },
        { "", [] },
        // A user-defined piece is cut out first; each side is its own fragment with its own prefix ▁.
        { "a<sep>b", [Mark, A, SepUser, Mark, B] },
        // Control text is parsed as its token.
        { "a</s>", [Mark, A, Eos] },
    };

    [Theory]
    [MemberData(nameof(PrefixCases))]
    public void Viterbi_AddSpacePrefix(string text, int[] expected)
    {
        var t = Make();
        Assert.Equal(expected, t.Tokenize(text));
        Assert.Equal(expected.Length, t.CountTokens(text));
    }

    [Fact]
    public void ParseSpecialFalse_ControlTextIsText_UserDefinedStillSplit()
    {
        var t = Make();
        // "▁a</s>": '<' '/' 's' '>' have no pieces → one merged [UNK].
        Assert.Equal([Mark, A, Unk], t.Tokenize("a</s>", parseSpecialTokens: false));
        Assert.Equal([Mark, A, SepUser, Mark, B], t.Tokenize("a<sep>b", parseSpecialTokens: false));
    }

    [Fact]
    public void AddSpecialTokens_AppendsEosOnly()
    {
        var t = Make();
        Assert.Equal([MarkAB, Eos], t.Tokenize("ab", addSpecialTokens: true));
        Assert.Equal([Eos], t.Tokenize("", addSpecialTokens: true));
        Assert.Null(t.BosTokenId);
        Assert.True(t.IsEndOfGeneration(Eos));
    }

    [Fact]
    public void NoSpacePrefix()
    {
        var t = Make(addSpacePrefix: false);
        Assert.Equal([XY], t.Tokenize("xy"));
        // "ab▁c": ab(-3.5) ▁(-3) c(-2.5) = -9 beats a+b+▁+c = -9.5.
        Assert.Equal([AB, Mark, C], t.Tokenize("ab c"));
        // "abc" without the prefix: a+bc = -5 beats ab+c = -6, abc = -7.
        Assert.Equal([A, BC], t.Tokenize("abc"));
    }

    [Fact]
    public void RemoveExtraWhitespaces_TrimsAndCollapses()
    {
        var t = Make(removeExtraWhitespaces: true);
        Assert.Equal([Mark, A, Mark, B], t.Tokenize("  a   b  "));
        Assert.Empty(t.Tokenize("    "));
        Assert.Equal([MarkAB], t.Tokenize("ab"));
        // With the option every word gets its ▁ even without add_space_prefix (llama.cpp's rule).
        Assert.Equal([MarkAB], Make(addSpacePrefix: false, removeExtraWhitespaces: true).Tokenize(" ab"));
    }

    [Fact]
    public void ByteFallback_SpellsUnknownSpansInBytePieces_WhenEveryByteHasOne()
    {
        var t = Make(extra: [("<0x5A>", 6, 0)]); // 15 = byte 'Z'
        Assert.True(t.ByteFallback);
        Assert.Equal([Mark, A, 15, B], t.Tokenize("aZb"));
        Assert.Equal([Mark, A, 15, 15, B], t.Tokenize("aZZb"));
        Assert.Equal([Mark, A, Unk, B], t.Tokenize("a🙂b")); // F0 9F 99 82 have no byte pieces
        Assert.Equal("aZZb", t.Decode([Mark, A, 15, 15, B]));
        Assert.False(Make().ByteFallback);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("xy ab c")]
    [InlineData("  ab")]
    [InlineData("ab ")]
    [InlineData("a<sep>b")]
    public void Decode_RoundTrips_WithoutUnknowns(string text)
    {
        var t = Make();
        var ids = t.Tokenize(text);
        Assert.DoesNotContain(Unk, ids);
        Assert.Equal(text.Replace("<sep>", "<sep> "), t.Decode(ids)); // the fragment after <sep> got its own ▁
    }

    [Fact]
    public void Decode_SpecialTokensOnlyWhenAsked()
    {
        var t = Make();
        Assert.Equal("ab", t.Decode([MarkAB, Eos]));
        Assert.Equal("ab</s>", t.Decode([MarkAB, Eos], includeSpecialTokens: true));
        var stream = t.CreateStreamDecoder();
        Assert.Equal("a b", string.Concat(new[] { Mark, A, Mark, B }.Select(stream.Append)) + stream.Flush());
    }

    /// <summary>
    /// A precompiled charsmap with two entries, built by hand in SentencePiece's XOR-compressed double-array form:
    /// "ｘ" (EF BD 98) → "x" and U+3000 ideographic space (E3 80 80) → " ". The root's children live at 256..511; each
    /// deeper node gets its own block of 256 units so nothing collides.
    /// </summary>
    internal static byte[] Charsmap()
    {
        (byte[] Key, string Replacement)[] entries = [([0xEF, 0xBD, 0x98], "x"), ([0xE3, 0x80, 0x80], " ")];
        var units = new uint[256 * 12];
        var strings = new List<byte>();
        units[0] = 256u << 10; // root: BASE 256
        for (int k = 0; k < entries.Length; k++)
        {
            var (key, replacement) = entries[k];
            uint parent = 256;
            for (int j = 0; j < key.Length; j++)
            {
                uint index = parent ^ key[j];
                uint next = 256u * (uint)(2 + 4 * k + j);
                bool leaf = j == key.Length - 1;
                units[index] = ((index ^ next) << 10) | (leaf ? 1u << 8 : 0) | key[j]; // BASE, LEAF, label
                parent = next;
            }
            units[parent] = (1u << 31) | (uint)strings.Count; // value unit: offset of the replacement
            strings.AddRange(System.Text.Encoding.UTF8.GetBytes(replacement));
            strings.Add(0);
        }
        var blob = new byte[4 + units.Length * 4 + strings.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(blob, (uint)(units.Length * 4));
        for (int i = 0; i < units.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(4 + 4 * i), units[i]);
        strings.CopyTo(blob, 4 + units.Length * 4);
        return blob;
    }

    [Fact]
    public void PrecompiledCharsmap_ReplacesLongestPrefixes_BeforeTheSpaceRules()
    {
        var t = Make(charsmap: Charsmap());
        Assert.Equal([Mark, XY], t.Tokenize("ｘy"));
        Assert.Equal([Mark, A, Mark, B], t.Tokenize("a\u3000b")); // mapped to a space, then escaped as ▁
        Assert.Equal([Mark, A, Unk, B], t.Tokenize("a\u3001b"));  // E3 80 81: a prefix of an entry only — no replacement
        // Without the charsmap those characters have no pieces.
        Assert.Equal(new[] { Mark, Unk }, Make().Tokenize("ｘy").Take(2).ToArray());
    }

    private static string WriteGguf(Action<GgufWriter>? edit = null)
    {
        var w = new GgufWriter();
        w.Set("general.architecture", "t5");
        w.Set("tokenizer.ggml.model", "t5");
        w.Set("tokenizer.ggml.tokens", Vocab.Select(p => p.Piece).ToArray());
        w.Set("tokenizer.ggml.scores", Vocab.Select(p => p.Score).ToArray());
        w.Set("tokenizer.ggml.token_type", Vocab.Select(p => p.Type).ToArray());
        w.Set("tokenizer.ggml.eos_token_id", 1u);
        w.Set("tokenizer.ggml.unknown_token_id", 2u);
        w.Set("tokenizer.ggml.padding_token_id", 0u);
        w.Set("tokenizer.ggml.add_space_prefix", true);
        w.Set("tokenizer.ggml.remove_extra_whitespaces", false);
        w.Set("tokenizer.ggml.precompiled_charsmap", Charsmap());
        edit?.Invoke(w);
        string path = Path.Combine(Path.GetTempPath(), $"ingot-ugm-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
        w.Write(path);
        return path;
    }

    [Fact]
    public void VocabOnlyGguf_RoundTrips_ThroughTokenizerFromGguf()
    {
        string path = WriteGguf();
        try
        {
            using var f = GgufFile.Open(path);
            var t = Assert.IsType<UnigramTokenizer>(Tokenizer.FromGguf(f));
            var direct = Make(charsmap: Charsmap());
            Assert.Equal(Vocab.Length, t.VocabSize);
            Assert.True(t.AddSpacePrefix);
            Assert.False(t.RemoveExtraWhitespaces);
            Assert.True(t.AddEosToken);
            Assert.False(t.AddBosToken);
            foreach (var row in PrefixCases())
            {
                string text = (string)row[0];
                Assert.Equal((int[])row[1], t.Tokenize(text));
                Assert.Equal(direct.Tokenize(text, addSpecialTokens: true), t.Tokenize(text, addSpecialTokens: true));
            }
            Assert.Equal([Mark, XY], t.Tokenize("ｘy")); // the charsmap came through
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void BadGguf_IsOneClearError()
    {
        string scores = WriteGguf(w => w.Set("tokenizer.ggml.scores", new float[] { 0, 0 }));
        string unk = WriteGguf(w => w.Set("tokenizer.ggml.unknown_token_id", 500u));
        string charsmap = WriteGguf(w => w.Set("tokenizer.ggml.precompiled_charsmap", new byte[] { 0xFF, 0xFF, 0, 0, 1, 2 }));
        try
        {
            foreach (var (path, field) in new[] { (scores, "scores"), (unk, "unknown_token_id"), (charsmap, "precompiled_charsmap") })
            {
                using var f = GgufFile.Open(path);
                var e = Assert.Throws<InvalidModelFileException>(() => Tokenizer.FromGguf(f));
                Assert.Contains(field, e.Message);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
        finally { File.Delete(scores); File.Delete(unk); File.Delete(charsmap); }
    }
}
