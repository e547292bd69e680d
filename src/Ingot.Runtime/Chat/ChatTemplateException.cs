namespace Ingot.Runtime.Chat;

/// <summary>
/// A chat template that cannot be parsed or rendered: a syntax error, a Jinja construct this interpreter does not
/// implement, a runtime type error, or the template's own <c>raise_exception(msg)</c>. The message is one line and,
/// where known, ends with the template position ("at template line L, column C").
/// </summary>
public sealed class ChatTemplateException : Exception
{
    public ChatTemplateException(string problem, int line = 0, int column = 0, bool raisedByTemplate = false, Exception? inner = null)
        : base(line > 0 ? $"{problem} (at template line {line}, column {column})" : problem, inner)
    {
        Problem = problem;
        Line = line;
        Column = column;
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>The message without the position suffix.</summary>
    public string Problem { get; }

    /// <summary>1-based template line, 0 when unknown.</summary>
    public int Line { get; }

    public int Column { get; }

    /// <summary>True when the template called <c>raise_exception</c> (the template rejects the conversation).</summary>
    public bool RaisedByTemplate { get; }
}

/// <summary>An error inside a builtin that does not know its template position; the caller adds it.</summary>
internal sealed class JinjaError(string message) : Exception(message);
