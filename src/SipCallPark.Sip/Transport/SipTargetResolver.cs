using System.Net;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Turns a SIP URI into the address to send to: maddr or host, port (5060, or 5061 for TLS/sips) and transport.
/// Numeric hosts only — a lab on loopback has no DNS; RFC 3263 NAPTR/SRV resolution would plug in here.
/// </summary>
public static class SipTargetResolver
{
    public static SipEndPoint? Resolve(SipUri uri)
    {
        if (!uri.IsSip) return null;
        var host = uri.Parameters.Get("maddr") ?? uri.HostWithoutBrackets;
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var ip)) return null;
        var protocol = uri.Transport?.ToLowerInvariant() switch
        {
            "tcp" => SipProtocol.Tcp,
            "tls" => SipProtocol.Tls,
            "ws" => SipProtocol.Ws,
            "wss" => SipProtocol.Wss,
            _ => uri.IsSecure ? SipProtocol.Tls : SipProtocol.Udp,
        };
        return new SipEndPoint(protocol, new IPEndPoint(ip, uri.Port ?? (protocol == SipProtocol.Tls ? 5061 : 5060)));
    }
}
