using System.Net;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>A channel attached to an <see cref="InMemoryNetwork"/>; see there for delivery rules.</summary>
public sealed class InMemoryChannel : ISipChannel, IConnectionLookup
{
    private readonly InMemoryNetwork _network;
    private readonly ILogger _logger;
    private Func<ReceivedFrame, ValueTask>? _onFrame;
    private CancellationToken _stopped;
    private int _started;
    private int _disposed;

    internal InMemoryChannel(InMemoryNetwork network, SipEndPoint local, ILogger logger)
    {
        _network = network;
        _logger = logger;
        Local = local;
    }

    public SipProtocol Protocol => Local.Protocol;

    public bool IsReliable => Local.IsReliable;

    public IPEndPoint LocalEndPoint => Local.Address;

    internal SipEndPoint Local { get; }

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onFrame);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The in-memory channel is already started.");
        }

        _stopped = ct;
        Volatile.Write(ref _onFrame, onFrame);
        return Task.CompletedTask;
    }

    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (Volatile.Read(ref _started) == 0)
        {
            throw new InvalidOperationException("Start the in-memory channel before sending.");
        }

        ct.ThrowIfCancellationRequested();
        bool sent = Volatile.Read(ref _disposed) == 0 && _network.Send(this, data, remote, connectionId);
        return ValueTask.FromResult(sent);
    }

    IPEndPoint? IConnectionLookup.OpenConnectionRemote(long connectionId) =>
        IsReliable && Volatile.Read(ref _disposed) == 0 ? _network.ConnectionPeer(Local, connectionId) : null;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _network.Detach(this);
        }

        return ValueTask.CompletedTask;
    }

    internal async ValueTask DeliverAsync(ReceivedFrame frame)
    {
        Func<ReceivedFrame, ValueTask>? onFrame = Volatile.Read(ref _onFrame);
        if (onFrame is null || _stopped.IsCancellationRequested || Volatile.Read(ref _disposed) != 0)
        {
            _logger.InMemoryNotReceiving(Local);
            return;
        }

        try
        {
            await onFrame(frame).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.FrameHandlerFailed(e, frame.Remote);
        }
    }
}
