using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>
/// Ingot's interleaved Q4_0 layout (<see cref="Q4_0x16"/>): a file written in it gives every Q4_0 kernel entry point
/// the bits the GGUF layout gives (decode, the AVX GEMMs, AMX, with and without prepared lanes; tiles of whole groups
/// and tiles that start or end inside one), and the layout key is checked.
/// </summary>
/// <para>Opening a file in that layout registers it process-wide (<see cref="Q4_0x16.Any"/>), which changes what the Q4_0
/// entry points prepare: so these tests and <see cref="VecDotRowsTests"/>, which asserts what they prepare, never run
/// at the same time (one collection).</para>
[Collection(Q4_0x16Registry)]
public sealed unsafe class Q4_0x16Tests : IDisposable
{
    /// <summary>The collection of the tests that open files in Ingot's Q4_0 layout or depend on none being open.</summary>
    public const string Q4_0x16Registry = "Q4_0x16 registry";

    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-q4x16-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A GGUF with a Q4_0 matrix (rows × cols) and a Q4_0 token embedding, and the same in the interleaved layout.</summary>
    private (string Plain, string Laid) Files(int rows, int cols)
    {
        var rng = new Random(rows * 31 + cols);
        Func<int, int, float> scale = (r, i) => r == 5 ? 0 : i % 37 == 0 ? 5f : 1f; // row 5 all zeros (scale 0), occasional outliers
        var writer = new GgufWriter().Set("general.architecture", "llama");
        writer.AddTensor("token_embd.weight", GgmlType.Q4_0, [cols, 32], Quantized(GgmlType.Q4_0, 32, cols, rng, scale));
        writer.AddTensor("blk.0.ffn_up.weight", GgmlType.Q4_0, [cols, rows], Quantized(GgmlType.Q4_0, rows, cols, rng, scale));
        string plain = Path.Combine(_dir, $"plain-{rows}-{cols}.gguf"), laid = Path.Combine(_dir, $"laid-{rows}-{cols}.gguf");
        writer.Write(plain);
        Q4_0x16.Write(plain, laid);
        return (plain, laid);
    }

