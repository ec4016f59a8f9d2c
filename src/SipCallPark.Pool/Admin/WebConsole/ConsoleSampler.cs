using SipCallPark.Pool.Admin;

namespace SipCallPark.Pool.Admin.WebConsole;

/// <summary>What the console's sampler reads from the running pool.</summary>
public interface IConsoleReadings
{
    /// <summary>Every pool's DR phase as this pool sees it (as in <c>GET /status</c>).</summary>
    IReadOnlyList<DrPhaseDto> Phases();

    /// <summary>SIP requests received since start.</summary>
    long RequestsReceived();

    int ParkedCalls();

    /// <summary>Music-on-hold RTP streams playing now.</summary>
    int RtpStreams();

    /// <summary>Resident memory of the process.</summary>
    long RssBytes();
}

/// <summary>
/// Feeds <see cref="ConsoleEvents"/> what no event announces: a metrics sample every <see cref="MetricsInterval"/>,
/// and a DR phase change it finds by comparing phases each <see cref="CheckInterval"/> (this pool's own phase, which
/// its partner reports in OPTIONS answers). Phase changes of a watched partner arrive at once through
/// <see cref="OnTransition"/> with their reason. Runs on <see cref="TimeProvider"/> until disposed.
/// </summary>
public sealed class ConsoleSampler : IDisposable
{
    public static readonly TimeSpan DefaultMetricsInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly ConsoleEvents _events;
    private readonly IConsoleReadings _readings;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _known = new(StringComparer.OrdinalIgnoreCase);
    private readonly ITimer _timer;
    private readonly int _ticksPerSample;
    private int _ticks;
    private long _lastRequests;
    private long _lastSampleTimestamp;
    private int _running;

    public ConsoleSampler(ConsoleEvents events, IConsoleReadings readings, TimeProvider time)
    {
        _events = events;
        _readings = readings;
        _time = time;
        MetricsInterval = events.SampleInterval;
        _ticksPerSample = Math.Max(1, (int)Math.Round(MetricsInterval / CheckInterval));
        foreach (var p in readings.Phases()) _known[p.Pool] = p.Phase;
        _lastRequests = readings.RequestsReceived();
        _lastSampleTimestamp = time.GetTimestamp();
        _timer = time.CreateTimer(_ => Tick(), null, CheckInterval, CheckInterval);
    }

    public TimeSpan MetricsInterval { get; }

    /// <summary>A watched pool's phase changed (DrStateMachine.Changed): onto the timeline with its reason.</summary>
    public void OnTransition(string pool, string from, string to, string reason, DateTimeOffset at)
    {
        lock (_gate) _known[pool] = to;
        _events.PublishDr(new DrTransitionDto(pool, from, to, ConsoleEvents.SeedName(to), reason, at), _readings.Phases());
    }

    private void Tick()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        try
        {
            CheckPhases();
            if (++_ticks % _ticksPerSample == 0) Sample();
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private void CheckPhases()
    {
        var phases = _readings.Phases();
        var changes = new List<DrTransitionDto>();
        lock (_gate)
        {
            foreach (var p in phases)
            {
                if (_known.TryGetValue(p.Pool, out var before) && before == p.Phase) continue;
                _known[p.Pool] = p.Phase;
                if (before is not null)
                    changes.Add(new DrTransitionDto(p.Pool, before, p.Phase, ConsoleEvents.SeedName(p.Phase), "reported by the partner pool", p.Since ?? _time.GetUtcNow()));
            }
        }
        foreach (var change in changes) _events.PublishDr(change, phases);
    }

    private void Sample()
    {
        var now = _time.GetTimestamp();
        var requests = _readings.RequestsReceived();
        var seconds = _time.GetElapsedTime(_lastSampleTimestamp, now).TotalSeconds;
        var rate = seconds > 0 ? Math.Max(0, requests - _lastRequests) / seconds : 0;
        _lastRequests = requests;
        _lastSampleTimestamp = now;
        _events.PublishSample(new MetricsSampleDto(_time.GetUtcNow(), Math.Round(rate, 2), _readings.ParkedCalls(), _readings.RtpStreams(), _readings.RssBytes()));
    }

    public void Dispose() => _timer.Dispose();
}
