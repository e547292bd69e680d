namespace Ingot.Formats; internal static class Placeholder {}
