using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
