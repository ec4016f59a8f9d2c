using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// One complete SIP message as bytes, as it came off the wire. The transport does not parse it; the message layer
/// does, and uses <see cref="Remote"/> and <see cref="ConnectionId"/> to add received/rport and route the response.
/// </summary>
public sealed class ReceivedFrame
{
    public ReceivedFrame(SipEndPoint remote, IPEndPoint local, ReadOnlyMemory<byte> data, long connectionId, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(remote.Address);
        ArgumentNullException.ThrowIfNull(local);
        Remote = remote;
        Local = local;
        Data = data;
        ConnectionId = connectionId;
        ReceivedAt = receivedAt;
    }

    /// <summary>Where the bytes came from (the packet's source, not what the Via header claims).</summary>
    public SipEndPoint Remote { get; }

    /// <summary>The local address the bytes arrived on (for TCP, the connection's own local endpoint).</summary>
    public IPEndPoint Local { get; }

    /// <summary>The message bytes. An owned copy: it stays valid after the frame callback returns.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The connection the frame arrived on, to send the response back on it; 0 for UDP.</summary>
    public long ConnectionId { get; }

    public DateTimeOffset ReceivedAt { get; }

    public SipProtocol Protocol => Remote.Protocol;
}
