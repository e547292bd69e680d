using System.Text.Json;
using Xunit;

namespace Ingot.Formats.Tests;

public class GgufReaderTests
{
    public static IEnumerable<object[]> AllSharedGgufFiles()
    {
        foreach (string dir in new[] { "golden/models", "models/gguf", "vocab" })
            foreach (string f in Directory.GetFiles(Shared.File_(dir), "*.gguf").Order(StringComparer.Ordinal))
                yield return [System.IO.Path.GetRelativePath(Shared.Dir, f)];
    }

    [Theory]
    [MemberData(nameof(AllSharedGgufFiles))]
    public void OpensEverySharedFile(string relative)
    {
        using var f = GgufFile.Open(Shared.File_(relative));
        Assert.True(f.Version is 2 or 3);
        Assert.Equal(0, f.DataOffset % f.Alignment);
        Assert.NotEmpty(f.Metadata);
        Assert.False(string.IsNullOrEmpty(f.Architecture));
        foreach (var t in f.Tensors)
        {
            Assert.Equal(0, t.Offset % f.Alignment);
            Assert.True(f.DataOffset + t.Offset + t.ByteSize <= f.FileLength);
            Assert.Equal(GgmlTypeTraits.RowBytes(t.Type, t.Dims[0]) * (t.ElementCount / Math.Max(1, t.Dims[0])), t.ByteSize);
            Assert.Equal(t.ByteSize, f.GetTensorBytes(t).Length);
            Assert.Same(t, f.FindTensor(t.Name));
        }
        // tokenizer arrays present in every shared file and consistent
        if (f.TryGetArray<string>("tokenizer.ggml.tokens", out var tokens))
        {
            Assert.NotEmpty(tokens);
            if (f.TryGetArray<int>("tokenizer.ggml.token_type", out var types)) Assert.Equal(tokens.Length, types.Length);
            if (f.TryGetArray<float>("tokenizer.ggml.scores", out var scores)) Assert.Equal(tokens.Length, scores.Length);
        }
    }

    public static IEnumerable<object[]> ManifestModels()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Shared.File_("golden/manifest.json")));
        foreach (var m in doc.RootElement.GetProperty("models").EnumerateObject())
            yield return [m.Name];
    }

    [Theory]
    [MemberData(nameof(ManifestModels))]
    public void GoldenModelsMatchManifest(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Shared.File_("golden/manifest.json")));
        var m = doc.RootElement.GetProperty("models").GetProperty(model);
        string path = Shared.File_("golden/" + m.GetProperty("file").GetString());
        Assert.Equal(m.GetProperty("size").GetInt64(), new FileInfo(path).Length);
        using var f = GgufFile.Open(path);

        var expected = m.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(expected.Count, f.Tensors.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var t = f.Tensors[i];
            Assert.Equal(e.GetProperty("name").GetString(), t.Name);
            Assert.Equal(e.GetProperty("ne").EnumerateArray().Select(x => x.GetInt64()).ToArray(), t.Dims);
            Assert.Equal(e.GetProperty("type").GetString()!.ToLowerInvariant(), GgmlTypeTraits.Name(t.Type));
        }

        foreach (var kv in m.GetProperty("metadata").EnumerateObject())
        {
            Assert.True(f.TryGetValue(kv.Name, out var v), $"missing {kv.Name}");
            switch (kv.Value.ValueKind)
            {
                case JsonValueKind.String when kv.Value.GetString()!.StartsWith("array<", StringComparison.Ordinal):
                    string s = kv.Value.GetString()!;
                    Assert.True(v.IsArray);
                    Assert.Equal(s, $"array<{v.ElementType.ToString().ToUpperInvariant()}>[{v.Count}]");
                    break;
                case JsonValueKind.String: Assert.Equal(kv.Value.GetString(), f.GetString(kv.Name)); break;
                case JsonValueKind.True or JsonValueKind.False: Assert.Equal(kv.Value.GetBoolean(), f.GetBool(kv.Name)); break;
                case JsonValueKind.Number when v.Value is float or double:
                    Assert.Equal(kv.Value.GetDouble(), f.GetDouble(kv.Name), 12);
                    break;
                case JsonValueKind.Number: Assert.Equal(kv.Value.GetInt64(), f.GetInt(kv.Name)); break;
            }
        }
    }

    [Fact]
    public void ConvenienceGettersOnStories()
    {
        using var f = GgufFile.Open(Shared.File_("models/gguf/stories260K-f32.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal("llama", f.GetString("general.architecture"));
        Assert.Equal(64, f.GetInt("llama.embedding_length"));
        Assert.Equal(5, f.GetInt32("llama.block_count"));
        Assert.Equal(1e-5f, f.GetFloat("llama.attention.layer_norm_rms_epsilon"), 1e-9f);
        Assert.Equal(512, f.GetArray<string>("tokenizer.ggml.tokens").Length);
        Assert.Equal("<s>", f.GetArray<string>("tokenizer.ggml.tokens")[1]);
        Assert.Equal(512, f.GetArray<long>("tokenizer.ggml.token_type").Length); // numeric conversion
        Assert.Equal(7, f.GetInt("no.such.key", 7));
        Assert.False(f.TryGetInt("general.architecture", out _));
        var ex = Assert.Throws<InvalidModelFileException>(() => f.GetInt("general.architecture"));
        Assert.Contains("general.architecture", ex.Message);
        Assert.NotNull(ex.Offset);
        Assert.Throws<InvalidModelFileException>(() => f.GetString("missing.key"));

        var emb = f.FindTensor("token_embd.weight")!;
        Assert.Equal(new long[] { 64, 512 }, emb.Dims);
        Assert.Equal(64 * 512 * 4, f.GetTensorBytes(emb).Length);
        Assert.Null(f.FindTensor("nope"));
    }

    [Fact]
    public unsafe void TensorDataIsMappedNotCopied()
    {
        string path = Shared.File_("models/gguf/stories260K-f32.gguf");
        using var f = GgufFile.Open(path);
        var t = f.FindTensor("output_norm.weight")!;
        byte[] raw = File.ReadAllBytes(path);
        byte* p = f.GetTensorPointer(t);
        Assert.True(p == f.BasePointer + f.DataOffset + t.Offset);
        Assert.True(new ReadOnlySpan<byte>(p, (int)t.ByteSize).SequenceEqual(raw.AsSpan((int)(f.DataOffset + t.Offset), (int)t.ByteSize)));
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.GetTensorPointer(t));
    }
}
