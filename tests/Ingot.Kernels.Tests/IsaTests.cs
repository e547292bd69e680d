using System.Runtime.Intrinsics;
using Xunit;
using Xunit.Abstractions;

namespace Ingot.Kernels.Tests;

/// <summary>Proves which paths a run exercised: DOTNET_EnableHWIntrinsic=0 must reach the scalar code, EnableAVX2=0 the 128-bit code.</summary>
public class IsaTests(ITestOutputHelper output)
{
    [Fact]
    public void ReportsAndHonoursIsaEnvironment()
    {
        output.WriteLine($"V128={Vector128.IsHardwareAccelerated} V256={Vector256.IsHardwareAccelerated} V512={Vector512.IsHardwareAccelerated}");
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
            Assert.False(Vector128.IsHardwareAccelerated);
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
            Assert.False(Vector256.IsHardwareAccelerated);
    }
}
