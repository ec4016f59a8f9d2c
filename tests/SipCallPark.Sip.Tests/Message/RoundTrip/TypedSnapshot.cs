using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message.RoundTrip;

/// <summary>A text dump of every typed value of a message, so that two parses can be compared with a readable diff.</summary>
internal static class TypedSnapshot
{
    public static string Of(SipMessage m)
    {
        var sb = new StringBuilder();
        if (m is SipRequest r) sb.AppendLine($"request {r.Method} {Uri(r.RequestUri)}");
        if (m is SipResponse s) sb.AppendLine($"response {s.StatusCode} {s.ReasonPhrase}");
        foreach (var v in m.Vias) sb.AppendLine($"via {v.Protocol}/{v.Transport} {v.Host} {v.Port} {v.Parameters}");
        sb.AppendLine($"from {Address(m.From)}");
        sb.AppendLine($"to {Address(m.To)}");
        sb.AppendLine($"call-id {m.CallId}");
        sb.AppendLine($"cseq {m.CSeq}");
        sb.AppendLine($"max-forwards {m.MaxForwards}");
        foreach (var c in m.Contacts) sb.AppendLine($"contact {Address(c)}");
        foreach (var c in m.Routes) sb.AppendLine($"route {Address(c)}");
        foreach (var c in m.RecordRoutes) sb.AppendLine($"record-route {Address(c)}");
        sb.AppendLine($"content-type {m.ContentType}");
        sb.AppendLine($"expires {m.Expires}");
        foreach (var h in m.Headers) sb.AppendLine($"header {h.Name}: {h.Value}");
        sb.AppendLine($"body {Convert.ToHexString(m.Body.Span)}");
        return sb.ToString();
    }

    private static string Address(NameAddress a) => $"'{a.DisplayName}' {Uri(a.Uri)} {a.Parameters}";

    private static string Uri(SipUri u) =>
        $"{u.Scheme} user='{u.UnescapedUser}' pw='{u.Password}' host={u.Host} port={u.Port} params={u.Parameters} " +
        $"headers={string.Join("&", u.Headers.Select(h => $"{h.Name}={u.GetHeader(h.Name)}"))} opaque={u.Opaque}";
}
