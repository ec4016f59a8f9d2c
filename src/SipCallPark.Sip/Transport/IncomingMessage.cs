using System.Net;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transport;

/// <summary>A parsed, validated message with where it came from: enough to answer it per RFC 3261 §18.2.2.</summary>
public sealed record IncomingMessage(SipMessage Message, SipEndPoint Remote, IPEndPoint Local, long ConnectionId, DateTimeOffset ReceivedAt)
{
    public bool IsReliable => Remote.Protocol != SipProtocol.Udp;
}
