using System.Runtime.CompilerServices;

// The quant tests exercise internal building blocks (Int8Dot, HalfWiden) directly.
[assembly: InternalsVisibleTo("Ingot.Quants.Tests")]