    /// <summary>n rows of cols uniform values in ±scale(row, column), quantized to type (weights, or Q8_0 / Q8_K activations).</summary>
    internal static byte[] Quantized(GgmlType type, int n, int cols, Random rng, Func<int, int, float> scale)
    {
        int rb = QuantTraits.RowBytes(type, cols);
        var bytes = new byte[n * rb];
        var x = new float[cols];
        fixed (byte* p = bytes)
        fixed (float* px = x)
            for (int r = 0; r < n; r++)
            {
                for (int i = 0; i < cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale(r, i);
                if (type is GgmlType.Q8_0 or GgmlType.Q8_K) Quantize.ActivationRow(type, px, p + r * rb, cols);
                else Quantize.WeightRow(type, px, p + r * rb, cols);
            }
        return bytes;
    }

    private static byte[] Activations(int tokens, int cols) => Quantized(GgmlType.Q8_0, tokens, cols, new Random(tokens + cols), (_, _) => 1f);

    [Theory]
    [InlineData(64, 96)]
    [InlineData(48, 768)]
    [InlineData(32, 2048)]
    public void EveryEntryPoint_GivesTheGgufLayoutsBits(int rows, int cols)
    {
        if (OperatingSystem.IsLinux() && Vector512.IsHardwareAccelerated && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni)
            Assert.True(Q4_0x16Rows.MachineCodeRuns, "the AVX512-VNNI machine code does not run on this machine");
        var (plainPath, laidPath) = Files(rows, cols);
        using var plain = GgufFile.Open(plainPath);
        using var laid = GgufFile.Open(laidPath);
        var tp = plain.FindTensor("blk.0.ffn_up.weight")!;
        byte* wp = plain.GetTensorPointer(tp), wl = laid.GetTensorPointer(laid.FindTensor("blk.0.ffn_up.weight")!);
        Assert.True(Q4_0x16.TryFind(wl, out _));
        Assert.False(Q4_0x16.TryFind(wp, out _));
        Assert.False(new ReadOnlySpan<byte>(wp, (int)tp.ByteSize).SequenceEqual(new ReadOnlySpan<byte>(wl, (int)tp.ByteSize)));
        // the token embedding keeps GGUF's layout (read by row id; the tied output projection)
        Assert.True(plain.GetTensorBytes(plain.FindTensor("token_embd.weight")!).SequenceEqual(laid.GetTensorBytes(laid.FindTensor("token_embd.weight")!)));
        Assert.False(Q4_0x16.TryFind(laid.GetTensorPointer(laid.FindTensor("token_embd.weight")!), out _));

        nint rb = cols / 32 * 18, ab = cols / 32 * 34;
        foreach (int tokens in new[] { 1, 2, 3, 7, 8, 9, 16, 17, 33 })
        {
            byte[] a = Activations(tokens, cols);
            byte[] lanes = new byte[Q8_0Lanes.PreparedBytes(tokens, cols)];
            var expected = new float[tokens * rows];
            var actual = new float[tokens * rows];
            fixed (byte* pa = a, pl = lanes)
            fixed (float* ye = expected, ya = actual)
            {
                Q8_0Lanes.PrepareForGemm(pa, ab, tokens, cols, pl);
                if (Q4_0x16Rows.DirectRuns(tokens))
                {
                    // the direct kernel's offsets and scales, prepared where it reads them (after the lanes or the AMX scales, if either)
                    var table = new byte[Q4_0x16Rows.OffsetsBytes(tokens, cols)];
                    fixed (byte* pt = table) Q4_0x16Rows.PrepareOffsets(pa, ab, tokens, cols, pt);
                    Assert.True(new ReadOnlySpan<byte>(Q8_0Lanes.Offsets(pl, tokens, cols), table.Length).SequenceEqual(table), $"tokens {tokens}: the prepared offsets");
                }
                // whole groups, and tiles that start or end inside one (an odd head size): the latter go through GGUF's layout
                foreach (int tile in new[] { 16, rows, 4, 24 })
                    for (int prepared = 0; prepared < 2; prepared++)
                    {
                        Array.Fill(actual, float.NaN);
                        for (int r0 = 0; r0 < rows; r0 += tile)
                        {
                            int nr = Math.Min(tile, rows - r0);
                            if (prepared == 1)
                            {
                                VecDotRows.Q4_0Q8_0Lanes(wp + r0 * rb, rb, nr, pa, pl, ab, tokens, cols, ye + r0, rows);
                                VecDotRows.Q4_0Q8_0Lanes(wl + r0 * rb, rb, nr, pa, pl, ab, tokens, cols, ya + r0, rows);
                            }
                            else
                            {
                                VecDotRows.Q4_0Q8_0(wp + r0 * rb, rb, nr, pa, ab, tokens, cols, ye + r0, rows);
                                VecDotRows.Q4_0Q8_0(wl + r0 * rb, rb, nr, pa, ab, tokens, cols, ya + r0, rows);
                            }
                        }
                        AssertGgufLayoutsBits(expected, actual, rows, $"tokens {tokens} tile {tile} prepared {prepared}");
                    }
            }
        }
    }

    /// <summary>
    /// The direct kernel itself (on an AMX machine the entry points send 12 and more tokens to AMX): its 8- and 4-token
    /// machine code and the single-token remainder, alone and in every combination, give every token the GGUF layout's bits.
    /// </summary>
    [Fact]
    public void Direct_GivesTheGgufLayoutsBits_ForEveryTokenCount()
    {
        const int rows = 48, cols = 768;
        var (plainPath, laidPath) = Files(rows, cols);
        using var plain = GgufFile.Open(plainPath);
        using var laid = GgufFile.Open(laidPath);
        byte* wp = plain.GetTensorPointer(plain.FindTensor("blk.0.ffn_up.weight")!), wl = laid.GetTensorPointer(laid.FindTensor("blk.0.ffn_up.weight")!);
        nint rb = cols / 32 * 18, ab = cols / 32 * 34;
        foreach (int tokens in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 16, 20, 21, 29 })
        {
            byte[] a = Activations(tokens, cols);
            var expected = new float[tokens * rows];
            var actual = new float[tokens * rows];
            fixed (byte* pa = a)
            fixed (float* ye = expected, ya = actual)
            {
                for (int t = 0; t < tokens; t++) VecDotRows.Q4_0Q8_0(wp, rb, rows, pa + t * ab, ab, 1, cols, ye + t * rows, rows);
                // the direct kernel needs AVX2 (the entry point puts the rows back into GGUF's layout without it)
                if (Avx2.IsSupported) Q4_0x16Rows.Direct(wl, rows, pa, ab, tokens, cols, ya, rows);
                else VecDotRows.Q4_0Q8_0(wl, rb, rows, pa, ab, tokens, cols, ya, rows);
            }
            AssertGgufLayoutsBits(expected, actual, rows, $"tokens {tokens}");
        }
    }

