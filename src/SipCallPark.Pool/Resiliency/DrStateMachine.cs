namespace SipCallPark.Pool.Resiliency;

/// <summary>A phase change: which pool, from, to, why, when.</summary>
public sealed record DrTransition(string Pool, DrPhase From, DrPhase To, string Reason, DateTimeOffset At);

/// <summary>What an operator command got: done, or refused with the reason an operator can act on.</summary>
public sealed record DrCommandResult(bool Accepted, string Message);

/// <summary>
/// The DR phase of one pool P with its backup Q (docs/design.md §7), driven by the health monitor's verdicts and by operator
/// commands, with timed phases on <see cref="TimeProvider"/>. Both instances run one of these for each pool, so each
/// knows whose users it serves and in which mode. Thread-safe; transitions are reported through
/// <see cref="Changed"/> (after the lock is released) so the owner can persist and act on them.
/// </summary>
public sealed class DrStateMachine : IDisposable
{
    private readonly DrOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private ITimer? _phaseTimer;
    private bool _poolHealthy;

    /// <param name="poolHealthy">The monitor's verdict to start from (a pool restored out of Normal starts presumed down).</param>
    public DrStateMachine(string pool, DrOptions options, TimeProvider time, DrPhase initial = DrPhase.Normal, DateTimeOffset? since = null,
        bool poolHealthy = true)
    {
        Pool = pool;
        _poolHealthy = poolHealthy;
        _options = options;
        _time = time;
        Phase = initial;
        Since = since ?? time.GetUtcNow();
        // A timed phase restored from the store resumes with what is left of it.
        if (initial is DrPhase.FailingOver or DrPhase.FailingBack) ArmPhaseTimer(initial, Since);
    }

    public string Pool { get; }

    public DrPhase Phase { get; private set; }

    public DateTimeOffset Since { get; private set; }

    /// <summary>True while the pool's users are in resiliency mode: limited functionality, no park.</summary>
    public bool UsersInResiliencyMode => Phase is DrPhase.Outage or DrPhase.FailingOver or DrPhase.FailingBack;

    /// <summary>True while the backup, not the pool itself, serves the pool's users.</summary>
    public bool ServedByBackup => Phase is not DrPhase.Normal;

    public bool PoolHealthy
    {
        get { lock (_lock) return _poolHealthy; }
    }

    public event Action<DrTransition>? Changed;

    /// <summary>The monitor's verdict on the pool: down moves Normal to Outage; up in Outage ends the outage.</summary>
    public void ReportHealth(bool healthy)
    {
        DrTransition? transition = null;
        lock (_lock)
        {
            _poolHealthy = healthy;
            if (!healthy && Phase == DrPhase.Normal)
            {
                transition = Move(DrPhase.Outage, "pool stopped answering");
                if (_options.AutoFailoverAfter is { } after) ArmAutoFailover(after);
            }
            else if (healthy && Phase == DrPhase.Outage)
            {
                transition = Move(DrPhase.Normal, "pool answers again before any failover");
            }
        }
        Raise(transition);
    }

    /// <summary>Operator: Invoke-CsPoolFailOver. Allowed from Normal (planned) and Outage.</summary>
    public DrCommandResult Failover(string reason = "operator ran failover")
    {
        DrTransition? transition;
        lock (_lock)
        {
            if (Phase is not (DrPhase.Normal or DrPhase.Outage))
                return new DrCommandResult(false, $"{Pool} is {Phase}; failover is possible only from Normal or Outage");
            transition = Move(DrPhase.FailingOver, reason);
            ArmPhaseTimer(DrPhase.FailingOver, Since);
        }
        Raise(transition);
        return new DrCommandResult(true, $"{Pool} failing over; completes in {_options.FailoverDuration.TotalSeconds:0.#} s");
    }

    /// <summary>Operator: Invoke-CsPoolFailBack. Allowed from FailedOver, and only while the pool is healthy.</summary>
    public DrCommandResult Failback()
    {
        DrTransition? transition;
        lock (_lock)
        {
            if (Phase != DrPhase.FailedOver)
                return new DrCommandResult(false, $"{Pool} is {Phase}; failback is possible only from FailedOver");
            if (!_poolHealthy)
                return new DrCommandResult(false, $"{Pool} is down; it must answer its partner's probes before failback");
            transition = Move(DrPhase.FailingBack, "operator ran failback");
            ArmPhaseTimer(DrPhase.FailingBack, Since);
        }
        Raise(transition);
        return new DrCommandResult(true, $"{Pool} failing back; completes in {_options.FailbackDuration.TotalSeconds:0.#} s");
    }

    private void ArmPhaseTimer(DrPhase phase, DateTimeOffset started)
    {
        var duration = phase == DrPhase.FailingOver ? _options.FailoverDuration : _options.FailbackDuration;
        var due = started + duration - _time.GetUtcNow();
        _phaseTimer?.Dispose();
        _phaseTimer = _time.CreateTimer(_ => CompletePhase(phase), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private void ArmAutoFailover(TimeSpan after)
    {
        _phaseTimer?.Dispose();
        _phaseTimer = _time.CreateTimer(_ =>
        {
            bool stillOut;
            lock (_lock) stillOut = Phase == DrPhase.Outage;
            if (stillOut) Failover($"automatic failover after {after.TotalSeconds:0} s of outage");
        }, null, after, Timeout.InfiniteTimeSpan);
    }

    private void CompletePhase(DrPhase phase)
    {
        DrTransition? transition = null;
        DrTransition? outage = null;
        lock (_lock)
        {
            if (Phase != phase) return;
            transition = phase == DrPhase.FailingOver
                ? Move(DrPhase.FailedOver, "failover completed")
                : Move(DrPhase.Normal, "failback completed");
            // The pool went down while its users were moving home: the monitor said so already and will not say it
            // again, so the outage starts now, as if it had been seen in Normal.
            if (phase == DrPhase.FailingBack && !_poolHealthy)
            {
                outage = Move(DrPhase.Outage, "pool stopped answering during the failback");
                if (_options.AutoFailoverAfter is { } after) ArmAutoFailover(after);
            }
        }
        Raise(transition);
        Raise(outage);
    }

    private DrTransition Move(DrPhase to, string reason)
    {
        var transition = new DrTransition(Pool, Phase, to, reason, _time.GetUtcNow());
        Phase = to;
        Since = transition.At;
        return transition;
    }

    private void Raise(DrTransition? transition)
    {
        if (transition is not null) Changed?.Invoke(transition);
    }

    public void Dispose() => _phaseTimer?.Dispose();
}
