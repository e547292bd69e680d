using Ingot.Formats.Architectures;
using Xunit;

namespace Ingot.Formats.Tests;

/// <summary>ArchitectureMapping.WriteMetadata is FromGguf's inverse for every family.</summary>
public class GgufMetadataTests
{
    /// <summary>A golden spec written as metadata, beside the golden tensor table and vocabulary, reads back unchanged.</summary>
    [Theory]
    [MemberData(nameof(HfRoundTripTests.Goldens), MemberType = typeof(HfRoundTripTests))]
    [InlineData("llama-gqa.q4_k_m")]
    public void MetadataWrittenFromTheSpecReadsBackAsTheSpec(string model)
    {
        using var golden = GgufFile.Open(Shared.File_($"golden/models/{model}.gguf"));
        var spec = GgufSpecReader.FromGguf(golden);
        var metadata = ArchitectureMapping.Metadata(spec, w => w.CopyMetadata(golden, key => key.StartsWith("tokenizer.", StringComparison.Ordinal)));
        using var header = GgufFile.FromHeader("header", metadata, golden.Tensors.Select(t => (t.Name, t.Type, t.Dims)));
        Assert.Equal(spec, GgufSpecReader.FromGguf(header, spec.Name));
    }
}
