using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Text;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

// Runs every [Fact] and [Theory] case of the compiled-in test classes, as xunit would: a fresh instance per case (given
// an ITestOutputHelper when its constructor asks for one), theory rows from the data attributes, Skip honoured.
// Prints one line per failure (with the case's output), then "T test methods: N passed, M failed, K skipped". Exit 0 only when
// nothing failed and, on arm64, the NEON paths are the ones that ran (Vector128 accelerated, AdvSimd.Arm64 and Dp).
// Usage: Ingot.NeonCheck [FILTER] — FILTER keeps cases whose Class.Method contains it.
string? filter = args.Length > 0 ? args[0] : null;
string isa = $"{RuntimeInformation.ProcessArchitecture}: vector128 {Vector128.IsHardwareAccelerated}, vector256 {Vector256.IsHardwareAccelerated}, " +
             $"vector512 {Vector512.IsHardwareAccelerated}, advsimd.arm64 {AdvSimd.Arm64.IsSupported}, dp {Dp.IsSupported}";
Console.WriteLine(isa);
if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 && !(Vector128.IsHardwareAccelerated && AdvSimd.Arm64.IsSupported && Dp.IsSupported))
{
    Console.Error.WriteLine("neon-check: this arm64 run lacks NEON or the dot-product extension, so the NEON paths would not run");
    return 2;
}

int methods = 0, passed = 0, failed = 0, skipped = 0;
var sw = Stopwatch.StartNew();
foreach (Type type in typeof(NeonCheck.OutputHelper).Assembly.GetTypes()
             .Where(t => t.IsClass && !t.IsAbstract && t.Namespace is "Ingot.Kernels.Tests" or "Ingot.Quants.Tests")
             .OrderBy(t => t.FullName, StringComparer.Ordinal))
{
    foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
    {
        FactAttribute? fact = method.GetCustomAttribute<FactAttribute>();
        if (fact is null) continue;
        string name = type.Name + "." + method.Name;
        if (filter is not null && !name.Contains(filter, StringComparison.Ordinal)) continue;
        methods++;
        if (fact.Skip is not null) { skipped++; continue; }
        IEnumerable<object?[]> rows = fact is TheoryAttribute
            ? method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method))
            : [[]];
        foreach (object?[] row in rows)
        {
            string label = row.Length == 0 ? name : $"{name}({string.Join(", ", row.Select(a => a?.ToString() ?? "null"))})";
            var output = new NeonCheck.OutputHelper();
            try
            {
                ConstructorInfo ctor = type.GetConstructors().Single();
                object instance = ctor.Invoke(ctor.GetParameters().Length == 0 ? [] : [output]);
                try { method.Invoke(instance, row); }
                finally { (instance as IDisposable)?.Dispose(); }
                passed++;
            }
            catch (Exception e)
            {
                Exception cause = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
                failed++;
                Console.WriteLine($"FAIL {label}: {cause.GetType().Name}: {cause.Message.ReplaceLineEndings(" ")}");
                if (output.Text.Length > 0) Console.WriteLine("  output: " + output.Text.ReplaceLineEndings(" | "));
            }
        }
    }
}
Console.WriteLine($"{methods} test methods: {passed} passed, {failed} failed, {skipped} skipped in {sw.Elapsed.TotalSeconds:F1} s");
return failed == 0 && passed > 0 ? 0 : 1;

namespace NeonCheck
{
    /// <summary>What a test writes to xunit's output, kept to print beside a failure.</summary>
    internal sealed class OutputHelper : ITestOutputHelper
    {
        private readonly StringBuilder _text = new();
        public string Text => _text.ToString().TrimEnd();
        public void WriteLine(string message) => _text.AppendLine(message);
        public void WriteLine(string format, params object[] args) => _text.AppendLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
