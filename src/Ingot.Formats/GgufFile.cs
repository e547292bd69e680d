// CONTRACT STUB — the formats worker replaces the bodies; the public surface below is what other code uses.
namespace Ingot.Formats;

public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>One metadata value. Scalars are boxed primitives; arrays are typed .NET arrays (string[], float[], int[], …).</summary>
public sealed class GgufValue(GgufValueType type, GgufValueType elementType, object value)
{
    public GgufValueType Type { get; } = type;
    /// <summary>For arrays, the element type; otherwise equals <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; } = elementType;
    public object Value { get; } = value;
}

public sealed record GgufMetadataEntry(string Key, GgufValue Value);

/// <summary>A tensor info. Dims are ggml's ne (ne[0] fastest = row length). Offset is relative to the data section.</summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dims, long Offset, long ByteSize)
{
    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A GGUF v2/v3 file, memory-mapped; tensor data is never copied.</summary>
public sealed unsafe class GgufFile : IDisposable
{
    public static GgufFile Open(string path) => throw new NotImplementedException();
    public string Path => throw new NotImplementedException();
    public uint Version => throw new NotImplementedException();
    public uint Alignment => throw new NotImplementedException();
    public long DataOffset => throw new NotImplementedException();
    public IReadOnlyList<GgufMetadataEntry> Metadata => throw new NotImplementedException();
    public IReadOnlyList<GgufTensorInfo> Tensors => throw new NotImplementedException();
    public bool TryGetValue(string key, out GgufValue value) => throw new NotImplementedException();
    public GgufTensorInfo? FindTensor(string name) => throw new NotImplementedException();
    /// <summary>Pointer to the tensor's first byte inside the mapping; valid until Dispose.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor) => throw new NotImplementedException();
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo tensor) => throw new NotImplementedException();
    public void Dispose() { }
}
