using Microsoft.CodeAnalysis;
using Xunit;

namespace Ingot.Generators.Tests;

public class DiagnosticsTests
{
    private static string ValidSpec => File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "modelspecs", "llama-gqa-f32.json"));

    private static Diagnostic Single(string specText, string specName = "bad")
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.ClassFor(specName), new InMemoryAdditionalText("/specs/" + specName + ".json", specText));
        Assert.Empty(result.Results.Single().GeneratedSources);
        return Assert.Single(result.Diagnostics);
    }

    [Fact]
    public void MalformedJsonReportsLineAndColumn()
    {
        // Line 3 has a missing comma before "architecture": the parser stops at column 3 of line 4.
        string text = "{\n  \"schema\": 2,\n  \"name\": \"bad\"\n  \"architecture\": \"llama\"\n}\n";
        var d = Single(text);
        Assert.Equal("ING0001", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        var span = d.Location.GetLineSpan();
        Assert.Equal("/specs/bad.json", span.Path);
        Assert.Equal(3, span.StartLinePosition.Line);       // 0-based: line 4
        Assert.Equal(2, span.StartLinePosition.Character);  // 0-based: column 3
        Assert.Contains("line 4, column 3", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void UnterminatedStringIsMalformed()
    {
        var d = Single("{ \"schema\": \"1 }");
        Assert.Equal("ING0001", d.Id);
        Assert.Contains("line 1, column 17", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void UnknownArchitecture()
    {
        var d = Single(ValidSpec.Replace("\"architecture\": \"llama\"", "\"architecture\": \"mamba\""));
        Assert.Equal("ING0002", d.Id);
        Assert.Contains("'mamba'", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void HeadsNotDividingDimWithoutHeadDim()
    {
        var d = Single(ValidSpec.Replace("\"heads\": 4,", "\"heads\": 3,").Replace("\"kv_heads\": 2,", "\"kv_heads\": 1,").Replace("\"head_dim\": 64,", ""));
        Assert.Equal("ING0003", d.Id);
        Assert.Contains("does not divide dim", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void KvHeadsNotDividingHeads()
    {
        var d = Single(ValidSpec.Replace("\"kv_heads\": 2,", "\"kv_heads\": 3,"));
        Assert.Equal("ING0003", d.Id);
        Assert.Contains("kv_heads (3) does not divide attention.heads (4)", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void UnsupportedQuantTypeNamesRoleAndType()
    {
        var d = Single(ValidSpec.Replace("\"attn_k\": \"f32\"", "\"attn_k\": \"iq2_xxs\""));
        Assert.Equal("ING0004", d.Id);
        string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'attn_k'", message);
        Assert.Contains("'iq2_xxs'", message);
        Assert.Contains("q4_k", message); // the supported list names every compiled type
    }

    [Fact]
    public void UnsupportedQuantTypeInLayerOverride()
    {
        var d = Single(ValidSpec.Replace("\"ffn_down\": \"f32\"", "\"ffn_down\": \"f32\",\n    \"layers\": { \"1\": { \"attn_v\": \"tq1_0\" } }"));
        Assert.Equal("ING0004", d.Id);
        Assert.Contains("'blk.1.attn_v'", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void SpecNotFound()
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.ClassFor("nowhere"), new InMemoryAdditionalText("/specs/other.json", ValidSpec));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("ING0005", d.Id);
        Assert.Contains("nowhere.json", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("Source0.cs", d.Location.GetLineSpan().Path);
    }

    [Fact]
    public void MissingRequiredFieldNamesTheKey()
    {
        var d = Single(ValidSpec.Replace("\"ffn_dim\": 512,", ""));
        Assert.Equal("ING0006", d.Id);
        Assert.Contains("'ffn_dim'", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void MissingNestedFieldNamesTheDottedKey()
    {
        var d = Single(ValidSpec.Replace("\"epsilon\": 1e-05", "\"eps\": 1e-05"));
        Assert.Equal("ING0006", d.Id);
        Assert.Contains("'norm.epsilon'", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void WrongJsonTypeIsInvalidField()
    {
        var d = Single(ValidSpec.Replace("\"dim\": 256,", "\"dim\": \"256\","));
        Assert.Equal("ING0007", d.Id);
        Assert.Contains("'dim'", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void UnsupportedFeature()
    {
        // Pooling belongs to encoders; a causal model with one is a feature no emitter implements.
        var d = Single(ValidSpec.Replace("\"pooling\": \"none\"", "\"pooling\": \"mean\""));
        Assert.Equal("ING0008", d.Id);
        Assert.Contains("output.pooling 'mean' on a causal model", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void LayoutNeedsAWeightRoleTheSpecLacks()
    {
        // qkv_bias needs no role (biases are always f32), but fused_qkv needs attn_qkv, which a separate-q/k/v spec lacks.
        var d = Single(ValidSpec.Replace("\"fused_qkv\": false", "\"fused_qkv\": true"), "bad");
        Assert.Equal("ING0011", d.Id);
        string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'attn_qkv'", message);
        Assert.Contains("llama", message);
    }

    [Fact]
    public void ASpecRoleTheLayoutNeverReadsIsInvalid()
    {
        var d = Single(ValidSpec.Replace("\"ffn_down\": \"f32\"", "\"ffn_down\": \"f32\",\n    \"post_ffw_norm\": \"f32\""));
        Assert.Equal("ING0007", d.Id);
        Assert.Contains("'weights.post_ffw_norm'", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AnUnknownEnumNameIsInvalidAndListsTheChoices()
    {
        var d = Single(ValidSpec.Replace("\"activation\": \"silu\"", "\"activation\": \"swish\""));
        Assert.Equal("ING0007", d.Id);
        string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'ffn.activation'", message);
        Assert.Contains("gelu_erf", message);
    }

    [Fact]
    public void EveryIdHasItsOwnDescriptorAndAnUnknownIdThrows()
    {
        for (int i = 1; i <= 11; i++)
        {
            string id = "ING" + i.ToString("0000", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(id, DiagnosticDescriptors.ById(id).Id);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => DiagnosticDescriptors.ById("ING9999"));
    }

    [Fact]
    public void NonPartialClass()
    {
        var (result, _) = GeneratorHarness.Run("using Ingot;\n[CompiledModel(\"llama-gqa-f32\")]\npublic class NotPartial { }\n",
            new InMemoryAdditionalText("/specs/llama-gqa-f32.json", ValidSpec));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("ING0009", d.Id);
    }

    [Fact]
    public void Q8RowsMustBeWholeBlocks()
    {
        // stories260K's ffn_down rows have 172 elements: q8_0 cannot hold them.
        string text = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "modelspecs", "stories260K-q8_0.json")).Replace("\"ffn_down\": \"f16\"", "\"ffn_down\": \"q8_0\"");
        var d = Single(text);
        Assert.Equal("ING0010", d.Id);
        Assert.Contains("172", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void KQuantRowsMustBeWholeSuperBlocks()
    {
        // ValidSpec has dim 256 (one super-block) and ffn_dim 512; a head_dim-wide row would not do, but a 256-wide one does.
        Assert.Empty(GeneratorHarness.Run(GeneratorHarness.ClassFor("llama-gqa-f32"),
            new InMemoryAdditionalText("/specs/llama-gqa-f32.json", ValidSpec.Replace("\"attn_q\": \"f32\"", "\"attn_q\": \"q4_k\""))).Result.Diagnostics);
        string text = File.ReadAllText(Path.Combine(GeneratorHarness.RepoRoot(), "modelspecs", "stories260K-q8_0.json")).Replace("\"attn_q\": \"q8_0\"", "\"attn_q\": \"q6_k\"");
        var d = Single(text);
        Assert.Equal("ING0010", d.Id);
        string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("'q6_k'", message);
        Assert.Contains("64 elements, not a multiple of 256", message);
    }

    [Fact]
    public void EveryDescriptorHasAStableUniqueId()
    {
        var ids = typeof(DiagnosticDescriptors).GetFields()
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => ((DiagnosticDescriptor)f.GetValue(null)!).Id)
            .ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^ING[0-9]{4}$", id));
        Assert.All(ids, id => Assert.Equal(id, DiagnosticDescriptors.ById(id).Id));
    }
}
