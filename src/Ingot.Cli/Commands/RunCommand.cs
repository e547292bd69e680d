using System.Diagnostics;
using Ingot.Cli.Building;
using Ingot.Host.CommandLine;

namespace Ingot.Cli.Commands;

/// <summary>
/// <c>ingot run MODEL VERB [args]</c>: builds the model's executable once into a cache directory keyed by a
/// <see cref="Fingerprint"/>, then runs it with VERB and args, inheriting stdin/stdout/stderr and returning its exit
/// code. A cached run spawns no dotnet build: it reads the model's header, hashes, and starts the executable.
/// Build progress goes to stderr so the verb's stdout stays clean.
/// </summary>
public sealed class RunCommand : ICliCommand
{
    public string Name => "run";
    public string Summary => "build (cached) and run a model's executable: ingot run MODEL VERB [args]";

    public string Usage =>
        "usage: ingot run [--isa ISA] [--tokenizer FILE] [--name NAME] [--rebuild] MODEL VERB [args]\n\n" +
        "  MODEL   a GGUF file, a llama2.c .bin checkpoint, or a Hugging Face folder\n" +
        "  VERB    a decoder's generate | chat | tokenize | logits | bench | info; an encoder's embed | rerank | tokenize | info;\n" +
        "          an encoder–decoder's generate | tokenize | logits (--decoder-tokens) | info\n" +
        "          (VERB --help for its options)\n" +
        "  --isa ISA         " + string.Join(" | ", IsaTarget.Known) + " (default " + DefaultIsa + ": the executable runs here)\n" +
        "  --rebuild         ignore the cached executable\n\n" +
        "Executables are cached in $INGOT_CACHE or ~/.cache/ingot/<fingerprint>/; the fingerprint covers the spec, the\n" +
        "GGUF header, the compiler's sources and the target.\n";

    /// <summary>`run` builds for the machine it runs on: one publish, the best code for this CPU (build's default, auto, publishes three).</summary>
    public const string DefaultIsa = "native";

    public int Run(string[] args)
    {
        string isa = DefaultIsa;
        string? tokenizer = null, name = null, rid = null;
        bool rebuild = false;
        int i = 0;
        // Options of `run` itself come before MODEL; everything after VERB belongs to the executable.
        for (; i < args.Length && args[i].StartsWith("--", StringComparison.Ordinal); i++)
        {
            string opt = args[i];
            if (opt == "--rebuild") { rebuild = true; continue; }
            if (i + 1 >= args.Length) throw new UsageException($"option {opt} needs a value");
            switch (opt)
            {
                case "--isa": isa = args[++i]; break;
                case "--tokenizer": tokenizer = args[++i]; break;
                case "--name": name = args[++i]; break;
                case "--runtime": rid = args[++i]; break;
                default: throw new UsageException($"unknown argument '{opt}'");
            }
        }
        if (i >= args.Length) throw new UsageException("missing MODEL");
        string model = args[i++];
        if (i >= args.Length) throw new UsageException("missing VERB (generate, tokenize, logits, bench, info)");
        string[] verbArgs = args[i..];

        var target = IsaTarget.Parse(isa, rid);
        if (!File.Exists(model) && !Directory.Exists(model)) throw ModelBuilder.ModelNotFound(model);
        string exe = EnsureBuilt(model, tokenizer, name, target, rebuild, Console.Error, out string? weights);

        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        foreach (string a in verbArgs) psi.ArgumentList.Add(a);
        bool hasHelp = verbArgs.Any(a => a is "--help" or "-h");
        if (weights is not null && !verbArgs.Contains("--model") && !verbArgs.Contains("-m") && !hasHelp)
        {
            psi.ArgumentList.Add("--model");
            psi.ArgumentList.Add(weights);
        }
        // Ctrl+C reaches the child too (same process group); it stops cleanly and we report its exit code.
        ConsoleCancelEventHandler ignore = (_, e) => e.Cancel = true;
        Console.CancelKeyPress += ignore;
        try
        {
            Console.Out.Flush();
            using var child = Process.Start(psi) ?? throw new IOException($"cannot start {exe}");
            child.WaitForExit();
            return child.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= ignore;
        }
    }

    /// <summary>
    /// The cached executable for the model, built on a miss. <paramref name="weights"/> is what to pass as --model:
    /// the model file itself for GGUF input (the binary never depends on tensor data, so no copy is needed), or a
    /// converted GGUF kept in the cache directory for other formats.
    /// </summary>
    public static string EnsureBuilt(string model, string? tokenizer, string? name, IsaTarget target, bool rebuild, TextWriter progress, out string? weights)
    {
        var compiler = CompilerSource.Locate();
        name = name is null ? ModelBuilder.DefaultName(model) : ModelBuilder.Sanitize(name);
        using var source = ModelSource.Import(model, tokenizer, name);
        string fingerprint = Fingerprint.Compute(source.SpecJsonFor(name), source.GgufHeader, compiler.Version, target);
        string dir = Path.Combine(CacheRoot(), fingerprint[..32]);
        Directory.CreateDirectory(dir);
        string exe = Path.Combine(dir, OperatingSystem.IsWindows() ? name + ".exe" : name);
        string done = Path.Combine(dir, "complete");

        using (var gate = Lock(dir))
        {
            if (rebuild || !File.Exists(done) || !File.Exists(exe))
            {
                progress.WriteLine($"ingot: building {name} into {dir} (first run for this model and compiler)");
                File.Delete(done);
                ModelBuilder.BuildExecutable(source, name, target, Path.Combine(dir, "build"), dir, compiler, progress);
                File.WriteAllText(done, fingerprint + "\n");
            }
            weights = source.IsGguf ? Path.GetFullPath(model) : ModelBuilder.WriteWeights(source, name, dir, TextWriter.Null);
        }
        return exe;
    }

    /// <summary>$INGOT_CACHE, else $XDG_CACHE_HOME/ingot, else ~/.cache/ingot.</summary>
    public static string CacheRoot()
    {
        string? env = Environment.GetEnvironmentVariable("INGOT_CACHE");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg)) return Path.Combine(xdg, "ingot");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "ingot");
    }

    /// <summary>An exclusive lock file, so two `ingot run`s of the same model do not build into one directory at once.</summary>
    private static FileStream Lock(string dir)
    {
        string path = Path.Combine(dir, ".lock");
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 3000)
            {
                Thread.Sleep(200); // another build of this model is running (up to 10 minutes)
            }
        }
    }
}
