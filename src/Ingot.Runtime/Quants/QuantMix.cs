using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>llama.cpp's file types (llama_ftype numbering, stored as general.file_type) that Ingot can produce.</summary>
public enum QuantFileType
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 7, Q5_0 = 8, Q5_1 = 9, Q2_K = 10,
    Q3_K_S = 11, Q3_K_M = 12, Q3_K_L = 13, Q4_K_S = 14, Q4_K_M = 15, Q5_K_S = 16, Q5_K_M = 17, Q6_K = 18,
    Q2_K_S = 21, IQ4_NL = 25, IQ4_XS = 30, BF16 = 32,
}

/// <summary>A tensor as the planner sees it: name, current type, ggml dims (ne[0] = row length).</summary>
public sealed record QuantTensor(string Name, GgmlType Type, long[] Dims);

/// <summary>The planner's decision for one tensor (in output order).</summary>
public sealed record QuantDecision(QuantTensor Tensor, GgmlType NewType)
{
    public bool Requantizes => NewType != Tensor.Type;
}

/// <summary>Model facts the mixes depend on (llama hparams).</summary>
public sealed record QuantModelInfo(int Layers, int Heads, int KvHeads, int Experts = 0)
{
    public int Gqa => KvHeads > 0 ? Heads / KvHeads : 1;
}

/// <summary>
/// Per-tensor type choice of llama-quantize (llama_tensor_get_type, no importance matrix, not --pure) for the file
/// types in <see cref="QuantFileType"/>: which tensors are quantized at all, the K-mix bumps (attn_v / ffn_down with
/// use_more_bits, output.weight to Q6_K, …), the fallback when a row is not a whole number of blocks, and the
/// tensor order llama-quantize writes (by layer number, then name).
/// </summary>
public static class QuantMix
{
    public static bool TryParse(string name, out QuantFileType type)
    {
        string n = name.Trim().ToUpperInvariant().Replace('-', '_');
        foreach (QuantFileType t in Enum.GetValues<QuantFileType>())
            if (t.ToString() == n) { type = t; return true; }
        if (n == "Q3_K") { type = QuantFileType.Q3_K_M; return true; }   // llama-quantize aliases
        if (n == "Q4_K") { type = QuantFileType.Q4_K_M; return true; }
        if (n == "Q5_K") { type = QuantFileType.Q5_K_M; return true; }
        type = default;
        return false;
    }

    public static IEnumerable<string> Names => Enum.GetValues<QuantFileType>().Select(t => t.ToString());

    /// <summary>The base tensor type of a file type.</summary>
    public static GgmlType DefaultType(QuantFileType ft) => ft switch
    {
        QuantFileType.F32 => GgmlType.F32,
        QuantFileType.F16 => GgmlType.F16,
        QuantFileType.BF16 => GgmlType.BF16,
        QuantFileType.Q4_0 => GgmlType.Q4_0,
        QuantFileType.Q4_1 => GgmlType.Q4_1,
        QuantFileType.Q5_0 => GgmlType.Q5_0,
        QuantFileType.Q5_1 => GgmlType.Q5_1,
        QuantFileType.Q8_0 => GgmlType.Q8_0,
        QuantFileType.Q2_K or QuantFileType.Q2_K_S => GgmlType.Q2_K,
        QuantFileType.Q3_K_S or QuantFileType.Q3_K_M or QuantFileType.Q3_K_L => GgmlType.Q3_K,
        QuantFileType.Q4_K_S or QuantFileType.Q4_K_M => GgmlType.Q4_K,
        QuantFileType.Q5_K_S or QuantFileType.Q5_K_M => GgmlType.Q5_K,
        QuantFileType.Q6_K => GgmlType.Q6_K,
        QuantFileType.IQ4_NL => GgmlType.IQ4_NL,
        QuantFileType.IQ4_XS => GgmlType.IQ4_XS,
        _ => throw new NotSupportedException($"file type {ft}"),
    };

