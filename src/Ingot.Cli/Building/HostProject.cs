using System.Security;
using System.Text;

namespace Ingot.Cli.Building;

/// <summary>
/// The tiny project `ingot build` publishes for one model: a Program.cs with the <c>[CompiledModel]</c> class, the
/// spec as an AdditionalFile, and Ingot.Host (library) and Ingot.Generators (analyzer) from the <see cref="CompilerSource"/>.
/// It sits in its own directory with empty Directory.Build.props/.targets/Directory.Packages.props so nothing from
/// a parent directory (such as the repo's own build settings) leaks in; bin/obj go under that directory.
/// </summary>
public sealed class HostProject(string directory, string name, CompilerSource compiler, IsaTarget target)
{
    public string Directory { get; } = Path.GetFullPath(directory);
    public string Name { get; } = name;
    public string ProjectPath => Path.Combine(Directory, "Host.csproj");
    public string SpecPath => Path.Combine(Directory, Name + ".json");
    public string PublishDirectory => Path.Combine(Directory, "publish");
    public string ArtifactsDirectory => Path.Combine(Directory, "artifacts");
    public string ExecutableName => OperatingSystem.IsWindows() ? Name + ".exe" : Name;

    /// <summary>Writes every file; unchanged files are left untouched so incremental publishes stay incremental.</summary>
    public void Write(string specJson)
    {
        System.IO.Directory.CreateDirectory(Directory);
        WriteIfChanged(Path.Combine(Directory, "Directory.Build.props"), "<Project>\n  <!-- Stops MSBuild from importing a parent directory's settings. -->\n</Project>\n");
        WriteIfChanged(Path.Combine(Directory, "Directory.Build.targets"), "<Project />\n");
        WriteIfChanged(Path.Combine(Directory, "Directory.Packages.props"), "<Project>\n  <PropertyGroup>\n    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>\n  </PropertyGroup>\n</Project>\n");
        WriteIfChanged(SpecPath, specJson);
        WriteIfChanged(ProjectPath, ProjectXml());
        WriteIfChanged(Path.Combine(Directory, "Program.cs"), ProgramSource());
    }

    public string ProjectXml()
    {
        string X(string s) => SecurityElement.Escape(s);
        var sb = new StringBuilder();
        sb.Append("<!-- Written by `ingot build`: the host executable of model '").Append(X(Name)).Append("'. -->\n");
        sb.Append("<Project Sdk=\"Microsoft.NET.Sdk\">\n");
        sb.Append("  <PropertyGroup>\n");
        sb.Append("    <OutputType>Exe</OutputType>\n");
        sb.Append("    <TargetFramework>net10.0</TargetFramework>\n");
        sb.Append("    <AssemblyName>").Append(X(Name)).Append("</AssemblyName>\n");
        sb.Append("    <RootNamespace>IngotCompiledModel</RootNamespace>\n");
        sb.Append("    <Nullable>enable</Nullable>\n");
        sb.Append("    <ImplicitUsings>enable</ImplicitUsings>\n");
        sb.Append("    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>\n");
        sb.Append("    <LangVersion>latest</LangVersion>\n");
        sb.Append("    <Deterministic>true</Deterministic>\n");
        sb.Append("    <PublishAot>true</PublishAot>\n");
        sb.Append("    <RuntimeIdentifier>").Append(X(target.RuntimeIdentifier)).Append("</RuntimeIdentifier>\n");
        // `ingot build --isa auto` publishes this project once per instruction set, overriding both properties.
        sb.Append("    <IlcInstructionSet>").Append(X(target.InstructionSet)).Append("</IlcInstructionSet>\n");
        sb.Append("    <IngotIsa Condition=\"'$(IngotIsa)' == ''\">").Append(X(target.Isa == "auto" ? target.InstructionSet : target.Isa)).Append("</IngotIsa>\n");
        sb.Append("    <OptimizationPreference>Speed</OptimizationPreference>\n");
        sb.Append("    <InvariantGlobalization>true</InvariantGlobalization>\n");
        sb.Append("    <IlcGenerateStackTraceData>false</IlcGenerateStackTraceData>\n");
        sb.Append("    <SatelliteResourceLanguages>en</SatelliteResourceLanguages>\n");
        sb.Append("    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>\n");
        foreach (var (property, value) in CrossToolchain.Properties(target.RuntimeIdentifier))
            sb.Append("    <").Append(property).Append('>').Append(X(value)).Append("</").Append(property).Append(">\n");
        sb.Append("  </PropertyGroup>\n");
        sb.Append("  <ItemGroup>\n");
        foreach (string item in compiler.ProjectItems()) sb.Append("    ").Append(item).Append('\n');
        sb.Append("    <AdditionalFiles Include=\"").Append(X(Name)).Append(".json\" />\n");
        // What IsaDispatch reads at run time: this build's instruction set, and an auto launcher's siblings.
        sb.Append("    <RuntimeHostConfigurationOption Include=\"Ingot.Isa\" Value=\"$(IngotIsa)\" />\n");
        sb.Append("    <RuntimeHostConfigurationOption Include=\"Ingot.IsaVariants\" Value=\"$(IngotIsaVariants)\" Condition=\"'$(IngotIsaVariants)' != ''\" />\n");
        sb.Append("  </ItemGroup>\n");
        sb.Append("</Project>\n");
        return sb.ToString();
    }

    public string ProgramSource() =>
        "// Written by `ingot build`. The generator fills Model from " + Name + ".json; the host serves the verbs.\n" +
        "using Ingot;\n" +
        "using Ingot.Host;\n\n" +
        "return HostProgram.Run(new Model(), args);\n\n" +
        "[CompiledModel(\"" + Name + "\")]\n" +
        "internal sealed partial class Model\n{\n}\n";

    private static void WriteIfChanged(string path, string content)
    {
        if (File.Exists(path) && File.ReadAllText(path) == content) return;
        File.WriteAllText(path, content, new UTF8Encoding(false));
    }
}
