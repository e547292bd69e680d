using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Host.Tests;

/// <summary>
/// Ingot from a package, outside this repository: `dotnet pack Compiler.sln` into a fresh local feed, then a new
/// console app in a temporary directory adds the Ingot package, copies the stories260K spec into its modelspecs/ and
/// declares [CompiledModel("stories260K")]. `dotnet run` and a NativeAOT publish both print llama2.c's greedy text
/// through GenerateAsync, and the publish log has no trim or AOT warning. The version is unique per run, so NuGet's
/// global cache never serves a stale package. A few minutes (a pack, a run and a NativeAOT publish on two cores);
/// filter it out with <c>--filter Category!=Publish</c>.
/// </summary>
[Trait("Category", "Publish")]
public class PackageTests(PackedFeed packed, ITestOutputHelper log) : IClassFixture<PackedFeed>
{
    /// <summary>The app's Program.cs; README's "Use it from your app" is this text.</summary>
    internal const string AppSource = """
        using Ingot;                                         // the one namespace an app needs (plus Microsoft.Extensions.AI for its own types)
        using Microsoft.Extensions.AI;

        string path = args.Length > 0 ? args[0] : "stories260K-f32.gguf";
        using var model = Stories.Load(path, new InferenceOptions { Threads = 2 });
        Console.Write("Once upon a time");
        // llama2.c's run.c -n 200 counts positions: BOS, the prompt's 4 tokens, then 196 new ones.
        await foreach (string piece in model.GenerateAsync("Once upon a time", new GenerationOptions { MaxNewTokens = 196, Temperature = 0 }))
            Console.Write(piece);
        Console.WriteLine();

        if (args.Length > 1)                                 // a file of the same model that carries a chat template
        {
            using var chatModel = Stories.Load(args[1]);
            IChatClient chat = chatModel.AsChatClient();     // the model's own chat template
            ChatResponse reply = await chat.GetResponseAsync("Tell me a story.", new ChatOptions { Temperature = 0, MaxOutputTokens = 24 });
            Console.WriteLine(reply.Text);
        }

        [CompiledModel("stories260K")] public partial class Stories;
        """;

    private (int Code, string Out, string Err) Exec(string file, string workDir, params string[] args) => ExecWith(file, workDir, null, args);

    private (int Code, string Out, string Err) ExecWith(string file, string workDir, Dictionary<string, string>? env, params string[] args)
    {
        var r = TestProcess.Run(file, workDir, env, args);
        log.WriteLine(r.Log);
        return (r.Code, r.Out, r.Err);
    }

    private static string Golden() => TestPaths.GoldenCase("bos_only").Text;

    [Fact]
    public void AnAppOutsideTheRepoAddsThePackageAndPrintsTheGoldenTextWithJitAndNativeAot()
    {
        string gguf = TestPaths.Require(TestPaths.Stories260KGguf);
        string golden = Golden();
        string chatGguf = TestPaths.StoriesWithChatTemplate;
        var (chatCode, chatReply, chatErr) = HostProgramTests.Run(new Stories260K(), "generate", "--chat", "-p", "Tell me a story.", "--max-new", "24", "--temp", "0", "--model", chatGguf);
        Assert.True(chatCode == 0, chatErr);
        string expected = golden + "\n" + chatReply;
        log.WriteLine(packed.Log);
        string feed = packed.Feed, version = packed.Version, app = Path.Combine(packed.Root, "app");
        foreach (var id in new[] { "Ingot", "Ingot.Runtime", "Ingot.Generators", "Ingot.Tool" }) Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.nupkg")), id);

        Directory.CreateDirectory(Path.Combine(app, "modelspecs"));
        File.Copy(Path.Combine(TestPaths.Repo, "modelspecs", "stories260K.json"), Path.Combine(app, "modelspecs", "stories260K.json"));
        File.WriteAllText(Path.Combine(app, "Program.cs"), AppSource);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Ingot" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        // The local feed beside the machine's own sources (not cleared: the SDK's packages come from those).
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="ingot-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        var (code, o, e) = Exec("dotnet", app, "run", "--", gguf, chatGguf);
        Assert.True(code == 0, o + e);
        Assert.Equal(expected, o);

        (code, o, e) = Exec("dotnet", app, "publish", "-r", "linux-x64", "-p:PublishAot=true", "-o", Path.Combine(app, "aot"));
        Assert.True(code == 0, o + e);
        var warnings = (o + e).Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(warnings.Count == 0, "publish warnings:\n" + string.Join('\n', warnings));
        (code, o, e) = Exec(Path.Combine(app, "aot", "App"), app, gguf, chatGguf);
        Assert.True(code == 0, e);
        Assert.Equal(expected, o);
    }

