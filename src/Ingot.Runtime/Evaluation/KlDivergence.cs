using System.Globalization;
using System.Text;

namespace Ingot.Runtime.Evaluation;

/// <summary>
/// KL-divergence of a model against a base model's saved log-probabilities (<see cref="KlDivergenceBase"/>), with
/// llama-perplexity's statistics and report layout: per chunk PPL, ln(PPL(Q)/PPL(base)), KLD, Δp RMS and same-top;
/// at the end the PPL, KLD (mean, percentiles) and Δp tables. Per row: KLD = Σ_i p_base(i) (log p_base(i) − log q(i))
/// over the tokens whose base log-prob is above −16; Δp = q(token) − p_base(token).
/// </summary>
public sealed class KlDivergence
{
    private double _nll, _nll2, _nllBase, _nllBase2, _nllNllBase, _kld, _kld2, _pDiff, _pDiff2, _pDiff4;
    private float _maxPDiff;
    private long _sameTop, _count;
    private readonly List<float> _klds = new(), _pDiffs = new();

    public long Count => _count;

    /// <summary>Scores one row of the model's logits against the base row (two floats and the quantized log-probs).</summary>
    public void AddRow(ReadOnlySpan<float> logits, ReadOnlySpan<ushort> baseRow, int token)
    {
        float max = logits[0];
        int top = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > max) { max = logits[i]; top = i; }
        double sumExp = 0;
        for (int i = 0; i < logits.Length; i++) sumExp += MathF.Exp(logits[i] - max);
        float logSum = (float)Math.Log(sumExp);
        var header = System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, float>(baseRow.Slice(0, 4));
        float scale = header[0], minLogProb = header[1];
        var q = baseRow.Slice(4);

        float nll = max + logSum - logits[token];
        _nll += nll;
        _nll2 += nll * nll;
        float nllBase = -(scale * q[token] + minLogProb);
        _nllBase += nllBase;
        _nllBase2 += nllBase * nllBase;
        _nllNllBase += nll * nllBase;

