using SipCallPark.Pool.Park;
using SipCallPark.Pool.Proxy;

namespace SipCallPark.Pool.Hosting;

/// <summary>The park service's names, and whose orbits this pool answers for.</summary>
public sealed class ParkAddressBook(string self, ParkOptions options, Func<string, bool> servesPartnerOrbits) : IParkAddressBook
{
    public bool IsParkAddress(string user) =>
        string.Equals(user, options.ServiceName, StringComparison.OrdinalIgnoreCase) ||
        options.Aliases.Any(a => string.Equals(a, user, StringComparison.OrdinalIgnoreCase));

    public string? FeatureCodeOrbit(string user) => ParkDial.Read(user, options) is { Kind: ParkDialKind.DirectedPark or ParkDialKind.Retrieve or ParkDialKind.Malformed } dial
        ? dial.Orbit
        : null;

    public bool IsDirectedPark(string user) =>
        !string.IsNullOrEmpty(options.DirectedParkCode) && user.StartsWith(options.DirectedParkCode, StringComparison.Ordinal);

    public bool ServesOrbitsOf(string pool) =>
        string.Equals(pool, self, StringComparison.OrdinalIgnoreCase) || servesPartnerOrbits(pool);
}
