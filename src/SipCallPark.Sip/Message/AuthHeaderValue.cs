using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// A challenge or credentials (WWW-Authenticate, Proxy-Authenticate, Authorization, Proxy-Authorization):
/// a scheme and comma-separated auth-params (RFC 3261 §25.1). Quoted values keep their quotes in
/// <see cref="Parameters"/>; <see cref="Get"/> unquotes.
/// </summary>
public sealed record AuthHeaderValue(string Scheme, SipParameters Parameters)
{
    public string? Get(string name) => Parameters.Get(name) is { } v ? SipText.Unquote(v) : null;

    public static bool TryParse(string text, out AuthHeaderValue value)
    {
        value = null!;
        var s = text.AsSpan().Trim();
        var sp = s.IndexOfAny(' ', '\t');
        var scheme = sp < 0 ? s : s[..sp];
        if (!SipText.IsToken(scheme)) return false;
        var parameters = SipParameters.Empty;
        if (sp >= 0 && !SipParameters.TryParse(s[(sp + 1)..], ',', out parameters)) return false;
        value = new AuthHeaderValue(scheme.ToString(), parameters);
        return true;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(Scheme).Append(' ');
        for (var i = 0; i < Parameters.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Parameters[i].Name);
            if (Parameters[i].Value is { } v) sb.Append('=').Append(v);
        }
        return sb.ToString();
    }
}
