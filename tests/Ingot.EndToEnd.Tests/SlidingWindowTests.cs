using System.Runtime.InteropServices;
using Ingot.Formats;
using Ingot.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.EndToEnd.Tests;

/// <summary>
/// Mistral-style sliding window on a llama spec. llama.cpp ignores llama.attention.sliding_window; Ingot honours it
/// (InferenceOptions.NoSlidingWindow / --no-swa reproduce llama.cpp). The file is llama-gqa.f32 with the key set to a
/// window of 4 — shorter than the 16-token input — checked against a brute-force float64 llama forward written here
/// from the golden README's description (explicit mask: a query at p sees keys k with k &lt;= p and p - k &lt; window).
/// </summary>
public class SlidingWindowTests(ITestOutputHelper output)
{
    private const int Window = 4;
    private static readonly int[] Tokens = new[] { 1 }.Concat(Enumerable.Range(300, 15)).ToArray();

    private static readonly Lazy<string> WindowedFile = new(() =>
    {
        using var src = GgufFile.Open(TestPaths.Require("golden", "models", "llama-gqa.f32.gguf"));
        string path = Path.Combine(Path.GetTempPath(), "ingot-swa-" + Environment.ProcessId + ".gguf");
        var w = new GgufWriter().CopyMetadata(src).Set("llama.attention.sliding_window", (uint)Window);
        foreach (var t in src.Tensors)
        {
            byte[] bytes = src.GetTensorBytes(t).ToArray();
            w.AddTensor(t.Name, t.Type, t.Dims, s => s.Write(bytes));
        }
        w.Write(path);
        return path;
    });

