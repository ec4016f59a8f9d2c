using System.Collections.Concurrent;
using SipCallPark.Pool.Park;

namespace SipCallPark.Pool.Blf;

/// <summary>What one orbit shows now; <see cref="CallId"/> names the park dialog of the call it holds (or last held).</summary>
internal sealed record OrbitLamp(string Orbit, OrbitStatus Status, Sip.Message.NameAddress? Party, string? CallId)
{
    public static OrbitLamp Free(string orbit) => new(orbit, OrbitStatus.Free, null, null);
}

/// <summary>
/// The orbit lamps' state table, fed by the park application (<see cref="IOrbitObserver"/>): one entry per orbit that
/// has held a call since start. Each real change is passed on through <see cref="Changed"/>; repeats are dropped, and a
/// free for a call that no longer holds the orbit is ignored (the orbit went to another call in between).
/// </summary>
internal sealed class OrbitLamps : IOrbitObserver
{
    private readonly ConcurrentDictionary<string, OrbitLamp> _lamps = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Raised after an orbit's lamp changed, with the orbit; handlers must return at once.</summary>
    public event Action<string>? Changed;

    /// <summary>The lamp of <paramref name="orbit"/> now (free when it never held a call).</summary>
    public OrbitLamp Get(string orbit) => _lamps.TryGetValue(orbit, out var lamp) ? lamp : OrbitLamp.Free(orbit);

    /// <summary>The orbits holding a call now, lowest first.</summary>
    public IReadOnlyList<OrbitLamp> Occupied() =>
        _lamps.Values.Where(l => l.Status != OrbitStatus.Free).OrderBy(l => l.Orbit.Length).ThenBy(l => l.Orbit, StringComparer.Ordinal).ToArray();

    public void OnOrbitChanged(OrbitChange change)
    {
        lock (_gate)
        {
            var current = Get(change.Orbit);
            OrbitLamp next;
            if (change.Status == OrbitStatus.Free)
            {
                if (current.Status == OrbitStatus.Free || !string.Equals(current.CallId, change.CallId, StringComparison.Ordinal)) return;
                next = current with { Status = OrbitStatus.Free };
            }
            else
            {
                next = new OrbitLamp(change.Orbit, change.Status, change.Party, change.CallId);
                if (next == current) return;
            }
            _lamps[change.Orbit] = next;
        }
        Changed?.Invoke(change.Orbit);
    }
}
