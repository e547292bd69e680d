using System.Runtime.CompilerServices;

// The quant tests exercise internal building blocks (Int8Dot) directly.
[assembly: InternalsVisibleTo("Ingot.Quants.Tests")]
