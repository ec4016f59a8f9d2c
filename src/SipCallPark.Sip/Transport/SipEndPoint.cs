using System.Net;

namespace SipCallPark.Sip.Transport;

public enum SipProtocol { Udp, Tcp, Tls, Ws, Wss }

/// <summary>A transport protocol and an IP endpoint: where a message came from or goes to.</summary>
public readonly record struct SipEndPoint(SipProtocol Protocol, IPEndPoint Address)
{
    public override string ToString() => $"{Protocol.ToString().ToLowerInvariant()}:{Address}";
}
