using System.Xml.Linq;
using Ingot.Cli.Building;
using Ingot.Cli.Commands;
using Ingot.Host.CommandLine;
using Xunit;

namespace Ingot.Host.Tests;

public class BuildingTests
{
    [Theory]
    [InlineData("/m/stories260K-f32.gguf", "stories260K")]
    [InlineData("/m/stories260K-q8_0.gguf", "stories260K")]
    [InlineData("/m/Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Llama-3.2-1B-Instruct")]
    [InlineData("/m/qwen2.5-0.5b-instruct-iq2_xxs.gguf", "qwen2.5-0.5b-instruct")]
    [InlineData("/m/model.BF16.gguf", "model")]
    [InlineData("/m/stories260K.bin", "stories260K")]
    [InlineData("/m/my model!.gguf", "my_model_")]
    public void DefaultName_DropsExtensionAndQuantTag(string path, string expected) =>
        Assert.Equal(expected, ModelBuilder.DefaultName(path));

    [Fact]
    public void DefaultName_OfAFolder_IsTheFolderName()
    {
        string dir = Path.Combine(TestPaths.Shared, "models", "hf", "stories260K-llama");
        Assert.True(Directory.Exists(dir), "shared folder missing: " + dir);
        Assert.Equal("stories260K-llama", ModelBuilder.DefaultName(dir + "/"));
    }

    [Theory]
    [InlineData("x86-64-v2", null, "x86-64-v2", "-x64")]
    [InlineData("x86-64-v3", null, "x86-64-v3", "-x64")]
    [InlineData("x86-64-v4", null, "x86-64-v4", "-x64")]
    [InlineData("x86-x64-v3", null, "x86-64-v3", "-x64")] // .NET 9's spelling, still taken
    [InlineData("x86-x64-v4", null, "x86-64-v4", "-x64")]
    [InlineData("auto", "linux-x64", "x86-64-v2", "-x64")]  // the launcher; its variants below
    [InlineData("auto", "linux-arm64", "armv8.2-a,dotprod,rdma", "-arm64")]
    [InlineData("arm64", null, "armv8.2-a,dotprod,rdma", "-arm64")]
    [InlineData("x86-64-v3", "linux-musl-x64", "x86-64-v3", "linux-musl-x64")]
    public void IsaTarget_MapsToIlcInstructionSetAndRid(string isa, string? rid, string ilc, string ridEnd)
    {
        var t = IsaTarget.Parse(isa, rid);
        Assert.Equal(ilc, t.InstructionSet);
        Assert.EndsWith(ridEnd, t.RuntimeIdentifier);
    }

    [Fact]
    public void IsaTarget_RejectsUnknownAndMismatched()
    {
        Assert.Throws<UsageException>(() => IsaTarget.Parse("avx9", null));
        Assert.Throws<UsageException>(() => IsaTarget.Parse("x86-x64-v3", "linux-arm64"));
        Assert.Equal("native", IsaTarget.Parse("native", null).InstructionSet);
    }

    [Fact]
    public void IsaTarget_AutoOnX64BuildsTheV4AndV3VariantsBesideAV2Launcher()
    {
        Assert.Equal(["x86-64-v4", "x86-64-v3"], IsaTarget.Parse("auto", "linux-x64").Variants);
        Assert.Empty(IsaTarget.Parse("auto", "linux-arm64").Variants);
        Assert.Empty(IsaTarget.Parse("x86-64-v3", null).Variants);
        Assert.Equal("auto", IsaTarget.Default);
    }

