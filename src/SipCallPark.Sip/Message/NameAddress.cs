using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// A <c>name-addr</c> or <c>addr-spec</c> with header parameters (RFC 3261 §20.10, §25.1): the value of From, To,
/// Contact, Route, Record-Route, Refer-To and Referred-By. Immutable. In the addr-spec form everything after the
/// first <c>;</c> belongs to the header, not to the URI (RFC 3261 §20.10).
/// </summary>
public sealed class NameAddress
{
    private string? _text;

    public NameAddress(SipUri uri, string? displayName = null, SipParameters? parameters = null)
    {
        Uri = uri;
        DisplayName = displayName;
        Parameters = parameters ?? SipParameters.Empty;
    }

    private NameAddress() : this(SipUri.Create("sip", null, "*"))
    {
        IsWildcard = true;
    }

    /// <summary>The <c>Contact: *</c> of a REGISTER that removes every binding.</summary>
    public static NameAddress Wildcard { get; } = new();

    /// <summary>Display name without quotes, or null.</summary>
    public string? DisplayName { get; }

    public SipUri Uri { get; }

    public SipParameters Parameters { get; }

    public bool IsWildcard { get; }

    public string? Tag => Parameters.Get("tag");

    public NameAddress WithTag(string tag) => new(Uri, DisplayName, Parameters.With("tag", tag));

    public NameAddress WithParameter(string name, string? value) => new(Uri, DisplayName, Parameters.With(name, value));

    public NameAddress WithoutParameter(string name) => new(Uri, DisplayName, Parameters.Without(name));

    public NameAddress WithUri(SipUri uri) => new(uri, DisplayName, Parameters);

    public static NameAddress Parse(string text) =>
        TryParse(text, out var value) ? value : throw new SipParseException($"Malformed name-addr '{text}'");

    public static bool TryParse(string text, out NameAddress value)
    {
        value = null!;
        var s = text.AsSpan().Trim();
        if (s.IsEmpty) return false;
        if (s is "*")
        {
            value = Wildcard;
            return true;
        }

        string? displayName = null;
        var i = 0;
        var lt = -1;
        if (s[0] == '"')
        {
            var end = SipText.EndOfQuoted(s, 0);
            if (end < 0) return false;
            displayName = SipText.Unquote(s[..end].ToString());
            i = SipText.SkipWhitespace(s, end);
            if (i >= s.Length || s[i] != '<') return false;
            lt = i;
        }
        else
        {
            lt = s.IndexOf('<');
            if (lt > 0)
            {
                // An unquoted display name is a sequence of tokens separated by LWS (RFC 3261 §25.1).
                var name = s[..lt].Trim();
                foreach (var c in name)
                {
                    if (!SipText.IsTokenChar(c) && !SipText.IsWhitespace(c)) return false;
                }
                displayName = name.IsEmpty ? null : name.ToString();
            }
        }

        SipUri? uri;
        ReadOnlySpan<char> paramText;
        if (lt >= 0)
        {
            var gt = s[lt..].IndexOf('>');
            if (gt < 0) return false;
            gt += lt;
            if (!SipUri.TryParse(s[(lt + 1)..gt].ToString(), out uri)) return false;
            paramText = s[(gt + 1)..];
        }
        else
        {
            // addr-spec: the URI may not carry ';' parameters or '?' headers of its own, nor whitespace.
            var semi = s.IndexOf(';');
            var spec = semi < 0 ? s : s[..semi];
            spec = spec.TrimEnd();
            if (spec.IndexOfAny(' ', '\t', '?') >= 0 || spec.IndexOf(',') >= 0) return false;
            if (!SipUri.TryParse(spec.ToString(), out uri)) return false;
            paramText = semi < 0 ? default : s[semi..];
        }

        var parameters = SipParameters.Empty;
        paramText = paramText.Trim();
        if (!paramText.IsEmpty)
        {
            if (paramText[0] != ';') return false;
            if (!SipParameters.TryParse(paramText, ';', out parameters)) return false;
        }
        value = new NameAddress(uri, displayName, parameters) { _text = text.Trim() };
        return true;
    }

    public override string ToString() => _text ??= Build();

    private string Build()
    {
        if (IsWildcard) return "*";
        var sb = TextBuilder.Take();
        if (DisplayName is not null)
        {
            var tokens = DisplayName.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var plain = tokens.Length > 0 && tokens.All(t => SipText.IsToken(t));
            sb.Append(plain ? DisplayName : SipText.Quote(DisplayName)).Append(' ');
        }
        sb.Append('<').Append(Uri).Append('>');
        Parameters.AppendTo(sb);
        return TextBuilder.Finish(sb);
    }
}
