namespace Ingot.Runtime; internal static class Placeholder {}
