using Ingot.Fuzzing;
using Xunit;

namespace Ingot.Host.Tests;

/// <summary>
/// Every input of the fuzzing seed corpora (tests/Fuzzing/corpus) and every crash the fuzzer found and we fixed
/// (tests/Fuzzing/regressions) runs through its reader as tests/Fuzzing/fuzz.sh runs it: a documented error is fine,
/// anything else fails here.
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

    [Fact]
    public void EveryTargetHasSeeds()
    {
        foreach (string target in FuzzTargets.All.Keys)
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(TestPaths.Repo, "tests", "Fuzzing", "corpus", target)));
    }
}
