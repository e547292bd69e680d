using System.Runtime.CompilerServices;

// The quant and kernel tests exercise internal building blocks (Int8Dot, GgmlMath's general exp) directly;
// Ingot.NeonCheck compiles the same tests.
[assembly: InternalsVisibleTo("Ingot.Quants.Tests")]
[assembly: InternalsVisibleTo("Ingot.NeonCheck")]
[assembly: InternalsVisibleTo("Ingot.Kernels.Tests")]