    [Fact]
    public void TheCompiledSpecIsWhatImportWrites()
    {
        using var m = ModelImporter.Import(WindowedFile.Value, name: "llama-gqa-swa4-f32");
        string committed = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "Ingot.EndToEnd.Tests", "TestSpecs", "llama-gqa-swa4-f32.json"));
        Assert.Equal(committed, ModelSpecJson.Serialize(m.Spec));
    }

    [Fact]
    public void WindowedLogitsMatchABruteForceReference()
    {
        using var file = GgufFile.Open(WindowedFile.Value);
        var reference = new NaiveLlama(file);
        var windowed = reference.Forward(Tokens, Window);
        var full = reference.Forward(Tokens, 0);

        // The reference itself: without a window it is llama.cpp's llama-gqa.f32.
        var golden = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", "llama-gqa.f32.logits.kvf32.bin"));
        Assert.True(MaxAbs(full.Select(v => (float)v).ToArray(), golden) < 1e-4, "the float64 reference does not reproduce llama.cpp without a window");

        using var m = new LlamaGqaSwa4F32();
        m.Load(file, new InferenceOptions(ContextSize: 32));
        var logits = new float[Tokens.Length * LlamaGqaSwa4F32.VocabSize];
        m.Prefill(Tokens, logits);
        float prefill = MaxAbs(logits, windowed);

        m.Reset();
        var rows = new float[Tokens.Length * LlamaGqaSwa4F32.VocabSize];
        for (int t = 0; t < Tokens.Length; t++) m.Decode(Tokens[t], rows.AsSpan(t * LlamaGqaSwa4F32.VocabSize, LlamaGqaSwa4F32.VocabSize));
        float decode = MaxAbs(rows, windowed);
        float windowEffect = MaxAbs(logits, golden);
        output.WriteLine($"window {Window}: prefill max-abs {prefill:E3}, decode {decode:E3} against the brute force; {windowEffect:F3} from the full-attention logits");
        Assert.True(prefill < 1e-4 && decode < 1e-4, $"prefill {prefill}, decode {decode}");
        Assert.True(windowEffect > 0.1, "the window should change logits past position " + Window);
        // Rows before the window fills are unaffected.
        for (int v = 0; v < LlamaGqaSwa4F32.VocabSize; v++) Assert.True(Math.Abs(logits[(Window - 1) * LlamaGqaSwa4F32.VocabSize + v] - golden[Window - 1, v]) < 1e-4);
    }

    [Fact]
    public void NoSlidingWindowReproducesLlamaCpp()
    {
        using var file = GgufFile.Open(WindowedFile.Value);
        using var m = new LlamaGqaSwa4F32();
        m.Load(file, new InferenceOptions(ContextSize: 32, NoSlidingWindow: true));
        var logits = new float[Tokens.Length * LlamaGqaSwa4F32.VocabSize];
        m.Prefill(Tokens, logits);
        var golden = TestPaths.ReadMatrix(TestPaths.Require("golden", "ref", "llama-gqa.f32.logits.kvf32.bin"));
        float maxAbs = MaxAbs(logits, golden);
        output.WriteLine($"--no-swa: max-abs {maxAbs:E3} against llama.cpp");
        Assert.True(maxAbs < 1e-4);
    }

    private static float MaxAbs(float[] a, float[,] b) => MaxAbs(a, Flatten(b));

    private static float MaxAbs(float[] a, double[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return (float)m;
    }

    private static double[] Flatten(float[,] m)
    {
        var r = new double[m.Length];
        int k = 0;
        foreach (float v in m) r[k++] = v;
        return r;
    }

    /// <summary>A llama forward pass in float64, one token row at a time, with an explicit attention mask.</summary>
    private sealed class NaiveLlama(GgufFile f)
    {
        private readonly int _dim = (int)f.GetInt("llama.embedding_length"), _layers = (int)f.GetInt("llama.block_count");
        private readonly int _heads = (int)f.GetInt("llama.attention.head_count"), _kvHeads = (int)f.GetInt("llama.attention.head_count_kv");
        private readonly float _eps = f.GetFloat("llama.attention.layer_norm_rms_epsilon");
        private readonly double _theta = f.GetFloat("llama.rope.freq_base", 10000f);

        private float[] T(string name) => MemoryMarshal.Cast<byte, float>(f.GetTensorBytes(f.FindTensor(name)!)).ToArray();

        private static double[] MatVec(float[] w, double[] x, int rows)
        {
            int cols = x.Length;
            var y = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                double s = 0;
                for (int c = 0; c < cols; c++) s += w[(long)r * cols + c] * x[c];
                y[r] = s;
            }
            return y;
        }

        private double[] RmsNorm(double[] x, float[] w)
        {
            double ss = 0;
            foreach (double v in x) ss += v * v;
            double scale = 1 / Math.Sqrt(ss / x.Length + _eps);
            return x.Select((v, i) => v * scale * w[i]).ToArray();
        }

        /// <summary>NORM rope: pairs (2i, 2i + 1) of each head rotated by pos · theta^(-2i/hd).</summary>
        private void Rope(double[] v, int heads, int hd, int pos)
        {
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < hd / 2; i++)
                {
                    double a = pos * Math.Pow(_theta, -2.0 * i / hd), c = Math.Cos(a), s = Math.Sin(a);
                    double x0 = v[h * hd + 2 * i], x1 = v[h * hd + 2 * i + 1];
                    v[h * hd + 2 * i] = x0 * c - x1 * s;
                    v[h * hd + 2 * i + 1] = x0 * s + x1 * c;
                }
        }

        /// <summary>Logits of every position (row-major); window 0 = full causal attention.</summary>
        public double[] Forward(int[] tokens, int window)
        {
            int hd = _dim / _heads, group = _heads / _kvHeads, vocab = (int)f.FindTensor("token_embd.weight")!.Dims[1];
            var embd = T("token_embd.weight");
            var xs = tokens.Select(t => Enumerable.Range(0, _dim).Select(i => (double)embd[(long)t * _dim + i]).ToArray()).ToArray();
            for (int l = 0; l < _layers; l++)
            {
                string b = "blk." + l + ".";
                float[] wq = T(b + "attn_q.weight"), wk = T(b + "attn_k.weight"), wv = T(b + "attn_v.weight"), wo = T(b + "attn_output.weight");
                float[] an = T(b + "attn_norm.weight"), fn = T(b + "ffn_norm.weight");
                float[] wg = T(b + "ffn_gate.weight"), wu = T(b + "ffn_up.weight"), wd = T(b + "ffn_down.weight");
                int ffn = wg.Length / _dim;
                var ks = new double[tokens.Length][];
                var vs = new double[tokens.Length][];
                var qs = new double[tokens.Length][];
                for (int p = 0; p < tokens.Length; p++)
                {
                    var h = RmsNorm(xs[p], an);
                    qs[p] = MatVec(wq, h, _heads * hd);
                    ks[p] = MatVec(wk, h, _kvHeads * hd);
                    vs[p] = MatVec(wv, h, _kvHeads * hd);
                    Rope(qs[p], _heads, hd, p);
                    Rope(ks[p], _kvHeads, hd, p);
                }
                for (int p = 0; p < tokens.Length; p++)
                {
                    var att = new double[_heads * hd];
                    for (int head = 0; head < _heads; head++)
                    {
                        int g = head / group;
                        var scores = new double[p + 1];
                        for (int k = 0; k <= p; k++)
                        {
                            bool visible = window == 0 || p - k < window;
                            double s = 0;
                            for (int d = 0; d < hd; d++) s += qs[p][head * hd + d] * ks[k][g * hd + d];
                            scores[k] = visible ? s / Math.Sqrt(hd) : double.NegativeInfinity;
                        }
                        double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                        for (int k = 0; k <= p; k++)
                        {
                            double w = Math.Exp(scores[k] - max) / sum;
                            for (int d = 0; d < hd; d++) att[head * hd + d] += w * vs[k][g * hd + d];
                        }
                    }
                    var o = MatVec(wo, att, _dim);
                    for (int i = 0; i < _dim; i++) xs[p][i] += o[i];
                    var h2 = RmsNorm(xs[p], fn);
                    var gate = MatVec(wg, h2, ffn);
                    var up = MatVec(wu, h2, ffn);
                    var hid = gate.Select((gv, i) => gv / (1 + Math.Exp(-gv)) * up[i]).ToArray();
                    var down = MatVec(wd, hid, _dim);
                    for (int i = 0; i < _dim; i++) xs[p][i] += down[i];
                }
            }
            var outNorm = T("output_norm.weight");
            var wout = T("output.weight");
            var logits = new double[tokens.Length * vocab];
            for (int p = 0; p < tokens.Length; p++) MatVec(wout, RmsNorm(xs[p], outNorm), vocab).CopyTo(logits, p * vocab);
            return logits;
        }
    }
}
