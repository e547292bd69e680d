using System.Buffers.Binary;
using System.Text;
using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>Writer round trips and hostile input: every malformed file must give InvalidModelFileException, nothing else.</summary>
public class GgufCorruptionTests
{
    private static readonly string Tmp = Shared.TempDir("gguf");

    /// <summary>A small file with metadata of all 13 value types (nested arrays, string arrays) and tensors of 3 types.</summary>
    internal static GgufWriter BuildSample(uint alignment = 32, uint version = 3)
    {
        var w = new GgufWriter(alignment, version);
        w.Set("general.architecture", "llama");
        w.Set("t.u8", GgufValue.FromUInt8(200));
        w.Set("t.i8", GgufValue.FromInt8(-100));
        w.Set("t.u16", GgufValue.FromUInt16(60000));
        w.Set("t.i16", GgufValue.FromInt16(-30000));
        w.Set("t.u32", 4_000_000_000u);
        w.Set("t.i32", -2_000_000_000);
        w.Set("t.f32", 3.25f);
        w.Set("t.bool", true);
        w.Set("t.str", "héllo ▁world 🙂");
        w.Set("t.u64", ulong.MaxValue - 5);
        w.Set("t.i64", long.MinValue + 7);
        w.Set("t.f64", Math.PI);
        w.Set("t.arr.str", new[] { "<unk>", "", "a b", "✓" });
        w.Set("t.arr.f32", new[] { 1.5f, -0f, float.NaN, float.PositiveInfinity });
        w.Set("t.arr.i32", new[] { 1, -2, 3 });
        w.Set("t.arr.bool", new[] { true, false, true });
        w.Set("t.arr.u8", new byte[] { 1, 2, 255 });
        w.Set("t.arr.empty", Array.Empty<ulong>());
        w.Set("t.arr.nested", new[] { GgufValue.FromArray(new[] { "x", "y" }), GgufValue.FromArray(new[] { 1.0, 2.0 }), GgufValue.FromArray(new[] { GgufValue.FromArray(new short[] { 7 }) }) });
        var rng = new Random(1);
        var f32 = new float[8 * 3];
        for (int i = 0; i < f32.Length; i++) f32[i] = (float)rng.NextDouble();
        w.AddTensor("a.weight", [8, 3], f32);
        var q8 = new byte[34 * 2];
        rng.NextBytes(q8);
        w.AddTensor("b.weight", GgmlType.Q8_0, [32, 2], q8);
        var f16 = new byte[2 * 5];
        rng.NextBytes(f16);
        w.AddTensor("c.weight", GgmlType.F16, [5], f16);
        return w;
    }

    private static string WriteSample(string name, uint alignment = 32, uint version = 3)
    {
        string p = System.IO.Path.Combine(Tmp, name);
        BuildSample(alignment, version).Write(p);
        return p;
    }

    [Theory]
    [InlineData(32u, 3u)]
    [InlineData(64u, 3u)]
    [InlineData(8u, 2u)]
    public void WriterRoundTripPreservesMetadataAndBytes(uint alignment, uint version)
    {
        var w = BuildSample(alignment, version);
        string p = System.IO.Path.Combine(Tmp, $"rt-{alignment}-{version}.gguf");
        w.Write(p);
        using var f = GgufFile.Open(p);
        Assert.Equal(version, f.Version);
        Assert.Equal(alignment, f.Alignment);
        var meta = f.Metadata.Where(m => m.Key != "general.alignment").ToList();
        Assert.Equal(w.Metadata.Count, meta.Count);
        for (int i = 0; i < meta.Count; i++)
        {
            Assert.Equal(w.Metadata[i].Key, meta[i].Key);
            AssertSameValue(w.Metadata[i].Value, meta[i].Value);
        }
        Assert.Equal(w.Tensors.Count, f.Tensors.Count);
        for (int i = 0; i < f.Tensors.Count; i++)
        {
            Assert.Equal(w.Tensors[i].Name, f.Tensors[i].Name);
            Assert.Equal(w.Tensors[i].Type, f.Tensors[i].Type);
            Assert.Equal(w.Tensors[i].Dims, f.Tensors[i].Dims);
            Assert.Equal(w.Tensors[i].Offset, f.Tensors[i].Offset);
        }
        // bytes: rebuild the same writer's tensor bytes through a copy writer and compare files byte for byte
        string p2 = System.IO.Path.Combine(Tmp, $"rt2-{alignment}-{version}.gguf");
        var copy = new GgufWriter(alignment, version).CopyMetadata(f);
        foreach (var t in f.Tensors) copy.AddTensor(t.Name, f, t);
        copy.Write(p2);
        Assert.Equal(File.ReadAllBytes(p), File.ReadAllBytes(p2));
        Assert.Equal(0, new FileInfo(p).Length % alignment);
    }

