using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.Resiliency;

/// <summary>
/// Probes the paired pool (docs/design.md §7): every <see cref="HealthMonitorOptions.Interval"/> it starts a probe
/// without waiting for the previous ones, so a probe whose datagram was lost keeps being retransmitted by its
/// transaction while the next ones go out. Each answer, whenever it comes, feeds <see cref="PartnerLiveness"/>, which
/// says when the partner is down (silent for <see cref="HealthMonitorOptions.DownAfter"/>) and when it is back.
/// The probe itself (an OPTIONS transaction: true when answered, false when it ended without an answer) is given by
/// the owner. Ticks come from a timer of the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class HealthMonitor : IDisposable
{
    /// <summary>Probes still waiting for their transaction's outcome beyond which no new one starts (a dead partner).</summary>
    public const int MaxOutstanding = 512;

    private readonly HealthMonitorOptions _options;
    private readonly Func<CancellationToken, Task<bool>> _probe;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PartnerLiveness _liveness;
    private readonly Lock _verdict = new();
    private readonly CancellationTokenSource _stop = new();
    private ITimer? _timer;
    private int _outstanding;
    private DateTimeOffset? _lastTick;

    private readonly IPoolLoad _load;

    /// <param name="load">This pool's own load: while it is behind, a silence is not blamed on the partner.</param>
    public HealthMonitor(string partner, HealthMonitorOptions options, Func<CancellationToken, Task<bool>> probe, IPoolLoad load, TimeProvider time,
        ILogger logger, bool presumedHealthy = true)
    {
        _load = load;
        Partner = partner;
        _options = options;
        _probe = probe;
        _time = time;
        _logger = logger;
        _liveness = new PartnerLiveness(options, time.GetUtcNow(), presumedHealthy);
    }

    public string Partner { get; }

    /// <summary>The current verdict.</summary>
    public bool IsHealthy => _liveness.IsHealthy;

    public DateTimeOffset? LastAnswer => _liveness.LastAnswer;

    /// <summary>Probes sent since the last answer.</summary>
    public int UnansweredProbes => _liveness.UnansweredProbes;

    /// <summary>Probes started whose transaction has not ended yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Raised when the verdict flips (true = up), one flip at a time and in order.</summary>
    public event Action<bool>? HealthChanged;

    /// <summary>Raised after every probe with its outcome (for tests and metrics).</summary>
    public event Action<bool>? Probed;

    /// <summary>Starts ticking: a probe now and one every interval.</summary>
    public void Start() => _timer ??= _time.CreateTimer(_ => Tick(), null, TimeSpan.Zero, _options.Interval);

    /// <summary>
    /// One tick: judge the silence so far, then send the next probe. A tick that comes more than 1.5 intervals after
    /// the previous one shows this pool itself was starved (CPU, a pause): answers may be waiting unread in its socket,
    /// so it sends its probe and judges only at the next tick.
    /// </summary>
    public void Tick()
    {
        if (_stop.IsCancellationRequested) return;
        var now = _time.GetUtcNow();
        var gap = now - _lastTick;
        var late = gap > _options.Interval * 1.5;
        // This pool starved (a late tick) or shedding load: answers may wait unread, so no verdict now.
        var behind = late || !_load.IsKeepingUp;
        _lastTick = now;
        if (late) _logger.LogDebug("Health tick for {Partner} came {Gap:0} ms after the previous one: no verdict on this one", Partner, gap!.Value.TotalMilliseconds);
        else if (behind) _logger.LogDebug("This pool is behind on its own traffic: no verdict on {Partner} at this tick", Partner);
        lock (_verdict)
        {
            if (!behind && _liveness.Check(now))
            {
                _logger.LogError("Partner pool {Partner} is down: no answer for {Silence:0} ms ({Count} probes unanswered)",
                    Partner, _liveness.SilentFor(_time.GetUtcNow()).TotalMilliseconds, _liveness.UnansweredProbes);
                HealthChanged?.Invoke(false);
            }
        }
        if (Interlocked.Increment(ref _outstanding) > MaxOutstanding)
        {
            Interlocked.Decrement(ref _outstanding);
            return;
        }
        _liveness.ProbeSent();
        _ = ProbeAsync(_time.GetUtcNow());
    }

    private async Task ProbeAsync(DateTimeOffset sentAt)
    {
        bool answered;
        try
        {
            answered = await _probe(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Probe of {Partner} failed", Partner);
            answered = false;
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
        Record(sentAt, answered);
    }

    private void Record(DateTimeOffset sentAt, bool answered)
    {
        if (_stop.IsCancellationRequested) return;
        lock (_verdict)
        {
            if (!answered)
            {
                _logger.LogDebug("Probe of {Partner} sent at {SentAt:HH:mm:ss.fff} got no answer", Partner, sentAt);
                _liveness.GaveUp(sentAt);
            }
            else if (_liveness.Answered(sentAt, _time.GetUtcNow()))
            {
                _logger.LogWarning("Partner pool {Partner} answers again", Partner);
                HealthChanged?.Invoke(true);
            }
        }
        Probed?.Invoke(answered);
    }

    public void Dispose()
    {
        // The source is not disposed: a probe still in flight may ask it whether the monitor stopped.
        _stop.Cancel();
        _timer?.Dispose();
    }
}