        float norm = max + logSum;
        double kld = 0;
        int topBase = -1;
        float topBaseLog = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float logBase = scale * q[i] + minLogProb;
            if (i == 0 || logBase > topBaseLog) { topBaseLog = logBase; topBase = i; }
            if (logBase > -16f) kld += MathF.Exp(logBase) * (logBase - logits[i] + norm);
        }
        _kld += kld;
        _kld2 += kld * kld;
        _count++;
        if (top == topBase) _sameTop++;
        float pDiff = MathF.Exp(-nll) - MathF.Exp(-nllBase);
        _pDiff += pDiff;
        double pDiff2 = pDiff * pDiff;
        _pDiff2 += pDiff2;
        _pDiff4 += pDiff2 * pDiff2;
        _maxPDiff = Math.Max(_maxPDiff, Math.Abs(pDiff));
        _klds.Add((float)kld);
        _pDiffs.Add(pDiff);
    }

    /// <summary>Mean and its standard error (0 with 10 values or fewer), as llama-perplexity reports them.</summary>
    private static (double Mean, double Error) MeanError(double sum, double sum2, long count)
    {
        if (count < 1) return (0, 0);
        double f = sum / count, df = sum2 / count - f * f;
        return (f, df > 0 && count > 10 ? Math.Sqrt(df / (count - 1)) : 0);
    }

    private double Covariance() => _count < 10 ? 0 : (_nllNllBase / _count - _nll / _count * (_nllBase / _count)) / (_count - 1);

    public (double Mean, double Error) MeanKld => MeanError(_kld, _kld2, _count);

    public double MedianKld => Median(_klds);

    public double MaxKld => _klds.Count == 0 ? 0 : _klds.Max();

    public (double Mean, double Error) LogPpl => MeanError(_nll, _nll2, _count);

    public (double Mean, double Error) LogPplBase => MeanError(_nllBase, _nllBase2, _count);

    private static double Median(List<float> values)
    {
        if (values.Count == 0) return 0;
        var v = values.ToArray();
        Array.Sort(v);
        return v.Length % 2 == 0 ? 0.5f * (v[v.Length / 2] + v[v.Length / 2 - 1]) : v[v.Length / 2];
    }

    private static float Percentile(float[] sorted, float fraction)
    {
        if (fraction <= 0) return sorted[0];
        if (fraction >= 1) return sorted[^1];
        float p = fraction * (sorted.Length - 1);
        int ip = (int)p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.Min(ip + 1, sorted.Length - 1)];
    }

    public const string ChunkHeader = "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p";

    /// <summary>One line of the per-chunk table (after chunk <paramref name="chunk"/>, from 1).</summary>
    public string ChunkLine(int chunk)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(string.Format(inv, "{0,4}", chunk));
        var lp = LogPpl;
        double ppl = Math.Exp(lp.Mean);
        sb.Append(string.Format(inv, "    {0,9:F4} ± {1,9:F4}", ppl, ppl * lp.Error));
        var lpb = LogPplBase;
        double ratioErr = Math.Sqrt(lp.Error * lp.Error + lpb.Error * lpb.Error - 2 * Covariance());
        sb.Append(string.Format(inv, "    {0,10:F5} ± {1,10:F5}", lp.Mean - lpb.Mean, ratioErr));
        var k = MeanKld;
        sb.Append(string.Format(inv, "    {0,10:F5} ± {1,10:F5}", k.Mean, k.Error));
        var mse = MeanError(_pDiff2, _pDiff4, _count);
        double rms = Math.Sqrt(mse.Mean);
        sb.Append(string.Format(inv, "    {0,6:F3} ± {1,6:F3} %", 100 * rms, 100 * 0.5 / rms * mse.Error));
        double top = (double)_sameTop / _count;
        sb.Append(string.Format(inv, "    {0,6:F3} ± {1,6:F3} %", 100 * top, 100 * Math.Sqrt(top * (1 - top) / (_count - 1))));
        return sb.ToString();
    }

    /// <summary>The final statistics, in llama-perplexity's layout; empty with fewer than 100 rows (as llama.cpp, too few for statistics).</summary>
    public string Report()
    {
        if (_count < 100) return "";
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void L(string format, params object[] args) => sb.Append(string.Format(inv, format, args)).Append('\n');
        var lp = LogPpl;
        var lpb = LogPplBase;
        double ppl = Math.Exp(lp.Mean), pplErr = ppl * lp.Error, pplBase = Math.Exp(lpb.Mean), pplBaseErr = pplBase * lpb.Error;
        double cov = Covariance();
        L("====== Perplexity statistics ======");
        L("Mean PPL(Q)                   : {0,10:F6} ± {1,10:F6}", ppl, pplErr);
        L("Mean PPL(base)                : {0,10:F6} ± {1,10:F6}", pplBase, pplBaseErr);
        L("Cor(ln(PPL(Q)), ln(PPL(base))): {0,6:F2}%", 100 * cov / (lp.Error * lpb.Error));
        double ratio = lp.Mean - lpb.Mean, ratioErr = Math.Sqrt(lp.Error * lp.Error + lpb.Error * lpb.Error - 2 * cov);
        L("Mean ln(PPL(Q)/PPL(base))     : {0,10:F6} ± {1,10:F6}", ratio, ratioErr);
        L("Mean PPL(Q)/PPL(base)         : {0,10:F6} ± {1,10:F6}", Math.Exp(ratio), Math.Exp(ratio) * ratioErr);
        double pplCov = ppl * pplBase * cov;
        L("Mean PPL(Q)-PPL(base)         : {0,10:F6} ± {1,10:F6}", ppl - pplBase, Math.Sqrt(pplErr * pplErr + pplBaseErr * pplBaseErr - 2 * pplCov));
        L("");
        var klds = _klds.ToArray();
        Array.Sort(klds);
        var k = MeanKld;
        L("====== KL divergence statistics ======");
        L("Mean    KLD: {0,10:F6} ± {1,10:F6}", k.Mean, k.Error);
        L("Maximum KLD: {0,10:F6}", klds[^1]);
        L("99.9%   KLD: {0,10:F6}", Percentile(klds, 0.999f));
        L("99.0%   KLD: {0,10:F6}", Percentile(klds, 0.990f));
        L("Median  KLD: {0,10:F6}", MedianKld);
        L("10.0%   KLD: {0,10:F6}", Percentile(klds, 0.100f));
        L(" 5.0%   KLD: {0,10:F6}", Percentile(klds, 0.050f));
        L(" 1.0%   KLD: {0,10:F6}", Percentile(klds, 0.010f));
        L("Minimum KLD: {0,10:F6}", klds[0]);
        L("");
        var dp = _pDiffs.ToArray();
        Array.Sort(dp);
        var mean = MeanError(_pDiff, _pDiff2, _count);
        L("====== Token probability statistics ======");
        L("Mean    Δp: {0,6:F3} ± {1,5:F3} %", 100 * mean.Mean, 100 * mean.Error);
        L("Maximum Δp: {0,6:F3}%", 100 * dp[^1]);
        foreach (var (label, f) in new[] { ("99.9%", 0.999f), ("99.0%", 0.990f), ("95.0%", 0.950f), ("90.0%", 0.900f), ("75.0%", 0.750f) })
            L("{0}   Δp: {1,6:F3}%", label, 100 * Percentile(dp, f));
        L("Median  Δp: {0,6:F3}%", 100 * Median(_pDiffs));
        foreach (var (label, f) in new[] { ("25.0%", 0.250f), ("10.0%", 0.100f), (" 5.0%", 0.050f), (" 1.0%", 0.010f), (" 0.1%", 0.001f) })
            L("{0}   Δp: {1,6:F3}%", label, 100 * Percentile(dp, f));
        L("Minimum Δp: {0,6:F3}%", 100 * dp[0]);
        var mse = MeanError(_pDiff2, _pDiff4, _count);
        double rms = Math.Sqrt(mse.Mean);
        L("RMS Δp    : {0,6:F3} ± {1,5:F3} %", 100 * rms, 100 * 0.5 / rms * mse.Error);
        double same = (double)_sameTop / _count;
        L("Same top p: {0,6:F3} ± {1,5:F3} %", 100 * same, 100 * Math.Sqrt(same * (1 - same) / (_count - 1)));
        return sb.ToString();
    }

    /// <summary>Runs every chunk of the base file's tokens on <paramref name="model"/> and scores it; <paramref name="onChunk"/> after each.</summary>
    public static KlDivergence Run(ICompiledModel model, KlDivergenceBase.Data data, int? bos, Action<int, KlDivergence>? onChunk = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Vocab != model.VocabSize) throw new InvalidDataException($"the base file's vocabulary has {data.Vocab} tokens, this model's {model.VocabSize}: not the same tokenizer");
        if (model.ContextSize < data.Context) throw new ContextOverflowException($"the base file's chunks are {data.Context} tokens; the model was loaded with a context of {model.ContextSize}");
        int ctx = data.Context, first = Perplexity.First(ctx), vocab = model.VocabSize;
        var logits = new float[(long)(ctx - first) * vocab];
        var scratch = new float[vocab];
        var result = new KlDivergence();
        for (int c = 0; c < data.Chunks; c++)
        {
            ct.ThrowIfCancellationRequested();
            Perplexity.RunChunk(model, data.Tokens, c, ctx, bos, logits, scratch);
            for (int r = 0; r < data.RowsPerChunk; r++)
                result.AddRow(logits.AsSpan(r * vocab, vocab), data.Row(c, r), data.Tokens[c * ctx + first + r + 1]);
            onChunk?.Invoke(c + 1, result);
        }
        return result;
    }
}
