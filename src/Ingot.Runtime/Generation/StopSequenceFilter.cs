namespace Ingot.Runtime.Generation;

/// <summary>
/// Cuts streamed text at the first stop sequence (OpenAI's <c>stop</c>, MEAI's StopSequences): the sequence and what
/// follows are dropped, and text that may be the start of a sequence is held back until the next piece settles it. A
/// sequence may span several pieces. With no sequences every piece passes through untouched.
/// </summary>
public sealed class StopSequenceFilter(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = [.. stops.Where(s => !string.IsNullOrEmpty(s))]; // an empty sequence would stop at once: ignored
    private readonly System.Text.StringBuilder _pending = new();

    /// <summary>The text of <paramref name="piece"/> (with what was held back) that is certainly before any stop sequence; <paramref name="stopped"/> once one is complete.</summary>
    public string Push(string piece, out bool stopped)
    {
        stopped = false;
        if (_stops.Length == 0) return piece;
        if (_pending.Length == 0 && !MayStartStop(piece)) return piece; // the common token: nothing to hold, nothing copied
        _pending.Append(piece);
        string s = _pending.ToString();
        int cut = -1;
        foreach (var stop in _stops)
        {
            int k = s.IndexOf(stop, StringComparison.Ordinal);
            if (k >= 0 && (cut < 0 || k < cut)) cut = k;
        }
        if (cut >= 0)
        {
            stopped = true;
            _pending.Clear();
            return s[..cut];
        }
        // Hold back the longest tail of s that is the start of some stop sequence.
        int hold = 0;
        foreach (var stop in _stops)
        {
            for (int n = Math.Min(stop.Length - 1, s.Length); n > hold; n--)
            {
                if (s.AsSpan(s.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    hold = n;
                    break;
                }
            }
        }
        _pending.Clear().Append(s, s.Length - hold, hold);
        return s[..(s.Length - hold)];
    }

    /// <summary>Whether <paramref name="piece"/> holds the first character of any stop sequence (else no sequence can start or end in it).</summary>
    private bool MayStartStop(string piece)
    {
        foreach (var stop in _stops)
            if (piece.Contains(stop[0])) return true;
        return false;
    }

    /// <summary>The text still held back, at the end of the stream (it turned out not to start a stop sequence).</summary>
    public string Flush()
    {
        string s = _pending.ToString();
        _pending.Clear();
        return s;
    }
}
