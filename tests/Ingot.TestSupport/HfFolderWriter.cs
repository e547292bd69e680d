using System.Buffers.Binary;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ingot.Formats;
using Ingot.Specs;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Ingot.TestSupport;

/// <summary>
/// The inverse of convert_hf_to_gguf: writes the Hugging Face folder a GGUF would have been converted from —
/// config.json (the family's field names), model.safetensors (HF tensor names, HF layouts: q/k rows back in
/// rotate-half order for llama and granite, GPT-NeoX's per-head qkv blocks, GPT-2's Conv1D [in, out], Gemma's norms
/// minus one; the GGUF's F32/F16/BF16 types), tokenizer.model (SentencePiece vocabularies) or tokenizer.json
/// (byte-level BPE), and tokenizer_config.json (bos/eos text, add_bos/add_eos). Importing the folder gives back the
/// GGUF's spec and its exact tensor bytes, so a model compiled from either gives the same logits.
/// It is written independently of the importer (names and row orders come from families.md, not from
/// Ingot.Formats' mappings), so a mapping error on one side is not mirrored on the other.
/// Supported: llama (incl. Llama 3.1 rope_freqs), qwen2, phi3 (incl. LongRoPE factors), gemma, gemma2, granite,
/// gpt2, gptneox, starcoder2, and bert (BertModel, or BertForSequenceClassification when the file has the rank head's
/// cls / cls.output tensors; tokenizer.json WordPiece) with F32/F16/BF16 tensors.
/// </summary>
public static partial class HfFolderWriter
{
    /// <summary>Writes the folder; <paramref name="asFamily"/> picks another Hugging Face family of the same graph ("distilbert" for a bert file).</summary>
    public static void Write(GgufFile gguf, string dir, string? asFamily = null)
    {
        var spec = GgufSpecReader.FromGguf(gguf);
        string key = asFamily ?? spec.Architecture;
        var family = Families.TryGetValue(key, out var fam) ? fam : throw new NotSupportedException($"{gguf.Path}: no Hugging Face form for architecture '{key}'");
        Directory.CreateDirectory(dir);
        var config = family.Config(spec, gguf);
        config["bos_token_id"] = spec.Tokenizer.Bos >= 0 ? spec.Tokenizer.Bos : null;
        config["eos_token_id"] = spec.Tokenizer.Eos >= 0 ? spec.Tokenizer.Eos : null;
        config["torch_dtype"] = GgmlTypeTraits.Name(gguf.FindTensor("token_embd.weight")!.Type) switch { "f16" => "float16", "bf16" => "bfloat16", _ => "float32" };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(new() { WriteIndented = true }));

