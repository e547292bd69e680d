namespace Ingot.Formats;

/// <summary>ggml tensor type ids as stored in GGUF tensor infos (ggml.h numbering; ids 4 and 5 are retired).</summary>
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35,
}

/// <summary>One row of the traits table: elements per block and bytes per block, as ggml's type_traits.</summary>
public readonly record struct GgmlTypeInfo(GgmlType Type, string Name, int BlockSize, int BlockBytes);

/// <summary>Traits table for every ggml type id a GGUF file may name.</summary>
public static class GgmlTypeTraits
{
    private const int QK_K = 256;

    private static readonly GgmlTypeInfo[] Table =
    [
        new(GgmlType.F32, "f32", 1, 4),
        new(GgmlType.F16, "f16", 1, 2),
        new(GgmlType.Q4_0, "q4_0", 32, 2 + 16),
        new(GgmlType.Q4_1, "q4_1", 32, 2 + 2 + 16),
        new(GgmlType.Q5_0, "q5_0", 32, 2 + 4 + 16),
        new(GgmlType.Q5_1, "q5_1", 32, 2 + 2 + 4 + 16),
        new(GgmlType.Q8_0, "q8_0", 32, 2 + 32),
        new(GgmlType.Q8_1, "q8_1", 32, 2 + 2 + 32),
        new(GgmlType.Q2_K, "q2_k", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2),
        new(GgmlType.Q3_K, "q3_k", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),
        new(GgmlType.Q4_K, "q4_k", QK_K, 2 + 2 + 12 + QK_K / 2),
        new(GgmlType.Q5_K, "q5_k", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),
        new(GgmlType.Q6_K, "q6_k", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
        new(GgmlType.Q8_K, "q8_k", QK_K, 4 + QK_K + QK_K / 16 * 2),
        new(GgmlType.IQ2_XXS, "iq2_xxs", QK_K, 2 + QK_K / 8 * 2),
        new(GgmlType.IQ2_XS, "iq2_xs", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32),
        new(GgmlType.IQ3_XXS, "iq3_xxs", QK_K, 2 + QK_K / 4 + QK_K / 8),
        new(GgmlType.IQ1_S, "iq1_s", QK_K, 2 + QK_K / 8 + QK_K / 16),
        new(GgmlType.IQ4_NL, "iq4_nl", 32, 2 + 16),
        new(GgmlType.IQ3_S, "iq3_s", QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4),
        new(GgmlType.IQ2_S, "iq2_s", QK_K, 2 + QK_K / 4 + QK_K / 16),
        new(GgmlType.IQ4_XS, "iq4_xs", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2),
        new(GgmlType.I8, "i8", 1, 1),
        new(GgmlType.I16, "i16", 1, 2),
        new(GgmlType.I32, "i32", 1, 4),
        new(GgmlType.I64, "i64", 1, 8),
        new(GgmlType.F64, "f64", 1, 8),
        new(GgmlType.IQ1_M, "iq1_m", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
        new(GgmlType.BF16, "bf16", 1, 2),
        new(GgmlType.TQ1_0, "tq1_0", QK_K, 2 + 4 * 13),
        new(GgmlType.TQ2_0, "tq2_0", QK_K, 2 + 64),
    ];

    private static readonly Dictionary<GgmlType, GgmlTypeInfo> ById = Table.ToDictionary(t => t.Type);
    private static readonly Dictionary<string, GgmlTypeInfo> ByName = Table.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<GgmlTypeInfo> All => Table;

    public static bool IsKnown(GgmlType type) => ById.ContainsKey(type);

    public static GgmlTypeInfo Get(GgmlType type) =>
        ById.TryGetValue(type, out var info) ? info : throw new ArgumentOutOfRangeException(nameof(type), $"unknown ggml type id {(uint)type}");

    public static int BlockSize(GgmlType type) => Get(type).BlockSize;
    public static int BlockBytes(GgmlType type) => Get(type).BlockBytes;
    public static string Name(GgmlType type) => Get(type).Name;

    public static bool TryParse(string name, out GgmlType type)
    {
        if (ByName.TryGetValue(name, out var info)) { type = info.Type; return true; }
        type = default;
        return false;
    }

    /// <summary>Bytes of a row of <paramref name="elements"/> values, or -1 when the row is not a whole number of blocks.</summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        var info = Get(type);
        if (elements < 0 || elements % info.BlockSize != 0) return -1;
        return elements / info.BlockSize * info.BlockBytes;
    }
}
