using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Blf;

/// <summary>
/// What the lamp notifier needs to know of the pool: its name and domain, which Request-URI users are its orbits and
/// which name the whole lot (the park service and its aliases), and whether a subscriber is in resiliency mode.
/// </summary>
internal sealed class LampAddresses(string pool, string domain, Func<string, bool> isOrbit, Func<string, bool> isLot, Func<SipUri, bool> inResiliencyMode)
{
    public string Pool => pool;

    public string Domain => domain;

    /// <summary>An orbit this pool's park application serves.</summary>
    public bool IsOrbit(string user) => isOrbit(user);

    /// <summary>The park service name or an alias: a subscription to it watches every orbit.</summary>
    public bool IsLot(string user) => isLot(user);

    /// <summary>docs/design.md §7: a user in resiliency mode may not park, and may not watch orbits either.</summary>
    public bool InResiliencyMode(SipUri user) => inResiliencyMode(user);
}
