using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// A value followed by <c>;name=value</c> parameters: Event (<c>refer;id=93</c>), Subscription-State
/// (<c>terminated;reason=noresource</c>), Content-Type (<c>text/plain;charset=utf-8</c>), Session-Expires.
/// </summary>
public sealed record ParameterizedValue(string Value, SipParameters Parameters)
{
    public static bool TryParse(string text, out ParameterizedValue value)
    {
        value = null!;
        var s = text.Trim();
        var semi = s.IndexOf(';');
        var head = (semi < 0 ? s : s[..semi]).Trim();
        if (head.Length == 0) return false;
        var parameters = SipParameters.Empty;
        if (semi >= 0 && !SipParameters.TryParse(s.AsSpan(semi), ';', out parameters)) return false;
        value = new ParameterizedValue(head, parameters);
        return true;
    }

    public static ParameterizedValue Parse(string text) =>
        TryParse(text, out var v) ? v : throw new SipParseException($"Malformed header value '{text}'");

    public override string ToString()
    {
        var sb = new StringBuilder(Value);
        Parameters.AppendTo(sb);
        return sb.ToString();
    }
}