    /// <summary>
    /// PrepareOffsets' table is −8·Σq and the f32 scale of every block, for even and odd block counts (the pair form and
    /// the one-block tail) and for blocks of only −128 or only 127 codes (the extremes of the sums).
    /// </summary>
    [Theory]
    [InlineData(1, 32)]
    [InlineData(3, 96)]
    [InlineData(2, 160)]
    [InlineData(5, 768)]
    public void PrepareOffsets_IsMinus8TimesTheCodeSum_AndTheScale(int tokens, int cols)
    {
        int blocks = cols / 32;
        nint ab = blocks * 34;
        byte[] a = Activations(tokens, cols);
        for (int i = 0; i < 32; i++) a[2 + i] = 0x80; // token 0, block 0: every code −128
        if (blocks > 1) for (int i = 0; i < 32; i++) a[34 + 2 + i] = 127; // block 1: every code 127
        var table = new byte[Q4_0x16Rows.OffsetsBytes(tokens, cols)];
        fixed (byte* pa = a)
        fixed (byte* pt = table) Q4_0x16Rows.PrepareOffsets(pa, ab, tokens, cols, pt);
        for (int t = 0; t < tokens; t++)
            for (int b = 0; b < blocks; b++)
            {
                int at = t * (int)ab + 34 * b, sum = 0;
                for (int i = 0; i < 32; i++) sum += (sbyte)a[at + 2 + i];
                int token = t * blocks * 8; // per token: int32 noff[blocks], then float da[blocks]
                Assert.Equal(-8 * sum, BitConverter.ToInt32(table, token + 4 * b));
                Assert.Equal((float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(a, at)), BitConverter.ToSingle(table, token + 4 * blocks + 4 * b));
            }
    }

    /// <summary>Every result from Ingot's layout (actual, token-major, rows per token) has the GGUF layout's bits (expected).</summary>
    internal static void AssertGgufLayoutsBits(float[] expected, float[] actual, int rows, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: token {i / rows} row {i % rows}: {actual[i]} vs GGUF layout {expected[i]}");
    }

    [Fact]
    public void Interleave_Deinterleave_RoundTrips()
    {
        const int rows = 32, cols = 96, rb = cols / 32 * 18;
        var src = new byte[rows * rb];
        new Random(3).NextBytes(src);
        var laid = new byte[src.Length];
        var back = new byte[src.Length];
        fixed (byte* s = src, l = laid, b = back)
        {
            Q4_0x16.Interleave(s, rows, cols, l);
            Q4_0x16.Deinterleave(l, rows, cols, b);
            // group 0, block 1: row 3's scale at 2·3, its code dword 2 at 32 + 64·2 + 4·3
            Assert.Equal(*(ushort*)(s + 3 * rb + 18), *(ushort*)(l + 288 + 6));
            Assert.Equal(*(uint*)(s + 3 * rb + 18 + 2 + 8), *(uint*)(l + 288 + 32 + 128 + 12));
        }
        Assert.Equal(src, back);
    }

