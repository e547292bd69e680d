using Ingot.Host.CommandLine;
using Xunit;

namespace Ingot.Host.Tests;

public class ArgReaderTests
{
    [Fact]
    public void ReadsOptionsFlagsAndPositionals_InAnyOrder()
    {
        var a = new ArgReader(["model.gguf", "--temp=0.5", "-n", "12", "--quiet", "extra", "-p", "-starts with dash"]);
        Assert.True(a.Flag("--quiet", "-q"));
        Assert.Equal(0.5f, a.Float(1f, "--temp"));
        Assert.Equal(12, a.Int(0, "-n"));
        Assert.Equal("-starts with dash", a.OptionOrNull("-p", "--prompt"));
        Assert.Equal("model.gguf", a.Positional());
        Assert.Equal("extra", a.Positional());
        Assert.Null(a.Positional());
        a.ThrowIfUnknown();
    }

    [Fact]
    public void Defaults_WhenAbsent()
    {
        var a = new ArgReader([]);
        Assert.Equal(7, a.Int(7, "-n"));
        Assert.Equal(0.25f, a.Float(0.25f, "--x"));
        Assert.Null(a.IntOrNull("--window"));
        Assert.Null(a.FloatOrNull("--scale"));
        Assert.Equal("out", a.OptionOr("out", "-o", "--out"));
        Assert.Null(a.OptionOrNull("-o", "--out"));
        Assert.False(a.Flag("--v"));
        Assert.False(a.WantsHelp);
    }

    [Fact]
    public void OptionOrNull_TakesEveryNameAsAName()
    {
        // Every argument is a name: no overload can take "-o" for a default value.
        var a = new ArgReader(["-o", "dir"]);
        Assert.Equal("dir", a.OptionOrNull("-o", "--out"));
        var b = new ArgReader(["--out", "dir2"]);
        Assert.Equal("dir2", b.OptionOrNull("-o", "--out"));
    }

    [Fact]
    public void Errors_AreUsageExceptions_NamingTheOption()
    {
        Assert.Contains("-n", Assert.Throws<UsageException>(() => new ArgReader(["-n", "many"]).Int(0, "-n")).Message);
        Assert.Contains("out of range", Assert.Throws<UsageException>(() => new ArgReader(["-n", "99999999999"]).Int(0, "-n")).Message);
        Assert.Contains("needs a value", Assert.Throws<UsageException>(() => new ArgReader(["-p"]).OptionOrNull("-p")).Message);
        Assert.Contains("'--what'", Assert.Throws<UsageException>(() => new ArgReader(["--what"]).ThrowIfUnknown()).Message);
        Assert.Contains("not a valid number", Assert.Throws<UsageException>(() => new ArgReader(["--scale", "x"]).FloatOrNull("--scale")).Message);
        Assert.Equal(3, new ArgReader(["--window", "3"]).IntOrNull("--window"));
        Assert.Contains("missing MODEL", Assert.Throws<UsageException>(() => new ArgReader([]).RequiredPositional("MODEL")).Message);
    }

    [Fact]
    public void Help_IsDetected()
    {
        Assert.True(new ArgReader(["-p", "x", "--help"]).WantsHelp);
        Assert.True(new ArgReader(["-h"]).WantsHelp);
    }
}
