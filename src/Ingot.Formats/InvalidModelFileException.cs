namespace Ingot.Formats;

/// <summary>
/// A model or tokenizer file that cannot be used. The message is one line naming the file, the field and
/// (where known) the byte offset, so a command-line tool can print it as is and exit non-zero.
/// </summary>
public sealed class InvalidModelFileException : Exception
{
    public InvalidModelFileException(string path, string field, long? offset, string problem)
        : base(Format(path, field, offset, problem))
    {
        FilePath = path;
        Field = field;
        Offset = offset;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Field { get; }
    public long? Offset { get; }
    public string Problem { get; }

    private static string Format(string path, string field, long? offset, string problem) =>
        offset is { } o ? $"{path}: {field} at byte offset {o}: {problem}" : $"{path}: {field}: {problem}";
}
