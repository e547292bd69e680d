namespace Ingot.Formats;

/// <summary>
/// The architecture of one model as modelspecs/NAME.json states it (schema 1; see modelspecs/README.md):
/// dimensions, attention, norm, rope, ffn, output, tokenizer and the ggml type of every weight role.
/// Written by <see cref="ModelSpecJson"/>; produced from GGUF, llama2.c and Hugging Face inputs by the importers.
/// </summary>
public sealed class ModelSpec
{
    public int Schema { get; set; } = 1;
    public string Name { get; set; } = "";
    public string Architecture { get; set; } = "llama";
    public int VocabSize { get; set; }
    public int Dim { get; set; }
    public int Layers { get; set; }
    public int FfnDim { get; set; }
    /// <summary>The trained context as the file states it (GGUF context_length, llama2.c seq_len, HF max_position_embeddings).</summary>
    public int ContextLength { get; set; }
    public AttentionSpec Attention { get; set; } = new();
    public NormSpec Norm { get; set; } = new();
    public RopeSpec Rope { get; set; } = new();
    public FfnSpec Ffn { get; set; } = new();
    public OutputSpec Output { get; set; } = new();
    public TokenizerSpec Tokenizer { get; set; } = new();
    public WeightsSpec Weights { get; set; } = new();
}

public sealed class AttentionSpec
{
    public int Heads { get; set; }
    public int KvHeads { get; set; }
    public int HeadDim { get; set; }
    /// <summary>Softmax scale, 1/sqrt(head_dim) unless the model says otherwise.</summary>
    public float Scale { get; set; }
    public int SlidingWindow { get; set; }
    public float LogitSoftcap { get; set; }
    public bool QkvBias { get; set; }
}

public sealed class NormSpec
{
    /// <summary>"rmsnorm" | "layernorm".</summary>
    public string Kind { get; set; } = "rmsnorm";
    public float Epsilon { get; set; } = 1e-5f;
}

public sealed class RopeSpec
{
    /// <summary>"norm" (interleaved pairs, llama) | "neox" (rotate-half).</summary>
    public string Kind { get; set; } = "norm";
    public float Theta { get; set; } = 10000f;
    public int Dimensions { get; set; }
    public bool FreqFactors { get; set; }
    public RopeScalingSpec Scaling { get; set; } = new();
}

public sealed class RopeScalingSpec
{
    /// <summary>"none" | "linear" | "yarn" | … (as GGUF rope.scaling.type).</summary>
    public string Kind { get; set; } = "none";
    public float Factor { get; set; } = 1f;
}

public sealed class FfnSpec
{
    /// <summary>"swiglu" | "geglu" | "gelu".</summary>
    public string Kind { get; set; } = "swiglu";
}

public sealed class OutputSpec
{
    /// <summary>True when output.weight is absent and the token embedding is reused as the classifier.</summary>
    public bool Tied { get; set; }
    public float FinalLogitSoftcap { get; set; }
    public float LogitScale { get; set; } = 1f;
}

public sealed class TokenizerSpec
{
    /// <summary>"spm" | "bpe" | "wpm" | "ugm" (from tokenizer.ggml.model llama/gpt2/bert/t5).</summary>
    public string Kind { get; set; } = "spm";
    /// <summary>-1 when the model has none.</summary>
    public int Bos { get; set; } = -1;
    public int Eos { get; set; } = -1;
    public bool AddBos { get; set; }
    public bool AddEos { get; set; }
}

/// <summary>
/// The ggml type of each weight role. Global roles (token_embd, output_norm, output, rope_freqs) name one tensor;
/// per-layer roles name blk.N.&lt;role&gt;.weight and hold the most common type across layers, with
/// <see cref="Layers"/> listing only the layers whose type differs.
/// </summary>
public sealed class WeightsSpec
{
    /// <summary>Role order used when writing JSON; roles not listed here follow in ordinal order.</summary>
    public static readonly string[] RoleOrder =
    [
        "token_embd", "output_norm", "output", "rope_freqs",
        "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
    ];

    public static readonly string[] GlobalRoles = ["token_embd", "output_norm", "output", "rope_freqs"];

    public Dictionary<string, GgmlType> Roles { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<int, Dictionary<string, GgmlType>> Layers { get; } = [];

    /// <summary>The type of one tensor: a layer override if present, else the role's entry.</summary>
    public GgmlType? TypeOf(string role, int layer = -1)
    {
        if (layer >= 0 && Layers.TryGetValue(layer, out var o) && o.TryGetValue(role, out var t)) return t;
        return Roles.TryGetValue(role, out var r) ? r : null;
    }

    public static IEnumerable<string> Ordered(IEnumerable<string> roles)
    {
        var set = roles.ToHashSet(StringComparer.Ordinal);
        foreach (var r in RoleOrder) if (set.Remove(r)) yield return r;
        foreach (var r in set.Order(StringComparer.Ordinal)) yield return r;
    }

    /// <summary>
    /// Builds the roles from tensor names and types: <c>blk.N.ROLE.weight</c> is a per-layer role, <c>ROLE.weight</c> a
    /// global one; biases and other suffixes are not weight roles. The role entry is the most common type across
    /// layers (ties: the lowest layer's type); layers that differ become overrides.
    /// </summary>
    public static WeightsSpec FromTensors(IEnumerable<(string Name, GgmlType Type)> tensors)
    {
        var w = new WeightsSpec();
        var perLayer = new Dictionary<string, SortedDictionary<int, GgmlType>>(StringComparer.Ordinal);
        foreach (var (name, type) in tensors)
        {
            if (!name.EndsWith(".weight", StringComparison.Ordinal)) continue;
            string stem = name[..^".weight".Length];
            if (stem.StartsWith("blk.", StringComparison.Ordinal))
            {
                int dot = stem.IndexOf('.', 4);
                if (dot < 0 || !int.TryParse(stem.AsSpan(4, dot - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int layer)) continue;
                string role = stem[(dot + 1)..];
                if (!perLayer.TryGetValue(role, out var m)) perLayer[role] = m = [];
                m[layer] = type;
            }
            else
            {
                w.Roles[stem] = type;
            }
        }
        foreach (var (role, layers) in perLayer)
        {
            var common = layers.GroupBy(kv => kv.Value)
                .Select(g => (Type: g.Key, Count: g.Count(), First: g.Min(kv => kv.Key)))
                .OrderByDescending(g => g.Count).ThenBy(g => g.First).First().Type;
            w.Roles[role] = common;
            foreach (var (layer, type) in layers)
            {
                if (type == common) continue;
                if (!w.Layers.TryGetValue(layer, out var o)) w.Layers[layer] = o = new(StringComparer.Ordinal);
                o[role] = type;
            }
        }
        return w;
    }
}
