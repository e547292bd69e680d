using System.Buffers.Binary;
using System.Text;

namespace Ingot.Formats;

/// <summary>
/// Builds a GGUF (v3 by default) file: metadata of every value type (nested arrays included) and tensors at
/// aligned offsets. Tensor data is produced while writing (a byte buffer, a mapped source tensor, or a callback
/// that streams exactly the tensor's bytes), so a large model never has to be in memory at once.
/// The layout is deterministic: metadata and tensors in insertion order, zero padding.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<GgufMetadataEntry> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record PendingTensor(GgufTensorInfo Info, Action<Stream> Write);

    public GgufWriter(uint alignment = GgufFile.DefaultAlignment, uint version = 3)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(alignment), "alignment must be a power of two");
        if (version is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(version), "GGUF version 2 or 3");
        Alignment = alignment;
        Version = version;
    }

    public uint Alignment { get; }
    public uint Version { get; }
    public IReadOnlyList<GgufMetadataEntry> Metadata => _metadata;
    /// <summary>Tensor infos with the offsets they will have in the file.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors.Select(t => t.Info).ToList();

    /// <summary>Adds or replaces (keeping its position) a metadata entry.</summary>
    public GgufWriter Set(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        Validate(key, value, 0);
        int i = _metadata.FindIndex(e => e.Key == key);
        if (i >= 0) _metadata[i] = new GgufMetadataEntry(key, value);
        else _metadata.Add(new GgufMetadataEntry(key, value));
        return this;
    }

    public bool Remove(string key) => _metadata.RemoveAll(e => e.Key == key) > 0;

    public GgufWriter Set(string key, string value) => Set(key, GgufValue.FromString(value));
    public GgufWriter Set(string key, uint value) => Set(key, GgufValue.FromUInt32(value));
    public GgufWriter Set(string key, int value) => Set(key, GgufValue.FromInt32(value));
    public GgufWriter Set(string key, float value) => Set(key, GgufValue.FromFloat32(value));
    public GgufWriter Set(string key, bool value) => Set(key, GgufValue.FromBool(value));
    public GgufWriter Set(string key, ulong value) => Set(key, GgufValue.FromUInt64(value));
    public GgufWriter Set(string key, long value) => Set(key, GgufValue.FromInt64(value));
    public GgufWriter Set(string key, double value) => Set(key, GgufValue.FromFloat64(value));
    public GgufWriter Set(string key, Array values) => Set(key, GgufValue.FromArray(values));

    /// <summary>Copies every metadata entry of <paramref name="source"/> (except general.alignment, which the writer owns) that passes the filter.</summary>
    public GgufWriter CopyMetadata(GgufFile source, Func<string, bool>? include = null)
    {
        foreach (var e in source.Metadata)
            if (e.Key != "general.alignment" && (include?.Invoke(e.Key) ?? true)) Set(e.Key, e.Value);
        return this;
    }

    private static void Validate(string key, GgufValue v, int depth)
    {
        if (depth > 16) throw new ArgumentException($"metadata {key}: arrays nested too deeply");
        if (v.Type == GgufValueType.Array)
        {
            if (v.Value is not Array arr || arr.GetType().GetElementType() != GgufValue.ClrType(v.ElementType))
                throw new ArgumentException($"metadata {key}: array value must be {GgufValue.ClrType(v.ElementType).Name}[] for element type {v.ElementType}");
            if (v.ElementType == GgufValueType.Array)
                foreach (GgufValue inner in (GgufValue[])arr)
                {
                    if (inner is null || inner.Type != GgufValueType.Array) throw new ArgumentException($"metadata {key}: nested array elements must be arrays");
                    Validate(key, inner, depth + 1);
                }
            if (v.ElementType == GgufValueType.String && ((string[])arr).Any(s => s is null))
                throw new ArgumentException($"metadata {key}: null string in array");
        }
        else if (v.Type != v.ElementType || v.Value?.GetType() != GgufValue.ClrType(v.Type))
        {
            throw new ArgumentException($"metadata {key}: value of type {v.Value?.GetType().Name ?? "null"} does not match {v.Type}");
        }
    }

    private long NextOffset()
    {
        if (_tensors.Count == 0) return 0;
        var last = _tensors[^1].Info;
        return Align(last.Offset + last.ByteSize, Alignment);
    }

    /// <summary>Expected byte size of a tensor; throws if the row is not a whole number of blocks or the shape is invalid.</summary>
    public static long TensorByteSize(GgmlType type, IReadOnlyList<long> dims)
    {
        if (dims.Count is 0 or > 4) throw new ArgumentException("a tensor has 1 to 4 dimensions");
        if (dims.Any(d => d < 0)) throw new ArgumentException("negative dimension");
        long rows = 1;
        for (int i = 1; i < dims.Count; i++) rows = checked(rows * dims[i]);
        long rowBytes = GgmlTypeTraits.RowBytes(type, dims[0]);
        if (rowBytes < 0) throw new ArgumentException($"row length {dims[0]} is not a multiple of the {GgmlTypeTraits.Name(type)} block size {GgmlTypeTraits.BlockSize(type)}");
        return checked(rowBytes * rows);
    }

    /// <summary>Adds a tensor whose bytes are written by <paramref name="writeData"/> at write time; it must write exactly the tensor's byte size.</summary>
    public GgufTensorInfo AddTensor(string name, GgmlType type, long[] dims, Action<Stream> writeData)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(writeData);
        if (!_tensorNames.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'");
        var info = new GgufTensorInfo(name, type, (long[])dims.Clone(), NextOffset(), TensorByteSize(type, dims));
        _tensors.Add(new PendingTensor(info, writeData));
        return info;
    }

    public GgufTensorInfo AddTensor(string name, GgmlType type, long[] dims, ReadOnlyMemory<byte> data)
    {
        long size = TensorByteSize(type, dims);
        if (data.Length != size) throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, {size} expected for {GgmlTypeTraits.Name(type)} [{string.Join(", ", dims)}]");
        return AddTensor(name, type, dims, s => s.Write(data.Span));
    }

    /// <summary>An F32 tensor from floats (copied at write time from the array, which must not change until then).</summary>
    public GgufTensorInfo AddTensor(string name, long[] dims, float[] data)
    {
        long size = TensorByteSize(GgmlType.F32, dims);
        if ((long)data.Length * 4 != size) throw new ArgumentException($"tensor '{name}': {data.Length} floats given, {size / 4} expected");
        return AddTensor(name, GgmlType.F32, dims, s => WriteFloats(s, data));
    }

    /// <summary>Copies a tensor's bytes straight out of a mapped file at write time (the file must stay open until then).</summary>
    public unsafe GgufTensorInfo AddTensor(string name, GgufFile source, GgufTensorInfo tensor) =>
        AddTensor(name, tensor.Type, tensor.Dims, s =>
        {
            byte* p = source.GetTensorPointer(tensor);
            for (long done = 0; done < tensor.ByteSize;)
            {
                int n = (int)Math.Min(1 << 24, tensor.ByteSize - done);
                s.Write(new ReadOnlySpan<byte>(p + done, n));
                done += n;
            }
        });

    /// <summary>Writes float32 values little-endian.</summary>
    public static void WriteFloats(Stream s, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> b = stackalloc byte[4];
        foreach (float f in values) { BinaryPrimitives.WriteSingleLittleEndian(b, f); s.Write(b); }
    }

    public void Write(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(fs);
    }

    public void Write(Stream output)
    {
        var s = new CountingStream(output);
        var metadata = _metadata.Where(e => e.Key != "general.alignment").ToList();
        if (Alignment != GgufFile.DefaultAlignment)
        {
            int i = _metadata.FindIndex(e => e.Key == "general.alignment");
            var entry = new GgufMetadataEntry("general.alignment", GgufValue.FromUInt32(Alignment));
            if (i >= 0) metadata.Insert(Math.Min(i, metadata.Count), entry); else metadata.Add(entry);
        }

        var h = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        h.Write(GgufFile.Magic);
        h.Write(Version);
        h.Write((ulong)_tensors.Count);
        h.Write((ulong)metadata.Count);
        foreach (var e in metadata)
        {
            WriteString(h, e.Key);
            h.Write((uint)e.Value.Type);
            WriteValue(h, e.Value);
        }
        foreach (var t in _tensors)
        {
            WriteString(h, t.Info.Name);
            h.Write((uint)t.Info.Dims.Length);
            foreach (long d in t.Info.Dims) h.Write((ulong)d);
            h.Write((uint)t.Info.Type);
            h.Write((ulong)t.Info.Offset);
        }
        h.Flush();
        Pad(s, Alignment);
        long dataStart = s.Count;
        foreach (var t in _tensors)
        {
            long start = s.Count;
            if (start - dataStart != t.Info.Offset) throw new InvalidOperationException($"tensor '{t.Info.Name}': writer position {start - dataStart} != offset {t.Info.Offset}");
            t.Write(s);
            long written = s.Count - start;
            if (written != t.Info.ByteSize)
                throw new InvalidOperationException($"tensor '{t.Info.Name}': {written} bytes written, {t.Info.ByteSize} expected");
            Pad(s, Alignment); // every tensor is padded, the last one too (as gguf-py and llama.cpp write)
        }
        s.Flush();
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        if (v.Type != GgufValueType.Array) { WriteScalar(w, v.Value); return; }
        var arr = (Array)v.Value;
        w.Write((uint)v.ElementType);
        w.Write((ulong)arr.Length);
        switch (arr)
        {
            case GgufValue[] nested: foreach (var e in nested) WriteValue(w, e); break;
            case string[] ss: foreach (var e in ss) WriteString(w, e); break;
            case bool[] bs: foreach (var e in bs) w.Write(e ? (byte)1 : (byte)0); break;
            default: foreach (object e in arr) WriteScalar(w, e); break;
        }
    }

    private static void WriteScalar(BinaryWriter w, object value)
    {
        switch (value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write(v ? (byte)1 : (byte)0); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            default: throw new ArgumentException($"unsupported metadata value {value.GetType().Name}");
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }

    private static long Align(long x, uint a) => (x + a - 1) / a * a;

    private static void Pad(CountingStream s, uint alignment)
    {
        long pad = Align(s.Count, alignment) - s.Count;
        Span<byte> zeros = stackalloc byte[64];
        zeros.Clear();
        while (pad > 0) { int n = (int)Math.Min(pad, zeros.Length); s.Write(zeros[..n]); pad -= n; }
    }

    /// <summary>Write-only pass-through that counts bytes (the output stream need not be seekable).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Count;
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { inner.Write(buffer, offset, count); Count += count; }
        public override void Write(ReadOnlySpan<byte> buffer) { inner.Write(buffer); Count += buffer.Length; }
        public override void WriteByte(byte value) { inner.WriteByte(value); Count++; }
    }
}
