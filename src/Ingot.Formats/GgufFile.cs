using System.Buffers.Binary;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Ingot.Formats;

/// <summary>
/// A GGUF v2/v3 file, memory-mapped (or, asked to, read into memory in 2 MB pages: <see cref="InMemory"/>). Every count, length, type id, dimension and
/// offset is validated when the file is opened, so a file that opens can be used without further checks:
/// every tensor lies inside the file, at an aligned offset, with a size that matches its type and shape.
/// Layout: magic "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv pairs, tensor infos, padding to
/// general.alignment (default 32), data section.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const uint DefaultAlignment = 32;
    private const int MaxArrayNesting = 16;
    /// <summary>Largest metadata array accepted (real vocabularies/merge lists are &lt; 1M); bounds what a corrupt length can make us allocate.</summary>
    private const int MaxArrayLength = 1 << 26;

    private MemoryMappedFile? _mmf;
    private MemoryMappedViewAccessor? _view;
    private byte* _base;            // start of the file in the mapping or the copy (null for an empty mapping)
    private void* _copyMapping;     // LargePages' mapping of the copy, if any
    private nuint _copyMappedBytes;
    private bool _copied;
    private readonly long _length;
    private readonly List<GgufMetadataEntry> _metadata;
    private readonly Dictionary<string, (GgufValue Value, long Offset)> _byKey;
    private readonly List<GgufTensorInfo> _tensors;
    private readonly Dictionary<string, GgufTensorInfo> _tensorByName;

    private GgufFile(string path, MemoryMappedFile? mmf, MemoryMappedViewAccessor? view, byte* basePtr, long length)
    {
        Path = path;
        _mmf = mmf;
        _view = view;
        _base = basePtr;
        _length = length;
        _metadata = [];
        _byKey = new(StringComparer.Ordinal);
        _tensors = [];
        _tensorByName = new(StringComparer.Ordinal);
    }

    /// <summary>Opens and validates a GGUF file. Throws <see cref="InvalidModelFileException"/> for any malformed content.</summary>
    public static GgufFile Open(string path) => Open(path, 0, -1);

    /// <summary>
    /// <see cref="Open(string)"/>; with <paramref name="inMemory"/> the file is then read into memory in 2 MB pages where
    /// that is worthwhile (<see cref="LargePages.Worthwhile"/>) and the mapping let go.
    /// </summary>
    public static GgufFile Open(string path, bool inMemory) => Open(path, 0, -1, inMemory);

    /// <summary>Whether the file was read into memory (2 MB pages) rather than left mapped.</summary>
    public bool InMemory => _copied;

    /// <summary>
    /// Opens the GGUF held in bytes [<paramref name="offset"/>, + <paramref name="length"/>) of a file (weights appended to
    /// an executable, <see cref="AppendedWeights"/>; length -1: to the end). Offsets in errors count from the GGUF's start.
    /// </summary>
    public static GgufFile Open(string path, long offset, long length, bool inMemory = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        if (offset < 0 || offset > fs.Length || length > fs.Length - offset)
            throw new InvalidModelFileException(path, "embedded GGUF", offset, $"bytes {offset}..+{length} lie outside the {fs.Length}-byte file");
        if (length < 0) length = fs.Length - offset;
        if (length < 4)
            throw new InvalidModelFileException(path, "magic", 0, $"file is {length} bytes, too short for a GGUF header");
        var mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        MemoryMappedViewAccessor? view = null;
        GgufFile? file = null;
        try
        {
            view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset + offset;
            file = new GgufFile(path, mmf, view, p, length);
            file.Parse();
            if (inMemory && LargePages.Worthwhile(length))
            {
                // validated on the mapping; the same bytes at the same offsets in the copy
                byte* copy = LargePages.Read(fs.SafeFileHandle, offset, length, out file._copyMapping, out file._copyMappedBytes);
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
                mmf.Dispose();
                file._view = null;
                file._mmf = null;
                file._base = p = copy;
                file._copied = true;
            }
            Q4_0x16.Open(file, p + file.DataOffset);
            return file;
        }
        catch
        {
            if (file is not null) file.Dispose();
            else { view?.Dispose(); mmf.Dispose(); }
            throw;
        }
    }

    /// <summary>
    /// A GGUF header that is about to be written: the metadata and the tensor table (offsets laid out as the writer
    /// will), without data. Importers read their spec from it with <see cref="GgufSpecReader"/>, so the spec an
    /// import reports is by construction the one its written GGUF gives back. Tensor data access throws.
    /// </summary>
    public static GgufFile FromHeader(string path, IEnumerable<GgufMetadataEntry> metadata, IEnumerable<(string Name, GgmlType Type, long[] Dims)> tensors)
    {
        var file = new GgufFile(path, null, null, null, 0) { Version = 3 };
        foreach (var e in metadata)
        {
            if (file._byKey.ContainsKey(e.Key)) throw new ArgumentException($"duplicate metadata key '{e.Key}'", nameof(metadata));
            file._metadata.Add(e);
            file._byKey.Add(e.Key, (e.Value, -1)); // no file offset yet
        }
        long offset = 0;
        foreach (var (name, type, dims) in tensors)
        {
            long size = GgufWriter.TensorByteSize(type, dims);
            var info = new GgufTensorInfo(name, type, (long[])dims.Clone(), offset, size);
            if (!file._tensorByName.TryAdd(name, info)) throw new ArgumentException($"duplicate tensor name '{name}'", nameof(tensors));
            file._tensors.Add(info);
            offset += (size + DefaultAlignment - 1) / DefaultAlignment * DefaultAlignment;
        }
        return file;
    }

    public string Path { get; }
    public uint Version { get; private set; }
    public uint Alignment { get; private set; } = DefaultAlignment;
    /// <summary>Absolute file offset of the (aligned) data section.</summary>
    public long DataOffset { get; private set; }
    public long FileLength => _length;
    public IReadOnlyList<GgufMetadataEntry> Metadata => _metadata;
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>general.architecture, or null.</summary>
    public string? Architecture => TryGetString("general.architecture", out var s) ? s : null;

    public bool TryGetValue(string key, out GgufValue value)
    {
        if (_byKey.TryGetValue(key, out var e)) { value = e.Value; return true; }
        value = null!;
        return false;
    }

    public bool ContainsKey(string key) => _byKey.ContainsKey(key);

    /// <summary>Absolute byte offset where the key's entry starts (for error messages), or null.</summary>
    public long? GetMetadataOffset(string key) => _byKey.TryGetValue(key, out var e) && e.Offset >= 0 ? e.Offset : null;

    public GgufTensorInfo? FindTensor(string name) => _tensorByName.GetValueOrDefault(name);

    /// <summary>Pointer to the tensor's first byte inside the mapping; valid until Dispose.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (!_tensorByName.TryGetValue(tensor.Name, out var own) || own.Offset != tensor.Offset || own.ByteSize != tensor.ByteSize)
            throw new ArgumentException($"tensor '{tensor.Name}' does not belong to {Path}", nameof(tensor));
        return _base + DataOffset + tensor.Offset;
    }

    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo tensor)
    {
        byte* p = GetTensorPointer(tensor);
        if (tensor.ByteSize > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{tensor.Name}' is {tensor.ByteSize} bytes, too large for a span; use GetTensorPointer");
        return new ReadOnlySpan<byte>(p, (int)tensor.ByteSize);
    }

    /// <summary>The whole mapped file (for copying); valid until Dispose.</summary>
    public byte* BasePointer { get { ObjectDisposedException.ThrowIf(_base == null, this); return _base; } }

    // ---- convenience getters -------------------------------------------------------------------------------

    private InvalidModelFileException KeyError(string key, string problem) =>
        new(Path, $"metadata key '{key}'", GetMetadataOffset(key), problem);

    private GgufValue Require(string key) =>
        TryGetValue(key, out var v) ? v : throw new InvalidModelFileException(Path, $"metadata key '{key}'", null, "missing");

    public string GetString(string key)
    {
        var v = Require(key);
        return v.Value as string ?? throw KeyError(key, $"expected a string, found {Describe(v)}");
    }

    public string? GetString(string key, string? defaultValue) => TryGetString(key, out var s) ? s : defaultValue;

    public bool TryGetString(string key, out string value)
    {
        if (TryGetValue(key, out var v) && v.Value is string s) { value = s; return true; }
        value = "";
        return false;
    }

    /// <summary>Any integer-typed scalar as a long (uint64 values above long.MaxValue are an error).</summary>
    public long GetInt(string key)
    {
        var v = Require(key);
        return AsInt(key, v) ?? throw KeyError(key, $"expected an integer, found {Describe(v)}");
    }

    public long GetInt(string key, long defaultValue) => TryGetValue(key, out _) ? GetInt(key) : defaultValue;

    public int GetInt32(string key)
    {
        long v = GetInt(key);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw KeyError(key, $"value {v} does not fit in int32");
    }

    public int GetInt32(string key, int defaultValue) => TryGetValue(key, out _) ? GetInt32(key) : defaultValue;

    public bool TryGetInt(string key, out long value)
    {
        if (TryGetValue(key, out var v) && AsInt(key, v) is { } i) { value = i; return true; }
        value = 0;
        return false;
    }

    /// <summary>A float32/float64 (or integer) scalar as a float.</summary>
    public float GetFloat(string key)
    {
        var v = Require(key);
        return AsDouble(v) is { } d ? (float)d : throw KeyError(key, $"expected a number, found {Describe(v)}");
    }

    public float GetFloat(string key, float defaultValue) => TryGetValue(key, out _) ? GetFloat(key) : defaultValue;

    public bool TryGetFloat(string key, out float value)
    {
        if (TryGetValue(key, out var v) && AsDouble(v) is { } d) { value = (float)d; return true; }
        value = 0;
        return false;
    }

    public double GetDouble(string key)
    {
        var v = Require(key);
        return AsDouble(v) ?? throw KeyError(key, $"expected a number, found {Describe(v)}");
    }

    public bool GetBool(string key)
    {
        var v = Require(key);
        return v.Value is bool b ? b : throw KeyError(key, $"expected a bool, found {Describe(v)}");
    }

    public bool GetBool(string key, bool defaultValue) => TryGetValue(key, out _) ? GetBool(key) : defaultValue;

    public bool TryGetBool(string key, out bool value)
    {
        if (TryGetValue(key, out var v) && v.Value is bool b) { value = b; return true; }
        value = false;
        return false;
    }

    /// <summary>
    /// An array as T[]. Exact element type returns the stored array (do not mutate it); numeric arrays convert
    /// to another numeric T (e.g. an int32 token_type array as long[]), checking the range.
    /// </summary>
    public T[] GetArray<T>(string key)
    {
        var v = Require(key);
        return ConvertArray<T>(key, v) ?? throw KeyError(key, $"expected array<{typeof(T).Name}>, found {Describe(v)}");
    }

    public bool TryGetArray<T>(string key, out T[] value)
    {
        if (TryGetValue(key, out var v) && ConvertArray<T>(key, v) is { } a) { value = a; return true; }
        value = [];
        return false;
    }

    private T[]? ConvertArray<T>(string key, GgufValue v)
    {
        if (v.Value is T[] same && v.Value.GetType().GetElementType() == typeof(T)) return same; // exact type (no int[]→uint[] reinterpretation)
        if (v.Value is not Array arr || v.ElementType is GgufValueType.String or GgufValueType.Array or GgufValueType.Bool) return null;
        if (typeof(T) == typeof(string) || typeof(T) == typeof(bool) || typeof(T) == typeof(GgufValue) || typeof(T) == typeof(object)) return null;
        var result = new T[arr.Length];
        try
        {
            for (int i = 0; i < arr.Length; i++)
                result[i] = (T)Convert.ChangeType(arr.GetValue(i)!, typeof(T), CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            throw KeyError(key, $"an element does not fit in {typeof(T).Name}");
        }
        catch (InvalidCastException)
        {
            return null;
        }
        return result;
    }

    private long? AsInt(string key, GgufValue v) => v.Value switch
    {
        byte b => b, sbyte sb => sb, ushort us => us, short s => s, uint ui => ui, int i => i, long l => l,
        ulong ul => ul <= long.MaxValue ? (long)ul : throw KeyError(key, $"value {ul} is too large"),
        _ => null,
    };

    private static double? AsDouble(GgufValue v) => v.Value switch
    {
        float f => f, double d => d, byte b => b, sbyte sb => sb, ushort us => us, short s => s, uint ui => ui,
        int i => i, long l => l, ulong ul => ul,
        _ => null,
    };

    private static string Describe(GgufValue v) => v.IsArray ? $"array<{v.ElementType}>[{v.Count}]" : v.Type.ToString();

    // ---- parsing -------------------------------------------------------------------------------------------

    /// <summary>Bounds-checked little-endian cursor over the mapping; every read names the field it is for.</summary>
    private ref struct Cursor
    {
        public long Pos;
        private readonly byte* _p;
        private readonly long _len;
        private readonly string _path;

        public Cursor(byte* p, long len, string path) { _p = p; _len = len; _path = path; Pos = 0; }

        public readonly long Remaining => _len - Pos;

        public readonly InvalidModelFileException Error(string field, long offset, string problem) => new(_path, field, offset, problem);

        private readonly void Need(long n, string field)
        {
            if (n < 0 || n > _len - Pos)
                throw Error(field, Pos, $"needs {n} bytes but only {_len - Pos} remain (file is {_len} bytes; truncated?)");
        }

        public byte U8(string f) { Need(1, f); return _p[Pos++]; }
        public ushort U16(string f) { Need(2, f); var v = BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_p + Pos, 2)); Pos += 2; return v; }
        public uint U32(string f) { Need(4, f); var v = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_p + Pos, 4)); Pos += 4; return v; }
        public ulong U64(string f) { Need(8, f); var v = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_p + Pos, 8)); Pos += 8; return v; }

        public string Str(string f)
        {
            long at = Pos;
            ulong n = U64(f + " length");
            if (n > (ulong)Remaining)
                throw Error(f, at, $"string length {n} exceeds the {Remaining} bytes left in the file");
            if (n > int.MaxValue) throw Error(f, at, $"string length {n} is too large");
            string s = Encoding.UTF8.GetString(_p + Pos, (int)n);
            Pos += (long)n;
            return s;
        }
    }

    private void Parse()
    {
        var c = new Cursor(_base, _length, Path);
        uint magic = c.U32("magic");
        if (magic != Magic)
        {
            string seen = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(_base, 4)).Replace('\0', '.');
            throw c.Error("magic", 0, $"not a GGUF file (expected \"GGUF\", found 0x{magic:X8} \"{Sanitize(seen)}\")");
        }
        uint version = c.U32("version");
        if (version == 1)
            throw c.Error("version", 4, "GGUF version 1 is not supported (32-bit counts); re-convert the model with a current llama.cpp");
        if (version is not (2 or 3))
        {
            if (BinaryPrimitives.ReverseEndianness(version) is 2 or 3)
                throw c.Error("version", 4, "big-endian GGUF files are not supported");
            throw c.Error("version", 4, $"unsupported GGUF version {version} (2 and 3 are supported)");
        }
        Version = version;

        long tensorCountAt = c.Pos;
        ulong tensorCount = c.U64("tensor_count");
        long kvCountAt = c.Pos;
        ulong kvCount = c.U64("metadata_kv_count");
        // The smallest kv is 8 (key length) + 4 (type) + 1 (u8) bytes; the smallest tensor info 8+4+4+8.
        if (kvCount > (ulong)(c.Remaining / 13))
            throw c.Error("metadata_kv_count", kvCountAt, $"{kvCount} entries cannot fit in the {c.Remaining} bytes that follow");
        if (tensorCount > (ulong)(c.Remaining / 24))
            throw c.Error("tensor_count", tensorCountAt, $"{tensorCount} tensors cannot fit in the {c.Remaining} bytes that follow");

        for (ulong i = 0; i < kvCount; i++)
        {
            long at = c.Pos;
            string key = c.Str($"metadata[{i}] key");
            if (key.Length == 0) throw c.Error($"metadata[{i}] key", at, "empty key");
            string field = $"metadata key '{Sanitize(key)}'";
            if (_byKey.ContainsKey(key)) throw c.Error(field, at, "duplicate key");
            long typeAt = c.Pos;
            uint type = c.U32(field + " type");
            if (type > (uint)GgufValueType.Float64) throw c.Error(field + " type", typeAt, $"unknown value type {type}");
            var value = ReadValue(ref c, (GgufValueType)type, field, 0);
            _metadata.Add(new GgufMetadataEntry(key, value));
            _byKey.Add(key, (value, at));
        }

        if (_byKey.TryGetValue("general.alignment", out var al))
        {
            long? a = al.Value.Value switch { uint u => u, int i => i, ulong ul => ul <= uint.MaxValue ? (long)ul : -1, long l => l, ushort us => us, short s => s, byte b => b, sbyte sb => sb, _ => null };
            if (a is null) throw c.Error("metadata key 'general.alignment'", al.Offset, $"expected an unsigned integer, found {Describe(al.Value)}");
            if (a <= 0 || (a & (a - 1)) != 0 || a > (1 << 30))
                throw c.Error("metadata key 'general.alignment'", al.Offset, $"alignment {a} is not a positive power of two");
            Alignment = (uint)a.Value;
        }

        var infoOffsets = new List<long>(); // grows as infos parse: a corrupt count must not size an allocation
        for (ulong i = 0; i < tensorCount; i++)
        {
            long at = c.Pos;
            infoOffsets.Add(at);
            string name = c.Str($"tensor[{i}] name");
            string field = $"tensor[{i}] '{Sanitize(name)}'";
            if (_tensorByName.ContainsKey(name)) throw c.Error(field + " name", at, "duplicate tensor name");
            long nDimsAt = c.Pos;
            uint nDims = c.U32(field + " n_dims");
            if (nDims is 0 or > 4) throw c.Error(field + " n_dims", nDimsAt, $"n_dims {nDims} is outside 1..4");
            var dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                long dimAt = c.Pos;
                ulong ne = c.U64($"{field} ne[{d}]");
                if (ne > long.MaxValue) throw c.Error($"{field} ne[{d}]", dimAt, $"dimension {ne} is negative as int64");
                dims[d] = (long)ne;
                if (ne != 0 && elements > long.MaxValue / (long)ne)
                    throw c.Error($"{field} ne[{d}]", dimAt, "element count overflows int64");
                elements *= (long)ne;
            }
            long typeAt = c.Pos;
            uint typeId = c.U32(field + " type");
            var type = (GgmlType)typeId;
            if (!GgmlTypeTraits.IsKnown(type)) throw c.Error(field + " type", typeAt, $"unknown ggml type id {typeId}");
            var traits = GgmlTypeTraits.Get(type);
            if (dims[0] % traits.BlockSize != 0)
                throw c.Error(field + " ne[0]", nDimsAt + 4, $"row length {dims[0]} is not a multiple of the {traits.Name} block size {traits.BlockSize}");
            long rows = dims[0] == 0 ? 0 : elements / dims[0];
            long rowBytes = dims[0] / traits.BlockSize * traits.BlockBytes;
            if (rows != 0 && rowBytes > long.MaxValue / rows) throw c.Error(field, nDimsAt, "byte size overflows int64");
            long size = rowBytes * rows;
            long offAt = c.Pos;
            ulong off = c.U64(field + " offset");
            if (off > long.MaxValue) throw c.Error(field + " offset", offAt, $"offset {off} is negative as int64");
            if (off % Alignment != 0) throw c.Error(field + " offset", offAt, $"offset {off} is not a multiple of the alignment {Alignment}");
            var info = new GgufTensorInfo(name, type, dims, (long)off, size);
            _tensors.Add(info);
            _tensorByName.Add(name, info);
        }

        long end = c.Pos;
        DataOffset = (end + Alignment - 1) / Alignment * Alignment;
        if (_tensors.Count > 0 && DataOffset > _length)
            throw c.Error("data section", end, $"data section at {DataOffset} starts beyond the end of the file ({_length} bytes)");
        long dataLen = _length - DataOffset;
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            if (t.Offset > dataLen || t.ByteSize > dataLen - t.Offset)
                throw c.Error($"tensor[{i}] '{Sanitize(t.Name)}' offset", infoOffsets[i],
                    $"data [{DataOffset + t.Offset}, +{t.ByteSize}) lies beyond the end of the file ({_length} bytes; truncated?)");
        }
    }

    private GgufValue ReadValue(ref Cursor c, GgufValueType type, string field, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return new(type, type, c.U8(field));
            case GgufValueType.Int8: return new(type, type, (sbyte)c.U8(field));
            case GgufValueType.UInt16: return new(type, type, c.U16(field));
            case GgufValueType.Int16: return new(type, type, (short)c.U16(field));
            case GgufValueType.UInt32: return new(type, type, c.U32(field));
            case GgufValueType.Int32: return new(type, type, (int)c.U32(field));
            case GgufValueType.Float32: return new(type, type, BitConverter.UInt32BitsToSingle(c.U32(field)));
            case GgufValueType.UInt64: return new(type, type, c.U64(field));
            case GgufValueType.Int64: return new(type, type, (long)c.U64(field));
            case GgufValueType.Float64: return new(type, type, BitConverter.UInt64BitsToDouble(c.U64(field)));
            case GgufValueType.Bool:
            {
                long at = c.Pos;
                byte b = c.U8(field);
                if (b > 1) throw c.Error(field, at, $"bool value {b} is not 0 or 1");
                return new(type, type, b == 1);
            }
            case GgufValueType.String: return new(type, type, c.Str(field));
            case GgufValueType.Array: return ReadArray(ref c, field, depth);
            default: throw c.Error(field, c.Pos - 4, $"unknown value type {(uint)type}");
        }
    }

    private GgufValue ReadArray(ref Cursor c, string field, int depth)
    {
        if (depth >= MaxArrayNesting) throw c.Error(field, c.Pos, $"arrays nested deeper than {MaxArrayNesting}");
        long typeAt = c.Pos;
        uint et = c.U32(field + " element type");
        if (et > (uint)GgufValueType.Float64) throw c.Error(field + " element type", typeAt, $"unknown value type {et}");
        var elementType = (GgufValueType)et;
        long countAt = c.Pos;
        ulong count = c.U64(field + " array length");
        int minSize = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.String or GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
            _ => 12, // nested array: element type + length
        };
        if (count > (ulong)(c.Remaining / minSize) || count > int.MaxValue)
            throw c.Error(field + " array length", countAt, $"{count} elements of {elementType} cannot fit in the {c.Remaining} bytes left");
        if (count > MaxArrayLength)
            throw c.Error(field + " array length", countAt, $"{count} elements exceed the supported maximum of {MaxArrayLength}");
        int n = (int)count;
        string ef = field + "[]";
        Array arr;
        switch (elementType)
        {
            case GgufValueType.UInt8: { var a = new byte[n]; for (int i = 0; i < n; i++) a[i] = c.U8(ef); arr = a; break; }
            case GgufValueType.Int8: { var a = new sbyte[n]; for (int i = 0; i < n; i++) a[i] = (sbyte)c.U8(ef); arr = a; break; }
            case GgufValueType.UInt16: { var a = new ushort[n]; for (int i = 0; i < n; i++) a[i] = c.U16(ef); arr = a; break; }
            case GgufValueType.Int16: { var a = new short[n]; for (int i = 0; i < n; i++) a[i] = (short)c.U16(ef); arr = a; break; }
            case GgufValueType.UInt32: { var a = new uint[n]; for (int i = 0; i < n; i++) a[i] = c.U32(ef); arr = a; break; }
            case GgufValueType.Int32: { var a = new int[n]; for (int i = 0; i < n; i++) a[i] = (int)c.U32(ef); arr = a; break; }
            case GgufValueType.Float32: { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = BitConverter.UInt32BitsToSingle(c.U32(ef)); arr = a; break; }
            case GgufValueType.UInt64: { var a = new ulong[n]; for (int i = 0; i < n; i++) a[i] = c.U64(ef); arr = a; break; }
            case GgufValueType.Int64: { var a = new long[n]; for (int i = 0; i < n; i++) a[i] = (long)c.U64(ef); arr = a; break; }
            case GgufValueType.Float64: { var a = new double[n]; for (int i = 0; i < n; i++) a[i] = BitConverter.UInt64BitsToDouble(c.U64(ef)); arr = a; break; }
            case GgufValueType.Bool:
            {
                var a = new bool[n];
                for (int i = 0; i < n; i++)
                {
                    long at = c.Pos;
                    byte b = c.U8(ef);
                    if (b > 1) throw c.Error($"{field}[{i}]", at, $"bool value {b} is not 0 or 1");
                    a[i] = b == 1;
                }
                arr = a;
                break;
            }
            case GgufValueType.String: { var a = new string[n]; for (int i = 0; i < n; i++) a[i] = c.Str(ef); arr = a; break; }
            default:
            {
                var a = new GgufValue[n];
                for (int i = 0; i < n; i++) a[i] = ReadArray(ref c, $"{field}[{i}]", depth + 1);
                arr = a;
                break;
            }
        }
        return new GgufValue(GgufValueType.Array, elementType, arr);
    }

    private static string Sanitize(string s)
    {
        if (s.Length > 80) s = s[..80] + "…";
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s) sb.Append(char.IsControl(ch) ? '?' : ch);
        return sb.ToString();
    }

    public void Dispose()
    {
        Q4_0x16.Close(this);
        if (_base != null && _copied)
        {
            LargePages.Free(_base, _copyMapping, _copyMappedBytes);
            _base = null;
        }
        if (_base != null && _view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view?.Dispose();
        _mmf?.Dispose();
    }
}
