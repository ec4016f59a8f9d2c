using System.Threading.Channels;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// One direction of an in-memory stream connection: frames queue and a single pump delivers them in order, each no
/// earlier than its delay after it was sent (a delayed frame also holds back the ones behind it, as on TCP).
/// </summary>
internal sealed class InMemoryOrderedLink
{
    private readonly InMemoryNetwork _network;
    private readonly SipEndPoint _from;
    private readonly SipEndPoint _to;
    private readonly long _connectionId;
    private readonly Channel<PendingFrame> _queue =
        Channel.CreateUnbounded<PendingFrame>(new UnboundedChannelOptions { SingleReader = true });

    public InMemoryOrderedLink(InMemoryNetwork network, SipEndPoint from, SipEndPoint to, long connectionId)
    {
        _network = network;
        _from = from;
        _to = to;
        _connectionId = connectionId;
        _ = Task.Run(PumpAsync, CancellationToken.None);
    }

    public void Enqueue(byte[] data, TimeSpan delay) =>
        _queue.Writer.TryWrite(new PendingFrame(data, _network.TimeProvider.GetTimestamp(), delay));

    /// <summary>Ends the pump once what is queued has been delivered (or found its target gone).</summary>
    public void Complete() => _queue.Writer.TryComplete();

    private async Task PumpAsync()
    {
        TimeProvider time = _network.TimeProvider;
        await foreach (PendingFrame pending in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            TimeSpan wait = pending.Delay - time.GetElapsedTime(pending.SentAt);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time).ConfigureAwait(false);
            }

            await _network.DeliverNowAsync(_from, _to, pending.Data, _connectionId).ConfigureAwait(false);
        }
    }

    private readonly record struct PendingFrame(byte[] Data, long SentAt, TimeSpan Delay);
}
