using System.Globalization;

namespace Ingot.Host.CommandLine;

/// <summary>A usage error: printed as one line (plus the verb's usage), exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Minimal GNU-style argument reader shared by the `ingot` tool and every compiled binary:
/// <c>-p TEXT</c>, <c>--temp 0.8</c>, <c>--flag</c>, <c>--key=value</c>, and positionals.
/// Options are consumed as they are read; <see cref="ThrowIfUnknown"/> rejects leftovers.
/// </summary>
public sealed class ArgReader
{
    private readonly List<string> _args;

    public ArgReader(IEnumerable<string> args)
    {
        _args = [];
        foreach (var a in args)
        {
            int eq = a.IndexOf('=');
            if (a.StartsWith("--", StringComparison.Ordinal) && eq > 2) { _args.Add(a[..eq]); _args.Add(a[(eq + 1)..]); }
            else _args.Add(a);
        }
    }

    public bool WantsHelp => _args.Contains("--help") || _args.Contains("-h");

    /// <summary>True if any of <paramref name="names"/> is present (and removes it).</summary>
    public bool Flag(params string[] names)
    {
        bool found = false;
        for (int i = _args.Count - 1; i >= 0; i--)
            if (names.Contains(_args[i], StringComparer.Ordinal)) { _args.RemoveAt(i); found = true; }
        return found;
    }

    private string? Take(string[] names)
    {
        for (int i = 0; i < _args.Count; i++)
        {
            if (!names.Contains(_args[i], StringComparer.Ordinal)) continue;
            if (i + 1 >= _args.Count) throw new UsageException($"option {_args[i]} needs a value");
            string v = _args[i + 1];
            _args.RemoveRange(i, 2);
            return v;
        }
        return null;
    }

    /// <summary>The option's value or <paramref name="defaultValue"/>. (Named apart from <see cref="OptionOrNull"/> so a
    /// default can never be mistaken for an option name by overload resolution.)</summary>
    public string OptionOr(string defaultValue, params string[] names) => Take(names) ?? defaultValue;

    /// <summary>Every value of a repeatable option, in command-line order (each occurrence and its value removed).</summary>
    public List<string> OptionValues(params string[] names)
    {
        var values = new List<string>();
        while (Take(names) is { } v) values.Add(v);
        return values;
    }

    /// <summary>The value of the first of <paramref name="names"/> present (and removes both), or null. Unambiguous with any number of names.</summary>
    public string? OptionOrNull(params string[] names) => Take(names);

    public int Int(int defaultValue, params string[] names) => Parse(names, defaultValue, s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture));
    public long Long(long defaultValue, params string[] names) => Parse(names, defaultValue, s => long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture));
    public float Float(float defaultValue, params string[] names) => Parse(names, defaultValue, s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));

    /// <summary>The option's value, or null when it is absent.</summary>
    public int? IntOrNull(params string[] names) => Parse<int?>(names, null, s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture));
    public float? FloatOrNull(params string[] names) => Parse<float?>(names, null, s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));

    private T Parse<T>(string[] names, T defaultValue, Func<string, T> parse)
    {
        string? s = Take(names);
        if (s is null) return defaultValue;
        try { return parse(s); }
        catch (FormatException) { throw new UsageException($"option {names[0]}: '{s}' is not a valid {(typeof(T) == typeof(float) || typeof(T) == typeof(float?) ? "number" : "integer")}"); }
        catch (OverflowException) { throw new UsageException($"option {names[0]}: '{s}' is out of range"); }
    }

    /// <summary>Takes the next positional argument (one not starting with '-'), or null.</summary>
    public string? Positional()
    {
        for (int i = 0; i < _args.Count; i++)
        {
            if (_args[i].StartsWith('-') && _args[i].Length > 1) { i++; continue; }
            string v = _args[i];
            _args.RemoveAt(i);
            return v;
        }
        return null;
    }

    public string RequiredPositional(string what) => Positional() ?? throw new UsageException($"missing {what}");

    /// <summary>Call after reading every known option: anything left is an error naming it.</summary>
    public void ThrowIfUnknown()
    {
        if (_args.Count > 0) throw new UsageException($"unknown argument '{_args[0]}'");
    }
}
