namespace Ingot.Formats;

/// <summary>
/// Ingot's own layout of Q4_0 matmul weights (<c>ingot build --weights-layout ingot</c>): the same bytes as GGUF's
/// Q4_0, reordered so 16 weight rows are read together. A tensor of R rows (R a multiple of 16) is R / 16 groups of 16
/// consecutive rows; group g holds, per 32-element block b in order, 288 bytes:
/// <list type="bullet">
/// <item>the 16 rows' f16 scales (32 bytes, row r at 2r);</item>
/// <item>for k = 0..3, the 16 rows' code dword k (bytes 4k..4k+3 of the block's 16 packed bytes): 64 bytes, row r at
/// 4r. Its low nibbles are elements 4k..4k+3 of each row, its high nibbles elements 16 + 4k..16 + 4k + 3.</item>
/// </list>
/// Group g starts where row 16g starts in GGUF's layout (16 rows × 18 bytes per block either way), so a kernel handed
/// the pointer of a row tile that starts on a multiple of 16 finds its group there. The dword-k vector is what AMX's
/// pair layout and a 16-row vpdpbusd take as they are. Values never change, only their places, so every kernel computes
/// the same bits from either layout.
/// <para>Layout <see cref="Name"/> interleaves Q4_K matmul weights too (<see cref="KQuantsX16"/>); files of
/// <see cref="Q4_0OnlyName"/>, which earlier builds wrote, only Q4_0.</para>
/// <para>A file in this layout carries <see cref="Key"/> = <see cref="Name"/>; the tensors it applies to
/// (<see cref="Applies"/>) are registered while the file is open (<see cref="TryFind"/>), which is how the Q4_0
/// kernels tell the layouts apart without the generated code passing anything.</para>
/// </summary>
public static unsafe class Q4_0x16
{
    /// <summary>The metadata key naming the layout of a weights file written by <c>ingot build --weights-layout ingot</c>.</summary>
    public const string Key = "ingot.weights_layout";

    /// <summary>The value of <see cref="Key"/> this build writes: Q4_0 and Q4_K matmul weights interleaved.</summary>
    public const string Name = "x16";

    /// <summary>The value earlier builds wrote, still read: only the Q4_0 matmul weights interleaved.</summary>
    public const string Q4_0OnlyName = "q4_0x16";

    public const int GroupRows = 16, BlockBytes = 18, GroupBlockBytes = GroupRows * BlockBytes;

    /// <summary>
    /// Whether a tensor is stored interleaved in a file of this layout (layout: <see cref="Name"/> or
    /// <see cref="Q4_0OnlyName"/>): Q4_0 matrices (and in <see cref="Name"/> Q4_K ones) of a multiple of 16
    /// rows, except the embedding tables (read one row at a time by id or position; the token embedding is also the
    /// output projection when tied).
    /// </summary>
    public static bool Applies(string name, GgmlType type, long[] dims, string layout = Name) =>
        (type == GgmlType.Q4_0 && dims.Length >= 2 && dims[0] % 32 == 0
         || string.Equals(layout, Name, StringComparison.Ordinal) && KQuantsX16.IsType(type) && dims.Length >= 2 && dims[0] % 256 == 0)
        && Rows(dims) % GroupRows == 0 && Rows(dims) > 0
        && name is not ("token_embd.weight" or "position_embd.weight" or "token_types.weight");

    /// <summary>Bytes of one row of an interleaved tensor.</summary>
    private static long RowBytes(GgmlType type, long cols) =>
        type == GgmlType.Q4_0 ? cols / 32 * BlockBytes : cols / 256 * KQuantsX16.BlockBytes;

    private static long Rows(long[] dims)
    {
        long rows = 1;
        for (int i = 1; i < dims.Length; i++) rows *= dims[i];
        return rows;
    }

