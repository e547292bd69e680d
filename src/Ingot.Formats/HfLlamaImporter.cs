using Ingot.Specs;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ingot.Formats;

/// <summary>
/// A Hugging Face Llama folder: config.json (LlamaForCausalLM), *.safetensors (F32/F16/BF16) and tokenizer.model
/// (SentencePiece). Tensor names map to GGUF's; q_proj/k_proj rows are permuted from HF's rotate-half order back to
/// the interleaved-pair order GGUF llama uses — per head, rows [j·hd/2 + i] → [2i + j] (reshape(n_head, 2, hd/2, dim),
/// swap axes 1 and 2, reshape), as convert_hf_to_gguf does; k_proj with n_kv_heads.
/// </summary>
public static partial class HfLlamaImporter
{
    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerName();

    private static readonly Dictionary<string, string> LayerMap = new(StringComparer.Ordinal)
    {
        ["input_layernorm.weight"] = "attn_norm.weight",
        ["self_attn.q_proj.weight"] = "attn_q.weight",
        ["self_attn.k_proj.weight"] = "attn_k.weight",
        ["self_attn.v_proj.weight"] = "attn_v.weight",
        ["self_attn.o_proj.weight"] = "attn_output.weight",
        ["self_attn.q_proj.bias"] = "attn_q.bias",
        ["self_attn.k_proj.bias"] = "attn_k.bias",
        ["self_attn.v_proj.bias"] = "attn_v.bias",
        ["self_attn.o_proj.bias"] = "attn_output.bias",
        ["post_attention_layernorm.weight"] = "ffn_norm.weight",
        ["mlp.gate_proj.weight"] = "ffn_gate.weight",
        ["mlp.up_proj.weight"] = "ffn_up.weight",
        ["mlp.down_proj.weight"] = "ffn_down.weight",
    };

    private sealed class Owner(List<SafetensorsFile> files) : IDisposable
    {
        public void Dispose() { foreach (var f in files) f.Dispose(); }
    }

