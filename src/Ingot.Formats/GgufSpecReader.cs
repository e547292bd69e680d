using Ingot.Formats.Architectures;
using Ingot.Specs;

namespace Ingot.Formats;

/// <summary>
/// GGUF metadata + tensor table → <see cref="ModelSpec"/>. This file reads what every family writes the same way
/// (the {arch}.* dimension keys, norms, rope base and scaling, biases and fused matrices from the tensor table, the
/// tokenizer, the weight types); the family's <see cref="ArchitectureMapping"/> then adds its own conventions (rope
/// layout, activation, block layout, scales). A family the project does not know is refused with one line naming
/// general.architecture.
/// </summary>
public static class GgufSpecReader
{
    public static ModelSpec FromGguf(GgufFile f, string? name = null)
    {
        string arch = f.TryGetString("general.architecture", out var a) ? a : "llama";
        var mapping = ArchitectureMapping.ForGguf(arch)
            ?? throw new InvalidModelFileException(f.Path, "metadata key 'general.architecture'", f.GetMetadataOffset("general.architecture"),
                $"architecture '{arch}' is not supported (supported: {string.Join(", ", ArchitectureMapping.GgufNames)})");
        return mapping.FromGguf(f, Common(f, arch, name));
    }

    /// <summary>What every family states the same way; the mapping refines it.</summary>
    private static ModelSpec Common(GgufFile f, string arch, string? name)
    {
        string p = arch + ".";
        var embd = f.FindTensor("token_embd.weight");
        int tokenCount = f.TryGetArray<string>("tokenizer.ggml.tokens", out var tokens) ? tokens.Length : 0;
        int dim = f.GetInt32(p + "embedding_length");
        int heads = IntOrFirst(f, p + "attention.head_count");
        if (heads <= 0) throw new InvalidModelFileException(f.Path, $"metadata key '{p}attention.head_count'", f.GetMetadataOffset(p + "attention.head_count"), $"head count {heads} must be positive");
        int kvHeads = f.ContainsKey(p + "attention.head_count_kv") ? IntOrFirst(f, p + "attention.head_count_kv") : heads;
        int headDim = f.GetInt32(p + "attention.key_length", dim / heads);
        int window = f.GetInt32(p + "attention.sliding_window", 0);

        NormSpec norm;
        bool normBias = f.FindTensor("output_norm.bias") is not null || f.FindTensor("blk.0.attn_norm.bias") is not null;
        if (f.TryGetFloat(p + "attention.layer_norm_rms_epsilon", out var rmsEps)) norm = new NormSpec { Kind = NormKind.RmsNorm, Epsilon = rmsEps, Bias = normBias };
        else if (f.TryGetFloat(p + "attention.layer_norm_epsilon", out var lnEps)) norm = new NormSpec { Kind = NormKind.LayerNorm, Epsilon = lnEps, Bias = normBias };
        else throw new InvalidModelFileException(f.Path, $"metadata key '{p}attention.layer_norm_rms_epsilon'", null, "missing (and no layer_norm_epsilon either): the norm is unknown");

        string scalingType = f.GetString(p + "rope.scaling.type", null) ?? (f.ContainsKey(p + "rope.scale_linear") ? "linear" : "none");
        var scalingKind = scalingType switch
        {
            "none" => RopeScalingKind.None,
            "linear" => RopeScalingKind.Linear,
            "yarn" => RopeScalingKind.Yarn,
            "longrope" => RopeScalingKind.LongRope,
            _ => throw new InvalidModelFileException(f.Path, $"metadata key '{p}rope.scaling.type'", f.GetMetadataOffset(p + "rope.scaling.type"),
                $"rope scaling '{scalingType}' is not supported (none, linear, yarn, longrope)"),
        };
        var scaling = scalingKind == RopeScalingKind.None ? new RopeScalingSpec() : new RopeScalingSpec
        {
            Kind = scalingKind,
            Factor = f.TryGetFloat(p + "rope.scaling.factor", out var fac) ? fac : f.GetFloat(p + "rope.scale_linear", 1f),
            OriginalContext = f.GetInt32(p + "rope.scaling.original_context_length", 0),
            AttnFactor = f.GetFloat(p + "rope.scaling.attn_factor", 1f),
        };

        bool fusedQkv = f.FindTensor("blk.0.attn_qkv.weight") is not null;
        return new ModelSpec
        {
            Name = name ?? f.GetString("general.name", null) ?? System.IO.Path.GetFileNameWithoutExtension(f.Path),
            Architecture = arch,
            VocabSize = (int)f.GetInt(p + "vocab_size", embd is { Dims.Length: 2 } ? embd.Dims[1] : tokenCount),
            Dim = dim,
            Layers = f.GetInt32(p + "block_count"),
            FfnDim = IntOrFirst(f, p + "feed_forward_length"),
            ContextLength = f.GetInt32(p + "context_length", 0),
            Attention = new AttentionSpec
            {
                Heads = heads,
                KvHeads = kvHeads,
                HeadDim = headDim,
                FusedQkv = fusedQkv,
                QkvBias = f.FindTensor(fusedQkv ? "blk.0.attn_qkv.bias" : "blk.0.attn_q.bias") is not null,
                OutputBias = f.FindTensor("blk.0.attn_output.bias") is not null,
                Scale = f.TryGetFloat(p + "attention.scale", out var sc) && sc != 0 ? sc : 1f / MathF.Sqrt(headDim),
                LogitSoftcap = f.GetFloat(p + "attn_logit_softcapping", 0f),
                SlidingWindow = window,
                SlidingWindowLayers = window > 0 ? WindowLayers.All : WindowLayers.None,
            },
            Norm = norm,
            Rope = new RopeSpec
            {
                Kind = RopeKind.Norm,
                Theta = f.GetFloat(p + "rope.freq_base", 10000f),
                Dimensions = f.GetInt32(p + "rope.dimension_count", headDim),
                FreqFactors = f.FindTensor("rope_freqs.weight") is not null,
                Scaling = scaling,
            },
            Ffn = new FfnSpec
            {
                Gated = f.FindTensor("blk.0.ffn_gate.weight") is not null,
                Bias = f.FindTensor("blk.0.ffn_up.bias") is not null || f.FindTensor("blk.0.ffn_down.bias") is not null,
            },
            Output = new OutputSpec
            {
                Tied = f.FindTensor("output.weight") is null,
                FinalLogitSoftcap = f.GetFloat(p + "final_logit_softcapping", 0f),
            },
            Tokenizer = Tokenizer(f),
            Weights = SpecWeights.FromTensors(f.Tensors.Select(t => (t.Name, t.Type))),
        };
    }

    private static TokenizerSpec Tokenizer(GgufFile f)
    {
        string model = f.GetString("tokenizer.ggml.model", null) ?? "llama";
        string kind = TokenizerKind(model);
        return new TokenizerSpec
        {
            Kind = kind,
            Bos = TokenId(f, "tokenizer.ggml.bos_token_id"),
            Eos = TokenId(f, "tokenizer.ggml.eos_token_id"),
            AddBos = f.GetBool("tokenizer.ggml.add_bos_token", DefaultAddBos(kind, f.GetString("tokenizer.ggml.pre", null))),
            AddEos = f.GetBool("tokenizer.ggml.add_eos_token", kind == "ugm"),
        };
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
