using System.Globalization;
using Ingot.Formats;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Commands;

/// <summary>`ingot inspect FILE.gguf`: version, metadata (arrays summarised) and the tensor table.</summary>
public sealed class InspectCommand : ICliCommand
{
    public string Name => "inspect";
    public string Summary => "print a GGUF file's metadata and tensor table";
    public string Usage =>
        "usage: ingot inspect FILE.gguf [--no-tensors] [--full-arrays]\n" +
        "  arrays are summarised (type, length, first elements) unless --full-arrays";

    public int Run(string[] args)
    {
        var r = new ArgReader(args);
        bool noTensors = r.Flag("--no-tensors");
        bool full = r.Flag("--full-arrays");
        string path = r.RequiredPositional("FILE.gguf");
        r.ThrowIfUnknown();
        using var f = GgufFile.Open(path);
        var o = Console.Out;
        o.WriteLine($"{path}: GGUF v{f.Version}, {f.FileLength} bytes, alignment {f.Alignment}, data at {f.DataOffset}");
        o.WriteLine($"metadata ({f.Metadata.Count}):");
        int keyWidth = f.Metadata.Count == 0 ? 0 : Math.Min(48, f.Metadata.Max(m => m.Key.Length));
        foreach (var m in f.Metadata)
            o.WriteLine($"  {m.Key.PadRight(keyWidth)} = {Format(m.Value, full)}");
        if (noTensors) return 0;
        long total = 0, totalElems = 0;
        o.WriteLine($"tensors ({f.Tensors.Count}):");
        int nameWidth = f.Tensors.Count == 0 ? 0 : Math.Min(48, f.Tensors.Max(t => t.Name.Length));
        foreach (var t in f.Tensors)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {t.Name.PadRight(nameWidth)} {GgmlTypeTraits.Name(t.Type),-8} [{string.Join(", ", t.Dims),-14}] {t.ByteSize,12:N0} B  @ {t.Offset}"));
            total += t.ByteSize;
            totalElems += t.ElementCount;
        }
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total: {totalElems:N0} elements, {total / 1048576.0:F2} MiB of tensor data"));
        return 0;
    }

    private static string Format(GgufValue v, bool full)
    {
        if (!v.IsArray) return v.Value switch { string s => Quote(s), float f => Num(f), double d => Num(d), _ => v.ToString() };
        var arr = (Array)v.Value;
        int show = full ? arr.Length : Math.Min(arr.Length, 8);
        var items = new List<string>(show);
        for (int i = 0; i < show; i++)
        {
            object e = arr.GetValue(i)!;
            items.Add(e switch
            {
                string s => Quote(s),
                float fl => Num(fl),
                double d => Num(d),
                GgufValue g => Format(g, full),
                IFormattable fm => fm.ToString(null, CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                _ => e.ToString() ?? "",
            });
        }
        string more = show < arr.Length ? ", …" : "";
        return $"array<{v.ElementType.ToString().ToLowerInvariant()}>[{arr.Length}] [{string.Join(", ", items)}{more}]";
    }

    private static string Num(double d) => d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    private static string Num(float f) => f.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);

    private static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (char c in s.Length > 200 ? s[..200] + "…" : s)
            sb.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '"' => "\\\"", '\\' => "\\\\", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() });
        return sb.Append('"').ToString();
    }
}
