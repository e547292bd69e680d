using System.Text.RegularExpressions;
using System.Xml.Linq;
using Ingot.Cli.Commands;
using Ingot.Cli.Planning;
using Ingot.Formats;
using Ingot.Runtime.Quants;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// `ingot plan`: sizes are exact (a planned file is the bytes `ingot quantize` writes; a named shape has the
/// parameters of the model it names), every option gets a row, and the SVG is well-formed with one point per option.
/// The speed predictions are checked against `bench` in a benchmark, not here (README, "Evaluate and choose").
/// </summary>
public sealed class PlanCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingot-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheLlama32OneBShapeHasItsParameterCount()
    {
        var model = PlanCommand.Shape("dim=2048,layers=16,heads=32,kv=8,ffn=8192,vocab=128256,tied,name=llama3.2-1B");
        Assert.Equal(1_235_814_400, model.Parameters); // Llama-3.2-1B's published count
        var q8 = PlanOption.Size(model, QuantFileType.Q8_0, 2048);
        Assert.Equal(2L * 16 * 2048 * 512 * 4, q8.KvBytes); // K and V, 16 layers, 2048 positions, kv_dim 512, f32
        Assert.Equal(q8.FileBytes, q8.BytesPerToken); // tied: token_embd is read whole as the output matrix
    }

    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q8_0")]
    [InlineData("Q4_0")]
    public void APlannedFileIsTheSizeQuantizeWrites(string type)
    {
        string f32 = Path.Combine(_dir, "s.gguf"), quantized = Path.Combine(_dir, "s-" + type + ".gguf");
        Assert.Equal(0, new SynthCommand().Run(["--dim", "256", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ffn", "512", "--vocab", "512", "--type", "f32", "-o", f32], TextWriter.Null));
        Assert.Equal(0, new QuantizeCommand().Run([f32, quantized, type]));
        using var file = GgufFile.Open(quantized);
        long bytes = file.Tensors.Sum(t => t.ByteSize);
        using var source = GgufFile.Open(f32);
        var model = new PlanModel("s", GgufSpecReader.FromGguf(source), [.. source.Tensors.Select(t => new QuantTensor(t.Name, t.Type, t.Dims))]);
        Assert.True(QuantMix.TryParse(type, out var ft));
        var option = PlanOption.Size(model, ft, 512);
        Assert.Equal(bytes, option.FileBytes);
        long embd = file.Tensors.Single(t => t.Name == "token_embd.weight").ByteSize;
        Assert.Equal(bytes - embd + embd / 512, option.BytesPerToken); // untied: one row of token_embd
    }

    [Fact]
    public void TheTableHasARowPerOptionAndTheSvgAPointPerOption()
    {
        string svg = Path.Combine(_dir, "plan.svg");
        var o = new StringWriter();
        Assert.Equal(0, new PlanCommand().Run([TestPaths.Stories260KGguf, "--shape", "dim=768,layers=12,heads=12,ffn=2048,vocab=32000,name=s110",
            "--types", "file,q4_0,q8_0", "--ctx", "256", "--bandwidth", "50", "-t", "1", "--plot", svg], o));
        string table = o.ToString();
        Assert.Contains("Read bandwidth 50.0 GB/s", table);
        var rows = table.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| model", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Count); // stories260K as it is, s110 as Q4_0 and Q8_0 (stories260K's 172-wide rows take neither)
        Assert.Matches(@"\| s110 \| Q4_0 \| 134\.1 M \| [0-9.]+ MiB \| [0-9.]+ MiB \| [0-9.]+ \| [0-9]+ \| yes \|", table);
        Assert.Contains("stories260K-f32 as Q4_0: not possible", table);
        var doc = XDocument.Parse(File.ReadAllText(svg));
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(3, doc.Descendants(ns + "circle").Count());
        Assert.Contains(doc.Descendants(ns + "text"), t => t.Value == "s110 Q8_0");
    }

    [Fact]
    public void AHuggingFaceFolderOrItsConfigIsPlannedFromItsTensors()
    {
        string folder = Path.Combine(TestPaths.Shared, "models", "hf", "stories260K-llama");
        using var imported = ModelImporter.Import(folder);
        long elements = imported.Tensors.Sum(t => t.Dims.Aggregate(1L, (x, d) => x * d));
        string count = PlanReport.Count(elements);
        var o = new StringWriter();
        Assert.Equal(0, new PlanCommand().Run([folder, Path.Combine(folder, "config.json"), "--types", "q4_k_m", "--bandwidth", "40", "-t", "1", "--ctx", "256"], o));
        Assert.Equal(2, Regex.Matches(o.ToString(), @"\| stories260K-llama \| Q4_K_M \| " + Regex.Escape(count) + @" \|").Count);
    }

    [Fact]
    public void BadShapesAreOneClearLine()
    {
        var e = Assert.Throws<Ingot.Host.CommandLine.UsageException>(() => PlanCommand.Shape("dim=2048,layers=16"));
        Assert.Contains("missing heads=N", e.Message);
        e = Assert.Throws<Ingot.Host.CommandLine.UsageException>(() => PlanCommand.Shape("dim=2048,layers=16,heads=32,ffn=8192,vocab=1000,depth=3"));
        Assert.Contains("unknown key 'depth'", e.Message);
    }
}
