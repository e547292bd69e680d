using System.Security;
using System.Security.Cryptography;
using System.Text;

namespace Ingot.Cli.Building;

/// <summary>
/// What `ingot build` compiles a model's host executable from.
/// <list type="bullet">
/// <item><see cref="Repository"/>: this source tree. The host project references Ingot.Host and the generator by path,
/// so an edit to the sources is in the next build.</item>
/// <item><see cref="Installed"/>: the dotnet tool (`dotnet tool install ingot.tool`), which carries the compiled
/// libraries. <c>hostlib/</c> holds Ingot.Host and its dependencies as built for the hosts' framework;
/// <c>analyzers/</c> holds the generator and Ingot.Specs. A machine with only the .NET SDK builds with it.</item>
/// </list>
/// </summary>
public abstract record CompilerSource
{
    public sealed record Repository(string Root) : CompilerSource;

    public sealed record Installed(string Directory) : CompilerSource;

    /// <summary>
    /// $INGOT_REPO if set. Otherwise the installed tool's libraries when this tool carries them and does not run from
    /// inside a source tree. Otherwise the source tree above the tool (<see cref="RepoLocator"/>).
    /// </summary>
    public static CompilerSource Locate()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("INGOT_REPO"))) return new Repository(RepoLocator.Find());
        string tool = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(tool, "hostlib", "Ingot.Host.dll")) && File.Exists(Path.Combine(tool, "analyzers", "Ingot.Generators.dll")) && !InsideRepository(tool))
            return new Installed(Path.GetFullPath(tool));
        return new Repository(RepoLocator.Find());
    }

    private static bool InsideRepository(string dir)
    {
        for (var d = new DirectoryInfo(dir); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Compiler.sln"))) return true;
        return false;
    }

    /// <summary>The compiler's version for the cache key: the repository's sources, or the installed libraries' bytes.</summary>
    public string Version => this switch
    {
        Repository r => Fingerprint.CompilerVersion(r.Root),
        Installed i => HashFiles(i.Directory, ["hostlib", "analyzers"]),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The host project's ItemGroup lines that bring in Ingot.Host (with the runtime) and the generator.</summary>
    public IEnumerable<string> ProjectItems()
    {
        static string X(string s) => SecurityElement.Escape(s);
        switch (this)
        {
            case Repository r:
                yield return "<ProjectReference Include=\"" + X(Path.Combine(r.Root, "src", "Ingot.Host", "Ingot.Host.csproj")) + "\" />";
                yield return "<ProjectReference Include=\"" + X(Path.Combine(r.Root, "generators", "Ingot.Generators", "Ingot.Generators.csproj")) + "\" OutputItemType=\"Analyzer\" ReferenceOutputAssembly=\"false\" />";
                break;
            case Installed i:
                yield return "<Reference Include=\"" + X(Path.Combine(i.Directory, "hostlib", "*.dll")) + "\" />";
                yield return "<FrameworkReference Include=\"Microsoft.AspNetCore.App\" />"; // Ingot.Host's serve verb (a ProjectReference brings it along)
                yield return "<Analyzer Include=\"" + X(Path.Combine(i.Directory, "analyzers", "*.dll")) + "\" />";
                break;
        }
    }

    private static string HashFiles(string root, string[] dirs)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string dir in dirs)
        {
            foreach (string f in System.IO.Directory.GetFiles(Path.Combine(root, dir)).Order(StringComparer.Ordinal))
            {
                h.AppendData(Encoding.UTF8.GetBytes(dir + "/" + Path.GetFileName(f) + "\n"));
                h.AppendData(SHA256.HashData(File.ReadAllBytes(f)));
            }
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }
}
