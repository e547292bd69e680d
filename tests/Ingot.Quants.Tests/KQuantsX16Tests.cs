using System.Runtime.Intrinsics;
using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Quants.Tests;

/// <summary>
/// The K-quant part of Ingot's interleaved layout (<see cref="KQuantsX16"/>): a Q4_K matrix written in it gives the Q4_K
/// entry point the bits the GGUF layout gives, for every token count (the x16 kernel on the groups as they are where
/// AVX512-VNNI runs, from one token; else the rows put back) and for tiles of whole groups and tiles that start or end
/// inside one; Q6_K matrices and embedding tables keep GGUF's layout; files of the Q4_0-only layout leave Q4_K alone.
/// </summary>
[Collection(Q4_0x16Tests.Q4_0x16Registry)]
public sealed unsafe class KQuantsX16Tests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-kx16-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A GGUF with a Q4_K and a Q6_K matrix (rows × cols) and K-quant embedding tables, and the same in the layout (name).</summary>
    private (string Plain, string Laid) Files(int rows, int cols, string name = Q4_0x16.Name)
    {
        var rng = new Random(rows * 31 + cols);
        Func<int, int, float> scale = (r, i) => r == 5 ? 0 : i % 37 == 0 ? 5f : 1f; // row 5 all zeros, occasional outliers
        var writer = new GgufWriter().Set("general.architecture", "llama");
        writer.AddTensor("token_embd.weight", GgmlType.Q4_K, [cols, 32], Q4_0x16Tests.Quantized(GgmlType.Q4_K, 32, cols, rng, scale));
        writer.AddTensor("position_embd.weight", GgmlType.Q4_K, [cols, 32], Q4_0x16Tests.Quantized(GgmlType.Q4_K, 32, cols, rng, scale));
        writer.AddTensor("blk.0.ffn_up.weight", GgmlType.Q4_K, [cols, rows], Q4_0x16Tests.Quantized(GgmlType.Q4_K, rows, cols, rng, scale));
        writer.AddTensor("blk.0.ffn_down.weight", GgmlType.Q6_K, [cols, rows], Q4_0x16Tests.Quantized(GgmlType.Q6_K, rows, cols, rng, scale));
        string plain = Path.Combine(_dir, $"plain-{rows}-{cols}.gguf"), laid = Path.Combine(_dir, $"laid-{rows}-{cols}-{name}.gguf");
        writer.Write(plain);
        if (name == Q4_0x16.Name) Q4_0x16.Write(plain, laid);
        else
        {
            // a file as earlier builds wrote it: only the key says which layout (no Q4_0 tensor here, so the bytes are GGUF's)
            using var file = GgufFile.Open(plain);
            var copy = new GgufWriter(file.Alignment).CopyMetadata(file).Set(Q4_0x16.Key, name);
            foreach (var t in file.Tensors) copy.AddTensor(t.Name, file, t);
            copy.Write(laid);
        }
        return (plain, laid);
    }

    [Theory]
    [InlineData(48, 256)]
    [InlineData(64, 768)]
    public void EveryTokenCount_AndTile_GivesTheGgufLayoutsBits(int rows, int cols)
    {
        if (OperatingSystem.IsLinux() && Vector512.IsHardwareAccelerated && Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni)
            Assert.True(KQuantsX16Rows.DirectRuns(1), "the x16 machine code does not run on this machine's interleaved rows");
        var (plainPath, laidPath) = Files(rows, cols);
        using var plain = GgufFile.Open(plainPath);
        using var laid = GgufFile.Open(laidPath);
        var tp = plain.FindTensor("blk.0.ffn_up.weight")!;
        byte* wp = plain.GetTensorPointer(tp), wl = laid.GetTensorPointer(laid.FindTensor("blk.0.ffn_up.weight")!);
        Assert.True(Q4_0x16.TryFind(wl, out var region) && region.Type == GgmlType.Q4_K);
        Assert.False(Q4_0x16.TryFind(wp, out _));
        Assert.False(new ReadOnlySpan<byte>(wp, (int)tp.ByteSize).SequenceEqual(new ReadOnlySpan<byte>(wl, (int)tp.ByteSize)));
        foreach (var table in new[] { "token_embd.weight", "position_embd.weight", "blk.0.ffn_down.weight" })
        {
            Assert.True(plain.GetTensorBytes(plain.FindTensor(table)!).SequenceEqual(laid.GetTensorBytes(laid.FindTensor(table)!)), table);
            Assert.False(Q4_0x16.TryFind(laid.GetTensorPointer(laid.FindTensor(table)!), out _), table);
        }

        nint rb = cols / 256 * KQuantsX16.BlockBytes, ab = cols / 256 * 292;
        foreach (int tokens in new[] { 1, 2, 3, 7, 8, 9, 16, 17, 33 })
        {
            byte[] a = Q4_0x16Tests.Quantized(GgmlType.Q8_K, tokens, cols, new Random(tokens + cols), (_, _) => 1f);
            var expected = new float[tokens * rows];
            var actual = new float[tokens * rows];
            fixed (byte* pa = a)
            fixed (float* ye = expected, ya = actual)
                foreach (int tile in new[] { 16, rows, 4, 24 })
                {
                    Array.Fill(actual, float.NaN);
                    Array.Fill(expected, float.NaN);
                    for (int r0 = 0; r0 < rows; r0 += tile)
                    {
                        int nr = Math.Min(tile, rows - r0);
                        VecDotRows.Q4_KQ8_K(wp + r0 * rb, rb, nr, pa, ab, tokens, cols, ye + r0, rows);
                        VecDotRows.Q4_KQ8_K(wl + r0 * rb, rb, nr, pa, ab, tokens, cols, ya + r0, rows);
                    }
                    Q4_0x16Tests.AssertGgufLayoutsBits(expected, actual, rows, $"tokens {tokens} tile {tile}");
                }
        }
    }

    [Fact]
    public void Interleave_Deinterleave_RoundTrips()
    {
        const int rows = 32, cols = 512, bb = KQuantsX16.BlockBytes, rb = cols / 256 * bb;
        var src = new byte[rows * rb];
        new Random(3).NextBytes(src);
        var laid = new byte[src.Length];
        var back = new byte[src.Length];
        fixed (byte* s = src, l = laid, b = back)
        {
            KQuantsX16.Interleave(s, rows, cols, l);
            KQuantsX16.Deinterleave(l, rows, cols, b);
            // group 1, super-block 1, row 3: its dword 5 at vector 5, lane 3; its last dword at vector 35
            byte* block = s + (16 + 3) * rb + bb, group = l + 16 * rb + 16 * bb;
            Assert.Equal(*(uint*)(block + 20), *(uint*)(group + 64 * 5 + 12));
            Assert.Equal(*(uint*)(block + 140), *(uint*)(group + 64 * 35 + 12));
        }
        Assert.Equal(src, back);
    }

    [Fact]
    public void TheQ4_0OnlyLayout_LeavesQ4_KInGgufsLayout()
    {
        var (_, laidPath) = Files(16, 256, Q4_0x16.Q4_0OnlyName);
        using var laid = GgufFile.Open(laidPath);
        Assert.False(Q4_0x16.TryFind(laid.GetTensorPointer(laid.FindTensor("blk.0.ffn_up.weight")!), out _));
    }
}
