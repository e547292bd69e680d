using System.Text;
using Ingot.Formats;

namespace Ingot.Quants.Tests;

/// <summary>
/// A deliberately tiny GGUF v3 reader for these tests only (trusted golden files; no bounds hardening), so the
/// quantizer can be checked against llama-quantize's outputs independently of Ingot.Formats.
/// </summary>
internal sealed class MiniGguf
{
    public sealed record Tensor(string Name, GgmlType Type, long[] Dims, long Offset);

    public Dictionary<string, object> Metadata { get; } = new(StringComparer.Ordinal);
    public List<string> MetadataOrder { get; } = [];
    public List<Tensor> Tensors { get; } = [];
    public byte[] Bytes { get; }
    public long DataOffset { get; }

    public MiniGguf(string path)
    {
        Bytes = File.ReadAllBytes(path);
        using var r = new BinaryReader(new MemoryStream(Bytes));
        if (r.ReadUInt32() != 0x46554747) throw new InvalidDataException("not GGUF");
        r.ReadUInt32();
        long nt = r.ReadInt64(), nkv = r.ReadInt64();
        for (long i = 0; i < nkv; i++)
        {
            string key = Str(r);
            Metadata[key] = Value(r, r.ReadUInt32());
            MetadataOrder.Add(key);
        }
        for (long i = 0; i < nt; i++)
        {
            string name = Str(r);
            uint nd = r.ReadUInt32();
            var dims = new long[nd];
            for (int d = 0; d < nd; d++) dims[d] = r.ReadInt64();
            Tensors.Add(new Tensor(name, (GgmlType)r.ReadUInt32(), dims, r.ReadInt64()));
        }
        long align = Metadata.TryGetValue("general.alignment", out var a) ? Convert.ToInt64(a) : 32;
        DataOffset = (r.BaseStream.Position + align - 1) / align * align;
    }

    public ReadOnlySpan<byte> TensorBytes(Tensor t)
    {
        long n = t.Dims.Aggregate(1L, (x, y) => x * y);
        long size = GgmlTypeTraits.RowBytes(t.Type, t.Dims[0]) * (n / t.Dims[0]);
        return Bytes.AsSpan((int)(DataOffset + t.Offset), (int)size);
    }

    public int Int(string key) => Convert.ToInt32(Metadata[key]);

    private static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadInt64()));

    private static object Value(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(), 1 => r.ReadSByte(), 2 => r.ReadUInt16(), 3 => r.ReadInt16(), 4 => r.ReadUInt32(), 5 => r.ReadInt32(),
        6 => r.ReadSingle(), 7 => r.ReadByte() != 0, 8 => Str(r), 10 => r.ReadUInt64(), 11 => r.ReadInt64(), 12 => r.ReadDouble(),
        9 => Array(r),
        _ => throw new InvalidDataException($"gguf value type {type}"),
    };

    private static object Array(BinaryReader r)
    {
        uint et = r.ReadUInt32();
        long n = r.ReadInt64();
        var items = new object[n];
        for (long i = 0; i < n; i++) items[i] = Value(r, et);
        return items;
    }
}
