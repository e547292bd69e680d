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
public class PackageTests(ITestOutputHelper log)
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

    private (int Code, string Out, string Err) Exec(string file, string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8 };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The app must not see this repository's build settings or the test host's MSBuild state.
        foreach (var v in new[] { "MSBuildSDKsPath", "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "INGOT_ARTIFACTS" }) psi.Environment.Remove(v);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        log.WriteLine($"{Path.GetFileName(file)} {string.Join(' ', args)}: exit {p.ExitCode} in {sw.Elapsed.TotalSeconds:F1} s");
        return (p.ExitCode, o, err.Result);
    }

    [Fact]
    public void AnAppOutsideTheRepoAddsThePackageAndPrintsTheGoldenTextWithJitAndNativeAot()
    {
        string gguf = TestPaths.Require(TestPaths.Stories260KGguf);
        string golden;
        using (var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Require(TestPaths.GoldenJson))))
            golden = doc.RootElement.GetProperty("cases").GetProperty("bos_only").GetProperty("decoded").GetString()!;
        string chatGguf = TestPaths.StoriesWithChatTemplate;
        var (chatCode, chatReply, chatErr) = HostProgramTests.Run(new Stories260K(), "generate", "--chat", "-p", "Tell me a story.", "--max-new", "24", "--temp", "0", "--model", chatGguf);
        Assert.True(chatCode == 0, chatErr);
        string expected = golden + "\n" + chatReply;
        string root = Path.Combine(Path.GetTempPath(), "ingot-package-test-" + Environment.ProcessId);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        string feed = Path.Combine(root, "feed"), app = Path.Combine(root, "app");
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

        var (code, o, e) = Exec("dotnet", TestPaths.Repo, "pack", Path.Combine(TestPaths.Repo, "Compiler.sln"), "-c", "Release", "-o", feed,
            "-p:Version=" + version, "-p:ArtifactsPath=" + Path.Combine(root, "artifacts"));
        Assert.True(code == 0, o + e);
        string[] packages = [.. Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order()!];
        log.WriteLine(string.Join(", ", packages));
        foreach (var id in new[] { "Ingot", "Ingot.Runtime", "Ingot.Generators" }) Assert.Contains($"{id}.{version}.nupkg", packages);

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

        (code, o, e) = Exec("dotnet", app, "run", "--", gguf, chatGguf);
        Assert.True(code == 0, o + e);
        Assert.Equal(expected, o);

        (code, o, e) = Exec("dotnet", app, "publish", "-r", "linux-x64", "-p:PublishAot=true", "-o", Path.Combine(app, "aot"));
        Assert.True(code == 0, o + e);
        var warnings = (o + e).Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(warnings.Count == 0, "publish warnings:\n" + string.Join('\n', warnings));
        (code, o, e) = Exec(Path.Combine(app, "aot", "App"), app, gguf, chatGguf);
        Assert.True(code == 0, e);
        Assert.Equal(expected, o);
        Directory.Delete(root, recursive: true);
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
