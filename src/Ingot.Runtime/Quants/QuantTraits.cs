using Ingot.Formats;

namespace Ingot.Runtime.Quants;

/// <summary>
/// Per weight type: elements and bytes per block, and the activation type its dot product consumes
/// (ggml's vec_dot_type). One table for everything this namespace supports.
/// </summary>
public static class QuantTraits
{
    /// <summary>The IQ4_NL / IQ4_XS non-linear code book (index 0..15 → value).</summary>
    public static ReadOnlySpan<sbyte> IQ4NLValues => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>Weight types with dequantize, reference quantize and vec-dot support.</summary>
    public static ReadOnlySpan<GgmlType> WeightTypes =>
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS,
    ];

    /// <summary><see cref="WeightTypes"/> as an array (for LINQ and test data).</summary>
    public static GgmlType[] WeightTypesArray => WeightTypes.ToArray();

    /// <summary>True for every type <see cref="WeightTypes"/> lists.</summary>
    public static bool IsSupportedWeight(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1
            or GgmlType.Q8_0 or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K
            or GgmlType.IQ4_NL or GgmlType.IQ4_XS => true,
        _ => false,
    };

    /// <summary>The activation type the weight type's vec-dot expects (ggml vec_dot_type).</summary>
    public static GgmlType ActivationType(GgmlType weight) => weight switch
    {
        GgmlType.F32 => GgmlType.F32,
        GgmlType.F16 => GgmlType.F16,
        GgmlType.BF16 => GgmlType.BF16,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 or GgmlType.IQ4_NL => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.IQ4_XS => GgmlType.Q8_K,
        _ => throw new NotSupportedException($"ggml type {weight} has no vec-dot in Ingot.Runtime.Quants"),
    };

    /// <summary>Elements per block (1 for F32/F16/BF16).</summary>
    public static int BlockSize(GgmlType type) => GgmlTypeTraits.BlockSize(type);

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgmlType type) => GgmlTypeTraits.BlockBytes(type);

    /// <summary>Bytes of a row of <paramref name="n"/> elements; throws when n is not a whole number of blocks.</summary>
    public static int RowBytes(GgmlType type, int n)
    {
        long b = GgmlTypeTraits.RowBytes(type, n);
        if (b < 0) throw new ArgumentException($"{n} elements is not a whole number of {GgmlTypeTraits.Name(type)} blocks", nameof(n));
        return checked((int)b);
    }
}
