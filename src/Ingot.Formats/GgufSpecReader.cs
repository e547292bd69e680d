namespace Ingot.Formats;

/// <summary>
/// GGUF metadata + tensor table → <see cref="ModelSpec"/>. Reads the {arch}.* keys llama.cpp writes; an architecture
/// this project does not know yet is still described (the generator rejects it with a diagnostic).
/// </summary>
public static class GgufSpecReader
{
    /// <summary>Architectures whose rope is rotate-half (NEOX) in llama.cpp; the rest use interleaved pairs.</summary>
    private static readonly HashSet<string> NeoxRope = new(StringComparer.Ordinal)
    {
        "qwen2", "qwen2moe", "qwen3", "phi2", "phi3", "gemma", "gemma2", "gemma3", "gptneox", "starcoder2", "stablelm", "falcon", "olmo2", "bert",
    };

    public static ModelSpec FromGguf(GgufFile f, string? name = null)
    {
        string arch = f.TryGetString("general.architecture", out var a) ? a : "llama";
        string p = arch + ".";
        var s = new ModelSpec { Name = name ?? f.GetString("general.name", null) ?? System.IO.Path.GetFileNameWithoutExtension(f.Path), Architecture = arch };

        var embd = f.FindTensor("token_embd.weight");
        int tokenCount = f.TryGetArray<string>("tokenizer.ggml.tokens", out var tokens) ? tokens.Length : 0;
        s.VocabSize = (int)f.GetInt(p + "vocab_size", embd is { Dims.Length: 2 } ? embd.Dims[1] : tokenCount);
        s.Dim = f.GetInt32(p + "embedding_length");
        s.Layers = f.GetInt32(p + "block_count");
        s.FfnDim = IntOrFirst(f, p + "feed_forward_length");
        s.ContextLength = f.GetInt32(p + "context_length", 0);

        int heads = IntOrFirst(f, p + "attention.head_count");
        if (heads <= 0) throw new InvalidModelFileException(f.Path, $"metadata key '{p}attention.head_count'", f.GetMetadataOffset(p + "attention.head_count"), $"head count {heads} must be positive");
        int kvHeads = f.ContainsKey(p + "attention.head_count_kv") ? IntOrFirst(f, p + "attention.head_count_kv") : heads;
        int headDim = f.GetInt32(p + "attention.key_length", s.Dim / heads);
        s.Attention = new AttentionSpec
        {
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            Scale = f.TryGetFloat(p + "attention.scale", out var sc) && sc != 0 ? sc : 1f / MathF.Sqrt(headDim),
            SlidingWindow = f.GetInt32(p + "attention.sliding_window", 0),
            LogitSoftcap = f.GetFloat(p + "attn_logit_softcapping", 0f),
            QkvBias = f.FindTensor("blk.0.attn_q.bias") is not null || f.FindTensor("blk.0.attn_qkv.bias") is not null,
        };

        if (f.TryGetFloat(p + "attention.layer_norm_rms_epsilon", out var rmsEps))
            s.Norm = new NormSpec { Kind = "rmsnorm", Epsilon = rmsEps };
        else if (f.TryGetFloat(p + "attention.layer_norm_epsilon", out var lnEps))
            s.Norm = new NormSpec { Kind = "layernorm", Epsilon = lnEps };

        s.Rope = new RopeSpec
        {
            Kind = NeoxRope.Contains(arch) ? "neox" : "norm",
            Theta = f.GetFloat(p + "rope.freq_base", 10000f),
            Dimensions = f.GetInt32(p + "rope.dimension_count", headDim),
            FreqFactors = f.FindTensor("rope_freqs.weight") is not null,
            Scaling = new RopeScalingSpec
            {
                Kind = f.GetString(p + "rope.scaling.type", null) ?? (f.ContainsKey(p + "rope.scale_linear") ? "linear" : "none"),
                Factor = f.TryGetFloat(p + "rope.scaling.factor", out var fac) ? fac : f.GetFloat(p + "rope.scale_linear", 1f),
            },
        };
        if (s.Rope.Scaling.Kind == "none") s.Rope.Scaling.Factor = 1f;

        s.Ffn = new FfnSpec
        {
            Kind = arch switch
            {
                "gemma" or "gemma2" or "gemma3" => "geglu",
                "gpt2" or "starcoder2" or "gptneox" or "bert" or "phi2" or "starcoder" => "gelu",
                _ => "swiglu",
            },
        };

        s.Output = new OutputSpec
        {
            Tied = f.FindTensor("output.weight") is null,
            FinalLogitSoftcap = f.GetFloat(p + "final_logit_softcapping", 0f),
            LogitScale = f.GetFloat(p + "logit_scale", 1f),
        };

        string model = f.GetString("tokenizer.ggml.model", null) ?? "llama";
        string kind = TokenizerKind(model);
        s.Tokenizer = new TokenizerSpec
        {
            Kind = kind,
            Bos = TokenId(f, "tokenizer.ggml.bos_token_id"),
            Eos = TokenId(f, "tokenizer.ggml.eos_token_id"),
            AddBos = f.GetBool("tokenizer.ggml.add_bos_token", DefaultAddBos(kind, f.GetString("tokenizer.ggml.pre", null))),
            AddEos = f.GetBool("tokenizer.ggml.add_eos_token", kind == "ugm"),
        };

        s.Weights = WeightsSpec.FromTensors(f.Tensors.Select(t => (t.Name, t.Type)));
        return s;
    }

    /// <summary>GGUF tokenizer.ggml.model → spec kind (llama→spm, gpt2→bpe, bert→wpm, t5→ugm); other names pass through.</summary>
    public static string TokenizerKind(string ggmlModel) => ggmlModel switch
    {
        "llama" => "spm",
        "gpt2" => "bpe",
        "bert" => "wpm",
        "t5" => "ugm",
        _ => ggmlModel,
    };

    /// <summary>
    /// llama.cpp's add_bos default when the file has no tokenizer.ggml.add_bos_token: SPM and WPM add it; BPE only for
    /// the llama3-style pre-tokenizers (llama-vocab.cpp's LLAMA3 group, plus tekken and chameleon); UGM (T5) does not.
    /// </summary>
    public static bool DefaultAddBos(string kind, string? pre) => kind switch
    {
        "spm" or "wpm" => true,
        "bpe" => pre is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2" or "jina-v5-nano" or "tekken" or "chameleon",
        _ => false,
    };

    private static int TokenId(GgufFile f, string key)
    {
        if (!f.TryGetInt(key, out long v)) return -1;
        return v is >= 0 and < int.MaxValue ? (int)v : -1; // 0xFFFFFFFF = "none" in llama.cpp's converters
    }

    /// <summary>A scalar, or the first element of a per-layer array (some architectures store per-layer head counts).</summary>
    private static int IntOrFirst(GgufFile f, string key)
    {
        if (f.TryGetValue(key, out var v) && v.IsArray)
        {
            var arr = f.GetArray<long>(key);
            return arr.Length > 0 ? checked((int)arr[0]) : 0;
        }
        return f.GetInt32(key);
    }
}
