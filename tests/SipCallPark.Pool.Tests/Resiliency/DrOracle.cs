using SipCallPark.Pool.Resiliency;

namespace SipCallPark.Pool.Tests.Resiliency;

/// <summary>
/// docs/design.md §7's phase rules for the partner P of this pool, as a model: the monitor's verdict on P (down only
/// after P has been silent for <see cref="HealthMonitorOptions.DownAfter"/>, back after it answered
/// <see cref="HealthMonitorOptions.SuccessesToUp"/> probes), Normal → Outage when P is found down, Outage → Normal
/// when it is back, failover from Normal or Outage, failback from FailedOver only while P answers, timed phases, and a
/// restart that keeps the phase (and its clock) but forgets the verdict: healthy in Normal, down in any other phase.
/// The monitor's timing is known only within a window (probes go out every interval), so the oracle says when a verdict
/// change may and when it must have happened, and follows the real one inside that window.
/// </summary>
internal sealed class DrOracle(HealthMonitorOptions health, DrOptions dr, DateTimeOffset now)
{
    private bool _partnerUp = true;
    private DateTimeOffset _partnerSince = now;
    private DateTimeOffset _restartedAt = now;
    private DateTimeOffset? _solidUpEnd;
    private DateTimeOffset _phaseSince = now;

    public DrPhase Phase { get; private set; } = DrPhase.Normal;

    public bool VerdictHealthy { get; private set; } = true;

    public static bool InResiliency(DrPhase phase) => phase is DrPhase.Outage or DrPhase.FailingOver or DrPhase.FailingBack;

    public static bool ServedByBackup(DrPhase phase) => phase != DrPhase.Normal;

    public void PartnerUp(DateTimeOffset at)
    {
        if (_partnerUp) return;
        (_partnerUp, _partnerSince) = (true, at);
    }

    public void PartnerDown(DateTimeOffset at)
    {
        if (!_partnerUp) return;
        // An up period of at least one interval held a probe that was answered no earlier than one interval before its end.
        if (at - _partnerSince >= health.Interval) _solidUpEnd = at;
        (_partnerUp, _partnerSince) = (false, at);
    }

    public void Restarted(DateTimeOffset at)
    {
        _restartedAt = at;
        VerdictHealthy = Phase == DrPhase.Normal;
    }

    public bool Failover(DateTimeOffset at)
    {
        if (Phase is not (DrPhase.Normal or DrPhase.Outage)) return false;
        Move(DrPhase.FailingOver, at);
        return true;
    }

    public bool Failback(DateTimeOffset at)
    {
        if (Phase != DrPhase.FailedOver || !VerdictHealthy) return false;
        Move(DrPhase.FailingBack, at);
        return true;
    }

    /// <summary>Time has passed up to <paramref name="at"/> and the monitor now says <paramref name="healthy"/>: the problem, or null.</summary>
    public string? Observe(DateTimeOffset at, bool healthy)
    {
        var steady = at - (_partnerSince > _restartedAt ? _partnerSince : _restartedAt);
        if (VerdictHealthy)
        {
            // A partner back for less than an interval may not have been probed yet: its silence still counts.
            var silent = !_partnerUp || at - _partnerSince <= health.Interval;
            var lastAnswer = Later(_solidUpEnd - health.Interval, _restartedAt);
            var may = silent && at - lastAnswer >= health.DownAfter - health.Interval;
            var must = !_partnerUp && steady >= health.DownAfter + health.Interval;
            if (healthy && must) return $"the partner has been silent for {steady.TotalMilliseconds:0} ms and is not found down";
            if (!healthy && !may) return $"the partner was found down {(at - lastAnswer).TotalMilliseconds:0} ms after it last answered (partner {(_partnerUp ? "up" : "down")})";
        }
        else if (_partnerUp)
        {
            var must = steady >= health.Interval * (health.SuccessesToUp + 1);
            if (!healthy && must) return $"the partner has answered for {steady.TotalMilliseconds:0} ms and is not back";
        }
        else if (healthy)
        {
            return "the partner was found back while it stayed down";
        }

        if (healthy != VerdictHealthy)
        {
            VerdictHealthy = healthy;
            if (!healthy && Phase == DrPhase.Normal) Move(DrPhase.Outage, at);
            else if (healthy && Phase == DrPhase.Outage) Move(DrPhase.Normal, at);
        }
        if (Phase == DrPhase.FailingOver && at - _phaseSince >= dr.FailoverDuration) Move(DrPhase.FailedOver, _phaseSince + dr.FailoverDuration);
        if (Phase == DrPhase.FailingBack && at - _phaseSince >= dr.FailbackDuration)
        {
            Move(DrPhase.Normal, _phaseSince + dr.FailbackDuration);
            // P went down while its users moved home: the outage starts when the failback ends.
            if (!VerdictHealthy) Move(DrPhase.Outage, at);
        }
        return null;
    }

    private void Move(DrPhase to, DateTimeOffset at) => (Phase, _phaseSince) = (to, at);

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