    /// <summary>GGUF-layout rows (rows a multiple of 16, cols elements each) into this layout.</summary>
    public static void Interleave(byte* src, long rows, long cols, byte* dst)
    {
        long blocks = cols / 32;
        for (long g = 0; g < rows / GroupRows; g++)
        {
            byte* s = src + g * GroupRows * blocks * BlockBytes, d = dst + g * blocks * GroupBlockBytes;
            for (long b = 0; b < blocks; b++, d += GroupBlockBytes)
                for (int r = 0; r < GroupRows; r++)
                {
                    byte* block = s + (r * blocks + b) * BlockBytes;
                    *(ushort*)(d + 2 * r) = *(ushort*)block;
                    for (int k = 0; k < 4; k++) *(uint*)(d + 32 + 64 * k + 4 * r) = *(uint*)(block + 2 + 4 * k);
                }
        }
    }

    /// <summary>The inverse of <see cref="Interleave"/>: groups of this layout back into GGUF rows.</summary>
    public static void Deinterleave(byte* src, long rows, long cols, byte* dst)
    {
        long blocks = cols / 32;
        for (long g = 0; g < rows / GroupRows; g++)
        {
            byte* s = src + g * blocks * GroupBlockBytes, d = dst + g * GroupRows * blocks * BlockBytes;
            for (long b = 0; b < blocks; b++, s += GroupBlockBytes)
                for (int r = 0; r < GroupRows; r++)
                {
                    byte* block = d + (r * blocks + b) * BlockBytes;
                    *(ushort*)block = *(ushort*)(s + 2 * r);
                    for (int k = 0; k < 4; k++) *(uint*)(block + 2 + 4 * k) = *(uint*)(s + 32 + 64 * k + 4 * r);
                }
        }
    }

    /// <summary>
    /// Writes <paramref name="destination"/>: the GGUF at <paramref name="source"/> with every tensor that
    /// <see cref="Applies"/> interleaved and <see cref="Key"/> set; metadata, names, types and shapes as they were.
    /// </summary>
    public static void Write(string source, string destination)
    {
        using var file = GgufFile.Open(source);
        if (file.ContainsKey(Key))
            throw new InvalidModelFileException(source, $"metadata key '{Key}'", file.GetMetadataOffset(Key), "the file is already in Ingot's weights layout");
        var writer = new GgufWriter(file.Alignment).CopyMetadata(file).Set(Key, Name);
        foreach (var t in file.Tensors)
        {
            if (!Applies(t.Name, t.Type, t.Dims)) { writer.AddTensor(t.Name, file, t); continue; }
            var tensor = t;
            writer.AddTensor(t.Name, t.Type, t.Dims, s => WriteInterleaved(s, tensor.Type, file.GetTensorPointer(tensor), tensor.Dims[0], tensor.ElementCount / tensor.Dims[0]));
        }
        writer.Write(destination);
    }

    /// <summary>Interleaves 16-row groups a chunk at a time into the stream (a few MB of buffer whatever the tensor's size).</summary>
    private static void WriteInterleaved(Stream s, GgmlType type, byte* src, long cols, long rows)
    {
        long groupBytes = GroupRows * RowBytes(type, cols), perChunk = Math.Max(1, (1 << 22) / groupBytes);
        byte[] buffer = new byte[perChunk * groupBytes];
        fixed (byte* b = buffer)
            for (long g = 0; g < rows / GroupRows; g += perChunk)
            {
                long n = Math.Min(perChunk, rows / GroupRows - g);
                if (type == GgmlType.Q4_0) Interleave(src + g * groupBytes, n * GroupRows, cols, b);
                else KQuantsX16.Interleave(src + g * groupBytes, n * GroupRows, cols, b);
                s.Write(buffer, 0, (int)(n * groupBytes));
            }
    }

    /// <summary>An interleaved tensor's bytes in an open file.</summary>
    public readonly record struct Region(nint Start, nint End, nint RowBytes, GgmlType Type, GgufFile Owner)
    {
        /// <summary>
        /// Bytes from the start of its 16-row group to a tile of rows (rowBytes each, of type) at w: 0 when the tile
        /// starts a group. Throws when the tile is not of this tensor's type or does not lie within it.
        /// </summary>
        public nint TileSkip(GgmlType type, byte* w, nint rowBytes, int rows)
        {
            if (type != Type || rowBytes != RowBytes || (nint)w < Start || (nint)w + rows * rowBytes > End)
                throw new InvalidOperationException($"a {type} tile of {rows} rows × {rowBytes} bytes does not lie within its interleaved tensor ({Name}, {Type}, {RowBytes}-byte rows)");
            return ((nint)w - Start) % (GroupRows * rowBytes);
        }
    }

