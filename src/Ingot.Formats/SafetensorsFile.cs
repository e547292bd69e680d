using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Ingot.Formats;

public sealed record SafetensorsTensor(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteSize => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A .safetensors file: u64 LE header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}},
/// then the data (offsets relative to 8 + N). Everything is validated on open; data is read on demand.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private const long MaxHeader = 100 << 20;
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafetensorsTensor> _byName;

    public string Path { get; }
    public long DataOffset { get; }
    public IReadOnlyList<SafetensorsTensor> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static int DTypeSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => -1,
    };

    private SafetensorsFile(string path, SafeFileHandle handle, long dataOffset, List<SafetensorsTensor> tensors, Dictionary<string, string> meta)
    {
        Path = path;
        _handle = handle;
        DataOffset = dataOffset;
        Tensors = tensors;
        Metadata = meta;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public SafetensorsTensor? Find(string name) => _byName.GetValueOrDefault(name);

    public static SafetensorsFile Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> head = stackalloc byte[8];
            if (length < 8 || RandomAccess.Read(handle, head, 0) != 8)
                throw new InvalidModelFileException(path, "header length", 0, $"file is {length} bytes, too short for a safetensors header");
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (n < 2 || n > (ulong)(length - 8) || n > MaxHeader)
                throw new InvalidModelFileException(path, "header length", 0, $"header length {n} is invalid for a {length}-byte file");
            var json = new byte[n];
            if (RandomAccess.Read(handle, json, 8) != (int)n) throw new InvalidModelFileException(path, "header", 8, "short read");
            long dataOffset = 8 + (long)n;
            long dataLen = length - dataOffset;
            var tensors = new List<SafetensorsTensor>();
            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            // JsonDocument decodes strings lazily: invalid UTF-8 in a name would throw InvalidOperationException later
            // (found by fuzzing), so the header is checked whole first.
            if (!System.Text.Unicode.Utf8.IsValid(json)) throw new InvalidModelFileException(path, "header JSON", 8, "not valid UTF-8");
            JsonDocument doc;
            try { doc = JsonDocument.Parse(json); }
            catch (JsonException e) { throw new InvalidModelFileException(path, "header JSON", 8 + (e.BytePositionInLine ?? 0), e.Message.Split('\n')[0]); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidModelFileException(path, "header JSON", 8, "must be an object");
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Name == "__metadata__")
                    {
                        if (p.Value.ValueKind == JsonValueKind.Object)
                            foreach (var m in p.Value.EnumerateObject()) meta[m.Name] = m.Value.ToString();
                        continue;
                    }
                    string field = $"tensor '{p.Name}'";
                    InvalidModelFileException Bad(string problem) => new(path, field, 8, problem);
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad("entry is not an object");
                    if (!p.Value.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String) throw Bad("missing dtype");
                    string dtype = dt.GetString()!;
                    int es = DTypeSize(dtype);
                    if (es < 0) throw Bad($"unknown dtype '{dtype}'");
                    if (!p.Value.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array) throw Bad("missing shape");
                    var shape = new List<long>();
                    long count = 1;
                    foreach (var d in sh.EnumerateArray())
                    {
                        if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0) throw Bad("shape entries must be non-negative integers");
                        if (v != 0 && count > long.MaxValue / v / es) throw Bad("shape overflows");
                        count *= v;
                        shape.Add(v);
                    }
                    if (!p.Value.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
                        throw Bad("data_offsets must be [begin, end]");
                    if (off[0].ValueKind != JsonValueKind.Number || off[1].ValueKind != JsonValueKind.Number
                        || !off[0].TryGetInt64(out long b) || !off[1].TryGetInt64(out long e) || b < 0 || e < b)
                        throw Bad("data_offsets must be 0 <= begin <= end");
                    if (e > dataLen) throw new InvalidModelFileException(path, field + " data_offsets", dataOffset + b, $"end {e} lies beyond the {dataLen} data bytes (truncated?)");
                    if (e - b != count * es) throw Bad($"{e - b} bytes for shape [{string.Join(", ", shape)}] of {dtype} (expected {count * es})");
                    tensors.Add(new SafetensorsTensor(p.Name, dtype, [.. shape], b, e));
                }
            }
            return new SafetensorsFile(path, handle, dataOffset, tensors, meta);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads the tensor's raw bytes (little-endian, row-major as stored).</summary>
    public byte[] ReadBytes(SafetensorsTensor t)
    {
        var buf = new byte[checked((int)t.ByteSize)];
        ReadInto(t, 0, buf);
        return buf;
    }

    /// <summary>Reads bytes [offset, offset + dst.Length) of a tensor.</summary>
    public void ReadInto(SafetensorsTensor t, long offset, Span<byte> dst)
    {
        if (offset < 0 || offset + dst.Length > t.ByteSize) throw new ArgumentOutOfRangeException(nameof(offset));
        long at = DataOffset + t.Begin + offset;
        while (dst.Length > 0)
        {
            int n = RandomAccess.Read(_handle, dst, at);
            if (n <= 0) throw new InvalidModelFileException(Path, $"tensor '{t.Name}'", at, "unexpected end of file");
            dst = dst[n..];
            at += n;
        }
    }

    /// <summary>The tensor as float32 (F32, F16 and BF16 are converted).</summary>
    public float[] ReadFloats(SafetensorsTensor t)
    {
        byte[] raw = ReadBytes(t);
        var r = new float[t.ElementCount];
        switch (t.DType)
        {
            case "F32": for (int i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)); break;
            case "F16": for (int i = 0; i < r.Length; i++) r[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan(i * 2)); break;
            case "BF16": for (int i = 0; i < r.Length; i++) r[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2)) << 16); break;
            default: throw new NotSupportedException($"{Path}: tensor '{t.Name}' has dtype {t.DType}; only F32, F16 and BF16 are supported");
        }
        return r;
    }

    public void Dispose() => _handle.Dispose();
}
