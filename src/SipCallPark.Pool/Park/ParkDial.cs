using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Park;

/// <summary>What a Request-URI or Refer-To user part asks of the park (docs/design.md §5 "Feature codes").</summary>
internal enum ParkDialKind
{
    /// <summary>Not the park's: a user of the domain, or nothing the park knows.</summary>
    None,
    /// <summary>The service name or an alias (<c>park</c>, <c>*70</c>): park in any free orbit.</summary>
    Service,
    /// <summary>An orbit dialled as it is: a retrieve, or a directed park when it is a transfer's target.</summary>
    Orbit,
    /// <summary><c>*71&lt;orbit&gt;</c>: park in that orbit.</summary>
    DirectedPark,
    /// <summary><c>*72&lt;orbit&gt;</c>: pick up the call in that orbit.</summary>
    Retrieve,
    /// <summary>A feature code followed by something that is not an orbit number: refused.</summary>
    Malformed,
}

/// <summary>One dialled user part read by <see cref="ParkDial.Read"/>: what it asks, and the orbit it names.</summary>
internal readonly record struct ParkDial(ParkDialKind Kind, string? Orbit = null)
{
    /// <summary>Reads <paramref name="user"/> against the park's names and feature codes; plain orbit numbers are orbits.</summary>
    public static ParkDial Read(string? user, ParkOptions options)
    {
        if (string.IsNullOrEmpty(user)) return new(ParkDialKind.None);
        if (string.Equals(user, options.ServiceName, StringComparison.OrdinalIgnoreCase)
            || options.Aliases.Any(a => string.Equals(a, user, StringComparison.OrdinalIgnoreCase)))
            return new(ParkDialKind.Service);
        if (AfterCode(user, options.DirectedParkCode) is { } parkIn) return WithOrbit(ParkDialKind.DirectedPark, parkIn);
        if (AfterCode(user, options.RetrieveCode) is { } pickUp) return WithOrbit(ParkDialKind.Retrieve, pickUp);
        return OrbitRange.IsOrbitNumber(user) ? new(ParkDialKind.Orbit, user) : new(ParkDialKind.None);
    }

    /// <summary>Asks to put a call into an orbit (as opposed to taking one out).</summary>
    public bool Parks => Kind is ParkDialKind.Service or ParkDialKind.DirectedPark;

    private static string? AfterCode(string user, string? code) =>
        !string.IsNullOrEmpty(code) && user.StartsWith(code, StringComparison.Ordinal) ? user[code.Length..] : null;

    private static ParkDial WithOrbit(ParkDialKind kind, string rest) =>
        OrbitRange.IsOrbitNumber(rest) ? new(kind, rest) : new(ParkDialKind.Malformed, rest);
}
