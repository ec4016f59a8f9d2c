using System.Text;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tracing;

/// <summary>
/// The pool's live SIP trace (<c>GET /trace</c>, <c>callparkctl trace</c>): observes
/// <see cref="SipMessageTransport.MessageTraced"/> and hands each message to the subscribers whose filter it passes.
/// With nobody subscribed an observed message costs one volatile read; with subscribers, one summary per message
/// (plus its text when a subscriber asked for it) and a non-blocking enqueue per subscriber.
/// </summary>
public sealed class LiveTrace
{
    /// <summary>Messages a subscriber may fall behind before the oldest are dropped.</summary>
    public const int DefaultCapacity = 1000;

    public const string DroppedMetric = "trace_dropped_total";

    private readonly TimeProvider _time;
    private readonly SipMetrics? _metrics;
    private readonly Lock _gate = new();
    private TraceSubscription[] _subscribers = [];

    public LiveTrace(TimeProvider time, int capacity = DefaultCapacity, SipMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        Capacity = capacity;
        _metrics = metrics;
        metrics?.Add(DroppedMetric, DroppedHelp, 0);
    }

    private const string DroppedHelp = "Trace messages dropped because a trace subscriber read too slowly";

    public int Capacity { get; }

    public TimeProvider Time => _time;

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    /// <summary>Subscribes; dispose the result to stop. <paramref name="withText"/> adds each message's full text.</summary>
    public TraceSubscription Subscribe(TraceFilter filter, bool withText)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var subscription = new TraceSubscription(this, filter, withText, Capacity);
        lock (_gate) _subscribers = [.. _subscribers, subscription];
        return subscription;
    }

    /// <summary>Subscribe this to <see cref="SipMessageTransport.MessageTraced"/>.</summary>
    public void Observe(SipMessageEvent e)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0) return;
        TraceMessageDto? summary = null, full = null;
        foreach (var subscriber in subscribers)
        {
            if (!subscriber.Filter.Matches(e.Message)) continue;
            summary ??= TraceMessageDto.From(e, _time.GetUtcNow());
            subscriber.Offer(subscriber.WithText ? full ??= summary with { Text = Encoding.UTF8.GetString(e.Bytes.Span) } : summary);
        }
    }

    internal void Remove(TraceSubscription subscription)
    {
        lock (_gate) _subscribers = Array.FindAll(_subscribers, s => !ReferenceEquals(s, subscription));
    }

    internal void OnDropped() => _metrics?.Increment(DroppedMetric, DroppedHelp);
}