        var entries = new List<SafetensorsEntry>();
        foreach (var t in gguf.Tensors)
        {
            if (t.Name is "rope_freqs.weight" or "rope_factors_long.weight" or "rope_factors_short.weight") continue; // config.json's rope_scaling carries them
            var (hf, layout) = family.Tensor(t.Name, spec);
            if (hf.Length == 0) continue; // a tensor the family does not have (DistilBERT's token types)
            entries.Add(HfTensor(gguf, spec, t, hf, layout));
        }
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), entries);
        WriteTokenizer(gguf, spec, dir);
    }

    /// <summary>How a GGUF tensor's rows go back to the HF layout.</summary>
    private enum Inverse { AsIs, RopeHalves, NeoXPerHead, Conv1D, MinusOne }

    private sealed record Family(Func<ModelSpec, GgufFile, JsonObject> Config, Func<string, ModelSpec, (string Hf, Inverse Layout)> Tensor);

    [GeneratedRegex(@"^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$")]
    private static partial Regex LayerTensor();

    private static readonly Dictionary<string, string> LlamaRoles = new()
    {
        ["attn_norm"] = "input_layernorm", ["attn_q"] = "self_attn.q_proj", ["attn_k"] = "self_attn.k_proj", ["attn_v"] = "self_attn.v_proj",
        ["attn_output"] = "self_attn.o_proj", ["ffn_norm"] = "post_attention_layernorm", ["ffn_gate"] = "mlp.gate_proj", ["ffn_up"] = "mlp.up_proj",
        ["ffn_down"] = "mlp.down_proj",
    };

    private static readonly Dictionary<string, string> Phi3Roles = new(LlamaRoles) { ["attn_qkv"] = "self_attn.qkv_proj", ["ffn_up"] = "mlp.gate_up_proj" };

    private static readonly Dictionary<string, string> Gemma2Roles = new(LlamaRoles)
    {
        ["ffn_norm"] = "pre_feedforward_layernorm", ["post_attention_norm"] = "post_attention_layernorm", ["post_ffw_norm"] = "post_feedforward_layernorm",
    };

    private static readonly Dictionary<string, string> StarCoder2Roles = new(LlamaRoles) { ["ffn_up"] = "mlp.c_fc", ["ffn_down"] = "mlp.c_proj" };

    private static readonly Dictionary<string, Family> Families = new()
    {
        ["llama"] = new(LlamaConfig, (n, s) => LlamaStyle(n, s, LlamaRoles, ropeHalves: true)),
        ["granite"] = new(GraniteConfig, (n, s) => LlamaStyle(n, s, LlamaRoles, ropeHalves: true)),
        ["qwen2"] = new(Qwen2Config, (n, s) => LlamaStyle(n, s, LlamaRoles)),
        ["phi3"] = new(Phi3Config, (n, s) => LlamaStyle(n, s, Phi3Roles)),
        ["gemma"] = new(GemmaConfig, (n, s) => LlamaStyle(n, s, LlamaRoles, normMinusOne: true)),
        ["gemma2"] = new(Gemma2Config, (n, s) => LlamaStyle(n, s, Gemma2Roles, normMinusOne: true)),
        ["starcoder2"] = new(StarCoder2Config, (n, s) => LlamaStyle(n, s, StarCoder2Roles)),
        ["gpt2"] = new(Gpt2Config, Gpt2Tensor),
        ["gptneox"] = new(GptNeoXConfig, GptNeoXTensor),
        ["bert"] = new(BertConfig, BertTensor),
        ["distilbert"] = new(DistilBertConfig, DistilBertTensor),
    };

    private static (string, Inverse) LlamaStyle(string name, ModelSpec s, Dictionary<string, string> roles, bool ropeHalves = false, bool normMinusOne = false)
    {
        var minus = normMinusOne && name.EndsWith("norm.weight", StringComparison.Ordinal) ? Inverse.MinusOne : Inverse.AsIs;
        if (name == "token_embd.weight") return ("model.embed_tokens.weight", Inverse.AsIs);
        if (name.StartsWith("output_norm.", StringComparison.Ordinal)) return ("model.norm." + name["output_norm.".Length..], minus);
        if (name == "output.weight") return ("lm_head.weight", Inverse.AsIs);
        var m = LayerTensor().Match(name);
        if (!m.Success || !roles.TryGetValue(m.Groups[2].Value, out var hf)) throw new NotSupportedException($"tensor '{name}' has no Hugging Face name in {s.Architecture}");
        string role = m.Groups[2].Value;
        var layout = ropeHalves && role is "attn_q" or "attn_k" ? Inverse.RopeHalves : minus;
        return ($"model.layers.{m.Groups[1].Value}.{hf}.{m.Groups[3].Value}", layout);
    }

    private static (string, Inverse) Gpt2Tensor(string name, ModelSpec s)
    {
        switch (name)
        {
            case "token_embd.weight": return ("transformer.wte.weight", Inverse.AsIs);
            case "position_embd.weight": return ("transformer.wpe.weight", Inverse.AsIs);
            case "output.weight": return ("lm_head.weight", Inverse.AsIs);
        }
        if (name.StartsWith("output_norm.", StringComparison.Ordinal)) return ("transformer.ln_f." + name["output_norm.".Length..], Inverse.AsIs);
        var m = LayerTensor().Match(name);
        string hf = m.Groups[2].Value switch
        {
            "attn_norm" => "ln_1", "attn_qkv" => "attn.c_attn", "attn_output" => "attn.c_proj", "ffn_norm" => "ln_2", "ffn_up" => "mlp.c_fc", "ffn_down" => "mlp.c_proj",
            _ => throw new NotSupportedException($"tensor '{name}' has no Hugging Face name in gpt2"),
        };
        bool conv1d = m.Groups[3].Value == "weight" && !hf.StartsWith("ln_", StringComparison.Ordinal);
        return ($"transformer.h.{m.Groups[1].Value}.{hf}.{m.Groups[3].Value}", conv1d ? Inverse.Conv1D : Inverse.AsIs);
    }

    private static (string, Inverse) GptNeoXTensor(string name, ModelSpec s)
    {
        switch (name)
        {
            case "token_embd.weight": return ("gpt_neox.embed_in.weight", Inverse.AsIs);
            case "output.weight": return ("embed_out.weight", Inverse.AsIs);
        }
        if (name.StartsWith("output_norm.", StringComparison.Ordinal)) return ("gpt_neox.final_layer_norm." + name["output_norm.".Length..], Inverse.AsIs);
        var m = LayerTensor().Match(name);
        string hf = m.Groups[2].Value switch
        {
            "attn_norm" => "input_layernorm", "attn_qkv" => "attention.query_key_value", "attn_output" => "attention.dense",
            "ffn_norm" => "post_attention_layernorm", "ffn_up" => "mlp.dense_h_to_4h", "ffn_down" => "mlp.dense_4h_to_h",
            _ => throw new NotSupportedException($"tensor '{name}' has no Hugging Face name in gptneox"),
        };
        return ($"gpt_neox.layers.{m.Groups[1].Value}.{hf}.{m.Groups[3].Value}", hf == "attention.query_key_value" ? Inverse.NeoXPerHead : Inverse.AsIs);
    }

    private static (string, Inverse) BertTensor(string name, ModelSpec s)
    {
        switch (name)
        {
            case "token_embd.weight": return ("bert.embeddings.word_embeddings.weight", Inverse.AsIs);
            case "position_embd.weight": return ("bert.embeddings.position_embeddings.weight", Inverse.AsIs);
            case "token_types.weight": return ("bert.embeddings.token_type_embeddings.weight", Inverse.AsIs);
            case "token_embd_norm.weight": return ("bert.embeddings.LayerNorm.weight", Inverse.AsIs);
            case "token_embd_norm.bias": return ("bert.embeddings.LayerNorm.bias", Inverse.AsIs);
            case "cls.weight": return ("bert.pooler.dense.weight", Inverse.AsIs);
            case "cls.bias": return ("bert.pooler.dense.bias", Inverse.AsIs);
            case "cls.output.weight": return ("classifier.weight", Inverse.AsIs);
            case "cls.output.bias": return ("classifier.bias", Inverse.AsIs);
        }
        var m = LayerTensor().Match(name);
        string hf = m.Groups[2].Value switch
        {
            "attn_q" => "attention.self.query", "attn_k" => "attention.self.key", "attn_v" => "attention.self.value",
            "attn_output" => "attention.output.dense", "attn_output_norm" => "attention.output.LayerNorm",
            "ffn_up" => "intermediate.dense", "ffn_down" => "output.dense", "layer_output_norm" => "output.LayerNorm",
            _ => throw new NotSupportedException($"tensor '{name}' has no Hugging Face name in bert"),
        };
        return ($"bert.encoder.layer.{m.Groups[1].Value}.{hf}.{m.Groups[3].Value}", Inverse.AsIs);
    }

    private static (string, Inverse) DistilBertTensor(string name, ModelSpec s)
    {
        switch (name)
        {
            case "token_embd.weight": return ("distilbert.embeddings.word_embeddings.weight", Inverse.AsIs);
            case "position_embd.weight": return ("distilbert.embeddings.position_embeddings.weight", Inverse.AsIs);
            case "token_types.weight": return ("", Inverse.AsIs);
            case "token_embd_norm.weight": return ("distilbert.embeddings.LayerNorm.weight", Inverse.AsIs);
            case "token_embd_norm.bias": return ("distilbert.embeddings.LayerNorm.bias", Inverse.AsIs);
            case "cls.weight": return ("pre_classifier.weight", Inverse.AsIs);
            case "cls.bias": return ("pre_classifier.bias", Inverse.AsIs);
            case "cls.output.weight": return ("classifier.weight", Inverse.AsIs);
            case "cls.output.bias": return ("classifier.bias", Inverse.AsIs);
        }
        var m = LayerTensor().Match(name);
        string hf = m.Groups[2].Value switch
        {
            "attn_q" => "attention.q_lin", "attn_k" => "attention.k_lin", "attn_v" => "attention.v_lin", "attn_output" => "attention.out_lin",
            "attn_output_norm" => "sa_layer_norm", "ffn_up" => "ffn.lin1", "ffn_down" => "ffn.lin2", "layer_output_norm" => "output_layer_norm",
            _ => throw new NotSupportedException($"tensor '{name}' has no Hugging Face name in distilbert"),
        };
        return ($"distilbert.transformer.layer.{m.Groups[1].Value}.{hf}.{m.Groups[3].Value}", Inverse.AsIs);
    }

    private static SafetensorsEntry HfTensor(GgufFile gguf, ModelSpec spec, GgufTensorInfo t, string hf, Inverse layout)
    {
        string dtype = t.Type switch
        {
            GgmlType.F32 => "F32", GgmlType.F16 => "F16", GgmlType.BF16 => "BF16",
            _ => throw new NotSupportedException($"{gguf.Path}: tensor '{t.Name}' is {GgmlTypeTraits.Name(t.Type)}; a Hugging Face checkpoint holds F32/F16/BF16"),
        };
        int es = dtype == "F32" ? 4 : 2;
        byte[] data = gguf.GetTensorBytes(t).ToArray();
        long[] shape = [.. Enumerable.Reverse(t.Dims)]; // row-major: ggml ne reversed
        long rows = shape[0], rowBytes = data.Length / rows;
        int heads = t.Name.Contains(".attn_k.", StringComparison.Ordinal) ? spec.Attention.KvHeads : spec.Attention.Heads;
        switch (layout)
        {
            case Inverse.RopeHalves:
                data = MoveRows(data, rows, rowBytes, heads, (h, hd, r) => { long i = r / 2, j = r % 2; return h * hd + j * (hd / 2) + i; });
                break;
            case Inverse.NeoXPerHead:
                // GGUF row t·heads·hd + h·hd + d  →  HF row h·3hd + t·hd + d
                long perHead = rows / 3 / heads;
                data = MoveRows(data, rows, rowBytes, 1, (_, _, r) => { long part = r / (heads * perHead), h = r / perHead % heads, d = r % perHead; return h * 3 * perHead + part * perHead + d; });
                break;
            case Inverse.Conv1D:
                data = Transpose(data, shape[0], shape[1], es);
                shape = [shape[1], shape[0]];
                break;
            case Inverse.MinusOne:
                if (dtype != "F32") throw new NotSupportedException($"tensor '{t.Name}': norms are F32 in GGUF");
                for (int i = 0; i < data.Length; i += 4)
                {
                    float g = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(i)), w = g - 1f;
                    if (w + 1f != g) throw new NotSupportedException($"tensor '{t.Name}': {g} − 1 does not come back as {g} when the importer adds 1");
                    BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i), w);
                }
                break;
        }
        return new SafetensorsEntry(hf, dtype, shape, data);
    }

    /// <summary>dst row to(h, hd, r) = src row h·hd + r, for each of <paramref name="heads"/> blocks of hd rows.</summary>
    private static byte[] MoveRows(byte[] src, long rows, long rowBytes, int heads, Func<long, long, long, long> to)
    {
        var dst = new byte[src.Length];
        long hd = rows / heads;
        for (long h = 0; h < heads; h++)
            for (long r = 0; r < hd; r++)
                Array.Copy(src, (h * hd + r) * rowBytes, dst, to(h, hd, r) * rowBytes, rowBytes);
        return dst;
    }

    private static byte[] Transpose(byte[] src, long rows, long cols, int es)
    {
        var dst = new byte[src.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                Array.Copy(src, (r * cols + c) * es, dst, (c * rows + r) * es, es);
        return dst;
    }
}
