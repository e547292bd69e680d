using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using Ingot.Host.CommandLine;

namespace Ingot.Host.Verbs;

/// <summary><c>info</c>: the compiled spec, the ISA paths compiled and the one in use, the weights file and sizes.</summary>
public sealed class InfoVerb : IHostVerb
{
    public string Name => "info";
    public string Summary => "show the compiled spec, instruction-set paths and weights";

    public string Usage(string program) =>
        $"usage: {program} info [--model PATH] [--spec]\n\n" +
        "  --model PATH   weights file to check (default: <exe dir>/<model>.gguf)\n" +
        "  --spec         print only the compiled spec JSON\n";

    public int Run(HostContext context, ArgReader args)
    {
        context.ReadCommonOptions(args);
        bool specOnly = args.Flag("--spec");
        args.ThrowIfUnknown();
        var d = context.Model.Description;
        var inv = CultureInfo.InvariantCulture;
        var w = context.Out;
        if (specOnly)
        {
            w.Write(d.SpecJson.EndsWith('\n') ? d.SpecJson : d.SpecJson + "\n");
            return 0;
        }

        w.WriteLine($"model:            {d.Name} ({d.Architecture})");
        w.WriteLine(string.Format(inv, "parameters:       {0:N0}", d.ParameterCount).Replace(',', '_'));
        w.WriteLine(string.Format(inv, "vocabulary:       {0}", d.VocabSize));
        w.WriteLine(string.Format(inv, "trained context:  {0}", d.ContextLength));
        w.WriteLine($"isa compiled:     {string.Join(", ", d.IsaPathsCompiled)}");
        w.WriteLine($"isa in use:       {d.IsaPathInUse}");
        w.WriteLine($"isa build:        {IsaDispatch.Describe()}");
        w.WriteLine($"hardware:         {HardwareLine()}");
        w.WriteLine(string.Format(inv, "threads:          {0}", context.EffectiveThreads));
        string path = Path.GetFullPath(context.WeightsPath);
        if (File.Exists(path))
        {
            w.WriteLine(string.Format(inv, "weights:          {0} ({1:N0} bytes)", path, new FileInfo(path).Length).Replace(',', '_'));
            w.Flush();
            using var weights = context.OpenWeights();
            context.LoadModel(weights, Math.Min(d.ContextLength, 256)); // a small cache: only the binding is checked here
            w.WriteLine(string.Format(inv, "weights bound:    {0:N0} bytes in {1} tensors (match the compiled spec)", context.Model.WeightBytes, weights.Tensors.Count).Replace(',', '_'));
            w.WriteLine("weights held:     " + (weights.InMemory ? "in memory, 2 MB pages (--mmap to leave the file mapped)" : "the file mapped"));
        }
        else
        {
            w.WriteLine($"weights:          {path} (not found; pass --model PATH)");
        }
        w.WriteLine("spec:");
        w.Write(d.SpecJson.EndsWith('\n') ? d.SpecJson : d.SpecJson + "\n");
        return 0;
    }

    private static string HardwareLine()
    {
        var sb = new StringBuilder();
        sb.Append(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant());
        sb.Append(", vector128 ").Append(Vector128.IsHardwareAccelerated ? "yes" : "no");
        sb.Append(", vector256 ").Append(Vector256.IsHardwareAccelerated ? "yes" : "no");
        sb.Append(", vector512 ").Append(Vector512.IsHardwareAccelerated ? "yes" : "no");
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) sb.Append(", avx2");
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) sb.Append(", avx512f");
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) sb.Append(", avx-vnni");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) sb.Append(", neon");
        if (System.Runtime.Intrinsics.Arm.Dp.IsSupported) sb.Append(", dotprod");
        return sb.ToString();
    }
}
