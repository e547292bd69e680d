namespace Ingot.Runtime.Quants;

/// <summary>
/// How many tokens a rows kernel takes per pass over its weight rows so that those tokens' activations stay in L1 while
/// every weight row streams past them (all 128 tokens of a pp128 chunk at once read them from L2 for every row: the
/// K-quant kernels ran 1.13× faster in slices, Q8_0's 1.03–1.05×).
/// </summary>
internal static class TokenSlices
{
    /// <summary>Activation bytes per slice, of L1's 48 KB (the rest: the weight row, accumulators, stack).</summary>
    private const int L1Bytes = 28 * 1024;

    /// <summary>Tokens per slice for activations of bytesPerToken each, at least minTokens (each slice decodes the rows again).</summary>
    public static int Tokens(int bytesPerToken, int minTokens) => Math.Max(minTokens, L1Bytes / bytesPerToken);
}
