namespace Ingot.Generators { internal static class Placeholder {} }
