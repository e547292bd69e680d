using System.Runtime.CompilerServices;

// The quant tests exercise internal building blocks (Int8Dot) directly; Ingot.NeonCheck compiles the same tests.
[assembly: InternalsVisibleTo("Ingot.Quants.Tests")]
[assembly: InternalsVisibleTo("Ingot.NeonCheck")]
