using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// Replaces (RFC 3891 §6.1): the dialog to replace. <see cref="ToTag"/> names the tag of the party that
/// <em>receives</em> the INVITE-with-Replaces (its local tag), <see cref="FromTag"/> the other party's (§3).
/// </summary>
public sealed record ReplacesHeader(string CallId, string ToTag, string FromTag, bool EarlyOnly = false)
{
    public static ReplacesHeader Parse(string text) =>
        TryParse(text, out var v) ? v : throw new SipParseException($"Malformed Replaces '{text}'");

    public static bool TryParse(string text, out ReplacesHeader value)
    {
        value = null!;
        var s = text.Trim();
        var semi = s.IndexOf(';');
        if (semi <= 0) return false;
        var callId = s[..semi].Trim();
        if (!SipParameters.TryParse(s.AsSpan(semi), ';', out var p)) return false;
        var to = p.Get("to-tag");
        var from = p.Get("from-tag");
        if (string.IsNullOrEmpty(to) || string.IsNullOrEmpty(from) || callId.Length == 0) return false;
        value = new ReplacesHeader(callId, to, from, p.Contains("early-only"));
        return true;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(CallId).Append(";to-tag=").Append(ToTag).Append(";from-tag=").Append(FromTag);
        if (EarlyOnly) sb.Append(";early-only");
        return sb.ToString();
    }
}
