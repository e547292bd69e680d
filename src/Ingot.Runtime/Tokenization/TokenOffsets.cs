using System.Text;

namespace Ingot.Runtime.Tokenization;

/// <summary>
/// Token spans from decoding: the ids' bytes are laid end to end (special tokens by their text), and each token covers
/// the characters whose last byte it holds. When the ids decode back to the text — always for byte-level BPE, for
/// SentencePiece once the dummy-prefix space after BOS is dropped (AppendTokenBytes does), for any special token
/// parsed from the text — the spans are exact. A BOS/EOS that Tokenize added is not in the text: it gets the empty span
/// at the start / end. Where a normalizer changed the text, the spans follow the decoded characters, clamped to the
/// text's length.
/// </summary>
public static class TokenOffsets
{
    public static (int Start, int End)[] ByDecoding(Tokenizer tokenizer, string text, IReadOnlyList<int> ids, bool addSpecialTokens)
    {
        int n = ids.Count;
        var spans = new (int Start, int End)[n];
        int first = 0, last = n; // [first, last): the ids that come from the text
        if (addSpecialTokens && n > 0 && tokenizer.AddBosToken && ids[0] == tokenizer.BosTokenId) first = 1;
        if (addSpecialTokens && last > first && tokenizer.AddEosToken && ids[last - 1] == tokenizer.EosTokenId) last--;

        var bytes = new List<byte>();
        var byteEnd = new int[n];
        int prev = first == 1 ? ids[0] : -1;
        for (int i = first; i < last; i++)
        {
            tokenizer.AppendTokenBytes(ids[i], bytes, includeSpecialTokens: true, afterBos: prev == tokenizer.BosTokenId || prev == -1);
            byteEnd[i] = bytes.Count;
            prev = ids[i];
        }

        // charsBefore[b]: UTF-16 units of the characters whose bytes all lie in [0, b).
        var raw = bytes.ToArray();
        var charsBefore = new int[raw.Length + 1];
        int pos = 0, chars = 0;
        while (pos < raw.Length)
        {
            int step = Math.Max(1, ReadOne(raw.AsSpan(pos), out int units));
            for (int k = 1; k < step; k++) charsBefore[pos + k] = chars; // inside a character: not yet counted
            chars += units;
            pos += step;
            charsBefore[pos] = chars;
        }

        int start = 0;
        for (int i = 0; i < n; i++)
        {
            if (i < first) { spans[i] = (0, 0); continue; }
            if (i >= last) { spans[i] = (text.Length, text.Length); continue; }
            int end = Math.Min(charsBefore[byteEnd[i]], text.Length);
            spans[i] = (Math.Min(start, end), end);
            start = end;
        }
        return spans;
    }

    /// <summary>The length in bytes of the UTF-8 character at the start of <paramref name="s"/> (1 for an invalid byte) and its UTF-16 units.</summary>
    private static int ReadOne(ReadOnlySpan<byte> s, out int units)
    {
        var status = Rune.DecodeFromUtf8(s, out Rune r, out int consumed);
        units = status == System.Buffers.OperationStatus.Done ? r.Utf16SequenceLength : 1;
        return consumed;
    }
}
