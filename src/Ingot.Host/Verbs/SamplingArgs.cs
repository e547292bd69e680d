using System.Globalization;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Sampling;

namespace Ingot.Host.Verbs;

/// <summary>The sampling options <c>generate</c> and <c>chat</c> share (llama.cpp's names and defaults).</summary>
internal static class SamplingArgs
{
    public const string Usage =
        "      --temp T            temperature (default 0.8; 0 = greedy argmax)\n" +
        "      --top-k K           keep the K most likely tokens (default 40; 0 = off)\n" +
        "      --top-p P           nucleus sampling mass (default 0.95; 1 = off)\n" +
        "      --min-p M           drop tokens below M x the best probability (default 0.05; 0 = off)\n" +
        "      --repeat-penalty R  penalty for recent tokens (default 1.1; 1 = off)\n" +
        "      --repeat-last-n N   how many recent tokens it looks at (default 64)\n" +
        "      --frequency-penalty F  subtract F x a recent token's count from its logit (default 0 = off)\n" +
        "      --presence-penalty P   subtract P from the logit of every recent token (default 0 = off)\n" +
        "      --seed S            sampler seed (default: random; printed to stderr)\n";

    public static SamplerOptions Read(ArgReader args)
    {
        var d = new SamplerOptions();
        float temp = args.Float(d.Temperature, "--temp", "--temperature");
        int topK = args.Int(d.TopK, "--top-k");
        float topP = args.Float(d.TopP, "--top-p");
        float minP = args.Float(d.MinP, "--min-p");
        float penalty = args.Float(d.RepeatPenalty, "--repeat-penalty");
        int lastN = args.Int(d.RepeatLastN, "--repeat-last-n");
        float frequency = args.Float(d.FrequencyPenalty, "--frequency-penalty");
        float presence = args.Float(d.PresencePenalty, "--presence-penalty");
        string? seedText = args.OptionOrNull("--seed", "-s");
        if (float.IsNaN(temp) || float.IsNaN(topP) || float.IsNaN(minP) || float.IsNaN(penalty) || !float.IsFinite(frequency) || !float.IsFinite(presence)) throw new UsageException("sampling options must be numbers");
        if (lastN < 0) throw new UsageException("--repeat-last-n must be >= 0");
        if (penalty <= 0) throw new UsageException("--repeat-penalty must be > 0");
        ulong? seed = null;
        if (seedText is not null)
        {
            // Accept any 64-bit value, and negative numbers as their two's complement (llama.cpp users pass -1).
            if (ulong.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong u)) seed = u;
            else if (long.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) seed = unchecked((ulong)l);
            else throw new UsageException($"option --seed: '{seedText}' is not a valid integer");
        }
        return new SamplerOptions(temp, topK, topP, minP, penalty, lastN, seed, frequency, presence);
    }
}
