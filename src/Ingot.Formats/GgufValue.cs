using System.Globalization;

namespace Ingot.Formats;

public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>
/// One metadata value. Scalars are boxed primitives; arrays are typed .NET arrays (string[], float[], int[], bool[], …).
/// An array of arrays is a <see cref="GgufValue"/>[] whose elements are themselves array values.
/// </summary>
public sealed class GgufValue(GgufValueType type, GgufValueType elementType, object value)
{
    public GgufValueType Type { get; } = type;
    /// <summary>For arrays, the element type; otherwise equals <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; } = elementType;
    public object Value { get; } = value;

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements for an array, 1 for a scalar.</summary>
    public int Count => Value is Array a ? a.Length : 1;

    public static GgufValue FromUInt8(byte v) => new(GgufValueType.UInt8, GgufValueType.UInt8, v);
    public static GgufValue FromInt8(sbyte v) => new(GgufValueType.Int8, GgufValueType.Int8, v);
    public static GgufValue FromUInt16(ushort v) => new(GgufValueType.UInt16, GgufValueType.UInt16, v);
    public static GgufValue FromInt16(short v) => new(GgufValueType.Int16, GgufValueType.Int16, v);
    public static GgufValue FromUInt32(uint v) => new(GgufValueType.UInt32, GgufValueType.UInt32, v);
    public static GgufValue FromInt32(int v) => new(GgufValueType.Int32, GgufValueType.Int32, v);
    public static GgufValue FromFloat32(float v) => new(GgufValueType.Float32, GgufValueType.Float32, v);
    public static GgufValue FromBool(bool v) => new(GgufValueType.Bool, GgufValueType.Bool, v);
    public static GgufValue FromString(string v) => new(GgufValueType.String, GgufValueType.String, v);
    public static GgufValue FromUInt64(ulong v) => new(GgufValueType.UInt64, GgufValueType.UInt64, v);
    public static GgufValue FromInt64(long v) => new(GgufValueType.Int64, GgufValueType.Int64, v);
    public static GgufValue FromFloat64(double v) => new(GgufValueType.Float64, GgufValueType.Float64, v);

    /// <summary>A typed array: byte[] sbyte[] ushort[] short[] uint[] int[] float[] bool[] string[] ulong[] long[] double[] or GgufValue[] (nested arrays).</summary>
    public static GgufValue FromArray(Array values)
    {
        // Match the exact element type: the CLR lets int[] pass `is uint[]` (array covariance between same-size integers).
        Type? e = values.GetType().GetElementType();
        GgufValueType et =
            e == typeof(byte) ? GgufValueType.UInt8 : e == typeof(sbyte) ? GgufValueType.Int8 :
            e == typeof(ushort) ? GgufValueType.UInt16 : e == typeof(short) ? GgufValueType.Int16 :
            e == typeof(uint) ? GgufValueType.UInt32 : e == typeof(int) ? GgufValueType.Int32 :
            e == typeof(float) ? GgufValueType.Float32 : e == typeof(bool) ? GgufValueType.Bool :
            e == typeof(string) ? GgufValueType.String : e == typeof(ulong) ? GgufValueType.UInt64 :
            e == typeof(long) ? GgufValueType.Int64 : e == typeof(double) ? GgufValueType.Float64 :
            e == typeof(GgufValue) ? GgufValueType.Array :
            throw new ArgumentException($"unsupported GGUF array element type {e}", nameof(values));
        return new GgufValue(GgufValueType.Array, et, values);
    }

    /// <summary>The .NET scalar/array type a value of this GGUF type is stored as.</summary>
    internal static Type ClrType(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => typeof(byte), GgufValueType.Int8 => typeof(sbyte), GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short), GgufValueType.UInt32 => typeof(uint), GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float), GgufValueType.Bool => typeof(bool), GgufValueType.String => typeof(string),
        GgufValueType.UInt64 => typeof(ulong), GgufValueType.Int64 => typeof(long), GgufValueType.Float64 => typeof(double),
        GgufValueType.Array => typeof(GgufValue),
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public override string ToString() => Value switch
    {
        string s => s,
        Array a => $"array<{ElementType}>[{a.Length}]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        var o => o.ToString() ?? "",
    };
}

public sealed record GgufMetadataEntry(string Key, GgufValue Value);

/// <summary>A tensor info. Dims are ggml's ne (ne[0] fastest = row length). Offset is relative to the data section.</summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dims, long Offset, long ByteSize)
{
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);
}
