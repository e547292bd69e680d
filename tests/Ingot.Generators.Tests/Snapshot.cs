using System.Text;

namespace Ingot.Generators.Tests;

/// <summary>
/// Verify-style snapshots (Verify itself is not available): the text is compared with
/// <c>Snapshots/&lt;folder&gt;/&lt;name&gt;.verified.cs</c> beside the test sources. On mismatch a
/// <c>.received.cs</c> is written and the test fails with a diff summary; <c>INGOT_ACCEPT_SNAPSHOTS=1</c> accepts.
/// </summary>
public static class Snapshot
{
    public static bool Accepting => Environment.GetEnvironmentVariable("INGOT_ACCEPT_SNAPSHOTS") == "1";

    /// <summary>Returns null when it matches (or was accepted), else a failure message.</summary>
    public static string? Check(string folder, string name, string actual)
    {
        string dir = Path.Combine(GeneratorHarness.TestDirectory(), "Snapshots", folder);
        string verified = Path.Combine(dir, name + ".verified.cs");
        string received = Path.Combine(dir, name + ".received.cs");
        actual = actual.Replace("\r\n", "\n");
        string? expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return null;
        }
        Directory.CreateDirectory(dir);
        if (Accepting)
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return null;
        }
        File.WriteAllText(received, actual);
        return expected is null
            ? "new snapshot " + verified + " (no verified file; wrote " + received + "; rerun with INGOT_ACCEPT_SNAPSHOTS=1 to accept)"
            : "snapshot mismatch " + verified + ":\n" + DiffSummary(expected, actual) + "\n(wrote " + received + "; INGOT_ACCEPT_SNAPSHOTS=1 accepts)";
    }

    /// <summary>First differing lines, with line numbers, plus line-count totals.</summary>
    public static string DiffSummary(string expected, string actual, int max = 8)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var sb = new StringBuilder();
        int shown = 0, differing = 0;
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? el = i < e.Length ? e[i] : null, al = i < a.Length ? a[i] : null;
            if (el == al) continue;
            differing++;
            if (shown++ >= max) continue;
            sb.Append("  line ").Append(i + 1).Append('\n');
            sb.Append("    - ").Append(el ?? "<end of file>").Append('\n');
            sb.Append("    + ").Append(al ?? "<end of file>").Append('\n');
        }
        sb.Append("  ").Append(differing).Append(" differing line(s); verified ").Append(e.Length).Append(" lines, received ").Append(a.Length);
        return sb.ToString();
    }
}
