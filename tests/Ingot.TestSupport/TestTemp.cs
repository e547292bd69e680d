using System.Diagnostics;

namespace Ingot.TestSupport;

/// <summary>
/// Scratch directories keyed by the test process (TEMP/PREFIX-PID), so parallel test runs never share one. Test hosts
/// are ended without running exit handlers, so instead each process removes the directories of ended processes when
/// it makes its own: repeated runs used to leave tens of gigabytes of model files behind.
/// </summary>
public static class TestTemp
{
    public static string Directory(string prefix)
    {
        string tmp = Path.GetTempPath();
        lock (Swept)
            if (Swept.Add(prefix)) RemoveStale(tmp, prefix);
        return System.IO.Directory.CreateDirectory(Path.Combine(tmp, prefix + "-" + Environment.ProcessId)).FullName;
    }

    private static readonly HashSet<string> Swept = [];

    private static void RemoveStale(string tmp, string prefix)
    {
        foreach (string stale in System.IO.Directory.EnumerateDirectories(tmp, prefix + "-*"))
        {
            string suffix = Path.GetFileName(stale)[(prefix.Length + 1)..];
            if (!int.TryParse(suffix, out int pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
            try { System.IO.Directory.Delete(stale, recursive: true); }
            catch (IOException) { } // another process removing it at the same time
            catch (UnauthorizedAccessException) { }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
