namespace SipCallPark.Sip.Transport;

/// <summary>The transport a SIP message travels over (RFC 3261 §18, RFC 7118 for WebSocket).</summary>
public enum SipProtocol
{
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
}