    private static Region[] s_regions = []; // sorted by Start; replaced whole under s_lock, read without it
    private static readonly object s_lock = new();

    /// <summary>Whether any file of this layout is open (one read on every Q4_0 and Q4_K kernel call).</summary>
    public static bool Any => s_regions.Length != 0;

    // open files with a Q4_0 matrix in GGUF's layout that a matmul may read; replaced whole under s_lock
    private static GgufFile[] s_plainQ4_0 = [];

    /// <summary>
    /// Whether a file of this layout is open and no open file has a Q4_0 matrix a matmul reads in GGUF's layout (one not
    /// interleaved, or the token embedding where no output.weight follows it: tied, it is the output projection): then
    /// only the interleaved kernels read Q4_0 matmul weights, and the generated code need not prepare token lanes for
    /// GGUF's Q4_0 GEMM.
    /// </summary>
    public static bool AllQ4_0Interleaved => s_regions.Length != 0 && s_plainQ4_0.Length == 0;

    /// <summary>Whether the file has a Q4_0 matrix that a matmul reads in GGUF's layout (see <see cref="AllQ4_0Interleaved"/>).</summary>
    private static bool HasPlainQ4_0Matmul(GgufFile file, string? layout)
    {
        bool tied = file.FindTensor("output.weight") is null;
        return file.Tensors.Any(t => t.Type == GgmlType.Q4_0 && t.Dims.Length >= 2
            && !(layout != null && Applies(t.Name, t.Type, t.Dims, layout))
            && t.Name is not ("position_embd.weight" or "token_types.weight")
            && (t.Name != "token_embd.weight" || tied));
    }

    /// <summary>The interleaved tensor holding w, if any.</summary>
    public static bool TryFind(byte* w, out Region region)
    {
        Region[] r = s_regions;
        int lo = 0, hi = r.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (r[mid].Start <= (nint)w) lo = mid + 1; else hi = mid - 1;
        }
        if (hi >= 0 && (nint)w < r[hi].End) { region = r[hi]; return true; }
        region = default;
        return false;
    }

    /// <summary>
    /// Called once a file is parsed: a file without <see cref="Key"/> is GGUF's layout; with it, the value must be
    /// <see cref="Name"/> or <see cref="Q4_0OnlyName"/> and the file's interleaved tensors are registered until it is
    /// disposed.
    /// </summary>
    internal static void Open(GgufFile file, byte* dataBase)
    {
        if (!file.TryGetValue(Key, out var v))
        {
            if (HasPlainQ4_0Matmul(file, null)) lock (s_lock) s_plainQ4_0 = [.. s_plainQ4_0, file];
            return;
        }
        if (v.Value is not string s || !(string.Equals(s, Name, StringComparison.Ordinal) || string.Equals(s, Q4_0OnlyName, StringComparison.Ordinal)))
            throw new InvalidModelFileException(file.Path, $"metadata key '{Key}'", file.GetMetadataOffset(Key),
                $"weights layout '{v.Value}' is not one this build reads ('{Name}', '{Q4_0OnlyName}')");
        var added = new List<Region>();
        foreach (var t in file.Tensors)
        {
            if (!Applies(t.Name, t.Type, t.Dims, s)) continue;
            nint start = (nint)(dataBase + t.Offset);
            added.Add(new Region(start, start + (nint)t.ByteSize, (nint)RowBytes(t.Type, t.Dims[0]), t.Type, file));
        }
        bool plain = HasPlainQ4_0Matmul(file, s);
        lock (s_lock)
        {
            s_regions = [.. s_regions.Concat(added).OrderBy(r => r.Start)];
            if (plain) s_plainQ4_0 = [.. s_plainQ4_0, file];
        }
    }

    internal static void Close(GgufFile file)
    {
        if (s_regions.Length == 0 && s_plainQ4_0.Length == 0) return;
        lock (s_lock)
        {
            s_regions = [.. s_regions.Where(r => !ReferenceEquals(r.Owner, file))];
            s_plainQ4_0 = [.. s_plainQ4_0.Where(f => !ReferenceEquals(f, file))];
        }
    }
}
