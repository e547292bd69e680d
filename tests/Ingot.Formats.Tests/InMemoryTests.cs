using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>
/// GgufFile.Open(…, inMemory: true): where a copy in 2 MB pages is worthwhile (LargePages.Worthwhile: Linux, huge pages
/// not off, at least 2 MB, at most 3/4 of the available memory) the file is read into one and the mapping let go; every
/// tensor, metadata value and Ingot-layout region reads as from the mapping, for a plain file and for weights appended
/// to an executable; below 2 MB it stays mapped.
/// </summary>
[Collection("Q4_0x16 registry")]
public sealed unsafe class InMemoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-inmemory-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void ACopyInLargePages_ReadsAsTheMapping()
    {
        // 2048 rows × 4096 columns of Q4_0 (4.7 MB; the bytes need not be a real quantization for a layout), an F32 norm
        const int rows = 2048, cols = 4096;
        var rng = new Random(3);
        var q = new byte[rows * (cols / 32) * 18];
        rng.NextBytes(q);
        var norm = new byte[cols * 4];
        rng.NextBytes(norm);
        var writer = new GgufWriter().Set("general.architecture", "llama").Set("general.name", "in-memory");
        writer.AddTensor("blk.0.ffn_up.weight", GgmlType.Q4_0, [cols, rows], q);
        writer.AddTensor("blk.0.ffn_norm.weight", GgmlType.F32, [cols], norm);
        string plain = Path.Combine(_dir, "plain.gguf"), laid = Path.Combine(_dir, "laid.gguf");
        writer.Write(plain);
        Q4_0x16.Write(plain, laid);
        bool worthwhile = LargePages.Worthwhile(new FileInfo(plain).Length);
        Assert.Equal(OperatingSystem.IsLinux() && File.Exists("/sys/kernel/mm/transparent_hugepage/enabled")
            && !File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Contains("[never]"), worthwhile); // 4.7 MB: the rest holds

        using (var mapped = GgufFile.Open(plain))
        using (var copy = GgufFile.Open(plain, inMemory: true))
        {
            Assert.False(mapped.InMemory);
            Assert.Equal(worthwhile, copy.InMemory);
            Assert.Equal(mapped.GetString("general.name"), copy.GetString("general.name"));
            AssertSameTensors(mapped, copy);
        }

        // Ingot's layout: the interleaved tensor registered at its address in the copy, and put back it is the plain one
        using (var copy = GgufFile.Open(laid, inMemory: true))
        {
            Assert.Equal(worthwhile, copy.InMemory);
            byte* w = copy.GetTensorPointer(copy.FindTensor("blk.0.ffn_up.weight")!);
            Assert.True(Q4_0x16.TryFind(w, out _));
            var back = new byte[q.Length];
            fixed (byte* b = back) Q4_0x16.Deinterleave(w, rows, cols, b);
            Assert.Equal(q, back);
        }
        Assert.False(Q4_0x16.Any);

        // appended to an executable: the GGUF's bytes from their offset
        string exe = AppendedWeightsTests.FakeExecutable(_dir);
        AppendedWeights.Append(exe, plain);
        Assert.True(AppendedWeights.TryFind(exe, out long offset, out long length));
        using (var mapped = GgufFile.Open(plain))
        using (var embedded = GgufFile.Open(exe, offset, length, inMemory: true))
        {
            Assert.Equal(worthwhile, embedded.InMemory);
            AssertSameTensors(mapped, embedded);
        }

        // under 2 MB: mapped whatever is asked
        using var small = GgufFile.Open(Shared.File_("models/gguf/stories260K-f32.gguf"), inMemory: true);
        Assert.False(small.InMemory);
    }

    private static void AssertSameTensors(GgufFile expected, GgufFile actual)
    {
        foreach (var t in expected.Tensors)
            Assert.True(expected.GetTensorBytes(t).SequenceEqual(actual.GetTensorBytes(actual.FindTensor(t.Name)!)), t.Name);
    }
}
