using Microsoft.Extensions.Logging;

namespace SipCallPark.Pool.Park;

internal sealed partial class ParkApplication
{
    /// <summary>Hears of every orbit change (the orbit lamps, docs/design.md §5); none when null.</summary>
    public IOrbitObserver? OrbitObserver { get; init; }

    /// <summary>
    /// Tells the observer what <paramref name="call"/>'s orbit shows now. A call announced as parked or ringing back
    /// that has already left is not announced: its free comes (or came) from <see cref="FreeOrbit"/>.
    /// </summary>
    private void Announce(ParkedCall call, OrbitStatus status)
    {
        if (OrbitObserver is not { } observer) return;
        if (status != OrbitStatus.Free && call.State == ParkedCallState.Leaving) return;
        try
        {
            observer.OnOrbitChanged(new OrbitChange(call.Orbit, status, call.ParkedParty, call.Parker, call.Leg?.CallId, _time.GetUtcNow()));
        }
        catch (Exception e)
        {
            _logger.LogError(e, "The orbit observer failed on orbit {Orbit}", call.Orbit);
        }
    }
}
