namespace SipCallPark.Sip.Transactions;

/// <summary>
/// One named, one-shot timer of a transaction (A, B, D, E, F, G, H, I, J, K, L, M) on the injected
/// <see cref="TimeProvider"/>. Firing only schedules the work; the owning transaction runs it under its gate and
/// ignores a timer that was replaced or stopped meanwhile, so a late callback never acts twice.
/// </summary>
internal sealed class TransactionTimer : IDisposable
{
    private readonly ITimer _timer;
    private readonly Action<TransactionTimer> _fired;

    public TransactionTimer(TimeProvider time, string name, TimeSpan due, Func<ValueTask> onFire, Action<TransactionTimer> fired)
    {
        Name = name;
        Due = due;
        OnFire = onFire;
        _fired = fired;
        _timer = time.CreateTimer(static state => ((TransactionTimer)state!).Fire(), this, due, Timeout.InfiniteTimeSpan);
    }

    public string Name { get; }

    public TimeSpan Due { get; }

    public Func<ValueTask> OnFire { get; }

    public bool IsStopped { get; private set; }

    private void Fire()
    {
        if (!IsStopped) _fired(this);
    }

    public void Dispose()
    {
        IsStopped = true;
        _timer.Dispose();
    }
}
