using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Building;

/// <summary>The steps `ingot build` and `ingot run` share: name the model, write the host project, publish, copy.</summary>
public static partial class ModelBuilder
{
    /// <summary>
    /// The default executable name: the model file's name (or the HF folder's) without its extension and without a
    /// trailing quantization tag, so <c>stories260K-q8_0.gguf</c> builds <c>stories260K</c>. Characters outside
    /// [A-Za-z0-9._-] become '_'.
    /// </summary>
    public static string DefaultName(string modelPath)
    {
        string full = Path.GetFullPath(modelPath).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        string stem = System.IO.Directory.Exists(full) ? Path.GetFileName(full) : Path.GetFileNameWithoutExtension(full);
        // llama.cpp's file-name tags: Q4_K_M, q8_0, IQ2_XXS, F16, BF16 …
        stem = QuantSuffix().Replace(stem, "");
        return Sanitize(stem);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[-._](i?q[0-9][0-9a-z_]*|f16|f32|bf16|fp16|fp32)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex QuantSuffix();

    public static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        string s = sb.ToString().Trim('.');
        if (s.Length == 0) throw new UsageException($"'{name}' does not make a usable executable name; pass --name NAME");
        return s;
    }

    /// <summary>The one-line error for a model path that does not exist.</summary>
    public static FileNotFoundException ModelNotFound(string path) =>
        new($"model not found: {Path.GetFullPath(path)} — the stories260K files live in ../shared/models", path);

    /// <summary>
    /// Writes the host project into <paramref name="buildDir"/>, publishes it, copies the executable into
    /// <paramref name="outDir"/>. For --isa auto, the variants first (NAME.x86-64-v4, NAME.x86-64-v3 beside NAME), then
    /// the x86-64-v2 launcher that picks one of them at start; a single-ISA build removes variants an earlier auto
    /// build left, so no stale sibling is ever run.
    /// </summary>
    public static string BuildExecutable(ModelSource source, string name, IsaTarget target, string buildDir, string outDir, CompilerSource compiler, TextWriter progress)
    {
        var project = new HostProject(buildDir, name, compiler, target);
        string spec = source.SpecJsonFor(name);
        SpecCompileCheck.ThrowIfNotCompilable(name, spec);
        CrossToolchain.ThrowIfMissing(target.RuntimeIdentifier);
        project.Write(spec);
        progress.WriteLine($"host project: {project.Directory}");
        System.IO.Directory.CreateDirectory(outDir);
        string exe = Path.Combine(Path.GetFullPath(outDir), project.ExecutableName);
        foreach (string isa in IsaTarget.AutoVariants)
            if (Array.IndexOf(target.Variants, isa) < 0 && File.Exists(exe + "." + isa)) File.Delete(exe + "." + isa);
        long t0 = Stopwatch.GetTimestamp();
        foreach (string isa in target.Variants)
        {
            progress.WriteLine($"publishing with NativeAOT ({isa}, {target.RuntimeIdentifier}) …");
            progress.Flush();
            string variant = NativePublisher.Publish(project, progress, Path.Combine(project.PublishDirectory, isa), ["IlcInstructionSet=" + isa, "IngotIsa=" + isa]);
            File.Copy(variant, exe + "." + isa, overwrite: true);
        }
        progress.WriteLine($"publishing with NativeAOT ({target.InstructionSet}{(target.Variants.Length > 0 ? ", the launcher" : "")}, {target.RuntimeIdentifier}) …");
        progress.Flush();
        string built = target.Variants.Length == 0
            ? NativePublisher.Publish(project, progress)
            : NativePublisher.Publish(project, progress, project.PublishDirectory, ["IngotIsaVariants=" + string.Join("%3B", target.Variants)]);
        File.Copy(built, exe, overwrite: true);
        progress.WriteLine(string.Format(CultureInfo.InvariantCulture, "published in {0:F1} s", Stopwatch.GetElapsedTime(t0).TotalSeconds));
        return exe;
    }

    /// <summary>
    /// Writes the weights next to the executable, skipping the work when an identical copy is already there. With
    /// <paramref name="ingotLayout"/> the Q4_0 and Q4_K matmul weights are stored in Ingot's interleaved layout
    /// (<see cref="Formats.Q4_0x16"/>, <see cref="Formats.KQuantsX16"/>: the same values, 16 rows together), which the
    /// executable reads as they are.
    /// </summary>
    public static string WriteWeights(ModelSource source, string name, string outDir, TextWriter progress, bool ingotLayout = false)
    {
        System.IO.Directory.CreateDirectory(outDir);
        string dest = Path.Combine(Path.GetFullPath(outDir), name + ".gguf");
        string stamp = dest + ".source";
        string want = source.Stamp() + (ingotLayout ? "\nweights layout " + Formats.Q4_0x16.Name : "");
        if (File.Exists(dest) && File.Exists(stamp) && File.ReadAllText(stamp) == want)
        {
            progress.WriteLine($"weights: {dest} (up to date)");
            return dest;
        }
        // A copy keeps the source's mode bits; a read-only earlier copy could not be overwritten in place.
        if (File.Exists(dest)) File.Delete(dest);
        if (ingotLayout)
        {
            string plain = dest + ".gguf-layout";
            source.WriteGguf(plain);
            try { Formats.Q4_0x16.Write(plain, dest); }
            finally { File.Delete(plain); }
        }
        else source.WriteGguf(dest);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dest, File.GetUnixFileMode(dest) | UnixFileMode.UserWrite);
        File.WriteAllText(stamp, want);
        progress.WriteLine($"weights: {dest}");
        return dest;
    }
}
