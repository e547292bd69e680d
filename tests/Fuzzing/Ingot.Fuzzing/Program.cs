using Ingot.Fuzzing;

// Ingot.Fuzzing TARGET            run under afl-fuzz (SharpFuzz's out-of-process mode: one .NET process, many inputs)
// Ingot.Fuzzing TARGET FILE|DIR…  run each input once (replaying a corpus or a crash); exit 1 on the first crash
// Ingot.Fuzzing --seeds DIR       write the binary-format seeds into DIR/TARGET/ (FuzzSeeds)
if (args is ["--seeds", string seedDir])
{
    FuzzSeeds.Write(seedDir);
    return 0;
}
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine("usage: Ingot.Fuzzing TARGET [FILE|DIR …]; targets: " + string.Join(", ", FuzzTargets.All.Keys));
    return 2;
}
if (args.Length == 1)
{
    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target(buffer.ToArray());
    });
    return 0;
}
foreach (string path in args[1..].SelectMany(p => Directory.Exists(p) ? (IEnumerable<string>)Directory.GetFiles(p).Order(StringComparer.Ordinal) : [p]))
{
    try { target(File.ReadAllBytes(path)); }
    catch (Exception e)
    {
        Console.Error.WriteLine($"{path}: {e.GetType().Name}: {e.Message}");
        return 1;
    }
}
return 0;
