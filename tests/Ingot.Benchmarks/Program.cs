using BenchmarkDotNet.Running;
using Ingot.Benchmarks;

// JIT (in-process):  dotnet run -c Release --project tests/Ingot.Benchmarks -- --filter '*'
// NativeAOT (net10.0, IlcInstructionSet=x86-64-v3, one published native process per build):
//                    dotnet run -c Release --project tests/Ingot.Benchmarks -- --aot --filter '*VecDotBenchmarks*' '*QuantMatVecBenchmarks*'
// Both are described in tests/Ingot.Benchmarks/README.md.
BenchJobs.Aot = Array.IndexOf(args, "--aot") >= 0;
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(Array.FindAll(args, a => a != "--aot"));
