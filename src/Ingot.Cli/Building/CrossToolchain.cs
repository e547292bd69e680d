using System.Runtime.InteropServices;

namespace Ingot.Cli.Building;

/// <summary>
/// What NativeAOT needs to publish linux-arm64 from an x86-64 Linux machine: clang links for the target triple against
/// the Debian cross sysroot (/usr/aarch64-linux-gnu, found from SysRoot=/), lld links (the host's ld is x86-64 only),
/// and the aarch64 objcopy strips the symbols into the .dbg file. Same-architecture builds need none of it.
/// </summary>
public static class CrossToolchain
{
    private const string ObjCopy = "aarch64-linux-gnu-objcopy";
    private const string Sysroot = "/usr/aarch64-linux-gnu";

    /// <summary>True when <paramref name="rid"/> is linux-arm64 and this machine is not.</summary>
    public static bool IsCrossArm64(string rid) =>
        OperatingSystem.IsLinux() && rid == "linux-arm64" && RuntimeInformation.OSArchitecture != Architecture.Arm64;

    /// <summary>The MSBuild properties of a cross build (name, value); none for a native one.</summary>
    public static IReadOnlyList<(string Name, string Value)> Properties(string rid) =>
        IsCrossArm64(rid) ? [("SysRoot", "/"), ("LinkerFlavor", "lld"), ("ObjCopyName", ObjCopy)] : [];

    /// <summary>One line naming what is missing, before a publish that would fail deep inside the linker.</summary>
    public static void ThrowIfMissing(string rid)
    {
        if (!IsCrossArm64(rid)) return;
        var missing = new List<string>();
        if (!OnPath("clang")) missing.Add("clang");
        if (!OnPath("ld.lld")) missing.Add("ld.lld");
        if (!OnPath(ObjCopy)) missing.Add(ObjCopy);
        if (!File.Exists(Path.Combine(Sysroot, "lib", "crt1.o"))) missing.Add(Sysroot + "/lib/crt1.o");
        if (missing.Count > 0)
            throw new IOException($"cross-compiling to {rid} needs {string.Join(", ", missing)}: apt-get install clang lld " +
                "binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev-arm64-cross");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
}
