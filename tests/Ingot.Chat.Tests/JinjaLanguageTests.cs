using Ingot.Runtime.Chat;
using Xunit;

namespace Ingot.Chat.Tests;

/// <summary>The Jinja subset: literals, operators, filters, tests, loops, scoping, macros, whitespace control.</summary>
public class JinjaLanguageTests
{
    private static string R(string template, params (string Name, object? Value)[] globals) =>
        JinjaTemplate.Parse(template).Render(globals.Select(g => new KeyValuePair<string, object?>(g.Name, g.Value)));

    private static Dictionary<string, object?> Msg(string role, string? content) => new() { ["role"] = role, ["content"] = content };

    [Theory]
    [InlineData("{{ 1 }}|{{ -3 }}|{{ 1.5 }}|{{ 'a' }}|{{ \"b\" }}|{{ true }}|{{ False }}", "1|-3|1.5|a|b|True|False")]
    [InlineData("{{ none }}|{{ undefined_name }}|{{ null }}", "||")]
    [InlineData("{{ [1, 'a', none, true] }}", "[1, 'a', None, True]")]
    [InlineData("{{ {'k': 1, 'q': \"it's\"} }}", "{'k': 1, 'q': \"it's\"}")]
    [InlineData("{{ 'a' 'b' }}|{{ 'x\\ny' == \"x\ny\" }}|{{ 'tab\\there' }}", "ab|True|tab\there")]
    [InlineData("{{ (1, 2) }}|{{ () }}", "[1, 2]|[]")]
    public void Literals(string template, string expected) => Assert.Equal(expected, R(template));

