using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Ingot.TestSupport;

/// <summary>One tensor of a safetensors file: dtype ("F32", "F16", "BF16"), row-major shape, little-endian bytes.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, byte[] Data);

/// <summary>
/// Writes a .safetensors file: u64 header length, the JSON header ({"__metadata__": {"format": "pt"}, name: {dtype,
/// shape, data_offsets}}, space-padded to a multiple of 8 as the reference writer does), then the data back to back
/// in the order given.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<SafetensorsEntry> tensors)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var t in list)
        {
            long elementSize = t.DType switch { "F32" => 4, "F16" or "BF16" => 2, _ => throw new ArgumentException($"dtype {t.DType}") };
            if (t.Data.Length != t.Shape.Aggregate(1L, (a, b) => a * b) * elementSize)
                throw new ArgumentException($"{t.Name}: {t.Data.Length} bytes for {t.DType} [{string.Join(", ", t.Shape)}]");
            header[t.Name] = new { dtype = t.DType, shape = t.Shape, data_offsets = new[] { offset, offset + t.Data.Length } };
            offset += t.Data.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var fs = File.Create(path);
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(n, (ulong)padded);
        fs.Write(n);
        fs.Write(json);
        for (int i = json.Length; i < padded; i++) fs.WriteByte((byte)' ');
        foreach (var t in list) fs.Write(t.Data);
    }
}
