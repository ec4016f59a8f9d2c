using System.Net;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Tests.Reliability;

/// <summary>
/// A phone's UDP channel that sends what is meant for a pool to that pool's relay instead (what sipp's <c>-rsa</c>
/// does), so every datagram between the phone and the pool — in-dialog requests to the pool's Record-Route included —
/// crosses the relay. Everything else (replies to the relay's own address) goes where it is addressed.
/// </summary>
internal sealed class RelayedChannel(ISipChannel inner, IReadOnlyDictionary<IPEndPoint, IPEndPoint> relayOf) : ISipChannel
{
    public SipProtocol Protocol => inner.Protocol;

    public bool IsReliable => inner.IsReliable;

    public IPEndPoint LocalEndPoint => inner.LocalEndPoint;

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct) => inner.StartAsync(onFrame, ct);

    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct) =>
        inner.SendAsync(data, relayOf.TryGetValue(remote, out var relay) ? relay : remote, connectionId, ct);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
