using System.Runtime.InteropServices;
using Ingot.Cli.Building;
using Ingot.Formats;
using Ingot.Runtime;
using Ingot.Runtime.Kernels;
using Ingot.Specs;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

[CompiledModel("bert-synth-cls")]
public partial class BertSynthCls { }

[CompiledModel("bert-synth-classifier")]
public partial class BertSynthClassifier { }

/// <summary>
/// A BERT of another shape than the golden one (dim 96, 3 heads, 3 layers, ffn 160, context 48), written by
/// `ingot synth --arch bert` with random weights, against a float64 BERT written here from the published architecture
/// (Devlin et al.; llama.cpp's bert graph: token + token_types[0] + position, LayerNorm; per layer
/// x = LN(x + O(softmax(QKᵀ/√d)V)), x = LN(x + W₂ gelu(W₁x + b₁) + b₂)), per token and CLS-pooled.
/// The reference computes GELU exactly (tanh form), the compiled model through ggml's f16 table as llama.cpp does,
/// so the tolerance is golden/README's for GELU models without table emulation (5e-3).
/// </summary>
public class BertReferenceTests(ITestOutputHelper output)
{
    private static SynthOptions Options => new()
    {
        Architecture = "bert", Name = "bert-synth-cls", Dim = 96, Layers = 3, Heads = 3, FfnDim = 160, VocabSize = 300, ContextLength = 48,
        NormEpsilon = 1e-12f, Seed = 7,
    };

