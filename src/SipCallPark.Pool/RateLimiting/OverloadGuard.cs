using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.RateLimiting;

/// <summary>Why a request was refused by the <see cref="OverloadGuard"/>.</summary>
public enum OverloadReason
{
    None,
    QueueDelay,
    InFlight,
}

/// <summary>
/// Sheds load when the pool falls behind (<see cref="OverloadOptions"/>). Every request the pool handles is counted
/// in flight from <see cref="Enter"/> to <see cref="Exit"/>; a new request is refused when it waited too long before
/// its handling began or when too many are in flight. Refusing is cheap (a 503), so a pool past its capacity keeps
/// answering the requests it admits in time, and drains as soon as the offered load drops, instead of serving a
/// queue of requests whose senders have timed out. Time is read from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class OverloadGuard : Resiliency.IPoolLoad
{
    private readonly OverloadOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _warningLock = new();
    private int _inFlight;
    private long _refused;
    private long _refusedSinceWarning;
    private long? _lastWarning;
    private long _behindAt = long.MinValue;

    /// <summary>How long after the last sign of falling behind the pool still counts as behind: long enough to cover a
    /// health probe's timeout and the interval around it.</summary>
    public static readonly TimeSpan BehindHold = TimeSpan.FromSeconds(2);

    public OverloadGuard(OverloadOptions options, TimeProvider time, ILogger<OverloadGuard> logger)
    {
        options.Validate("Overload");
        _options = options;
        _time = time;
        _logger = logger;
    }

    public OverloadOptions Options => _options;

    /// <summary>Requests between <see cref="Enter"/> and <see cref="Exit"/> now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests refused since start.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Counts a request in flight and says whether it may be handled. <paramref name="mayRefuse"/> false (in-dialog
    /// requests, CANCEL, the partner pool's) always admits: refusing a BYE or a CANCEL keeps a call up, it saves
    /// nothing. Call <see cref="Exit"/> once for every <see cref="Enter"/>, refused or not.
    /// </summary>
    public OverloadReason Enter(DateTimeOffset receivedAt, bool mayRefuse)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        var waited = _time.GetUtcNow() - receivedAt;
        var reason = waited > _options.MaxQueueDelay ? OverloadReason.QueueDelay
            : inFlight > _options.MaxInFlight ? OverloadReason.InFlight
            : OverloadReason.None;
        // Behind is behind, whether or not this request may be refused (the partner's are not).
        if (reason != OverloadReason.None) Volatile.Write(ref _behindAt, _time.GetTimestamp());
        if (!mayRefuse) return OverloadReason.None;
        if (reason != OverloadReason.None) OnRefused(reason, waited, inFlight);
        return reason;
    }

    /// <summary>
    /// True unless a request waited longer than <see cref="OverloadOptions.MaxQueueDelay"/> or found more than
    /// <see cref="OverloadOptions.MaxInFlight"/> in flight within the last <see cref="BehindHold"/>.
    /// </summary>
    public bool IsKeepingUp
    {
        get
        {
            var behindAt = Volatile.Read(ref _behindAt);
            return behindAt == long.MinValue || _time.GetElapsedTime(behindAt) >= BehindHold;
        }
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    private void OnRefused(OverloadReason reason, TimeSpan waited, int inFlight)
    {
        Interlocked.Increment(ref _refused);
        var now = _time.GetTimestamp();
        long refused;
        lock (_warningLock)
        {
            _refusedSinceWarning++;
            if (_lastWarning is { } last && _time.GetElapsedTime(last, now) < _options.WarningInterval) return;
            refused = _refusedSinceWarning;
            _refusedSinceWarning = 0;
            _lastWarning = now;
        }
        LogShedding(reason, (long)waited.TotalMilliseconds, inFlight, refused, _options.WarningInterval);
    }

    [LoggerMessage(2110, LogLevel.Warning,
        "Overload: answering new requests 503 ({Reason}: waited {WaitedMs} ms, {InFlight} in flight; {Refused} refused, at most one line per {Interval})")]
    private partial void LogShedding(OverloadReason reason, long waitedMs, int inFlight, long refused, TimeSpan interval);
}