    /// <summary>
    /// With only a laid-out file open whose Q4_0 matrices are all interleaved (the token embedding is not the output:
    /// output.weight follows it), the generated code's preparation leaves the token lanes out and every entry point
    /// still gives the GGUF layout's bits, tiles inside a group (which put their rows back into GGUF's layout) included;
    /// a file with a Q4_0 matrix in GGUF's layout, or a tied token embedding, turns that off while it is open.
    /// </summary>
    [Fact]
    public void AllQ4_0Interleaved_LeavesTheLanesOut_WithTheSameBits()
    {
        const int rows = 48, cols = 768;
        var rng = new Random(7);
        byte[] w = Quantized(GgmlType.Q4_0, rows, cols, rng, (_, _) => 1f);
        var writer = new GgufWriter().Set("general.architecture", "llama");
        writer.AddTensor("token_embd.weight", GgmlType.Q4_0, [cols, 32], Quantized(GgmlType.Q4_0, 32, cols, rng, (_, _) => 1f));
        writer.AddTensor("blk.0.ffn_up.weight", GgmlType.Q4_0, [cols, rows], w);
        writer.AddTensor("output.weight", GgmlType.Q8_0, [cols, 32], Quantized(GgmlType.Q8_0, 32, cols, rng, (_, _) => 1f));
        string plainPath = Path.Combine(_dir, "untied.gguf"), laidPath = Path.Combine(_dir, "untied-laid.gguf");
        writer.Write(plainPath);
        Q4_0x16.Write(plainPath, laidPath);
        var (_, tiedLaid) = Files(16, 64);
        Assert.False(Q4_0x16.AllQ4_0Interleaved);
        using (var laid = GgufFile.Open(laidPath))
        {
            Assert.True(Q4_0x16.AllQ4_0Interleaved);
            byte* wl = laid.GetTensorPointer(laid.FindTensor("blk.0.ffn_up.weight")!);
            nint rb = cols / 32 * 18, ab = cols / 32 * 34;
            foreach (int tokens in new[] { 1, 8, 9, 16 })
            {
                byte[] a = Activations(tokens, cols);
                byte[] lanes = new byte[Q8_0Lanes.PreparedBytes(tokens, cols)];
                var expected = new float[tokens * rows];
                var actual = new float[tokens * rows];
                fixed (byte* pa = a, pl = lanes, pw = w)
                fixed (float* ye = expected, ya = actual)
                {
                    Q8_0Lanes.PrepareForGemm(pa, ab, tokens, cols, pl);
                    if (GemmQ4_0Q8_0.ReadsLanes(tokens) && Q4_0x16Rows.DirectRuns(tokens))
                        Assert.True(lanes.AsSpan(0, (int)Q8_0Lanes.Bytes(tokens, cols)).IndexOfAnyExcept((byte)0) < 0, $"tokens {tokens}: the lanes are left out");
                    VecDotRows.Q4_0Q8_0(pw, rb, rows, pa, ab, tokens, cols, ye, rows); // GGUF's layout, in memory: no registered region
                    foreach (int tile in new[] { 16, 24 })
                    {
                        Array.Fill(actual, float.NaN);
                        for (int r0 = 0; r0 < rows; r0 += tile)
                            VecDotRows.Q4_0Q8_0Lanes(wl + r0 * rb, rb, Math.Min(tile, rows - r0), pa, pl, ab, tokens, cols, ya + r0, rows);
                        AssertGgufLayoutsBits(expected, actual, rows, $"tokens {tokens} tile {tile}");
                    }
                }
            }
            using (GgufFile.Open(plainPath)) Assert.False(Q4_0x16.AllQ4_0Interleaved);
            Assert.True(Q4_0x16.AllQ4_0Interleaved);
            using (GgufFile.Open(tiedLaid)) Assert.False(Q4_0x16.AllQ4_0Interleaved); // its token embedding is the output
            Assert.True(Q4_0x16.AllQ4_0Interleaved);
        }
        Assert.False(Q4_0x16.AllQ4_0Interleaved);
    }

    [Fact]
    public void AnUnknownLayout_IsRefused_NamingTheKey()
    {
        string path = Path.Combine(_dir, "unknown.gguf");
        new GgufWriter().Set("general.architecture", "llama").Set(Q4_0x16.Key, "q4_0x99").Write(path);
        var e = Assert.Throws<InvalidModelFileException>(() => GgufFile.Open(path));
        Assert.Contains(Q4_0x16.Key, e.Message);
        Assert.Contains("q4_0x99", e.Message);
    }

    [Fact]
    public void AFileAlreadyInTheLayout_IsNotLaidOutTwice()
    {
        var (_, laid) = Files(16, 64);
        var e = Assert.Throws<InvalidModelFileException>(() => Q4_0x16.Write(laid, Path.Combine(_dir, "twice.gguf")));
        Assert.Contains(Q4_0x16.Key, e.Message);
    }
}
