using Ingot.Fuzzing;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// Every fuzzing seed and every crash the fuzzer found and we fixed runs through its reader as tests/Fuzzing/fuzz.sh runs
/// it: a documented error is fine, anything else fails here. Text inputs live in tests/Fuzzing (corpus, regressions);
/// binary ones are made by <see cref="FuzzSeeds"/> (no model file is kept in the repo); and the real model files of
/// ../shared run too, read in place.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string set in new[] { "corpus", "regressions" })
            foreach (string target in FuzzTargets.All.Keys)
            {
                string dir = Path.Combine(TestPaths.Repo, "tests", "Fuzzing", set, target);
                if (!Directory.Exists(dir)) continue;
                foreach (string file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                    data.Add(target, Path.GetRelativePath(TestPaths.Repo, file));
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void AnInputFromTheCorporaOrAFixedCrashReadsWithoutAnUndocumentedError(string target, string file)
    {
        FuzzTargets.All[target](File.ReadAllBytes(Path.Combine(TestPaths.Repo, file)));
    }

    // Made once for all the cases below (three synth GGUFs among them).
    private static readonly Lazy<List<(string Target, string Name, byte[] Data)>> Seeds = new(() => [.. FuzzSeeds.Generated()]);
    private static readonly Lazy<List<(string Target, string Name, byte[] Data)>> Made = new(() => [.. Seeds.Value, .. FuzzSeeds.Regressions()]);

    public static TheoryData<string, string> Generated()
    {
        var data = new TheoryData<string, string>();
        foreach (var (target, name, _) in Made.Value) data.Add(target, name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Generated))]
    public void AGeneratedSeedOrFixedBinaryCrashReadsWithoutAnUndocumentedError(string target, string name)
    {
        var (_, _, bytes) = Made.Value.Single(s => s.Target == target && s.Name == name);
        FuzzTargets.All[target](bytes);
    }

    /// <summary>The shared models in every format, as the targets take them (llama2c: [u32 n][checkpoint][tokenizer.bin]).</summary>
    public static TheoryData<string, string> SharedFiles() => new()
    {
        { "gguf", "models/gguf/stories260K-f32.gguf" },
        { "gguf", "models/gguf/stories260K-q4_0.gguf" },
        { "safetensors", "models/hf/stories260K-llama/model.safetensors" },
        { "spm-model", "models/llama2c/tok512.model" },
        { "llama2c", "models/llama2c/stories260K.bin" },
    };

    [Theory]
    [MemberData(nameof(SharedFiles))]
    public void ASharedModelFileReadsWithoutAnUndocumentedError(string target, string file)
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Require(Path.Combine(TestPaths.Shared, file)));
        if (target == "llama2c")
            bytes = FuzzSeeds.Llama2cInput(bytes, File.ReadAllBytes(TestPaths.Require(Path.Combine(TestPaths.Shared, "models", "llama2c", "tok512.bin"))));
        FuzzTargets.All[target](bytes);
    }

    [Fact]
    public void EveryTargetHasSeeds()
    {
        var generated = Seeds.Value.Select(s => s.Target).ToHashSet();
        foreach (string target in FuzzTargets.All.Keys)
        {
            string dir = Path.Combine(TestPaths.Repo, "tests", "Fuzzing", "corpus", target);
            Assert.True(generated.Contains(target) || Directory.Exists(dir) && Directory.GetFiles(dir).Length > 0, target + " has no seeds");
        }
    }
}