    [Fact]
    public void CompiledBertMatchesAFloat64ReferencePerTokenAndClsPooled()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bert-synth-{Environment.ProcessId}.gguf");
        try
        {
            var spec = SynthModel.Write(path, Options, null);
            Assert.Equal(BertSynthCls.SpecJson, SpecWriter.Write(spec)); // the compiled class is this file's spec
            using var file = GgufFile.Open(path);
            using var model = new BertSynthCls();
            model.Load(file, new InferenceOptions(Threads: 2));
            Assert.Equal(PoolingKind.Cls, model.Pooling);

            var rng = new Random(11);
            foreach (int n in new[] { 1, 7, 48 })
            {
                int[] tokens = [.. Enumerable.Range(0, n).Select(_ => rng.Next(spec.VocabSize))];
                int dim = model.HiddenSize;
                var hidden = new float[n * dim];
                model.Encode(tokens, hidden);
                double[,] expected = Reference(file, spec, tokens);

                double maxAbs = 0;
                for (int t = 0; t < n; t++)
                    for (int d = 0; d < dim; d++) maxAbs = Math.Max(maxAbs, Math.Abs(hidden[t * dim + d] - expected[t, d]));
                var cls = new float[dim];
                Pooling.Pool(PoolingKind.Cls, hidden, n, dim, cls);
                double clsAbs = Enumerable.Range(0, dim).Max(d => Math.Abs(cls[d] - expected[0, d]));
                output.WriteLine($"{n} tokens: per-token max-abs {maxAbs:E3}, cls {clsAbs:E3}");
                Assert.True(maxAbs <= 5e-3, $"{n} tokens: per-token max-abs {maxAbs}");
                Assert.True(clsAbs <= 5e-3, $"{n} tokens: cls max-abs {clsAbs}");
            }
            Assert.Throws<ContextOverflowException>(() => model.Encode(new int[49], new float[49 * model.HiddenSize]));
        }
        finally { File.Delete(path); }
    }

    internal static SynthOptions ClassifierOptions => new()
    {
        Architecture = "bert", Name = "bert-synth-classifier", Dim = 96, Layers = 2, Heads = 3, FfnDim = 160, VocabSize = 300, ContextLength = 48,
        NormEpsilon = 1e-12f, Seed = 9, Pooling = PoolingKind.Rank, Labels = 3,
    };

    /// <summary>
    /// A sequence classifier (BERT's head: pooler = tanh(W x_CLS + b), logits = W' pooler + b'; llama.cpp's rank head
    /// with three outputs): the compiled head's three scores against the float64 BERT and head.
    /// </summary>
    [Fact]
    public void ClassifierHeadMatchesAFloat64Reference()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bert-classifier-{Environment.ProcessId}.gguf");
        try
        {
            var spec = SynthModel.Write(path, ClassifierOptions, null);
            Assert.Equal(BertSynthClassifier.SpecJson, SpecWriter.Write(spec));
            using var file = GgufFile.Open(path);
            using var model = new BertSynthClassifier();
            model.Load(file, new InferenceOptions(Threads: 2));
            Assert.Equal(3, ((IEncoder)model).ScoreCount);
            var rng = new Random(5);
            foreach (int n in new[] { 2, 17 })
            {
                int[] tokens = [.. Enumerable.Range(0, n).Select(_ => rng.Next(spec.VocabSize))];
                var hidden = new float[n * model.HiddenSize];
                var scores = new float[3];
                model.Encode(tokens, hidden, scores);
                double[] expected = Head(file, Reference(file, spec, tokens));
                double maxAbs = Enumerable.Range(0, 3).Max(k => Math.Abs(scores[k] - expected[k]));
                output.WriteLine($"{n} tokens: head scores max-abs {maxAbs:E3}");
                Assert.True(maxAbs <= 5e-3, $"{n} tokens: head max-abs {maxAbs}");
            }
        }
        finally { File.Delete(path); }
    }

    /// <summary>The hidden states (tokens × dim) in float64 from the file's F32 tensors.</summary>
    internal static double[,] Reference(GgufFile f, ModelSpec s, int[] tokens, bool erfGelu = false)
    {
        int n = tokens.Length, dim = s.Dim, heads = s.Attention.Heads, hd = dim / heads, ffn = s.FfnDim;
        double eps = s.Norm.Epsilon;
        float[] T(string name) => MemoryMarshal.Cast<byte, float>(f.GetTensorBytes(f.FindTensor(name)!)).ToArray();

        // ALBERT's factorized embedding: rows of e values, normalized over e, then projected to dim.
        int ew = s.Embedding.Size > 0 ? s.Embedding.Size : dim;
        var emb = new double[n, ew];
        float[] tok = T("token_embd.weight"), pos = T("position_embd.weight");
        float[] types = s.Embedding.TokenTypes > 0 ? T("token_types.weight") : new float[ew]; // DistilBERT has none
        for (int t = 0; t < n; t++)
            for (int d = 0; d < ew; d++) emb[t, d] = (double)tok[tokens[t] * ew + d] + types[d] + pos[t * ew + d];
        LayerNorm(emb, T("token_embd_norm.weight"), T("token_embd_norm.bias"), eps);
        var x = ew == dim ? emb : Linear(emb, T("token_embd_proj.weight"), T("token_embd_proj.bias"), dim);

        for (int l = 0; l < s.Layers; l++)
        {
            string b = $"blk.{(s.Block.SharedLayers ? 0 : l)}.";
            var q = Linear(x, T(b + "attn_q.weight"), T(b + "attn_q.bias"), dim);
            var k = Linear(x, T(b + "attn_k.weight"), T(b + "attn_k.bias"), dim);
            var v = Linear(x, T(b + "attn_v.weight"), T(b + "attn_v.bias"), dim);
            var att = new double[n, dim];
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < n; i++)
                {
                    var p = new double[n];
                    for (int j = 0; j < n; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < hd; e++) dot += q[i, h * hd + e] * k[j, h * hd + e];
                        p[j] = dot / Math.Sqrt(hd);
                    }
                    double max = p.Max(), sum = 0;
                    for (int j = 0; j < n; j++) sum += p[j] = Math.Exp(p[j] - max);
                    for (int j = 0; j < n; j++)
                        for (int e = 0; e < hd; e++) att[i, h * hd + e] += p[j] / sum * v[j, h * hd + e];
                }
            var o = Linear(att, T(b + "attn_output.weight"), T(b + "attn_output.bias"), dim);
            Add(x, o);
            LayerNorm(x, T(b + "attn_output_norm.weight"), T(b + "attn_output_norm.bias"), eps);
            var up = Linear(x, T(b + "ffn_up.weight"), T(b + "ffn_up.bias"), ffn);
            for (int t = 0; t < n; t++)
                for (int e = 0; e < ffn; e++)
                {
                    double u = up[t, e];
                    up[t, e] = erfGelu ? 0.5 * u * (1 + Erf(u / Math.Sqrt(2))) : 0.5 * u * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));
                }
            Add(x, Linear(up, T(b + "ffn_down.weight"), T(b + "ffn_down.bias"), dim));
            LayerNorm(x, T(b + "layer_output_norm.weight"), T(b + "layer_output_norm.bias"), eps);
        }
        return x;
    }

    /// <summary>erf(x) to ~1e-15 (Abramowitz–Stegun 7.1.26 is too coarse): the series for |x| &lt; 3, else the continued fraction.</summary>
    private static double Erf(double x)
    {
        double ax = Math.Abs(x), r;
        if (ax < 3)
        {
            double term = ax, sum = ax;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -ax * ax / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double f = 0;
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (ax + f);
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }

    /// <summary>The rank head on the first row: scores = W' act(W x₀ + b) + b' (cls, cls.output); act tanh (BERT) or relu (DistilBERT).</summary>
    internal static double[] Head(GgufFile f, double[,] x, bool relu = false)
    {
        float[] T(string name) => MemoryMarshal.Cast<byte, float>(f.GetTensorBytes(f.FindTensor(name)!)).ToArray();
        float[] wp = T("cls.weight"), bp = T("cls.bias"), wc = T("cls.output.weight"), bc = T("cls.output.bias");
        int dim = bp.Length, labels = bc.Length;
        var pooled = new double[dim];
        for (int r = 0; r < dim; r++)
        {
            double acc = bp[r];
            for (int c = 0; c < dim; c++) acc += (double)wp[r * dim + c] * x[0, c];
            pooled[r] = relu ? Math.Max(acc, 0) : Math.Tanh(acc);
        }
        var scores = new double[labels];
        for (int k = 0; k < labels; k++)
        {
            double acc = bc[k];
            for (int c = 0; c < dim; c++) acc += (double)wc[k * dim + c] * pooled[c];
            scores[k] = acc;
        }
        return scores;
    }

    /// <summary>y[t] = W x[t] + b, W (rows × cols) row-major as GGUF stores ne {cols, rows}.</summary>
    private static double[,] Linear(double[,] x, float[] w, float[] bias, int rows)
    {
        int n = x.GetLength(0), cols = x.GetLength(1);
        var y = new double[n, rows];
        for (int t = 0; t < n; t++)
            for (int r = 0; r < rows; r++)
            {
                double acc = bias[r];
                for (int c = 0; c < cols; c++) acc += (double)w[r * cols + c] * x[t, c];
                y[t, r] = acc;
            }
        return y;
    }

    private static void Add(double[,] x, double[,] y)
    {
        for (int t = 0; t < x.GetLength(0); t++)
            for (int d = 0; d < x.GetLength(1); d++) x[t, d] += y[t, d];
    }

    private static void LayerNorm(double[,] x, float[] w, float[] b, double eps)
    {
        int n = x.GetLength(0), dim = x.GetLength(1);
        for (int t = 0; t < n; t++)
        {
            double mean = 0, var = 0;
            for (int d = 0; d < dim; d++) mean += x[t, d];
            mean /= dim;
            for (int d = 0; d < dim; d++) var += (x[t, d] - mean) * (x[t, d] - mean);
            var /= dim;
            double inv = 1 / Math.Sqrt(var + eps);
            for (int d = 0; d < dim; d++) x[t, d] = (x[t, d] - mean) * inv * w[d] + b[d];
        }
    }
}
