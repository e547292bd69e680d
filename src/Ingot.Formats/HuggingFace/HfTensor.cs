using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Ingot.Formats.HuggingFace;

/// <summary>How an HF tensor's data becomes its GGUF tensor's (convert_hf_to_gguf's modify_tensors, per family).</summary>
internal enum HfLayout
{
    /// <summary>The same bytes: nn.Linear [out, in] is ggml {in, out}; embeddings and vectors likewise.</summary>
    AsIs,
    /// <summary>Llama/Granite q_proj, k_proj: rows per head from rotate-half order to interleaved pairs (<see cref="HfLayouts.RopePairRows{T}"/>).</summary>
    RopePairs,
    /// <summary>GPT-NeoX query_key_value: per-head [q; k; v] row blocks to [Q; K; V] (<see cref="HfLayouts.NeoXQkvRows{T}"/>).</summary>
    NeoXQkv,
    /// <summary>GPT-2 Conv1D weights, stored [in, out]: transposed.</summary>
    Conv1D,
    /// <summary>Gemma norms: HF computes x·(1 + w), GGUF stores 1 + w.</summary>
    PlusOne,
    /// <summary>A row range of a fused HF matrix (ERNIE's Paddle-style qkv_proj and up_gate_proj).</summary>
    Rows,
    /// <summary>F32 values computed from config.json (rope_freqs, rope_factors_long/short).</summary>
    Generated,
}

/// <summary>
/// One GGUF tensor of a Hugging Face import: its GGUF name and ne, the HF tensor it comes from and the layout
/// change. Types follow the converter: F32/F16/BF16 matrices keep their type, vectors (and position_embd) become
/// F32; other dtypes are refused.
/// </summary>
internal sealed record HfTensor(string Gguf, string? Hf, long[] Ne, HfLayout Layout = HfLayout.AsIs)
{
    /// <summary>Heads of a <see cref="HfLayout.RopePairs"/> or <see cref="HfLayout.NeoXQkv"/> tensor.</summary>
    public int Heads { get; init; }
    /// <summary>For <see cref="HfLayout.Rows"/>: the first row taken, and the row count of the fused HF tensor.</summary>
    public long FirstRow { get; init; }
    public long SourceRows { get; init; }
    public float[]? Values { get; init; }
    /// <summary>Stays F32 whatever the checkpoint's dtype (the converter's rule for position embeddings).</summary>
    public bool KeepF32 { get; init; }

    public static HfTensor Generated(string gguf, float[] values) => new(gguf, null, [values.Length], HfLayout.Generated) { Values = values };

    /// <summary>The shape the safetensors header must state: ne reversed (row-major), except Conv1D's [in, out].</summary>
    public long[] HfShape
    {
        get
        {
            if (Layout == HfLayout.Conv1D) return Ne;
            long[] shape = [.. Enumerable.Reverse(Ne)];
            if (Layout == HfLayout.Rows) shape[0] = SourceRows;
            return shape;
        }
    }

    /// <summary>The GGUF tensor, its data streamed from the checkpoint at write time.</summary>
    public ImportedTensor Bind(HfCheckpoint ck, string family)
    {
        if (Layout == HfLayout.Generated) return new ImportedTensor(Gguf, GgmlType.F32, Ne, s => GgufWriter.WriteFloats(s, Values));
        if (!ck.TryFind(Hf!, out var file, out var t))
            throw new InvalidModelFileException(ck.FirstPath, $"tensor '{Hf}'", null, $"missing (config.json describes a {family} model that has it)");
        bool vector = Ne.Length == 1 || KeepF32 || Layout == HfLayout.PlusOne;
        GgmlType type = t.DType switch
        {
            "F32" => GgmlType.F32,
            "F16" => vector ? GgmlType.F32 : GgmlType.F16,
            "BF16" => vector ? GgmlType.F32 : GgmlType.BF16,
            _ => throw new InvalidModelFileException(file.Path, $"tensor '{t.Name}' dtype", null, $"{t.DType} is not supported (F32, F16, BF16)"),
        };
        if (!t.Shape.SequenceEqual(HfShape))
            throw new InvalidModelFileException(file.Path, $"tensor '{t.Name}' shape", null, $"[{string.Join(", ", t.Shape)}] does not match config.json (expected [{string.Join(", ", HfShape)}])");
        long rows = HfShape[0];
        if (Layout == HfLayout.RopePairs && (rows % Heads != 0 || rows / Heads % 2 != 0) || Layout == HfLayout.NeoXQkv && rows % (3L * Heads) != 0)
            throw new InvalidModelFileException(file.Path, $"tensor '{t.Name}'", null, $"{rows} rows cannot be split into {Heads} heads");
        return new ImportedTensor(Gguf, type, Ne, s => s.Write(Data(file, t, type)));
    }