    [Theory]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}", "3 -4 1 2 1024 3.5 7 9")]
    [InlineData("{{ 'ab' * 3 }}|{{ '    ' * 2 }}|{{ [1] + [2, 3] }}|{{ 'x' + 2 }}|{{ 'a' ~ 1 ~ none ~ true }}", "ababab|        |[1, 2, 3]|x2|a1NoneTrue")]
    [InlineData("{{ 0.1 + 0.2 }} {{ 3.0 }} {{ 1e20 }} {{ 1e-5 }} {{ 2.5e3 }} {{ 10 / 4 }} {{ 4 / 2 }}", "0.30000000000000004 3.0 1e+20 1e-05 2500.0 2.5 2.0")]
    public void Arithmetic(string template, string expected) => Assert.Equal(expected, R(template));

    [Theory]
    [InlineData("{{ 1 < 2 and 'b' > 'a' }}", "True")]
    [InlineData("{{ not 1 == 1 }}|{{ not none }}", "False|True")]
    [InlineData("{{ 0 or 'd' }}|{{ '' and 'x' }}|{{ 'y' and 'x' }}", "d||x")]
    [InlineData("{{ 'abc' if false else 'xyz' }}|{{ 'only' if false }}|{{ 'a' if 1 else 'b' if 2 else 'c' }}", "xyz||a")]
    [InlineData("{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 'k' not in {'k': 1} }} {{ 'x' in none }}", "True True True True False False")]
    [InlineData("{{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 1 == 1.0 }} {{ '1' == 1 }} {{ none == none }} {{ 1 != 2 }}", "True True True False True True")]
    public void ComparisonsAndLogic(string template, string expected) => Assert.Equal(expected, R(template));

    [Theory]
    [InlineData("{{ 'hello'[1:] }}|{{ 'hello'[::-1] }}|{{ 'hello'[:-1] }}|{{ 'hello'[1:4:2] }}", "ello|olleh|hell|el")]
    [InlineData("{{ [1, 2, 3, 4][1:3] }}|{{ [1, 2, 3][-1] }}|{{ [1, 2, 3][::-1] }}|{{ [1, 2, 3][5] }}", "[2, 3]|3|[3, 2, 1]|")]
    [InlineData("{{ 'héllo😀'[1] }}|{{ 'héllo😀'[-1] }}|{{ 'héllo😀'|length }}", "é|😀|6")]
    public void SubscriptsAndSlices(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void AttributeAndItemAccessOnMessages()
    {
        var messages = new List<object?> { Msg("system", "S"), Msg("user", "U") };
        Assert.Equal("system S|U|user|True",
            R("{{ messages[0]['role'] }} {{ messages[0].content }}|{{ messages[-1]['content'] }}|{{ messages[1:][0].role }}|{{ messages[0].missing is none }}", ("messages", messages)));
    }

    [Theory]
    [InlineData("{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ none is none }} {{ x is not none }}", "True False True True True")]
    [InlineData("{{ 's' is string }} {{ 1 is string }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 's' is iterable }} {{ 1 is iterable }}", "True False True False True True False")]
    [InlineData("{{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ [] is sequence }}", "True True True True True")]
    [InlineData("{{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 4 is even }} {{ 3 is odd }} {{ 'a' is equalto 'a' }} {{ 2 is eq 3 }}", "True False True True True False")]
    [InlineData("{{ 'abc' is lower }} {{ 'Abc' is upper }} {{ range is callable }} {{ not x is defined }}", "True False True False")]
    public void Tests(string template, string expected) => Assert.Equal(expected, R(template, ("x", 1L)));

    [Fact]
    public void LoopVariables()
    {
        Assert.Equal("1:0:True:False:3:3:2 2:1:False:False:3:2:1 3:2:False:True:3:1:0 ",
            R("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}:{{ loop.index0 }}:{{ loop.first }}:{{ loop.last }}:{{ loop.length }}:{{ loop.revindex }}:{{ loop.revindex0 }} {% endfor %}"));
        Assert.Equal("-b|a-", R("{% for x in ['a', 'b'] %}{{ loop.previtem }}-{{ loop.nextitem }}{% if not loop.last %}|{% endif %}{% endfor %}"));
        Assert.Equal("odd even odd ", R("{% for x in range(3) %}{{ loop.cycle('odd', 'even') }} {% endfor %}"));
    }

    [Fact]
    public void ForElseFilterUnpackingBreakContinue()
    {
        Assert.Equal("empty", R("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}"));
        Assert.Equal("empty", R("{% for x in nothing %}{{ x }}{% else %}empty{% endfor %}"));      // undefined iterates nothing (minja)
        Assert.Equal("2/2 4/2 ", R("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% endfor %}"));
        Assert.Equal("a=1,b=2,", R("{% for k, v in {'a': 1, 'b': 2}|items %}{{ k }}={{ v }},{% endfor %}"));
        Assert.Equal("a=1;b=2;", R("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", ("d", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 })));
        Assert.Equal("ab", R("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}"));
        Assert.Equal("x:1 y:2 ", R("{% for (n, v) in [('x', 1), ('y', 2)] %}{{ n }}:{{ v }} {% endfor %}"));
        Assert.Equal("13", R("{% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"));
        Assert.Equal("h-i-", R("{% for c in 'hi' %}{{ c }}-{% endfor %}"));
    }

    [Fact]
    public void SetScopingAndNamespaces()
    {
        // set inside a loop stays in the loop; a namespace carries state out
        Assert.Equal("0 3", R("{% set n = 0 %}{% set ns = namespace(total=0) %}{% for x in [1, 2] %}{% set n = n + x %}{% set ns.total = ns.total + x %}{% endfor %}{{ n }} {{ ns.total }}"));
        // set inside if is visible after it
        Assert.Equal("yes", R("{% if true %}{% set a = 'yes' %}{% endif %}{{ a }}"));
        Assert.Equal("1 2", R("{% set a, b = 1, 2 %}{{ a }} {{ b }}"));
        Assert.Equal("[1, 2, 3]", R("{% set ns = namespace() %}{% set ns.items = [1] %}{% set ns.items = ns.items + [2, 3] %}{{ ns.items }}"));
        Assert.Equal("<hello world>", R("{% set x %}  hello {{ 'world' }}  {% endset %}<{{ x | trim }}>"));
        Assert.Equal("<HI>", R("{% set x | upper %}hi{% endset %}<{{ x }}>"));
        Assert.Equal("A B", R("{% filter upper %}a {{ 'b' }}{% endfilter %}"));
        var l = new List<object?> { 1 };
        Assert.Equal("[1, 2]", R("{% set _ = xs.append(2) %}{{ xs }}", ("xs", l)));
    }

    [Fact]
    public void Macros()
    {
        Assert.Equal("<a:1><b:2><c:9>", R("{% macro m(name, v=1) %}<{{ name }}:{{ v }}>{% endmacro %}{{ m('a') }}{{ m('b', 2) }}{{ m(v=9, name='c') }}"));
        // recursion, and macro-local set does not leak
        Assert.Equal("List[List[str]] x", R("""
            {%- set x = 'x' -%}
            {%- macro t(spec) -%}
            {%- set x = 'inner' -%}
            {%- if spec.type == 'array' -%}List[{{ t(spec['items']) }}]{%- else -%}str{%- endif -%}
            {%- endmacro -%}
            {{ t({'type': 'array', 'items': {'type': 'array', 'items': {'type': 'string'}}}) }} {{ x }}
            """));
        var e = Assert.Throws<ChatTemplateException>(() => R("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"));
        Assert.Contains("recursed", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A template that would run for ever or fill memory is stopped with an error (a server renders any file's template).</summary>
    [Theory]
    [InlineData("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}", "loop iterations")]
    [InlineData("{% for i in range(1000000) %}{% for j in range(1000000) %}{{ '' }}{% endfor %}{% endfor %}", "loop iterations")]
    [InlineData("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "longer than")]
    [InlineData("{{ 'x' * 100000000000 }}", "longer than")]
    [InlineData("{{ ([1] * 100000000)|length }}", "longer than")]
    [InlineData("{% for i in range(1000000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", "output passed")]
    public void ATemplateThatNeverEndsOrGrowsWithoutBoundIsStopped(string template, string message)
    {
        var e = Assert.Throws<ChatTemplateException>(() => R(template));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ '  a b \\n'|trim }}|{{ 'abc'|length }}|{{ [1, 2]|length }}|{{ {'a': 1}|count }}", "a b|3|2|1")]
    [InlineData("{{ 'Ab'|upper }}{{ 'Ab'|lower }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}", "ABab|Hello World|Hello")]
    [InlineData("{{ x|default('d') }}|{{ ''|default('d') }}|{{ ''|default('d', true) }}|{{ none|d('n') }}", "d||d|n")]
    [InlineData("{{ [1, 2, 3]|join(', ') }}|{{ ['a', 'b']|join }}|{{ [1, 2]|first }}{{ [1, 2]|last }}|{{ 'ab'|list }}", "1, 2, 3|ab|12|['a', 'b']")]
    [InlineData("{{ [{'n': 'a'}, {'n': 'b'}]|map(attribute='n')|join('+') }}|{{ ['a', 'b']|map('upper')|list }}", "a+b|['A', 'B']")]
    [InlineData("{{ [1, 2, 1, 3]|unique|list }}|{{ [3, 1, 2]|sort }}|{{ [3, 1, 2]|sort(reverse=true) }}|{{ [1, 2]|reverse|list }}", "[1, 2, 3]|[1, 2, 3]|[3, 2, 1]|[2, 1]")]
    [InlineData("{{ {'b': 1, 'a': 2}|dictsort }}|{{ {'a': 1}|items|list }}", "[['a', 2], ['b', 1]]|[['a', 1]]")]
    [InlineData("{{ '42'|int + 1 }}|{{ 3.9|int }}|{{ 'x'|int }}|{{ '2.5'|float }}|{{ 5|string ~ '!' }}|{{ 'a'|safe }}", "43|3|0|2.5|5!|a")]
    [InlineData("{{ 'aXbX'|replace('X', '-') }}|{{ 'aaa'|replace('a', 'b', 2) }}", "a-b-|bba")]
    [InlineData("{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'x\\ny'|indent(2, first=true) }}", "a\n  b\n\n  c|  x\n  y")]
    [InlineData("{{ [-1.5]|map('abs')|first }}|{{ [1, 2, 3]|sum }}|{{ [4, 1]|min }}{{ [4, 1]|max }}|{{ 2.567|round(2) }}", "1.5|6|14|2.57")]
    public void Filters(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void SelectAndReject()
    {
        var tools = new List<object?>
        {
            new Dictionary<string, object?> { ["type"] = "function", ["name"] = "f" },
            new Dictionary<string, object?> { ["type"] = "code_interpreter" },
            new Dictionary<string, object?> { ["name"] = "g" },
        };
        Assert.Equal("1|2|2|1|f,g", R(
            "{{ tools|selectattr('type', 'equalto', 'code_interpreter')|list|length }}|{{ tools|rejectattr('type', 'equalto', 'code_interpreter')|list|length }}|" +
            "{{ tools|selectattr('type', 'defined')|list|length }}|{{ tools|selectattr('name', 'undefined')|list|length }}|{{ tools|selectattr('name')|map(attribute='name')|join(',') }}",
            ("tools", tools)));
        Assert.Equal("[2, 4]|[1, 3]|['a', 'b']", R("{{ [1, 2, 3, 4]|select('even')|list }}|{{ [1, 2, 3, 4]|reject('even')|list }}|{{ ['a', 'b', 'code_interpreter']|reject('equalto', 'code_interpreter')|list }}"));
    }

    [Fact]
    public void ToJsonMatchesPythonJsonDumps()
    {
        var v = new Dictionary<string, object?>
        {
            ["name"] = "ünï \"q\" \\ \n\t\u0001",
            ["n"] = 1, ["f"] = 0.5, ["b"] = true, ["z"] = null,
            ["list"] = new List<object?> { 1, "a" }, ["empty"] = new List<object?>(), ["obj"] = new Dictionary<string, object?>(),
        };
        Assert.Equal("{\"name\": \"ünï \\\"q\\\" \\\\ \\n\\t\\u0001\", \"n\": 1, \"f\": 0.5, \"b\": true, \"z\": null, \"list\": [1, \"a\"], \"empty\": [], \"obj\": {}}",
            R("{{ v|tojson }}", ("v", v)));
        Assert.Equal("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}", R("{{ {'a': [1, 2], 'e': {}}|tojson(indent=2) }}"));
        Assert.Equal("\"<tag>&'\"", R("{{ \"<tag>&'\"|tojson }}"));   // no HTML escaping (minja / HF)
    }

    [Theory]
    [InlineData("{{ '  x '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  x '.lstrip() }}.|{{ '  x '.rstrip() }}.", "x|a|x .|  x.")]
    [InlineData("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'x</think>y'.split('</think>')[-1] }}", "['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|y")]
    [InlineData("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('.') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'a-b'.replace('-', '+') }}", "True False True a+b")]
    [InlineData("{{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ 'the end'.title() }} {{ 'abcb'.find('b') }} {{ 'abcb'.count('b') }} {{ ', '.join(['a', 'b']) }}", "ABab The End 1 2 a, b")]
    [InlineData("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 'x') }} {{ {'a': 1}.get('b') is none }} {{ {'a': 1}.keys()|list }} {{ {'a': 1}.values()|list }}", "1 x True ['a'] [1]")]
    public void Methods(string template, string expected) => Assert.Equal(expected, R(template));

    [Fact]
    public void WhitespaceControl()
    {
        // '-' strips all whitespace on its side, including newlines
        Assert.Equal("ab", R("a  \n  {{- 'b' }}"));
        Assert.Equal("ab", R("{{ 'a' -}}  \n  b"));
        Assert.Equal("[x]", R("[  {%- if true -%}  x  {%- endif -%}  ]"));
        // trim_blocks: the newline after a block tag goes; after an expression it stays
        Assert.Equal("x\ny\n", R("{% if true %}\nx\n{% endif %}\n{{ 'y' }}\n\n"));
        // lstrip_blocks: indentation before a tag on its own line goes
        Assert.Equal("a\nb\n", R("a\n    {% if true %}\nb\n    {% endif %}\n"));
        // minja applies lstrip_blocks before {{ too (Jinja would keep the spaces)
        Assert.Equal("a\nb", R("a\n    {{ 'b' }}"));
        // but not when text precedes the tag on that line
        Assert.Equal("a  b", R("a  {{ 'b' }}"));
        // '+' turns lstrip off for that tag
        Assert.Equal("a\n  b", R("a\n  {%+ if true %}b{% endif %}"));
        // comments vanish, and trim the newline after them
        Assert.Equal("a\nb", R("a\n{# note #}\nb"));
        Assert.Equal("ab", R("a  {#- note -#}  b"));
        // the template's final newline is dropped (keep_trailing_newline = false)
        Assert.Equal("x", R("x\n"));
        Assert.Equal("x\n", JinjaTemplate.Parse("x\n", new JinjaOptions(KeepTrailingNewline: true)).Render());
        // without trim/lstrip everything stays
        Assert.Equal("  \nx\n", JinjaTemplate.Parse("  {% if true %}\nx\n{% endif %}", new JinjaOptions(false, false)).Render());
    }

    [Fact]
    public void GlobalsAndHostValues()
    {
        Assert.Equal("[0, 1, 2]|[2, 4]|[3, 2]", R("{{ range(3) }}|{{ range(2, 6, 2) }}|{{ range(3, 1, -1) }}"));
        Assert.Equal("a, b", R("{% set j = joiner(', ') %}{% for x in ['a', 'b'] %}{{ j() }}{{ x }}{% endfor %}"));
        Assert.Equal("{'k': 2}", R("{{ dict(k=2) }}"));
        var fn = new JinjaCallable("twice", a => (long)a.Positional[0]! * 2);
        Assert.Equal("42", R("{{ twice(21) }}", ("twice", fn)));
        using var doc = System.Text.Json.JsonDocument.Parse("""{"a": [1, 2.5, "x", true, null]}""");
        Assert.Equal("[1, 2.5, 'x', True, None]", R("{{ j.a }}", ("j", doc.RootElement)));
    }

    [Fact]
    public void StrftimeFormatsTheGivenClock()
    {
        var t = new DateTime(2025, 2, 20, 13, 5, 9);
        Assert.Equal("20 Feb 2025|2025-02-20 13:05:09|Thursday February|01 PM|051", Strftime.Format(t, "%d %b %Y|%Y-%m-%d %H:%M:%S|%A %B|%I %p|%j"));
    }

    // ───────────────────────────── errors ─────────────────────────────

    [Theory]
    [InlineData("a\nb\n{% include 'other.jinja' %}", "'{% include %}'", 3)]
    [InlineData("{% if x %}\n{% import 'm' as m %}{% endif %}", "'{% import %}'", 2)]
    [InlineData("\n\n\n{{ x | frobnicate }}", "filter 'frobnicate'", 4)]
    [InlineData("\n{{ x is frobnicated }}", "test 'frobnicated'", 2)]
    [InlineData("{% raw %}{{ x }}{% endraw %}", "'{% raw %}'", 1)]
    [InlineData("\n{% for x in xs recursive %}{{ loop(x) }}{% endfor %}", "recursive", 2)]
    [InlineData("\n\n{{ f(*args) }}", "*args", 3)]
    [InlineData("{% frob %}", "unknown Jinja statement '{% frob %}'", 1)]
    public void UnsupportedConstructsNameTheConstructAndLine(string template, string construct, int line)
    {
        var e = Assert.Throws<ChatTemplateException>(() => JinjaTemplate.Parse(template));
        Assert.Contains(construct, e.Message, StringComparison.Ordinal);
        Assert.Equal(line, e.Line);
        Assert.Contains($"template line {line},", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{% if x %}\nno end", "never closed", 1)]
    [InlineData("\n{% for x in y %}{% endif %}", "unexpected '{% endif %}'", 2)]
    [InlineData("\n\n{{ 'abc }}", "unterminated string", 3)]
    [InlineData("{{ x + }}", "expected a value", 1)]
    [InlineData("line1\n{{ x ", "unterminated '{{'", 2)]
    [InlineData("{# never closed", "unterminated comment", 1)]
    [InlineData("{% endfor %}", "unexpected '{% endfor %}'", 1)]
    public void SyntaxErrorsCarryTheLine(string template, string fragment, int line)
    {
        var e = Assert.Throws<ChatTemplateException>(() => JinjaTemplate.Parse(template));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Equal(line, e.Line);
    }

    [Fact]
    public void RuntimeErrorsCarryTheLine()
    {
        var e = Assert.Throws<ChatTemplateException>(() => R("ok\n\n{{ missing.attr }}"));
        Assert.Equal(3, e.Line);
        Assert.Contains("'missing'", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ChatTemplateException>(() => R("\n{{ 1 < 'a' }}"));
        Assert.Equal(2, e.Line);

        e = Assert.Throws<ChatTemplateException>(() => R("\n{{ [1]|trim }}"));
        Assert.Equal(2, e.Line);
        Assert.Contains("trim", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ChatTemplateException>(() => R("{{ 'x'.nomethod() }}"));
        Assert.Contains("nomethod", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ChatTemplateException>(() => R("{% if true %}{{ raise_exception('Bad role: ' + r) }}{% endif %}", ("r", "robot")));
        Assert.True(e.RaisedByTemplate);
        Assert.Equal("Bad role: robot", e.Problem);
    }
}
