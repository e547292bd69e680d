using Ingot.Host.CommandLine;

namespace Ingot.Host.Verbs;

/// <summary>One verb of a compiled executable (<c>./model generate …</c>).</summary>
public interface IHostVerb
{
    string Name { get; }
    /// <summary>One line for the main help.</summary>
    string Summary { get; }
    /// <summary>Full usage text for <c>VERB --help</c>; <paramref name="program"/> is the executable's name.</summary>
    string Usage(string program);
    /// <summary>Runs the verb; returns the exit code. Throws <see cref="UsageException"/> for bad arguments.</summary>
    int Run(HostContext context, ArgReader args);
}