    /// <summary>An arm64 project from an x86-64 machine carries the cross-link properties; an x86-64 one none of them.</summary>
    [Fact]
    public void HostProject_ForArm64FromX64_LinksWithLldAgainstTheCrossSysroot()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ingot-hostproject-cross");
        string arm = new HostProject(dir, "m", new CompilerSource.Repository("/repo"), IsaTarget.Parse("arm64", null)).ProjectXml();
        string x64 = new HostProject(dir, "m", new CompilerSource.Repository("/repo"), IsaTarget.Parse("x86-64-v3", "linux-x64")).ProjectXml();
        bool cross = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.Arm64;
        Assert.Equal(cross, CrossToolchain.IsCrossArm64("linux-arm64"));
        foreach (string property in new[] { "<SysRoot>/</SysRoot>", "<LinkerFlavor>lld</LinkerFlavor>", "<ObjCopyName>aarch64-linux-gnu-objcopy</ObjCopyName>" })
        {
            Assert.Equal(cross, arm.Contains(property, StringComparison.Ordinal));
            Assert.DoesNotContain(property, x64);
        }
        Assert.Contains("<RuntimeIdentifier>linux-arm64</RuntimeIdentifier>", arm);
    }

    [Fact]
    public void HostProject_IsSelfContained_AndReferencesTheRepo()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ingot-hostproject-" + Guid.NewGuid().ToString("N"));
        try
        {
            var p = new HostProject(dir, "stories260K", new CompilerSource.Repository("/repo"), IsaTarget.Parse("x86-x64-v3", "linux-x64"));
            p.Write("{\n  \"schema\": 1\n}\n");
            var x = XDocument.Load(p.ProjectPath);
            string Prop(string n) => x.Descendants(n).Single().Value;
            Assert.Equal("net10.0", Prop("TargetFramework"));
            Assert.Equal("Exe", Prop("OutputType"));
            Assert.Equal("true", Prop("PublishAot"));
            Assert.Equal("x86-64-v3", Prop("IlcInstructionSet"));
            Assert.Equal("x86-64-v3", Prop("IngotIsa"));
            var options = x.Descendants("RuntimeHostConfigurationOption").ToDictionary(o => o.Attribute("Include")!.Value, o => o.Attribute("Value")!.Value);
            Assert.Equal("$(IngotIsa)", options["Ingot.Isa"]);           // what IsaDispatch reads
            Assert.Equal("$(IngotIsaVariants)", options["Ingot.IsaVariants"]);
            Assert.Equal("linux-x64", Prop("RuntimeIdentifier"));
            Assert.Equal("true", Prop("InvariantGlobalization"));
            Assert.Equal("stories260K", Prop("AssemblyName"));
            var refs = x.Descendants("ProjectReference").ToList();
            Assert.Contains(refs, r => r.Attribute("Include")!.Value == "/repo/src/Ingot.Host/Ingot.Host.csproj");
            var gen = refs.Single(r => r.Attribute("Include")!.Value == "/repo/generators/Ingot.Generators/Ingot.Generators.csproj");
            Assert.Equal("Analyzer", gen.Attribute("OutputItemType")!.Value);
            Assert.Equal("false", gen.Attribute("ReferenceOutputAssembly")!.Value);
            Assert.Equal("stories260K.json", x.Descendants("AdditionalFiles").Single().Attribute("Include")!.Value);
            Assert.Equal("{\n  \"schema\": 1\n}\n", File.ReadAllText(Path.Combine(dir, "stories260K.json")));
            // Parent-directory settings (the repo's Directory.Build.props, central packages) must not leak in.
            Assert.True(File.Exists(Path.Combine(dir, "Directory.Build.props")));
            Assert.True(File.Exists(Path.Combine(dir, "Directory.Build.targets")));
            Assert.Contains("<ManagePackageVersionsCentrally>false", File.ReadAllText(Path.Combine(dir, "Directory.Packages.props")));
            string program = File.ReadAllText(Path.Combine(dir, "Program.cs"));
            Assert.Contains("[CompiledModel(\"stories260K\")]", program);
            Assert.Contains("partial class Model", program);
            Assert.Contains("return HostProgram.Run(new Model(), args);", program);

            // Rewriting identical content leaves files untouched (incremental publishes stay incremental).
            var before = File.GetLastWriteTimeUtc(p.ProjectPath);
            Thread.Sleep(20);
            p.Write("{\n  \"schema\": 1\n}\n");
            Assert.Equal(before, File.GetLastWriteTimeUtc(p.ProjectPath));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Fingerprint_ChangesWithEachInput_AndIsStable()
    {
        var v3 = IsaTarget.Parse("x86-x64-v3", "linux-x64");
        var v4 = IsaTarget.Parse("x86-x64-v4", "linux-x64");
        var auto = IsaTarget.Parse("auto", "linux-x64");
        string a = Fingerprint.Compute("{spec}", [1, 2, 3], "c1", v3);
        Assert.Equal(a, Fingerprint.Compute("{spec}", [1, 2, 3], "c1", v3));
        Assert.Equal(64, a.Length);
        Assert.NotEqual(a, Fingerprint.Compute("{spec2}", [1, 2, 3], "c1", v3));
        Assert.NotEqual(a, Fingerprint.Compute("{spec}", [1, 2, 4], "c1", v3));
        Assert.NotEqual(a, Fingerprint.Compute("{spec}", [1, 2, 3], "c2", v3));
        Assert.NotEqual(a, Fingerprint.Compute("{spec}", [1, 2, 3], "c1", v4));
        Assert.NotEqual(a, Fingerprint.Compute("{spec}", [1, 2, 3], "c1", auto));
        Assert.NotEqual(Fingerprint.Compute("{spec}", [1, 2, 3], "c1", IsaTarget.Parse("x86-64-v2", "linux-x64")), Fingerprint.Compute("{spec}", [1, 2, 3], "c1", auto));
        // Length-prefixed parts: moving a byte from one part to the next changes the hash.
        Assert.NotEqual(Fingerprint.Compute("ab", [], "c", v3), Fingerprint.Compute("a", [(byte)'b'], "c", v3));
    }

    [Fact]
    public void CompilerVersion_HashesTheRepoSources()
    {
        string v = Fingerprint.CompilerVersion(TestPaths.Repo);
        Assert.Equal(64, v.Length);
        Assert.Equal(v, Fingerprint.CompilerVersion(TestPaths.Repo));
        Assert.NotEqual(v, Fingerprint.CompilerVersion(Path.GetTempPath()));
    }

    [Fact]
    public void RepoLocator_FindsCompilerSln()
    {
        Assert.True(File.Exists(Path.Combine(RepoLocator.Find(), "Compiler.sln")));
    }

    [Fact]
    public void Build_MissingModel_OneClearLine()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new BuildCommand().Run(["/nonexistent/stories260K.gguf", "-o", Path.GetTempPath()], TextWriter.Null));
        Assert.Equal("model not found: /nonexistent/stories260K.gguf — the stories260K files live in ../shared/models", e.Message);
        // Through the CLI's own error mapping: one line, exit 1.
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        try { Assert.Equal(1, Cli.Program.Run(new RunCommand(), ["/nonexistent/m.gguf", "generate", "-p", "x"])); }
        finally { Console.SetError(old); }
        Assert.Equal("ingot run: model not found: /nonexistent/m.gguf — the stories260K files live in ../shared/models", err.ToString().TrimEnd());
    }

    /// <summary>Runs a CLI command through Program.Run; returns the exit code and what it printed to stderr.</summary>
    private static (int Code, string Err) Cli_(ICliCommand command, params string[] args)
    {
        var err = new StringWriter();
        var old = Console.Error;
        Console.SetError(err);
        try { return (Cli.Program.Run(command, args), err.ToString()); }
        finally { Console.SetError(old); }
    }

    /// <summary>A temp copy of the golden llama-gqa f32 file (tensors byte for byte) with its metadata changed by <paramref name="edit"/>.</summary>
    private static string GoldenLlamaWith(string tag, Action<Formats.GgufWriter> edit) =>
        TestPaths.CopyGgufWith(Path.Combine(TestPaths.Shared, "golden", "models", "llama-gqa.f32.gguf"), tag, edit);

    [Fact]
    public void Build_UnsupportedArchitecture_OneLineNamingIt()
    {
        // A family Ingot does not compile: a llama file relabelled as falcon.
        string falcon = GoldenLlamaWith("falcon", w => w.Set("general.architecture", "falcon"));
        try
        {
            var (code, err) = Cli_(new BuildCommand(), falcon, "-o", Path.GetTempPath());
            Assert.Equal(1, code);
            Assert.Single(err.TrimEnd().Split('\n'));
            Assert.Contains("general.architecture", err);
            Assert.Contains("'falcon'", err);
            (code, err) = Cli_(new ImportCommand(), falcon, "-o", "-");
            Assert.Equal(1, code);
            Assert.Contains("'falcon'", err);
        }
        finally { File.Delete(falcon); }
    }

    [Fact]
    public void Build_FeatureTheGeneratorLacks_IsItsDiagnosticBeforeAnyPublish()
    {
        // LongRoPE without its rope_factors tensors: the importer describes it, the planner refuses it (ING0008).
        string path = GoldenLlamaWith("longrope", w => w.Set("llama.rope.scaling.type", "longrope"));
        string outDir = Path.Combine(Path.GetTempPath(), "ingot-longrope-out-" + Environment.ProcessId);
        var (code, err) = Cli_(new BuildCommand(), path, "-o", outDir);
        Assert.Equal(1, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("ING0008", err);
        Assert.Contains("longrope", err);
        Assert.False(Directory.Exists(Path.Combine(outDir, ".ingot-build")), "nothing is published");
    }

    [Fact]
    public void Build_And_Run_UsageErrors()
    {
        Assert.Throws<UsageException>(() => new BuildCommand().Run([], TextWriter.Null));
        Assert.Throws<UsageException>(() => new BuildCommand().Run(["m.gguf", "--isa", "avx9"], TextWriter.Null));
        Assert.Throws<UsageException>(() => new BuildCommand().Run(["m.gguf", "--weights-layout", "q4x16"], TextWriter.Null));
        Assert.Throws<UsageException>(() => new RunCommand().Run(["m.gguf"]));
        Assert.Throws<UsageException>(() => new RunCommand().Run(["--bogus", "x", "m.gguf", "generate"]));
    }

    [Fact]
    public void DefaultWeightsLayout_IsIngot_WhereTheAvx512VnniKernelsRun()
    {
        Assert.Equal("ingot", IsaTarget.Parse("x86-64-v4", "linux-x64").DefaultWeightsLayout);
        Assert.Equal("gguf", IsaTarget.Parse("x86-64-v3", "linux-x64").DefaultWeightsLayout);
        Assert.Equal("gguf", IsaTarget.Parse("x86-64-v2", "linux-x64").DefaultWeightsLayout);
        Assert.Equal("gguf", IsaTarget.Parse("arm64", "linux-arm64").DefaultWeightsLayout);
        Assert.Equal("gguf", IsaTarget.Parse("auto", "linux-arm64").DefaultWeightsLayout);
        // native and auto follow the building CPU (auto's launcher runs the v4 variant where it has AVX-512)
        bool vnni512 = Ingot.Runtime.Kernels.IsaPaths.Avx512Vnni;
        Assert.Equal(vnni512 ? "ingot" : "gguf", IsaTarget.Parse("auto", "linux-x64").DefaultWeightsLayout);
        Assert.Equal(vnni512 ? "ingot" : "gguf", IsaTarget.Parse("native", "linux-x64").DefaultWeightsLayout);
    }

    [Fact]
    public unsafe void WriteWeights_IngotLayout_InterleavesTheQ4_0MatmulWeights_AndRewritesOnAChange()
    {
        string model = TestPaths.Require(Path.Combine(TestPaths.Shared, "models", "gguf", "stories260K-q4_0.gguf"));
        string outDir = Path.Combine(Path.GetTempPath(), "ingot-layout-out-" + Environment.ProcessId);
        try
        {
            using var source = ModelSource.Import(model, null, "s260");
            string laid = ModelBuilder.WriteWeights(source, "s260", outDir, TextWriter.Null, ingotLayout: true);
            using (var file = Formats.GgufFile.Open(laid))
            {
                Assert.Equal(Formats.Q4_0x16.Name, file.GetString(Formats.Q4_0x16.Key));
                Assert.True(Formats.Q4_0x16.TryFind(file.GetTensorPointer(file.FindTensor("blk.0.attn_q.weight")!), out _));
                // 172 rows: not whole groups of 16, kept in GGUF's layout; the token embedding is read by row id
                Assert.False(Formats.Q4_0x16.TryFind(file.GetTensorPointer(file.FindTensor("blk.0.ffn_up.weight")!), out _));
                Assert.False(Formats.Q4_0x16.TryFind(file.GetTensorPointer(file.FindTensor("token_embd.weight")!), out _));
            }
            // the stamp records the layout: a gguf build into the same folder rewrites the file
            string plain = ModelBuilder.WriteWeights(source, "s260", outDir, TextWriter.Null);
            using (var file = Formats.GgufFile.Open(plain)) Assert.False(file.ContainsKey(Formats.Q4_0x16.Key));
        }
        finally { if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true); }
    }

    [Fact]
    public void CacheRoot_HonoursIngotCache()
    {
        string? old = Environment.GetEnvironmentVariable("INGOT_CACHE");
        try
        {
            Environment.SetEnvironmentVariable("INGOT_CACHE", "/tmp/some-cache");
            Assert.Equal("/tmp/some-cache", RunCommand.CacheRoot());
            Environment.SetEnvironmentVariable("INGOT_CACHE", null);
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("XDG_CACHE_HOME")))
                Assert.EndsWith(Path.Combine(".cache", "ingot"), RunCommand.CacheRoot());
        }
        finally { Environment.SetEnvironmentVariable("INGOT_CACHE", old); }
    }
}
