namespace SipCallPark.Pool.Resiliency;

/// <summary>
/// The verdict on a partner pool judged on time without an answer (docs/design.md §7): the partner is down when no
/// probe has been answered for <see cref="HealthMonitorOptions.DownAfter"/> while this pool kept probing: a probe went
/// out at every interval of the first <c>DownAfter</c> but the first, and at three in four intervals of a longer
/// silence, and at least <see cref="MinUnansweredProbes"/> (a pool whose own timer fell behind, starved of CPU, is in
/// no position to blame its partner), and back after <see cref="HealthMonitorOptions.SuccessesToUp"/> answers in a row, where only a
/// probe sent after the first of those answers' probes and then given up (its transaction ended with no answer) breaks
/// the row. Pure timing logic, no I/O: every call passes the time, so it is tested on any clock. Thread-safe.
/// </summary>
public sealed class PartnerLiveness
{
    /// <summary>Probes that must have gone out unanswered before a silence counts as an outage.</summary>
    public const int MinUnansweredProbes = 3;

    private readonly HealthMonitorOptions _options;
    private readonly int _requiredProbes;
    private readonly Lock _lock = new();
    private DateTimeOffset _silentSince;
    private int _unansweredProbes;
    private int _streak;
    private DateTimeOffset _streakFrom;

    /// <param name="presumedHealthy">
    /// The verdict to start from: healthy for a partner in <c>Normal</c> (it is down only once it has been silent for
    /// <see cref="HealthMonitorOptions.DownAfter"/>), down for one restored in any other phase (it is back only once it
    /// has answered, exactly as after an outage seen live).
    /// </param>
    public PartnerLiveness(HealthMonitorOptions options, DateTimeOffset now, bool presumedHealthy)
    {
        _options = options;
        _requiredProbes = Math.Max(MinUnansweredProbes, (int)(options.DownAfter / options.Interval) - 1);
        IsHealthy = presumedHealthy;
        _silentSince = now;
    }

    public bool IsHealthy { get; private set; }

    /// <summary>When the last answer came, or null before the first one.</summary>
    public DateTimeOffset? LastAnswer { get; private set; }

    /// <summary>Probes sent since the last answer.</summary>
    public int UnansweredProbes
    {
        get { lock (_lock) return _unansweredProbes; }
    }

    /// <summary>A probe went out.</summary>
    public void ProbeSent()
    {
        lock (_lock) _unansweredProbes++;
    }

    /// <summary>A probe sent at <paramref name="sentAt"/> was answered at <paramref name="now"/>; true when the partner is back.</summary>
    public bool Answered(DateTimeOffset sentAt, DateTimeOffset now)
    {
        lock (_lock)
        {
            LastAnswer = now;
            _silentSince = now;
            _unansweredProbes = 0;
            if (IsHealthy) return false;
            if (_streak == 0 || sentAt < _streakFrom) _streakFrom = sentAt;
            if (++_streak < _options.SuccessesToUp) return false;
            IsHealthy = true;
            _streak = 0;
            return true;
        }
    }

    /// <summary>A probe sent at <paramref name="sentAt"/> ended without an answer (its transaction gave up).</summary>
    public void GaveUp(DateTimeOffset sentAt)
    {
        lock (_lock)
        {
            // A probe older than the row was sent while the partner may still have been away: it says nothing of now.
            if (!IsHealthy && _streak > 0 && sentAt >= _streakFrom) _streak = 0;
        }
    }

    /// <summary>Judges the silence at <paramref name="now"/>; true when the partner has just been found down.</summary>
    public bool Check(DateTimeOffset now)
    {
        lock (_lock)
        {
            var silence = now - _silentSince;
            if (!IsHealthy || silence < _options.DownAfter) return false;
            // Probes must have kept going out over the whole silence (three in four intervals at least): a pool that
            // sent few was itself starved, and its partner's answers may be waiting unread in its socket.
            var required = Math.Max(_requiredProbes, (int)(silence / _options.Interval * 0.75) - 1);
            if (_unansweredProbes < required) return false;
            IsHealthy = false;
            _streak = 0;
            return true;
        }
    }

    /// <summary>How long the partner has gone without answering at <paramref name="now"/>.</summary>
    public TimeSpan SilentFor(DateTimeOffset now)
    {
        lock (_lock) return now - _silentSince;
    }
}
