using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;

namespace SipCallPark.Pool.Resiliency;

/// <summary>
/// Probes the paired pool at a fixed interval and turns the answers into a verdict with hysteresis: down after
/// <see cref="HealthMonitorOptions.FailuresToDown"/> misses in a row, up after
/// <see cref="HealthMonitorOptions.SuccessesToUp"/> answers in a row. Each probe runs under a Polly timeout; the
/// probe itself (an OPTIONS transaction) is given by the owner. Time comes from <see cref="TimeProvider"/>.
/// </summary>
public sealed class HealthMonitor
{
    private readonly HealthMonitorOptions _options;
    private readonly Func<CancellationToken, Task<bool>> _probe;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly IPoolLoad _load;
    private int _failures;
    private int _successes;

    /// <param name="load">This pool's own load: a probe missed while it was behind is not counted against the partner.</param>
    public HealthMonitor(string partner, HealthMonitorOptions options, Func<CancellationToken, Task<bool>> probe, IPoolLoad load, TimeProvider time,
        ILogger logger)
    {
        _load = load;
        Partner = partner;
        _options = options;
        _probe = probe;
        _time = time;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(new TimeoutStrategyOptions { Timeout = options.ProbeTimeout })
            .Build();
    }

    public string Partner { get; }

    /// <summary>The current verdict; a partner is presumed healthy until proven otherwise.</summary>
    public bool IsHealthy { get; private set; } = true;

    public DateTimeOffset? LastAnswer { get; private set; }

    public int ConsecutiveFailures => _failures;

    /// <summary>Raised when the verdict flips (true = up).</summary>
    public event Action<bool>? HealthChanged;

    /// <summary>Raised after every probe with its outcome (for tests and metrics).</summary>
    public event Action<bool>? Probed;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await ProbeOnceAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await Task.Delay(_options.Interval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task ProbeOnceAsync(CancellationToken cancellationToken)
    {
        var keptUp = _load.IsKeepingUp;
        bool answered;
        try
        {
            answered = await _pipeline.ExecuteAsync(async ct => await _probe(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            answered = false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        if (!answered && !(keptUp && _load.IsKeepingUp))
        {
            _logger.LogWarning("Probe of {Partner} unanswered while this pool was behind: not counted", Partner);
            return;
        }
        Record(answered);
    }

    private void Record(bool answered)
    {
        bool? flip = null;
        if (answered)
        {
            LastAnswer = _time.GetUtcNow();
            _failures = 0;
            if (!IsHealthy && ++_successes >= _options.SuccessesToUp) flip = true;
        }
        else
        {
            _successes = 0;
            if (IsHealthy && ++_failures >= _options.FailuresToDown) flip = false;
        }
        Probed?.Invoke(answered);
        if (flip is not { } up) return;
        IsHealthy = up;
        _failures = _successes = 0;
        if (up) _logger.LogWarning("Partner pool {Partner} answers again", Partner);
        else _logger.LogError("Partner pool {Partner} is down: {Count} probes unanswered", Partner, _options.FailuresToDown);
        HealthChanged?.Invoke(up);
    }
}
