using Microsoft.Extensions.Logging;
using SipCallPark.Pool.State;

namespace SipCallPark.Pool.Resiliency;

/// <summary>
/// One partner's <see cref="DrStateMachine"/> and the <see cref="HealthMonitor"/> whose verdicts drive it, resumed
/// from the phase stored before a restart (docs/design.md §7). A partner restored in <c>Normal</c> is presumed healthy
/// until it has been silent for <see cref="HealthMonitorOptions.DownAfter"/>; one restored in any other phase is
/// presumed down until it answers, so a restored <c>Outage</c> ends on the partner's answers exactly as a live one
/// does, and a restored <c>FailedOver</c> lets an operator fail back only once the partner answers.
/// </summary>
public sealed class PartnerTracking : IDisposable
{
    /// <param name="load">This pool's own load: while it is behind, a silence is not blamed on the partner.</param>
    public PartnerTracking(string partner, DrOptions dr, HealthMonitorOptions health, Func<CancellationToken, Task<bool>> probe,
        IPoolLoad load, StoredDrPhase? stored, TimeProvider time, ILogger monitorLogger)
    {
        var phase = stored?.Phase ?? DrPhase.Normal;
        var presumedHealthy = phase == DrPhase.Normal;
        Machine = new DrStateMachine(partner, dr, time, phase, stored?.Since, presumedHealthy);
        Monitor = new HealthMonitor(partner, health, probe, load, time, monitorLogger, presumedHealthy);
        Monitor.HealthChanged += Machine.ReportHealth;
    }

    public DrStateMachine Machine { get; }

    public HealthMonitor Monitor { get; }

    /// <summary>Starts probing; subscribe to <see cref="DrStateMachine.Changed"/> first.</summary>
    public void Start() => Monitor.Start();

    public void Dispose()
    {
        Monitor.Dispose();
        Machine.Dispose();
    }
}
