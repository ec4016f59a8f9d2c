namespace SipCallPark.Pool.Admin;

/// <summary>Counts the open event streams (<c>/events</c> and <c>/trace</c> together) against
/// <see cref="AdminOptions.MaxStreams"/>, so clients cannot open streams until the pool runs out of memory or threads.</summary>
internal sealed class SseClientGate(int max)
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a place; false when every place is taken. Dispose the lease to give it back.</summary>
    public bool TryEnter(out Lease lease)
    {
        if (Interlocked.Increment(ref _open) > max)
        {
            Interlocked.Decrement(ref _open);
            lease = default;
            return false;
        }
        lease = new Lease(this);
        return true;
    }

    internal readonly struct Lease(SseClientGate? gate) : IDisposable
    {
        public void Dispose()
        {
            if (gate is not null) Interlocked.Decrement(ref gate._open);
        }
    }
}
