using Ingot.Cli.Commands;
using Ingot.Formats;
using Ingot.Host.CommandLine;

namespace Ingot.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var commands = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine("ingot — compile a language model into a native program\n\nusage: ingot VERB [args]   (ingot VERB --help for details)\n");
            foreach (var c in commands) Console.WriteLine($"  {c.Name,-15} {c.Summary}");
            return args.Length == 0 ? 2 : 0;
        }

        var command = commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"ingot: unknown verb '{args[0]}' (ingot --help lists them)");
            return 2;
        }
        if (args.Skip(1).Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine(command.Usage);
            return 0;
        }
        return Run(command, args[1..]);
    }

    /// <summary>Runs a verb; bad input becomes one line on stderr and a non-zero exit, never a stack trace.</summary>
    public static int Run(ICliCommand command, string[] args)
    {
        try
        {
            return command.Run(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"ingot {command.Name}: {e.Message}");
            Console.Error.WriteLine(command.Usage);
            return 2;
        }
        catch (Exception e) when (e is InvalidModelFileException or FileNotFoundException or DirectoryNotFoundException
                                      or UnauthorizedAccessException or IOException or InvalidDataException or NotSupportedException)
        {
            Console.Error.WriteLine($"ingot {command.Name}: {e.Message}");
            return 1;
        }
    }
}