    private byte[] Data(SafetensorsFile f, SafetensorsTensor t, GgmlType type)
    {
        if (Layout == HfLayout.PlusOne)
        {
            // As the converter: F16 adds in half precision; BF16 was widened to F32 before the add.
            float[] w = f.ReadFloats(t);
            for (int i = 0; i < w.Length; i++) w[i] = t.DType == "F16" ? (float)(Half)(w[i] + 1f) : w[i] + 1f;
            return LittleEndian(w);
        }
        byte[] raw = type == GgmlType.F32 && t.DType != "F32" ? LittleEndian(f.ReadFloats(t)) : f.ReadBytes(t);
        long rows = HfShape[0], rowBytes = raw.Length / rows;
        return Layout switch
        {
            HfLayout.RopePairs => HfLayouts.RopePairRows(raw, rows, rowBytes, Heads),
            HfLayout.NeoXQkv => HfLayouts.NeoXQkvRows(raw, rows, rowBytes, Heads),
            HfLayout.Conv1D => HfLayouts.Transpose(raw, HfShape[0], HfShape[1], type == GgmlType.F32 ? 4 : 2),
            HfLayout.Rows => raw[(int)(FirstRow * rowBytes)..(int)((FirstRow + Ne[^1]) * rowBytes)],
            _ => raw,
        };
    }

    private static byte[] LittleEndian(float[] x)
    {
        var b = new byte[x.Length * 4];
        for (int i = 0; i < x.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), x[i]);
        return b;
    }
}

/// <summary>The row reorders and the transpose of <see cref="HfLayout"/>, on rows of <c>rowLen</c> elements.</summary>
public static class HfLayouts
{
    /// <summary>
    /// HF rotate-half row order → interleaved pairs (convert_hf_to_gguf's LlamaModel.permute: reshape(heads, 2, hd/2,
    /// cols), swap axes 1 and 2): within each head of hd rows, new row 2i + j = old row j·hd/2 + i (i &lt; hd/2, j ∈ {0, 1}).
    /// </summary>
    public static T[] RopePairRows<T>(T[] src, long rows, long rowLen, int heads)
    {
        var dst = new T[src.Length];
        long hd = rows / heads, half = hd / 2;
        for (long h = 0; h < heads; h++)
            for (long i = 0; i < half; i++)
                for (long j = 0; j < 2; j++)
                    Array.Copy(src, (h * hd + j * half + i) * rowLen, dst, (h * hd + 2 * i + j) * rowLen, rowLen);
        return dst;
    }

    /// <summary>
    /// GPT-NeoX fuses Q, K and V per head: HF row h·3hd + t·hd + d (t = 0 q, 1 k, 2 v) becomes GGUF row
    /// t·heads·hd + h·hd + d, i.e. [Q | K | V] as llama.cpp splits attn_qkv.
    /// </summary>
    public static T[] NeoXQkvRows<T>(T[] src, long rows, long rowLen, int heads)
    {
        var dst = new T[src.Length];
        long hd = rows / 3 / heads;
        for (long h = 0; h < heads; h++)
            for (long t = 0; t < 3; t++)
                Array.Copy(src, (h * 3 * hd + t * hd) * rowLen, dst, (t * heads * hd + h * hd) * rowLen, hd * rowLen);
        return dst;
    }

    /// <summary>A row-major [rows, cols] matrix of <paramref name="elementSize"/>-byte elements → [cols, rows].</summary>
    public static byte[] Transpose(byte[] src, long rows, long cols, int elementSize)
    {
        var dst = new byte[src.Length];
        if (elementSize == 4) Transpose(MemoryMarshal.Cast<byte, int>(src), MemoryMarshal.Cast<byte, int>(dst.AsSpan()), rows, cols);
        else if (elementSize == 2) Transpose(MemoryMarshal.Cast<byte, short>(src), MemoryMarshal.Cast<byte, short>(dst.AsSpan()), rows, cols);
        else throw new ArgumentOutOfRangeException(nameof(elementSize), "2 or 4 bytes");
        return dst;
    }

    private static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, long rows, long cols)
    {
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                dst[(int)(c * rows + r)] = src[(int)(r * cols + c)];
    }
}
