using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Park;

/// <summary>What an orbit shows to whoever watches it (docs/design.md §5 "Orbit lamps").</summary>
public enum OrbitStatus
{
    /// <summary>No call in the orbit (never parked, retrieved, timed out, dropped).</summary>
    Free,
    /// <summary>A call waits in the orbit.</summary>
    Parked,
    /// <summary>The pickup timeout rings the parker back; the orbit still holds the call.</summary>
    RingingBack,
}

/// <summary>
/// One change of one orbit, as the park application raises it: the parked party and its parker while the orbit holds a
/// call, and the Call-ID of the park dialog that holds it.
/// </summary>
public sealed record OrbitChange(string Orbit, OrbitStatus Status, NameAddress? Party, NameAddress? Parker, string? CallId, DateTimeOffset At);

/// <summary>
/// Hears of every orbit change of the park application. Called on the park's own path: an implementation returns at
/// once (it queues whatever SIP it sends) and never throws.
/// </summary>
public interface IOrbitObserver
{
    void OnOrbitChanged(OrbitChange change);
}
