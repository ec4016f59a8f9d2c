using System.Threading.Channels;
using SipCallPark.Pool.Admin;

namespace SipCallPark.Pool.Tracing;

/// <summary>
/// One subscriber of the <see cref="LiveTrace"/>: a bounded queue of the messages that passed its filter. When the
/// reader falls behind, the oldest message gives way to the newest (the SIP path never waits) and
/// <see cref="TakeDropped"/> says how many were lost. Dispose to unsubscribe.
/// </summary>
public sealed class TraceSubscription : IDisposable
{
    private readonly LiveTrace _owner;
    private readonly Channel<TraceMessageDto> _queue;
    private long _dropped;

    internal TraceSubscription(LiveTrace owner, TraceFilter filter, bool withText, int capacity)
    {
        _owner = owner;
        Filter = filter;
        WithText = withText;
        _queue = Channel.CreateBounded<TraceMessageDto>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false },
            _ => OnDropped());
    }

    public TraceFilter Filter { get; }

    /// <summary>Whether the messages carry their full text.</summary>
    public bool WithText { get; }

    /// <summary>The messages in the order they passed; completed when the subscription is disposed.</summary>
    public ChannelReader<TraceMessageDto> Messages => _queue.Reader;

    /// <summary>How many messages were dropped since the last call (and resets the count).</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>Queues <paramref name="message"/>; never blocks (a full queue drops its oldest).</summary>
    internal void Offer(TraceMessageDto message) => _queue.Writer.TryWrite(message);

    private void OnDropped()
    {
        Interlocked.Increment(ref _dropped);
        _owner.OnDropped();
    }

    public void Dispose()
    {
        _owner.Remove(this);
        _queue.Writer.TryComplete();
    }
}
