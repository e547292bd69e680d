using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Ingot.Host;

/// <summary>
/// Which instruction-set build of the executable runs. `ingot build --isa auto` publishes the model three times: the
/// executable itself for x86-64-v2 (SSE4.2, every x86-64 CPU of the last 15 years), and MODEL.x86-64-v3 (AVX2, FMA,
/// BMI2) and MODEL.x86-64-v4 (AVX-512) beside it. The v2 build is also the launcher: before anything else it reads
/// CPUID and, where the CPU has what a sibling needs and the sibling is there, replaces itself with that sibling
/// (execve, same arguments). So nothing runs code the CPU lacks, and <c>info</c> says which build runs and why. The
/// build's own ISA and the launcher's list come from runtime configuration the build writes (Ingot.Isa,
/// Ingot.IsaVariants).
/// </summary>
public static partial class IsaDispatch
{
    private const string ChosenVariable = "INGOT_ISA_CHOSEN";

    /// <summary>The instruction set this executable was built for (x86-64-v3, …; null for a library or test host).</summary>
    public static string? Build => AppContext.GetData("Ingot.Isa") as string;

    /// <summary>In a sibling of an --isa auto build (NAME.x86-64-vN), its launcher's path (NAME); else null.</summary>
    public static string? LauncherPath =>
        Environment.ProcessPath is { } self && Build is { } isa && self.EndsWith("." + isa, StringComparison.Ordinal) ? self[..^(isa.Length + 1)] : null;

    /// <summary>The launcher's siblings, best first (empty unless this is an --isa auto launcher).</summary>
    public static string[] Variants => (AppContext.GetData("Ingot.IsaVariants") as string ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Why this build runs, for <c>info</c>: the launcher's choice, or the build's own target.</summary>
    public static string Describe()
    {
        string build = Build ?? "(not a published build)";
        if (Environment.GetEnvironmentVariable(ChosenVariable) is { Length: > 0 } why) return build + " — " + why;
        if (Variants.Length > 0) return build + " — " + LauncherStays();
        return build;
    }

    /// <summary>
    /// In an --isa auto launcher: execs the best sibling the CPU can run; returns only when this build should run (no
    /// better sibling, or the exec failed). Elsewhere returns at once.
    /// </summary>
    public static void Launch(string[] args)
    {
        if (Variants.Length == 0 || Environment.GetEnvironmentVariable(ChosenVariable) is { Length: > 0 }) return;
        string? self = Environment.ProcessPath;
        if (self is null || !OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        foreach (string isa in Variants)
        {
            string sibling = self + "." + isa;
            if (!Supports(isa, out string reason) || !File.Exists(sibling)) continue;
            var argv = new string?[args.Length + 2];
            argv[0] = sibling;
            args.CopyTo(argv, 1);
            // The sibling's environment: this one's, plus why it was chosen (a loop guard too). .NET's
            // SetEnvironmentVariable does not reach the native environment execv would pass on, so it goes by execve.
            var env = new List<string?>();
            foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
                if ((string)e.Key != ChosenVariable) env.Add(e.Key + "=" + e.Value);
            env.Add(ChosenVariable + "=chosen by the launcher: " + reason);
            env.Add(null);
            Exec(sibling, argv, [.. env]); // returns only if the exec failed: run here
        }
    }

    private static string LauncherStays()
    {
        string[] variants = Variants;
        // The least of the siblings says why none runs (the CPU lacks AVX2), unless the CPU could run one that is missing.
        foreach (string isa in variants)
            if (Supports(isa, out _)) return $"the launcher's own build: {Path.GetFileName(Environment.ProcessPath)}.{isa} is missing";
        Supports(variants[^1], out string reason);
        return "the launcher's own build: " + reason;
    }

    /// <summary>Whether the CPU (CPUID, as a VM or emulator reports it) has everything the build for <paramref name="isa"/> uses.</summary>
    public static bool Supports(string isa, out string reason)
    {
        if (!X86Base.IsSupported) { reason = "not an x86-64 CPU"; return false; }
        var (_, _, ecx1, _) = X86Base.CpuId(1, 0);
        var (_, ebx7, _, _) = X86Base.CpuId(7, 0);
        var (_, _, ecx81, _) = X86Base.CpuId(unchecked((int)0x80000001), 0);
        bool Bit(int reg, int bit) => (reg >> bit & 1) != 0;
        // x86-64-v3: AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE, and the OS saving the AVX state (OSXSAVE).
        bool v3 = Bit(ecx1, 28) && Bit(ebx7, 5) && Bit(ebx7, 3) && Bit(ebx7, 8) && Bit(ecx1, 29) && Bit(ecx1, 12) && Bit(ecx81, 5) && Bit(ecx1, 22) && Bit(ecx1, 27);
        // x86-64-v4: v3 and AVX-512 F, BW, CD, DQ, VL.
        bool v4 = v3 && Bit(ebx7, 16) && Bit(ebx7, 30) && Bit(ebx7, 28) && Bit(ebx7, 17) && Bit(ebx7, 31);
        switch (isa)
        {
            case "x86-64-v4":
                reason = v4 ? "the CPU reports AVX-512 F/BW/CD/DQ/VL" : "the CPU lacks AVX-512 (F/BW/CD/DQ/VL)";
                return v4;
            case "x86-64-v3":
                reason = v3 ? "the CPU reports AVX2, FMA, BMI2, F16C, LZCNT and MOVBE" : "the CPU lacks AVX2 (or FMA, BMI, F16C, LZCNT, MOVBE)";
                return v3;
            default:
                reason = "unknown instruction set " + isa;
                return false;
        }
    }

    private static void Exec(string path, string?[] argv, string?[] envp)
    {
        try { _ = Execve(path, argv, envp); } // returns only on failure
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Execve(string path, string?[] argv, string?[] envp);
}
