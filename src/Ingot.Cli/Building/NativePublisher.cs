using System.Diagnostics;

namespace Ingot.Cli.Building;

/// <summary>Runs <c>dotnet publish</c> on a <see cref="HostProject"/> and returns the executable it made.</summary>
public static class NativePublisher
{
    /// <summary>
    /// Publishes with NativeAOT. Build output goes to <paramref name="log"/> only on failure (its last lines) and for
    /// warnings, so a clean build prints nothing but our own progress. Every project of the build, the repo's included, puts
    /// its bin/obj under the host project's directory (a global ArtifactsPath), so builds never collide with
    /// anyone's working tree.
    /// </summary>
    public static string Publish(HostProject project, TextWriter log) => Publish(project, log, project.PublishDirectory, []);

    /// <summary>Publishes into <paramref name="publishDirectory"/> with extra global properties (an --isa auto variant's instruction set).</summary>
    public static string Publish(HostProject project, TextWriter log, string publishDirectory, IReadOnlyList<string> properties)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = project.Directory,
        };
        foreach (string a in new[]
        {
            "publish", project.ProjectPath, "-c", "Release", "-o", publishDirectory,
            "-nologo", "-nodeReuse:false", "--disable-build-servers", "-v:m", "-clp:NoSummary",
            "-p:ArtifactsPath=" + project.ArtifactsDirectory,
        }) psi.ArgumentList.Add(a);
        foreach (string p in properties) psi.ArgumentList.Add("-p:" + p);
        // An ingot started from MSBuild or `dotnet test` inherits variables that would point the child build at the
        // parent's MSBuild; and the repo's own per-worker knobs must not reach the published build.
        foreach (string key in psi.Environment.Keys.ToArray())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key.StartsWith("MSBUILD", StringComparison.Ordinal)
                || key is "INGOT_ARTIFACTS" or "IngotRuntimeOnly" or "VSTEST_HOST_DEBUG" or "DOTNET_HOST_PATH")
                psi.Environment.Remove(key);
        }
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new List<string>();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"cannot start 'dotnet' to publish the executable: {e.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();

        string exe = Path.Combine(publishDirectory, project.ExecutableName);
        if (process.ExitCode == 0)
        {
            // A trim or AOT warning (IL2xxx, IL3xxx) means the binary may behave unlike the JIT: never hide one.
            lock (output)
                foreach (string line in output.Where(l => l.Contains(": warning ", StringComparison.Ordinal)).Distinct())
                    log.WriteLine("  " + line.Trim());
        }
        if (process.ExitCode != 0 || !File.Exists(exe))
        {
            lock (output)
            {
                // The errors are what matters; MSBuild repeats them, so keep distinct lines, last 40.
                // A generator diagnostic explains everything after it (the C# errors of a model class left empty): show only those.
                var errors = output.Where(l => l.Contains("error ING", StringComparison.Ordinal)).Distinct().ToList();
                if (errors.Count == 0) errors = output.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Distinct().ToList();
                var show = (errors.Count > 0 ? errors : output).TakeLast(40);
                foreach (string line in show) log.WriteLine("  " + line.Trim());
            }
            throw new IOException($"dotnet publish failed (exit code {process.ExitCode}); the build project is {project.Directory}");
        }
        return exe;
    }
}
