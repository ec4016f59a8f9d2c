using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>A transport address: protocol plus IP address and port, e.g. <c>udp:127.0.0.1:5060</c>.</summary>
public readonly record struct SipEndPoint(SipProtocol Protocol, IPEndPoint Address)
{
    /// <summary>True for transports that deliver a byte stream in order (everything but UDP).</summary>
    public bool IsReliable => Protocol != SipProtocol.Udp;

    // IPEndPoint already writes IPv6 as "[::1]:5060".
    public override string ToString() => $"{ProtocolName(Protocol)}:{Address}";

    internal static string ProtocolName(SipProtocol protocol) => protocol switch
    {
        SipProtocol.Udp => "udp",
        SipProtocol.Tcp => "tcp",
        SipProtocol.Tls => "tls",
        SipProtocol.Ws => "ws",
        SipProtocol.Wss => "wss",
        _ => "unknown",
    };
}
