namespace SipCallPark.Pool.Park;

/// <summary>What just happened on an orbit, as the park application reports it.</summary>
internal enum OrbitEventKind { Parked, Timeout, BackOnOrbit, Retrieved, OrbitFree }

/// <summary>Told of each orbit change by <see cref="ParkApplication"/> on its own path, so it must return at once
/// (the web console's feed queues and returns).</summary>
internal interface IOrbitEvents
{
    void OnOrbitEvent(string orbit, OrbitEventKind kind);
}
