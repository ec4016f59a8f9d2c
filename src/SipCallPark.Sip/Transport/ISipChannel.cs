using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Moves whole SIP messages as bytes between this host and peers over one transport (UDP, TCP, later TLS and
/// WebSocket). A channel never parses SIP beyond what framing needs.
/// </summary>
public interface ISipChannel : IAsyncDisposable
{
    SipProtocol Protocol { get; }

    /// <summary>True when the transport itself retransmits (RFC 3261 §17.1.1.2: no Timer A over TCP).</summary>
    bool IsReliable { get; }

    /// <summary>The address actually bound, with the real port when port 0 was asked for.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Starts receiving. <paramref name="onFrame"/> is awaited before the next frame of the same receive loop (one
    /// loop per TCP connection, so frames of a stream arrive in order); keep it short and hand work off. Exceptions
    /// it throws are logged, never fatal to the channel. Must be called once, before <see cref="SendAsync"/>.
    /// Cancelling <paramref name="ct"/> stops receiving.
    /// </summary>
    Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct);

    /// <summary>
    /// Sends one whole message. Connection-oriented channels send on connection <paramref name="connectionId"/>
    /// while it is open, else on an open connection to <paramref name="remote"/>, else connect a new one
    /// (RFC 3261 §18.2.2, RFC 5923). Connectionless channels ignore <paramref name="connectionId"/>.
    /// Returns false when the bytes could not be handed to the network (logged); never throws for network errors.
    /// </summary>
    ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct);
}
