namespace Ingot.Host; internal static class Placeholder {}
