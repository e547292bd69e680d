using System.Security.Cryptography;
using System.Text;

namespace Ingot.Cli.Building;

/// <summary>
/// The cache key of a compiled executable: SHA-256 over everything that can change the binary —
/// the spec JSON, the GGUF header (metadata + tensor infos, not the tensor data), the compiler version and the target.
/// </summary>
public static class Fingerprint
{
    public static string Compute(string specJson, ReadOnlySpan<byte> ggufHeader, string compilerVersion, IsaTarget target)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Part(string label, ReadOnlySpan<byte> bytes)
        {
            // Length-prefixed parts: no two different inputs concatenate to the same stream.
            h.AppendData(Encoding.UTF8.GetBytes(label));
            Span<byte> len = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(len, bytes.Length);
            h.AppendData(len);
            h.AppendData(bytes);
        }
        Part("ingot-fingerprint-v1", default);
        Part("spec", Encoding.UTF8.GetBytes(specJson));
        Part("gguf-header", ggufHeader);
        Part("compiler", Encoding.UTF8.GetBytes(compilerVersion));
        Part("target", Encoding.UTF8.GetBytes(target.InstructionSet + "|" + string.Join(",", target.Variants) + "|" + target.RuntimeIdentifier));
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>
    /// The compiler's version: SHA-256 over the sources an executable is compiled from — the generator, Ingot.Runtime,
    /// Ingot.Host, Ingot.Formats and the shared build files. Hashing sources rather than the tool's own assemblies is
    /// deliberate: `ingot build` compiles the host from the repo's sources, so an edit there must invalidate the cache
    /// even before the tool itself is rebuilt. About a hundred small files: a few milliseconds.
    /// </summary>
    public static string CompilerVersion(string repoRoot)
    {
        var files = new List<string>();
        foreach (string dir in new[] { "generators/Ingot.Generators", "src/Ingot.Runtime", "src/Ingot.Host", "src/Ingot.Formats" })
        {
            string full = Path.Combine(repoRoot, dir);
            if (System.IO.Directory.Exists(full)) Collect(full, files);
        }
        foreach (string f in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json" })
        {
            string full = Path.Combine(repoRoot, f);
            if (File.Exists(full)) files.Add(full);
        }
        var rel = files.Select(f => Path.GetRelativePath(repoRoot, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string r in rel)
        {
            h.AppendData(Encoding.UTF8.GetBytes(r + "\n"));
            h.AppendData(SHA256.HashData(File.ReadAllBytes(Path.Combine(repoRoot, r))));
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    private static void Collect(string dir, List<string> files)
    {
        foreach (string f in System.IO.Directory.EnumerateFiles(dir))
            if (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal))
                files.Add(f);
        foreach (string d in System.IO.Directory.EnumerateDirectories(dir))
        {
            string n = Path.GetFileName(d);
            if (n is "bin" or "obj" or "artifacts" || n.StartsWith('.')) continue;
            Collect(d, files);
        }
    }
}
