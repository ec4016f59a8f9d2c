using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.Events;

/// <summary>
/// The pool's event stream: every <see cref="Publish"/> is handed to each subscriber in subscription order, on the
/// publisher's thread. Subscribing and unsubscribing are safe at any time; a throwing subscriber is logged and the others
/// still run.
/// </summary>
public sealed class PoolEventStream(ILogger<PoolEventStream> logger) : IPoolEvents
{
    private readonly Lock _gate = new();
    private Subscription[] _subscribers = [];

    /// <summary>Adds <paramref name="subscriber"/>; disposing the result removes it.</summary>
    public IDisposable Subscribe(Action<PoolEvent> subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        var subscription = new Subscription(this, subscriber);
        lock (_gate) _subscribers = [.. _subscribers, subscription];
        return subscription;
    }

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public void Publish(PoolEvent poolEvent)
    {
        ArgumentNullException.ThrowIfNull(poolEvent);
        foreach (var subscription in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscription.Handler(poolEvent);
            }
            catch (Exception e)
            {
                logger.LogError(e, "A subscriber of the pool's events failed on {Event}", poolEvent.GetType().Name);
            }
        }
    }

    // By the subscription, not its handler: one handler subscribed twice is two subscriptions.
    private void Remove(Subscription subscription)
    {
        lock (_gate) _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscription))];
    }

    private sealed class Subscription(PoolEventStream stream, Action<PoolEvent> handler) : IDisposable
    {
        private int _disposed;

        public Action<PoolEvent> Handler => handler;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) stream.Remove(this);
        }
    }
}
