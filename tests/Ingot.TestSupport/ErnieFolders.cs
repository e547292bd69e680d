using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Ingot.Formats;

namespace Ingot.TestSupport;

/// <summary>
/// Shape of a tiny ERNIE 4.5 model. The defaults keep what makes ERNIE-4.5-0.3B special: head_dim (32) ≠ hidden /
/// heads (16), GQA (4 query heads, 2 kv heads), tied output; the vocabulary is the SentencePiece model's (512 for
/// stories260K's tokenizer.model).
/// </summary>
public sealed record ErnieShape
{
    public int Hidden { get; init; } = 64;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int HeadDim { get; init; } = 32;
    public int Ffn { get; init; } = 128;
    public int Vocab { get; init; } = 512;
    public int Context { get; init; } = 2048;
    /// <summary>config.json use_bias: q/k/v/o and gate/up/down biases.</summary>
    public bool UseBias { get; init; }
    /// <summary>Paddle-style checkpoint: self_attn.qkv_proj (rows [Q | K | V]) and mlp.up_gate_proj (rows [gate | up]), names under "ernie.".</summary>
    public bool Fused { get; init; }
    /// <summary>"F32" or "BF16" for the matrices (norms and biases stay F32).</summary>
    public string DType { get; init; } = "F32";
    public int Seed { get; init; } = 45;
}

/// <summary>
/// A random-weight Hugging Face ERNIE 4.5 folder (model_type ernie4_5, Ernie4_5ForCausalLM): config.json,
/// model.safetensors with transformers' names and layouts (q/k rows in ERNIE's own interleaved-pair order, which
/// is llama.cpp's NORM order), the given SentencePiece tokenizer.model and a tokenizer_config.json.
/// </summary>
public static class ErnieFolderWriter
{
    public static void Write(string dir, string tokenizerModel, ErnieShape? shape = null)
    {
        var s = shape ?? new ErnieShape();
        Directory.CreateDirectory(dir);
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("Ernie4_5ForCausalLM"),
            ["model_type"] = "ernie4_5",
            ["hidden_act"] = "silu",
            ["hidden_size"] = s.Hidden,
            ["intermediate_size"] = s.Ffn,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads,
            ["head_dim"] = s.HeadDim,
            ["max_position_embeddings"] = s.Context,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 500000.0,
            ["use_bias"] = s.UseBias,
            ["tie_word_embeddings"] = true,
            ["vocab_size"] = s.Vocab,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["pad_token_id"] = 0,
            ["torch_dtype"] = s.DType == "BF16" ? "bfloat16" : "float32",
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new() { WriteIndented = true }));
        File.Copy(tokenizerModel, Path.Combine(dir, "tokenizer.model"), overwrite: true);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"add_bos_token": true, "add_eos_token": false, "bos_token": "<s>", "eos_token": "</s>"}""");

        var rng = new Random(s.Seed);
        string prefix = s.Fused ? "ernie." : "model.";
        int q = s.Heads * s.HeadDim, kv = s.KvHeads * s.HeadDim;
        var tensors = new List<SafetensorsEntry>
        {
            Matrix(prefix + "embed_tokens.weight", s.Vocab, s.Hidden, s.DType, rng),
            Norm(prefix + "norm.weight", s.Hidden, rng),
        };
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"{prefix}layers.{l}.";
            tensors.Add(Norm(p + "input_layernorm.weight", s.Hidden, rng));
            if (s.Fused) tensors.AddRange(Linear(p + "self_attn.qkv_proj", q + 2 * kv, s.Hidden, s, rng));
            else
            {
                tensors.AddRange(Linear(p + "self_attn.q_proj", q, s.Hidden, s, rng));
                tensors.AddRange(Linear(p + "self_attn.k_proj", kv, s.Hidden, s, rng));
                tensors.AddRange(Linear(p + "self_attn.v_proj", kv, s.Hidden, s, rng));
            }
            tensors.AddRange(Linear(p + "self_attn.o_proj", s.Hidden, q, s, rng));
            tensors.Add(Norm(p + "post_attention_layernorm.weight", s.Hidden, rng));
            if (s.Fused) tensors.AddRange(Linear(p + "mlp.up_gate_proj", 2 * s.Ffn, s.Hidden, s, rng));
            else
            {
                tensors.AddRange(Linear(p + "mlp.gate_proj", s.Ffn, s.Hidden, s, rng));
                tensors.AddRange(Linear(p + "mlp.up_proj", s.Ffn, s.Hidden, s, rng));
            }
            tensors.AddRange(Linear(p + "mlp.down_proj", s.Hidden, s.Ffn, s, rng));
        }
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
    }

    /// <summary>nn.Linear weight [out, in] (std 1/sqrt(in)) and, with use_bias, its bias [out].</summary>
    private static IEnumerable<SafetensorsEntry> Linear(string name, int outDim, int inDim, ErnieShape s, Random rng)
    {
        yield return Matrix(name + ".weight", outDim, inDim, s.DType, rng);
        if (s.UseBias) yield return Floats(name + ".bias", [outDim], Values(outDim, 0f, 0.1f, rng), "F32");
    }

    private static SafetensorsEntry Matrix(string name, int rows, int cols, string dtype, Random rng) =>
        Floats(name, [rows, cols], Values(rows * cols, 0f, 1f / MathF.Sqrt(cols), rng), dtype);

    private static SafetensorsEntry Norm(string name, int n, Random rng) => Floats(name, [n], Values(n, 1f, 0.1f, rng), "F32");

    private static float[] Values(int n, float mean, float spread, Random rng)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = mean + spread * (2 * rng.NextSingle() - 1);
        return v;
    }

    private static SafetensorsEntry Floats(string name, long[] shape, float[] v, string dtype)
    {
        int es = dtype == "F32" ? 4 : 2;
        var b = new byte[v.Length * es];
        for (int i = 0; i < v.Length; i++)
        {
            if (es == 4) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), v[i]);
            else BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), GgufSynth.ToBf16(v[i]));
        }
        return new SafetensorsEntry(name, dtype, shape, b);
    }
}

/// <summary>
/// An ERNIE 4.5 model as the llama GGUF llama.cpp c392e50 can run (families.md §13.4): the imported ERNIE GGUF with
/// general.architecture "llama" and every ernie4_5.* key renamed llama.*, tensors byte for byte (q/k unpermuted:
/// ERNIE's interleaved pairs already are NORM order). Its spec differs from the ERNIE import only in architecture.
/// </summary>
public static class LlamaTwinWriter
{
    public static void Write(string ernieFolder, string outPath)
    {
        using var m = ModelImporter.Import(ernieFolder);
        if (m.Spec.Architecture != "ernie4_5") throw new ArgumentException($"{ernieFolder}: imports as {m.Spec.Architecture}, not ernie4_5");
        var w = new GgufWriter();
        foreach (var e in m.Metadata)
        {
            if (e.Key == "general.architecture") w.Set(e.Key, "llama");
            else w.Set(e.Key.StartsWith("ernie4_5.", StringComparison.Ordinal) ? "llama." + e.Key["ernie4_5.".Length..] : e.Key, e.Value);
        }
        foreach (var t in m.Tensors) w.AddTensor(t.Name, t.Type, t.Dims, t.WriteData);
        w.Write(outPath);
    }
}
