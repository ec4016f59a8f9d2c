using System.Threading.Channels;

namespace SipCallPark.Pool.Admin.WebConsole;

/// <summary>
/// One client of <c>GET /events</c>: a bounded queue of SSE frames. A client that falls a whole queue behind is
/// dropped (its queue completes, its stream ends) rather than holding the pool back or missing events silently;
/// the page reconnects and starts again from a fresh snapshot. Dispose to unsubscribe.
/// </summary>
public sealed class ConsoleSubscription : IDisposable
{
    private readonly ConsoleEvents _owner;
    private readonly Channel<string> _queue;
    private int _dropped;

    internal ConsoleSubscription(ConsoleEvents owner, int capacity)
    {
        _owner = owner;
        _queue = Channel.CreateBounded<string>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = false,
        });
    }

    /// <summary>SSE frames (<c>event: …\ndata: …\n\n</c>) in the order they were published; completed when the
    /// subscription ends or is dropped.</summary>
    public ChannelReader<string> Frames => _queue.Reader;

    /// <summary>True once the client was dropped for reading too slowly.</summary>
    public bool WasDropped => Volatile.Read(ref _dropped) == 1;

    /// <summary>Queues a frame without ever waiting; false (and the client dropped) when its queue is full.</summary>
    internal bool Offer(string frame)
    {
        if (_queue.Writer.TryWrite(frame)) return true;
        if (Interlocked.Exchange(ref _dropped, 1) == 0) _owner.OnDropped(this);
        _queue.Writer.TryComplete();
        return false;
    }

    public void Dispose()
    {
        _owner.Remove(this);
        _queue.Writer.TryComplete();
    }
}