    /// <summary>Layer number of a "blk.N." tensor, -1 otherwise.</summary>
    public static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int l) ? l : -1;
    }

    /// <summary>Whether llama-quantize would quantize this tensor at all (2-D+ weights, not norms/positional/etc.).</summary>
    public static bool IsQuantizable(QuantTensor t)
    {
        string n = t.Name;
        if (!n.EndsWith("weight", StringComparison.Ordinal)) return false;
        if (t.Dims.Count(d => d > 1) < 2 && t.Dims.Length < 2) return false;
        if (NDims(t.Dims) < 2) return false;
        string[] never = ["_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight", "time_mix_first.weight", "time_mix_w1.weight",
            "time_mix_w2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight"];
        foreach (string s in never) if (n.Contains(s, StringComparison.Ordinal)) return false;
        if (n is "position_embd.weight" or "token_types.weight") return false;
        return true;
    }

    // ggml_n_dims: trailing dims of 1 do not count (a [n,1] tensor is 1-D).
    private static int NDims(long[] dims)
    {
        int n = dims.Length;
        while (n > 1 && dims[n - 1] == 1) n--;
        return n;
    }

    /// <summary>Decide every tensor's new type; the result is in llama-quantize's write order.</summary>
    public static IReadOnlyList<QuantDecision> Plan(QuantFileType ft, IReadOnlyList<QuantTensor> tensors, QuantModelInfo model)
    {
        var ordered = tensors.OrderBy(t => LayerOf(t.Name)).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        var state = new State
        {
            HasOutput = ordered.Any(t => t.Name == "output.weight"),
            NAttentionWv = ordered.Count(t => t.Name.Contains("attn_v.weight", StringComparison.Ordinal) || t.Name.Contains("attn_qkv.weight", StringComparison.Ordinal) || t.Name.Contains("attn_kv_b.weight", StringComparison.Ordinal)),
            NLayer = model.Layers,
        };
        GgmlType def = DefaultType(ft);
        bool quantizedDefault = def is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16);
        var result = new List<QuantDecision>(ordered.Count);
        foreach (var t in ordered)
        {
            GgmlType nt = t.Type;
            if (IsQuantizable(t))
            {
                nt = def;
                if (quantizedDefault) nt = TensorType(state, ft, nt, t, model);
            }
            result.Add(new QuantDecision(t, nt));
        }
        return result;
    }

    private sealed class State
    {
        public bool HasOutput;
        public int NAttentionWv, IAttentionWv, NLayer, IFfnDown;
    }

    private static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    private static GgmlType TensorType(State qs, QuantFileType ft, GgmlType nt, QuantTensor t, QuantModelInfo m)
    {
        string name = t.Name;
        if (name == "output.weight" || (!qs.HasOutput && name == "token_embd.weight"))
        {
            long nx = t.Dims[0];
            if (nx % GgmlTypeTraits.BlockSize(nt) != 0) nt = GgmlType.Q8_0;
            else if (nt != GgmlType.Q8_0) nt = GgmlType.Q6_K;
        }
        else if (name == "token_embd.weight")
        {
            // no change for the file types Ingot produces
        }
        else if (name.Contains("attn_v.weight", StringComparison.Ordinal))
        {
            if (ft == QuantFileType.Q2_K) nt = m.Gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ft == QuantFileType.Q2_K_S && m.Gqa >= 4) nt = GgmlType.Q4_K;
            else if (ft == QuantFileType.Q3_K_M) nt = qs.IAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (ft == QuantFileType.Q3_K_L) nt = GgmlType.Q5_K;
            else if ((ft == QuantFileType.IQ4_NL || ft == QuantFileType.IQ4_XS) && m.Gqa >= 4) nt = GgmlType.Q5_K;
            else if ((ft == QuantFileType.Q4_K_M || ft == QuantFileType.Q5_K_M) && UseMoreBits(qs.IAttentionWv, qs.NAttentionWv)) nt = GgmlType.Q6_K;
            else if (ft == QuantFileType.Q4_K_S && qs.IAttentionWv < 4) nt = GgmlType.Q5_K;
            if (m.Experts == 8) nt = GgmlType.Q8_0;
            qs.IAttentionWv++;
        }
        else if (name.Contains("attn_k.weight", StringComparison.Ordinal))
        {
            if (m.Experts == 8) nt = GgmlType.Q8_0;
        }
        else if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            int iLayer = qs.IFfnDown, nLayer = qs.NLayer;
            if (m.Experts > 1)
            {
                iLayer = LayerOf(name);
                if (iLayer < 0 || iLayer >= nLayer) throw new InvalidDataException($"bad layer for tensor {name}");
            }
            if (ft == QuantFileType.Q2_K) nt = GgmlType.Q3_K;
            else if (ft == QuantFileType.Q2_K_S) { if (iLayer < nLayer / 8) nt = GgmlType.Q4_K; }
            else if (ft == QuantFileType.Q3_K_M) nt = iLayer < nLayer / 16 ? GgmlType.Q5_K : GgmlType.Q4_K; // non-Falcon
            else if (ft == QuantFileType.Q3_K_L) nt = GgmlType.Q5_K;
            else if (ft == QuantFileType.Q4_K_M) { if (UseMoreBits(iLayer, nLayer)) nt = GgmlType.Q6_K; }
            else if (iLayer < nLayer / 8 && (ft == QuantFileType.IQ4_NL || ft == QuantFileType.IQ4_XS)) nt = GgmlType.Q5_K;
            else if (ft == QuantFileType.Q5_K_M && UseMoreBits(iLayer, nLayer)) nt = GgmlType.Q6_K;
            else if (ft == QuantFileType.Q4_K_S && iLayer < nLayer / 8) nt = GgmlType.Q5_K;
            qs.IFfnDown++;
        }
        else if (name.Contains("attn_output.weight", StringComparison.Ordinal))
        {
            if (m.Experts == 8)
            {
                if (ft is QuantFileType.Q2_K or QuantFileType.Q3_K_S or QuantFileType.Q3_K_M or QuantFileType.IQ4_NL
                    or QuantFileType.Q4_K_S or QuantFileType.Q4_K_M or QuantFileType.IQ4_XS) nt = GgmlType.Q5_K;
            }
            else
            {
                if (ft == QuantFileType.Q2_K) nt = GgmlType.Q3_K;
                else if (ft == QuantFileType.Q3_K_M) nt = GgmlType.Q4_K;
                else if (ft == QuantFileType.Q3_K_L) nt = GgmlType.Q5_K;
            }
        }
        else if (name.Contains("attn_qkv.weight", StringComparison.Ordinal))
        {
            if (ft is QuantFileType.Q3_K_M or QuantFileType.Q3_K_L) nt = GgmlType.Q4_K;
            else if (ft == QuantFileType.Q4_K_M) nt = GgmlType.Q5_K;
            else if (ft == QuantFileType.Q5_K_M) nt = GgmlType.Q6_K;
        }

        // rows that are not a whole number of blocks fall back to a 32-block type, then to F16
        if (t.Dims[0] % GgmlTypeTraits.BlockSize(nt) != 0)
        {
            nt = nt switch
            {
                GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.IQ4_XS => GgmlType.IQ4_NL,
                GgmlType.Q4_K => GgmlType.Q5_0,
                GgmlType.Q5_K => GgmlType.Q5_1,
                GgmlType.Q6_K => GgmlType.Q8_0,
                _ => throw new NotSupportedException($"tensor {name}: row length {t.Dims[0]} is not a multiple of the {GgmlTypeTraits.Name(nt)} block size"),
            };
            if (t.Dims[0] % GgmlTypeTraits.BlockSize(nt) != 0) nt = GgmlType.F16;
        }
        return nt;
    }
}
