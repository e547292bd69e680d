namespace Ingot.Cli.Commands;

/// <summary>
/// One `ingot VERB`. Implementations are discovered by reflection (the tool is not AOT-compiled), so adding a
/// verb is adding a file. Run returns the exit code; Program turns known exceptions into one-line errors.
/// </summary>
public interface ICliCommand
{
    string Name { get; }
    /// <summary>One line for `ingot --help`.</summary>
    string Summary { get; }
    /// <summary>Full usage for `ingot VERB --help`.</summary>
    string Usage { get; }
    int Run(string[] args);
}
