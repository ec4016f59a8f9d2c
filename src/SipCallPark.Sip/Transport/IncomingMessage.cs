using System.Net;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transport;

/// <summary>A parsed, validated message with where it came from: enough to answer it per RFC 3261 §18.2.2.</summary>
public sealed record IncomingMessage(SipMessage Message, SipEndPoint Remote, IPEndPoint Local, long ConnectionId, DateTimeOffset ReceivedAt)
{
    public bool IsReliable => Remote.Protocol != SipProtocol.Udp;

    /// <summary>The channel the message arrived on, so the response leaves from the same socket (RFC 3581 §4).
    /// Null for a message built by hand; the channel is then found from <see cref="Local"/>.</summary>
    internal ISipChannel? Channel { get; init; }
}
