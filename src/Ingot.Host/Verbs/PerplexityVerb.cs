using System.Globalization;
using Ingot.Host.CommandLine;
using Ingot.Runtime.Evaluation;
using Ingot.Runtime.Generation;

namespace Ingot.Host.Verbs;

/// <summary>
/// <c>perplexity -f FILE [--ctx 512]</c>: llama-perplexity's figure (<see cref="Perplexity"/>), its progress line and
/// its "Final estimate" line. <c>--kl-divergence-base OUT</c> also saves the log-probabilities (llama-perplexity's file
/// layout); <c>--kl-divergence BASE</c> runs the saved tokens and reports KL-divergence against them
/// (<see cref="KlDivergence"/>).
/// </summary>
public sealed class PerplexityVerb : IHostVerb
{
    public string Name => "perplexity";
    public string Summary => "perplexity of a text, and KL-divergence against a base model (llama-perplexity's rules and output)";

    public string Usage(string program) =>
        $"usage: {program} perplexity -f FILE [--ctx N] [--chunks N] [--kl-divergence-base OUT] [-t N] [--model PATH]\n" +
        $"       {program} perplexity --kl-divergence BASE [-t N] [--model PATH]\n\n" +
        "  -f, --file FILE           the text (UTF-8), tokenized whole; at least 2 × N tokens\n" +
        "  -c, --ctx N               tokens per chunk (default 512); the second half of each chunk is scored\n" +
        "  -b, --batch N             accepted for llama-perplexity's command lines (the chunk runs as one prefill)\n" +
        "      --chunks N            score at most N chunks (default: all)\n" +
        "      --kl-divergence-base OUT  save the log-probabilities of every scored token (for --kl-divergence)\n" +
        "      --kl-divergence BASE  run the tokens of a saved base file and compare: KLD, Δp, PPL ratio\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        string? file = args.OptionOrNull("-f", "--file");
        string? saveBase = args.OptionOrNull("--kl-divergence-base");
        string? compare = args.OptionOrNull("--kl-divergence");
        int chunks = args.Int(-1, "--chunks");
        int batch = args.Int(2048, "-b", "--batch");
        args.ThrowIfUnknown();
        if (batch < 1) throw new UsageException("--batch must be >= 1");
        if (compare is not null && (file is not null || saveBase is not null))
            throw new UsageException("--kl-divergence takes its tokens from the base file: give neither -f nor --kl-divergence-base");
        if (compare is null && file is null) throw new UsageException("missing -f FILE (the text to score)");
        var inv = CultureInfo.InvariantCulture;
        using var weights = context.OpenWeights();
        var tokenizer = TokenizerCodec.FromGguf(weights).Tokenizer;
        int? bos = tokenizer.AddBosToken ? tokenizer.BosTokenId : null;

        if (compare is not null)
        {
            KlDivergenceBase.Data data;
            try { data = KlDivergenceBase.Read(compare); }
            catch (InvalidDataException e) { throw new UsageException(e.Message); }
            if (context.RequestedContext != 0 && context.RequestedContext != data.Context)
                throw new UsageException($"{compare} was computed with chunks of {data.Context} tokens; --ctx {context.RequestedContext} differs");
            context.LoadModel(weights, data.Context);
            var model = context.Causal;
            context.Error.WriteLine(string.Create(inv, $"{context.Program}: KL-divergence over {data.Chunks} chunks of {data.Context} tokens against {compare}"));
            context.Out.WriteLine();
            context.Out.WriteLine(KlDivergence.ChunkHeader);
            var kld = KlDivergence.Run(model, data, bos, (c, k) => { context.Out.WriteLine(k.ChunkLine(c)); context.Out.Flush(); }, context.Cancellation);
            context.Out.WriteLine();
            context.Out.Write(kld.Report());
            context.Out.Flush();
            return 0;
        }

        int ctx = context.RequestedContext == 0 ? 512 : context.RequestedContext;
        if (ctx < 4) throw new UsageException("--ctx must be at least 4 for perplexity");
        if (chunks == 0 || chunks < -1) throw new UsageException("--chunks must be >= 1");
        string text = File.ReadAllText(file!);
        var tokens = tokenizer.Tokenize(text, addSpecialTokens: true, parseSpecialTokens: false);
        if (tokens.Count < 2 * ctx)
            throw new UsageException($"{file} tokenizes to {tokens.Count} tokens; a context of {ctx} needs at least {2 * ctx} (use a longer text or a smaller --ctx)");
        context.LoadModel(weights, ctx);
        var causal = context.Causal;
        int n = Perplexity.Chunks(tokens.Count, ctx, chunks);
        context.Error.WriteLine(string.Create(inv, $"{context.Program}: perplexity over {n} chunks of {ctx} tokens ({tokens.Count} tokens in {file})"));
        KlDivergenceBase.Writer? writer = null;
        if (saveBase is not null)
        {
            var ids = tokens as int[] ?? [.. tokens];
            writer = new KlDivergenceBase.Writer(File.Create(saveBase), ctx, causal.VocabSize, n, ids);
        }
        PerplexityResult result;
        using (writer)
        {
            result = Perplexity.Run(causal, tokens, ctx, bos, chunks, (c, ppl) => { context.Out.Write(string.Create(inv, $"[{c}]{ppl:F4},")); context.Out.Flush(); }, writer, context.Cancellation);
        }
        context.Out.WriteLine();
        context.Out.WriteLine(double.IsNaN(result.Uncertainty)
            ? string.Create(inv, $"Final estimate: PPL = {result.Ppl:F4} (the standard deviation of log(prob) came out negative)")
            : string.Create(inv, $"Final estimate: PPL = {result.Ppl:F4} +/- {result.Uncertainty:F5}"));
        if (saveBase is not null) context.Error.WriteLine($"{context.Program}: saved the log-probabilities of {result.Scored} tokens to {saveBase}");
        return 0;
    }
}