    private static void AssertSameValue(GgufValue a, GgufValue b)
    {
        Assert.Equal(a.Type, b.Type);
        Assert.Equal(a.ElementType, b.ElementType);
        if (a.Value is GgufValue[] na)
        {
            var nb = Assert.IsType<GgufValue[]>(b.Value);
            Assert.Equal(na.Length, nb.Length);
            for (int i = 0; i < na.Length; i++) AssertSameValue(na[i], nb[i]);
        }
        else if (a.Value is float[] fa)
        {
            Assert.Equal(fa.Select(BitConverter.SingleToInt32Bits), ((float[])b.Value).Select(BitConverter.SingleToInt32Bits));
        }
        else if (a.Value is Array aa)
        {
            Assert.Equal(aa.Cast<object>(), ((Array)b.Value).Cast<object>());
        }
        else
        {
            Assert.Equal(a.Value, b.Value);
        }
    }

    [Fact]
    public void CopyOfStoriesIsByteIdentical()
    {
        string src = Shared.File_("models/gguf/stories260K-f32.gguf");
        using var f = GgufFile.Open(src);
        var w = new GgufWriter(f.Alignment, f.Version).CopyMetadata(f);
        foreach (var t in f.Tensors) w.AddTensor(t.Name, f, t);
        string p = System.IO.Path.Combine(Tmp, "stories-copy.gguf");
        w.Write(p);
        Assert.Equal(File.ReadAllBytes(src), File.ReadAllBytes(p));
    }

    private static InvalidModelFileException Bad(byte[] bytes, string name)
    {
        string p = System.IO.Path.Combine(Tmp, name);
        File.WriteAllBytes(p, bytes);
        return Assert.Throws<InvalidModelFileException>(() => { using var _ = GgufFile.Open(p); });
    }

    [Fact]
    public void EveryTruncationOfSmallFileFailsCleanly()
    {
        byte[] full = File.ReadAllBytes(WriteSample("trunc-src.gguf"));
        using (GgufFile.Open(System.IO.Path.Combine(Tmp, "trunc-src.gguf"))) { }
        // The last tensor's padding is not needed: cuts inside it are valid files, everything before must fail.
        using var probe = GgufFile.Open(System.IO.Path.Combine(Tmp, "trunc-src.gguf"));
        var last = probe.Tensors[^1];
        long minimal = probe.DataOffset + last.Offset + last.ByteSize;
        for (int cut = 0; cut < minimal; cut++)
        {
            var ex = Bad(full[..cut], "trunc.gguf");
            Assert.Contains("trunc.gguf", ex.Message);
            Assert.DoesNotContain("\n", ex.Message);
        }
    }

    [Fact]
    public void TruncatedStoriesFailsCleanlyAtManyCuts()
    {
        byte[] full = File.ReadAllBytes(Shared.File_("models/gguf/stories260K-f32.gguf"));
        var cuts = new List<int>();
        for (int c = 0; c < 12000; c += 37) cuts.Add(c);          // through the header and vocab
        for (int c = 12000; c < full.Length - 1; c += 97_001) cuts.Add(c); // through the data
        cuts.Add(full.Length - 1);
        foreach (int cut in cuts) Bad(full[..cut], "stories-trunc.gguf");
    }

