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
    private Action<PoolEvent>[] _subscribers = [];

    /// <summary>Adds <paramref name="subscriber"/>; disposing the result removes it.</summary>
    public IDisposable Subscribe(Action<PoolEvent> subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_gate) _subscribers = [.. _subscribers, subscriber];
        return new Subscription(this, subscriber);
    }

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public void Publish(PoolEvent poolEvent)
    {
        ArgumentNullException.ThrowIfNull(poolEvent);
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscriber(poolEvent);
            }
            catch (Exception e)
            {
                logger.LogError(e, "A subscriber of the pool's events failed on {Event}", poolEvent.GetType().Name);
            }
        }
    }

    private void Remove(Action<PoolEvent> subscriber)
    {
        lock (_gate) _subscribers = [.. _subscribers.Where(s => s != subscriber)];
    }

    private sealed class Subscription(PoolEventStream stream, Action<PoolEvent> subscriber) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) stream.Remove(subscriber);
        }
    }
}
