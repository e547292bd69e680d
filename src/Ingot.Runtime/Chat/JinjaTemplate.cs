using System.Text;

namespace Ingot.Runtime.Chat;

/// <summary>
/// A parsed Jinja template — the subset Hugging Face chat templates use, with the semantics of llama.cpp's minja
/// engine (None and undefined are one value; `str + x` concatenates; whitespace control as minja applies it).
/// Parse once, render many times; rendering is thread-safe (each render has its own scopes).
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Node> _body;

    private JinjaTemplate(string source, List<Node> body)
    {
        Source = source;
        _body = body;
    }

    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>; throws <see cref="ChatTemplateException"/> (with the line) on a syntax error or an unsupported construct.</summary>
    public static JinjaTemplate Parse(string source, JinjaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new JinjaTemplate(source, new JinjaParser(source, options ?? new JinjaOptions()).Parse());
    }

    /// <summary>
    /// Renders with the given global variables (host values: strings, numbers, bools, null, dictionaries, lists,
    /// JsonElement, <see cref="JinjaCallable"/>). Builtins (namespace, range, raise_exception, dict, joiner) are always present.
    /// </summary>
    public string Render(IEnumerable<KeyValuePair<string, object?>>? globals = null)
    {
        var root = new Scope(null);
        JinjaGlobals.AddTo(root);
        var scope = new Scope(root);
        if (globals is not null)
            foreach (var kv in globals) scope.Set(kv.Key, JinjaValue.From(kv.Value));
        var sb = new StringBuilder();
        var state = new RenderState();
        try
        {
            Node.RenderAll(_body, sb, scope, state);
        }
        catch (Exception e) when (e is JinjaError or InvalidCastException or ArgumentException or InvalidOperationException
                                      or OverflowException or FormatException or KeyNotFoundException or System.Text.Json.JsonException)
        {
            throw new ChatTemplateException(e.Message, inner: e);
        }
        return sb.ToString();
    }
}