    [Fact]
    public void WrongMagicAndVersions()
    {
        byte[] good = File.ReadAllBytes(WriteSample("mv.gguf"));
        var b = (byte[])good.Clone();
        b[0] = (byte)'X';
        Assert.Contains("magic", Bad(b, "magic.gguf").Message);
        Assert.Equal(0, Bad(b, "magic.gguf").Offset);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 1);
        var ex = Bad(b, "v1.gguf");
        Assert.Contains("version 1", ex.Message);
        Assert.Equal(4, ex.Offset);

        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 4);
        Assert.Contains("version", Bad(b, "v4.gguf").Field);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 3);
        Assert.Contains("big-endian", Bad(b, "be.gguf").Message);
        Assert.Contains("too short", Bad([], "empty.gguf").Message);
    }

    [Fact]
    public void CorruptedCounts()
    {
        byte[] good = File.ReadAllBytes(WriteSample("cc.gguf"));
        var b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), ulong.MaxValue);
        Assert.Equal("tensor_count", Bad(b, "tc.gguf").Field);
        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), 1UL << 40);
        Assert.Equal("metadata_kv_count", Bad(b, "kc.gguf").Field);
        // one more kv than present: the tensor infos are read as a kv and fail somewhere, cleanly
        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)) + 1);
        Bad(b, "kc1.gguf");
        // one more tensor than present
        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 4);
        Bad(b, "tc1.gguf");
    }

    private static int Find(byte[] hay, string s, int from = 0)
    {
        byte[] needle = Encoding.UTF8.GetBytes(s);
        int i = hay.AsSpan(from).IndexOf(needle);
        Assert.True(i >= 0, $"'{s}' not found");
        return from + i;
    }

    [Fact]
    public void CorruptedMetadata()
    {
        byte[] good = File.ReadAllBytes(WriteSample("cm.gguf"));
        // key string length huge
        var b = (byte[])good.Clone();
        int key = Find(b, "general.architecture");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(key - 8), 1UL << 50);
        var ex = Bad(b, "keylen.gguf");
        Assert.Equal(key - 8, ex.Offset);
        Assert.Contains("metadata[0] key", ex.Field);
        // unknown value type id
        b = (byte[])good.Clone();
        int t = Find(b, "t.u32") + 5;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(t), 13);
        ex = Bad(b, "vtype.gguf");
        Assert.Equal("metadata key 't.u32' type", ex.Field);
        Assert.Equal(t, ex.Offset);
        // string value length beyond the file
        b = (byte[])good.Clone();
        int sv = Find(b, "t.str") + 5 + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(sv), (ulong)b.Length);
        Assert.Contains("t.str", Bad(b, "slen.gguf").Field);
        // array length too large
        b = (byte[])good.Clone();
        int al = Find(b, "t.arr.i32") + 9 + 4 + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(al), 1UL << 33);
        ex = Bad(b, "alen.gguf");
        Assert.Equal(al, ex.Offset);
        Assert.Contains("t.arr.i32", ex.Field);
        // array element type unknown
        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(al - 4), 77);
        Assert.Contains("element type", Bad(b, "aet.gguf").Field);
        // bool not 0/1
        b = (byte[])good.Clone();
        b[Find(b, "t.bool") + 6 + 4] = 2;
        Assert.Contains("t.bool", Bad(b, "bool.gguf").Field);
        // duplicate key
        b = (byte[])good.Clone();
        int k2 = Find(b, "t.i16");
        Encoding.ASCII.GetBytes("t.u16").CopyTo(b, k2);
        Assert.Contains("duplicate", Bad(b, "dup.gguf").Message);
    }

    [Fact]
    public void BadAlignmentKey()
    {
        var w2 = new GgufWriter(64);
        w2.AddTensor("x", [4], new float[4]);
        string p = System.IO.Path.Combine(Tmp, "align-bad.gguf");
        w2.Write(p);
        byte[] b = File.ReadAllBytes(p);
        int at = Find(b, "general.alignment") + 17 + 4;
        var b48 = (byte[])b.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b48.AsSpan(at), 48);
        var ex = Bad(b48, "align48.gguf");
        Assert.Contains("power of two", ex.Message);
        Assert.Equal("metadata key 'general.alignment'", ex.Field);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at - 4), (uint)GgufValueType.Float32);
        Assert.Contains("expected an unsigned integer", Bad(b, "alignf.gguf").Message);
    }

    [Fact]
    public void CorruptedTensorInfos()
    {
        byte[] good = File.ReadAllBytes(WriteSample("ct.gguf"));
        int name = Find(good, "b.weight", Find(good, "t.arr.nested"));
        int nDims = name + 8, ne0 = nDims + 4, ne1 = ne0 + 8, type = ne1 + 8, off = type + 4;

        var b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(nDims), 5);
        var ex = Bad(b, "ndims.gguf");
        Assert.Equal("tensor[1] 'b.weight' n_dims", ex.Field);
        Assert.Equal(nDims, ex.Offset);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(ne1), ulong.MaxValue);
        Assert.Contains("negative", Bad(b, "negdim.gguf").Message);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(ne0), 1L << 40);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(ne1), 1L << 40);
        Assert.Contains("overflow", Bad(b, "ovf.gguf").Message);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(type), 4); // retired id
        ex = Bad(b, "ttype.gguf");
        Assert.Equal("tensor[1] 'b.weight' type", ex.Field);
        Assert.Equal(type, ex.Offset);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(ne0), 33); // not a multiple of the Q8_0 block
        Assert.Contains("block size", Bad(b, "block.gguf").Message);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(off), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(off)) + 4);
        ex = Bad(b, "misaligned.gguf");
        Assert.Equal("tensor[1] 'b.weight' offset", ex.Field);
        Assert.Contains("alignment", ex.Message);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(off), 1UL << 20);
        ex = Bad(b, "beyond.gguf");
        Assert.Equal("tensor[1] 'b.weight' offset", ex.Field);
        Assert.Equal(name - 8, ex.Offset);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(ne1), 1000); // size beyond the file
        Assert.Contains("beyond the end", Bad(b, "big.gguf").Message);

        b = (byte[])good.Clone();
        Encoding.ASCII.GetBytes("a.weight").CopyTo(b, name);
        Assert.Contains("duplicate", Bad(b, "duptensor.gguf").Message);
    }

    [Fact]
    public void RandomByteFlipsNeverThrowAnythingElse()
    {
        byte[] good = File.ReadAllBytes(WriteSample("fuzz.gguf"));
        var rng = new Random(42);
        string p = System.IO.Path.Combine(Tmp, "fuzz-x.gguf");
        using var probe = GgufFile.Open(System.IO.Path.Combine(Tmp, "fuzz.gguf"));
        int header = (int)probe.DataOffset;
        for (int iter = 0; iter < 400; iter++)
        {
            var b = (byte[])good.Clone();
            int flips = 1 + rng.Next(3);
            for (int k = 0; k < flips; k++) b[rng.Next(header)] = (byte)rng.Next(256);
            File.WriteAllBytes(p, b);
            try { using var f = GgufFile.Open(p); _ = f.Tensors.Sum(t => t.ByteSize); }
            catch (InvalidModelFileException) { }
        }
    }

    [Fact]
    public void WriterRejectsWrongSizes()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.Q8_0, [33], new byte[34]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("y", GgmlType.F16, [4], new byte[7]));
        w.AddTensor("z", GgmlType.F32, [4], s => s.Write(new byte[12]));
        Assert.Throws<InvalidOperationException>(() => w.Write(new MemoryStream()));
        Assert.Throws<ArgumentException>(() => w.Set("k", new GgufValue(GgufValueType.UInt32, GgufValueType.UInt32, 5)));
    }
}
