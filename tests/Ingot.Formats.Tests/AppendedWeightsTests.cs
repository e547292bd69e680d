using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>
/// Weights appended to an executable (--single-file): found through the trailer and opened in place, bit for bit the
/// GGUF that was appended; absent from plain files; and a copy that lost its end, or a trailer that does not fit, is one
/// clear error naming the file, the field and the offset.
/// </summary>
public sealed class AppendedWeightsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-appended-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string FakeExecutable() => FakeExecutable(_dir);

    /// <summary>A stand-in executable in dir, named model: a 64-bit little-endian ELF header whose section table ends at byte 5000.</summary>
    internal static string FakeExecutable(string dir)
    {
        var bytes = new byte[5000];
        bytes[0] = 0x7F; bytes[1] = (byte)'E'; bytes[2] = (byte)'L'; bytes[3] = (byte)'F'; bytes[4] = 2; bytes[5] = 1;
        BitConverter.TryWriteBytes(bytes.AsSpan(40), 5000L - 64 * 10); // e_shoff
        BitConverter.TryWriteBytes(bytes.AsSpan(58), (ushort)64);      // e_shentsize
        BitConverter.TryWriteBytes(bytes.AsSpan(60), (ushort)10);      // e_shnum
        string path = Path.Combine(dir, "model");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void AnAppendedGgufOpensInPlaceAndReadsAsTheOriginal()
    {
        string gguf = Shared.File_("models/gguf/stories260K-f32.gguf");
        string exe = FakeExecutable();
        Assert.False(AppendedWeights.TryFind(exe, out _, out _));
        AppendedWeights.Append(exe, gguf);
        Assert.True(AppendedWeights.TryFind(exe, out long offset, out long length));
        Assert.Equal(0, offset % AppendedWeights.Alignment);
        Assert.Equal(new FileInfo(gguf).Length, length);
        using var original = GgufFile.Open(gguf);
        using var embedded = GgufFile.Open(exe, offset, length);
        Assert.Equal(original.Tensors.Count, embedded.Tensors.Count);
        Assert.Equal(original.Metadata.Count, embedded.Metadata.Count);
        foreach (var t in original.Tensors)
            Assert.True(original.GetTensorBytes(t).SequenceEqual(embedded.GetTensorBytes(embedded.FindTensor(t.Name)!)), t.Name);
        Assert.Throws<IOException>(() => AppendedWeights.Append(exe, gguf)); // once only
    }

    [Fact]
    public void APlainFileHasNoAppendedWeights()
    {
        Assert.False(AppendedWeights.TryFind(Shared.File_("models/gguf/stories260K-f32.gguf"), out _, out _));
        Assert.False(AppendedWeights.TryFind(FakeExecutable(), out _, out _));
    }

    [Fact]
    public void ATruncatedCopyIsOneClearError()
    {
        string exe = FakeExecutable();
        AppendedWeights.Append(exe, Shared.File_("models/gguf/stories260K-f32.gguf"));
        string copy = Path.Combine(_dir, "copy");
        using (var from = File.OpenRead(exe))
        using (var to = File.Create(copy))
        {
            var buffer = new byte[from.Length / 2];
            from.ReadExactly(buffer);
            to.Write(buffer);
        }
        var e = Assert.Throws<InvalidModelFileException>(() => AppendedWeights.TryFind(copy, out _, out _));
        Assert.Equal("appended weights", e.Field);
        Assert.Equal(AppendedWeights.Alignment * 2L, e.Offset); // where the weights start: the page after the ELF's 5000 bytes
        Assert.Contains("truncated", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ATrailerThatDoesNotFitTheFileIsOneClearError()
    {
        string exe = FakeExecutable();
        AppendedWeights.Append(exe, Shared.File_("models/gguf/stories260K-f32.gguf"));
        var bytes = File.ReadAllBytes(exe);
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 16), 12345L); // the length field
        File.WriteAllBytes(exe, bytes);
        var e = Assert.Throws<InvalidModelFileException>(() => AppendedWeights.TryFind(exe, out _, out _));
        Assert.Equal("appended weights trailer", e.Field);
        Assert.Contains("does not fit", e.Message);
    }
}