    public static ImportedModel Import(string dir, string? tokenizerPath, string? name)
    {
        string configPath = System.IO.Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{dir}: not a Hugging Face model folder (no config.json)", configPath);
        var files = Directory.GetFiles(dir, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"{dir}: no *.safetensors weights (PyTorch .bin checkpoints are not supported)");
        tokenizerPath ??= System.IO.Path.Combine(dir, "tokenizer.model");
        if (!File.Exists(tokenizerPath)) throw new FileNotFoundException($"{dir}: no tokenizer.model (SentencePiece); pass --tokenizer FILE", tokenizerPath);

        var opened = new List<SafetensorsFile>();
        try
        {
            foreach (var f in files) opened.Add(SafetensorsFile.Open(f));
            var spec = ReadConfig(configPath, name ?? ModelImporter.DefaultName(dir));
            var sp = SentencePieceModelReader.Read(tokenizerPath);
            var tokCfg = ReadTokenizerConfig(System.IO.Path.Combine(dir, "tokenizer_config.json"));
            spec = spec with
            {
                Tokenizer = spec.Tokenizer with
                {
                    AddBos = tokCfg.AddBos ?? true,
                    AddEos = tokCfg.AddEos ?? false,
                    Bos = spec.Tokenizer.Bos < 0 ? sp.BosId : spec.Tokenizer.Bos,
                    Eos = spec.Tokenizer.Eos < 0 ? sp.EosId : spec.Tokenizer.Eos,
                },
            };
            var vocab = GgufVocab.FromSentencePiece(sp, spec.Tokenizer.AddBos, spec.Tokenizer.AddEos) with { Bos = spec.Tokenizer.Bos, Eos = spec.Tokenizer.Eos };
            if (vocab.Tokens.Length != spec.VocabSize)
                throw new InvalidModelFileException(tokenizerPath, "pieces", null, $"{vocab.Tokens.Length} pieces but config.json vocab_size is {spec.VocabSize}");

            var byName = new Dictionary<string, (SafetensorsFile File, SafetensorsTensor T)>(StringComparer.Ordinal);
            foreach (var f in opened)
                foreach (var t in f.Tensors)
                    if (!byName.TryAdd(t.Name, (f, t))) throw new InvalidModelFileException(f.Path, $"tensor '{t.Name}'", null, "appears in more than one safetensors file");

            var tensors = new List<ImportedTensor>();
            var used = new HashSet<string>(StringComparer.Ordinal);
            void Map(string hf, string gguf, int permuteHeads, long[] expect)
            {
                if (!byName.TryGetValue(hf, out var src))
                    throw new InvalidModelFileException(files[0], $"tensor '{hf}'", null, "missing");
                used.Add(hf);
                var t = src.T;
                // safetensors shape is row-major (rows, cols) = ggml ne reversed
                long[] ne = [.. Enumerable.Reverse(t.Shape)];
                if (!ne.SequenceEqual(expect))
                    throw new InvalidModelFileException(src.File.Path, $"tensor '{hf}' shape", null, $"[{string.Join(", ", t.Shape)}] does not match config.json (expected [{string.Join(", ", Enumerable.Reverse(expect))}])");
                tensors.Add(Convert(src.File, t, gguf, ne, permuteHeads));
            }

            long d = spec.Dim, ff = spec.FfnDim, v = spec.VocabSize, hd = spec.Attention.HeadDim;
            long qDim = spec.Attention.Heads * hd, kvDim = spec.Attention.KvHeads * hd;
            Map("model.embed_tokens.weight", "token_embd.weight", 0, [d, v]);
            Map("model.norm.weight", "output_norm.weight", 0, [d]);
            if (!spec.Output.Tied) Map("lm_head.weight", "output.weight", 0, [d, v]);
            else used.Add("lm_head.weight");
            for (int l = 0; l < spec.Layers; l++)
            {
                string p = $"model.layers.{l}.";
                string g = $"blk.{l}.";
                Map(p + "self_attn.q_proj.weight", g + "attn_q.weight", spec.Attention.Heads, [d, qDim]);
                Map(p + "self_attn.k_proj.weight", g + "attn_k.weight", spec.Attention.KvHeads, [d, kvDim]);
                Map(p + "self_attn.v_proj.weight", g + "attn_v.weight", 0, [d, kvDim]);
                Map(p + "self_attn.o_proj.weight", g + "attn_output.weight", 0, [qDim, d]);
                Map(p + "input_layernorm.weight", g + "attn_norm.weight", 0, [d]);
                Map(p + "mlp.gate_proj.weight", g + "ffn_gate.weight", 0, [d, ff]);
                Map(p + "mlp.down_proj.weight", g + "ffn_down.weight", 0, [ff, d]);
                Map(p + "mlp.up_proj.weight", g + "ffn_up.weight", 0, [d, ff]);
                Map(p + "post_attention_layernorm.weight", g + "ffn_norm.weight", 0, [d]);
                if (spec.Attention.QkvBias)
                {
                    Map(p + "self_attn.q_proj.bias", g + "attn_q.bias", spec.Attention.Heads, [qDim]);
                    Map(p + "self_attn.k_proj.bias", g + "attn_k.bias", spec.Attention.KvHeads, [kvDim]);
                    Map(p + "self_attn.v_proj.bias", g + "attn_v.bias", 0, [kvDim]);
                }
            }
            foreach (var n in byName.Keys)
            {
                if (used.Contains(n) || n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)) continue;
                var m = LayerName().Match(n);
                string what = m.Success && LayerMap.ContainsKey(m.Groups[2].Value) ? "belongs to a layer beyond num_hidden_layers" : "has no GGUF equivalent in a llama model";
                throw new InvalidModelFileException(byName[n].File.Path, $"tensor '{n}'", null, what);
            }
            spec = spec with { Weights = SpecWeights.FromTensors(tensors.Select(t => (t.Name, t.Type))) };
            return new ImportedModel("hf", dir, spec, Architectures.ArchitectureMapping.Metadata(spec, vocab.AddTo), tensors, new Owner(opened));
        }
        catch
        {
            foreach (var f in opened) f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// HF → GGUF tensor: F32 stays F32; F16/BF16 matrices keep their type, 1-D tensors become F32 (as llama.cpp's
    /// converter does). With <paramref name="permuteHeads"/> &gt; 0 the rows are reordered per head (see class summary).
    /// </summary>
    private static ImportedTensor Convert(SafetensorsFile f, SafetensorsTensor t, string gguf, long[] ne, int permuteHeads)
    {
        GgmlType type = t.DType switch
        {
            "F32" => GgmlType.F32,
            "F16" => ne.Length == 1 ? GgmlType.F32 : GgmlType.F16,
            "BF16" => ne.Length == 1 ? GgmlType.F32 : GgmlType.BF16,
            _ => throw new InvalidModelFileException(f.Path, $"tensor '{t.Name}' dtype", null, $"{t.DType} is not supported (F32, F16, BF16)"),
        };
        long rows = ne.Length == 1 ? ne[0] : ne[1];
        long cols = ne.Length == 1 ? 1 : ne[0];
        if (permuteHeads > 0 && (rows % permuteHeads != 0 || rows / permuteHeads % 2 != 0))
            throw new InvalidModelFileException(f.Path, $"tensor '{t.Name}'", null, $"{rows} rows cannot be split into {permuteHeads} heads of even size");
        return new ImportedTensor(gguf, type, ne, stream =>
        {
            if (type == GgmlType.F32 && t.DType != "F32")
            {
                float[] x = f.ReadFloats(t);
                if (permuteHeads > 0) x = PermuteRows(x, rows, cols, permuteHeads);
                GgufWriter.WriteFloats(stream, x);
                return;
            }
            byte[] raw = f.ReadBytes(t);
            if (permuteHeads > 0) raw = PermuteRows(raw, rows, raw.Length / rows, permuteHeads);
            stream.Write(raw);
        });
    }

    /// <summary>
    /// HF rotate-half row order → interleaved pairs: within each head of hd rows, new row 2i + j = old row j·hd/2 + i
    /// (i &lt; hd/2, j ∈ {0, 1}). Rows are <paramref name="rowLen"/> elements of T.
    /// </summary>
    public static T[] PermuteRows<T>(T[] src, long rows, long rowLen, int heads)
    {
        var dst = new T[src.Length];
        long hd = rows / heads, half = hd / 2;
        for (long h = 0; h < heads; h++)
            for (long i = 0; i < half; i++)
                for (long j = 0; j < 2; j++)
                {
                    long to = h * hd + 2 * i + j, from = h * hd + j * half + i;
                    Array.Copy(src, from * rowLen, dst, to * rowLen, rowLen);
                }
        return dst;
    }

    private static ModelSpec ReadConfig(string path, string name)
    {
        using var doc = ParseJson(path);
        var c = doc.RootElement;
        int Int(string key, int? def = null)
        {
            if (c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)) return i;
            if (c.TryGetProperty(key, out v) && v.ValueKind != JsonValueKind.Null) throw new InvalidModelFileException(path, $"key '{key}'", null, "not an integer");
            return def ?? throw new InvalidModelFileException(path, $"key '{key}'", null, "missing");
        }
        float Float(string key, float def) =>
            c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : def;

        string modelType = c.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString()! : "llama";
        if (modelType is not ("llama" or "mistral"))
            throw new NotSupportedException($"{path}: model_type '{modelType}' is not supported yet (llama only)");
        int dim = Int("hidden_size"), heads = Int("num_attention_heads");
        if (dim <= 0 || heads <= 0) throw new InvalidModelFileException(path, "key 'hidden_size'", null, "dimensions must be positive");
        int headDim = Int("head_dim", dim / heads);
        var spec = new ModelSpec
        {
            Name = name,
            Architecture = "llama",
            VocabSize = Int("vocab_size"),
            Dim = dim,
            Layers = Int("num_hidden_layers"),
            FfnDim = Int("intermediate_size"),
            ContextLength = Int("max_position_embeddings", 2048),
            Attention = new AttentionSpec
            {
                Heads = heads,
                KvHeads = Int("num_key_value_heads", heads),
                HeadDim = headDim,
                Scale = 1f / MathF.Sqrt(headDim),
                SlidingWindow = c.TryGetProperty("sliding_window", out var sw) && sw.ValueKind == JsonValueKind.Number ? sw.GetInt32() : 0,
                SlidingWindowLayers = c.TryGetProperty("sliding_window", out var sw2) && sw2.ValueKind == JsonValueKind.Number && sw2.GetInt32() > 0 ? WindowLayers.All : WindowLayers.None,
                QkvBias = c.TryGetProperty("attention_bias", out var ab) && ab.ValueKind == JsonValueKind.True,
            },
            Norm = new NormSpec { Kind = NormKind.RmsNorm, Epsilon = Float("rms_norm_eps", 1e-6f) },
            Rope = new RopeSpec { Kind = RopeKind.Norm, Theta = Float("rope_theta", 10000f), Dimensions = headDim },
            Ffn = new FfnSpec { Gated = true, Activation = Activation.Silu },
            Output = new OutputSpec { Tied = c.TryGetProperty("tie_word_embeddings", out var tw) && tw.ValueKind == JsonValueKind.True },
            Tokenizer = new TokenizerSpec
            {
                Kind = "spm",
                Bos = c.TryGetProperty("bos_token_id", out var b) && b.ValueKind == JsonValueKind.Number ? b.GetInt32() : -1,
                Eos = c.TryGetProperty("eos_token_id", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt32() : -1,
            },
        };
        if (c.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            string kind = rs.TryGetProperty("rope_type", out var rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString()!
                : rs.TryGetProperty("type", out rt) && rt.ValueKind == JsonValueKind.String ? rt.GetString()! : "none";
            float factor = rs.TryGetProperty("factor", out var fa) && fa.ValueKind == JsonValueKind.Number ? fa.GetSingle() : 1f;
            if (kind == "llama3") throw new NotSupportedException($"{path}: rope_scaling type llama3 (rope_freqs) is not supported yet");
            var scalingKind = kind switch
            {
                "default" or "none" => RopeScalingKind.None,
                "linear" => RopeScalingKind.Linear,
                "yarn" => RopeScalingKind.Yarn,
                _ => throw new NotSupportedException($"{path}: rope_scaling type {kind} is not supported yet"),
            };
            spec = spec with { Rope = spec.Rope with { Scaling = new RopeScalingSpec { Kind = scalingKind, Factor = scalingKind == RopeScalingKind.None ? 1f : factor } } };
        }
        if (spec.Layers <= 0 || spec.FfnDim <= 0 || spec.VocabSize <= 0 || spec.Attention.KvHeads <= 0 || heads % spec.Attention.KvHeads != 0)
            throw new InvalidModelFileException(path, "config", null, "inconsistent dimensions (layers, intermediate_size, vocab_size, num_key_value_heads)");
        return spec;
    }

    private static (bool? AddBos, bool? AddEos) ReadTokenizerConfig(string path)
    {
        if (!File.Exists(path)) return (null, null);
        using var doc = ParseJson(path);
        bool? B(string k) => doc.RootElement.TryGetProperty(k, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        return (B("add_bos_token"), B("add_eos_token"));
    }

    private static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidModelFileException(path, "json", e.BytePositionInLine, $"line {e.LineNumber}: {e.Message.Split('\n')[0]}"); }
    }

    internal static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
