namespace Ingot;

using Ingot.Runtime;

/// <summary>
/// Binds a <c>partial class</c> to the spec named NAME (<c>modelspecs/NAME.json</c>, an AdditionalFile). The generator
/// emits the forward pass, buffer plan and weight binding into the class and makes it implement
/// <see cref="ICompiledModel"/> (a causal LM), <see cref="IEncoder"/> or <see cref="IEncoderDecoder"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class CompiledModelAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