    /// <summary>
    /// `dotnet tool install` from the feed into a temporary tool path; the installed `ingot run` compiles stories260K
    /// from the libraries the tool carries (hostlib/, analyzers/), not from this repository, and prints llama2.c's text.
    /// </summary>
    [Fact]
    public void TheDotnetToolInstallsFromTheFeedAndRunsAModelFromTheLibrariesItCarries()
    {
        string tools = Path.Combine(packed.Root, "tools"), cache = Path.Combine(packed.Root, "cache"), work = Directory.CreateDirectory(Path.Combine(packed.Root, "work")).FullName;
        var (code, o, e) = Exec("dotnet", packed.Root, "tool", "install", "Ingot.Tool", "--tool-path", tools, "--add-source", packed.Feed, "--version", packed.Version);
        Assert.True(code == 0, o + e);
        (code, o, e) = ExecWith(Path.Combine(tools, "ingot"), work, new() { ["INGOT_CACHE"] = cache },
            "run", TestPaths.Require(TestPaths.Stories260KGguf), "generate", "-p", "Once upon a time", "-n", "200", "--temp", "0");
        Assert.True(code == 0, e);
        Assert.Equal(Golden() + "\n", o);
        string host = File.ReadAllText(Directory.GetFiles(cache, "Host.csproj", SearchOption.AllDirectories).Single());
        Assert.Contains("hostlib", host);
        Assert.DoesNotContain(TestPaths.Repo, host);
    }
}

/// <summary>`dotnet pack Compiler.sln` into a fresh local feed, once for <see cref="PackageTests"/>; a unique version per run.</summary>
public sealed class PackedFeed : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "ingot-package-test-" + Environment.ProcessId);
    public string Feed => Path.Combine(Root, "feed");
    public string Version { get; } = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
    public string Log { get; }

    public PackedFeed()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        var r = TestProcess.Run("dotnet", TestPaths.Repo, null, "pack", Path.Combine(TestPaths.Repo, "Compiler.sln"), "-c", "Release", "-o", Feed,
            "-p:Version=" + Version, "-p:ArtifactsPath=" + Path.Combine(Root, "artifacts"));
        if (r.Code != 0) throw new InvalidOperationException("dotnet pack failed:\n" + r.Out + r.Err);
        Log = r.Log + "\n" + string.Join(", ", Directory.GetFiles(Feed, "*.nupkg").Select(Path.GetFileName).Order());
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { } // a file still held open: the temp directory is the OS's to clean
    }
}

/// <summary>README's "Use it from your app" shows the Program.cs that <see cref="PackageTests"/> compiles, verbatim.</summary>
public class ReadmeAppSnippetTests
{
    [Fact]
    public void TheReadmeSnippetIsTheCompiledAppSource()
    {
        string readme = File.ReadAllText(Path.Combine(TestPaths.Repo, "README.md")).Replace("\r\n", "\n");
        string source = string.Join('\n', PackageTests.AppSource.Replace("\r\n", "\n").Split('\n'));
        Assert.Contains("```csharp\n" + source + "\n```", readme);
    }
}
