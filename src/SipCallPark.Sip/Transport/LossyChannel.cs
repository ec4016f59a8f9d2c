using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// A decorator that makes any datagram channel lossy for tests: each datagram sent is judged by
/// <see cref="Outbound"/>, each one received by <see cref="Inbound"/>: dropped, or handed on after its delay (on the
/// given <see cref="TimeProvider"/>, so a fake clock drives it). Wrapping a phone's UDP channel impairs every
/// datagram between that phone and everyone else, both ways. Stream channels are passed through untouched (a stream
/// does not lose or reorder). Every datagram is noted in <see cref="Ledger"/>.
/// </summary>
public sealed class LossyChannel : ISipChannel, IConnectionLookup
{
    private readonly ISipChannel _inner;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposed = new();

    public LossyChannel(ISipChannel inner, LinkImpairment outbound, LinkImpairment inbound, TimeProvider? time = null, LossLedger? ledger = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(outbound);
        ArgumentNullException.ThrowIfNull(inbound);
        _inner = inner;
        Outbound = outbound;
        Inbound = inbound;
        _time = time ?? TimeProvider.System;
        Ledger = ledger ?? new LossLedger();
    }

    /// <summary>Both directions from one seed (see <see cref="LinkImpairment.ForDirection"/>).</summary>
    public LossyChannel(ISipChannel inner, double dropProbability, TimeSpan jitter, int seed, TimeProvider? time = null, LossLedger? ledger = null)
        : this(inner,
            LinkImpairment.ForDirection(dropProbability, jitter, seed, LinkDirection.Outbound),
            LinkImpairment.ForDirection(dropProbability, jitter, seed, LinkDirection.Inbound),
            time, ledger)
    {
    }

    public LinkImpairment Outbound { get; }

    public LinkImpairment Inbound { get; }

    public LossLedger Ledger { get; }

    public SipProtocol Protocol => _inner.Protocol;

    public bool IsReliable => _inner.IsReliable;

    public IPEndPoint LocalEndPoint => _inner.LocalEndPoint;

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onFrame);
        if (IsReliable)
        {
            return _inner.StartAsync(onFrame, ct);
        }

        return _inner.StartAsync(frame =>
        {
            DatagramFate fate = Inbound.Next();
            Ledger.Record("in", frame.Data.Span, fate.Dropped);
            if (fate.Dropped)
            {
                return ValueTask.CompletedTask;
            }

            if (fate.Delay <= TimeSpan.Zero)
            {
                return onFrame(frame);
            }

            _ = LaterAsync(fate.Delay, () => onFrame(frame));
            return ValueTask.CompletedTask;
        }, ct);
    }

    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct)
    {
        if (IsReliable)
        {
            return _inner.SendAsync(data, remote, connectionId, ct);
        }

        DatagramFate fate = Outbound.Next();
        Ledger.Record("out", data.Span, fate.Dropped);
        if (fate.Dropped)
        {
            return ValueTask.FromResult(true); // as on UDP: handed to the network, lost on the way
        }

        if (fate.Delay <= TimeSpan.Zero)
        {
            return _inner.SendAsync(data, remote, connectionId, ct);
        }

        byte[] copy = data.ToArray(); // the caller may reuse its buffer once this returns
        _ = LaterAsync(fate.Delay, async () => await _inner.SendAsync(copy, remote, connectionId, CancellationToken.None).ConfigureAwait(false));
        return ValueTask.FromResult(true);
    }

    IPEndPoint? IConnectionLookup.OpenConnectionRemote(long connectionId) =>
        (_inner as IConnectionLookup)?.OpenConnectionRemote(connectionId);

    public async ValueTask DisposeAsync()
    {
        if (!_disposed.IsCancellationRequested)
        {
            await _disposed.CancelAsync().ConfigureAwait(false);
        }

        await _inner.DisposeAsync().ConfigureAwait(false);
    }

    private async Task LaterAsync(TimeSpan delay, Func<ValueTask> deliver)
    {
        try
        {
            await Task.Delay(delay, _time, _disposed.Token).ConfigureAwait(false);
            await deliver().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposed meanwhile: the datagram is lost with the channel.
        }
        catch (ObjectDisposedException)
        {
            // The inner channel went away while the datagram was in flight.
        }
    }
}
