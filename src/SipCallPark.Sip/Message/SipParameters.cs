using System.Collections;
using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>One <c>name[=value]</c> parameter; <see cref="Value"/> is null for a flag such as <c>;lr</c>.</summary>
public readonly record struct SipParameter(string Name, string? Value);

/// <summary>
/// An ordered, immutable list of <c>;name=value</c> parameters (URI, Via, name-addr and header parameters).
/// Names compare case-insensitively (RFC 3261 §7.3.1); values keep their spelling, quotes included.
/// </summary>
public sealed class SipParameters : IReadOnlyList<SipParameter>
{
    public static readonly SipParameters Empty = new([]);

    private readonly SipParameter[] _items;

    private SipParameters(SipParameter[] items) => _items = items;

    public int Count => _items.Length;

    public SipParameter this[int index] => _items[index];

    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <summary>The value of the first parameter with that name; null when it is absent or a flag.</summary>
    public string? Get(string name)
    {
        var i = IndexOf(name);
        return i < 0 ? null : _items[i].Value;
    }

    public SipParameters With(string name, string? value)
    {
        var i = IndexOf(name);
        var copy = i < 0 ? new SipParameter[_items.Length + 1] : (SipParameter[])_items.Clone();
        if (i < 0)
        {
            _items.CopyTo(copy, 0);
            i = _items.Length;
        }
        copy[i] = new SipParameter(name, value);
        return new SipParameters(copy);
    }

    public SipParameters Without(string name)
    {
        if (IndexOf(name) < 0) return this;
        return new SipParameters(_items.Where(p => !string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).ToArray());
    }

    public static SipParameters From(IEnumerable<SipParameter> items)
    {
        var array = items.ToArray();
        return array.Length == 0 ? Empty : new SipParameters(array);
    }

    /// <summary>
    /// Parses <c>;a=1;b;c="x;y"</c> (leading separator optional). Whitespace around <c>;</c> and <c>=</c> is allowed
    /// (LWS, RFC 3261 §25.1). Returns false on an empty name or an unterminated quoted string.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, char separator, out SipParameters parameters)
    {
        parameters = Empty;
        var list = new List<SipParameter>();
        var i = 0;
        while (true)
        {
            i = SipText.SkipWhitespace(text, i);
            if (i < text.Length && text[i] == separator) i = SipText.SkipWhitespace(text, i + 1);
            if (i >= text.Length) break;
            var nameStart = i;
            while (i < text.Length && text[i] != '=' && text[i] != separator && !SipText.IsWhitespace(text[i])) i++;
            var name = text[nameStart..i];
            if (name.IsEmpty || !SipText.IsToken(name)) return false;
            i = SipText.SkipWhitespace(text, i);
            string? value = null;
            if (i < text.Length && text[i] == '=')
            {
                i = SipText.SkipWhitespace(text, i + 1);
                var valueStart = i;
                if (i < text.Length && text[i] == '"')
                {
                    var end = SipText.EndOfQuoted(text, i);
                    if (end < 0) return false;
                    i = end;
                }
                else
                {
                    while (i < text.Length && text[i] != separator && !SipText.IsWhitespace(text[i])) i++;
                }
                value = text[valueStart..i].ToString();
                i = SipText.SkipWhitespace(text, i);
            }
            list.Add(new SipParameter(name.ToString(), value));
            if (i < text.Length && text[i] != separator) return false;
        }
        parameters = list.Count == 0 ? Empty : new SipParameters(list.ToArray());
        return true;
    }

    public void AppendTo(StringBuilder sb, char separator = ';')
    {
        foreach (var p in _items)
        {
            sb.Append(separator).Append(p.Name);
            if (p.Value is not null) sb.Append('=').Append(p.Value);
        }
    }

    public override string ToString()
    {
        var sb = TextBuilder.Take();
        AppendTo(sb);
        return TextBuilder.Finish(sb);
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < _items.Length; i++)
        {
            if (string.Equals(_items[i].Name, name, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    public IEnumerator<SipParameter> GetEnumerator() => ((IEnumerable<SipParameter>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
