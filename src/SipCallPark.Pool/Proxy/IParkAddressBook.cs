namespace SipCallPark.Pool.Proxy;

/// <summary>What the proxy asks the park application: is this user part the park service, and whose orbits do we serve.</summary>
public interface IParkAddressBook
{
    /// <summary>The park service name or one of its aliases (<c>park</c>, <c>*70</c>).</summary>
    bool IsParkAddress(string user);

    /// <summary>What follows a feature code (<c>*71</c>, <c>*72</c>) in <paramref name="user"/>, checked or not; null when
    /// it starts with none. Such a request goes where the orbit it names goes.</summary>
    string? FeatureCodeOrbit(string user);

    /// <summary>True when <paramref name="user"/> starts with the directed-park code (<c>*71</c>): a transfer there parks.</summary>
    bool IsDirectedPark(string user);

    /// <summary>True when this pool currently serves the orbits of <paramref name="pool"/> (its own, or a failed partner's).</summary>
    bool ServesOrbitsOf(string pool);
}

/// <summary>What the proxy asks the paired-pool logic.</summary>
public interface IPartnerRouting
{
    /// <summary>True when the request comes from the paired pool (such requests are not challenged).</summary>
    bool IsFromPartner(Sip.Message.SipRequest request, Sip.Transport.SipEndPoint source);

    /// <summary>True when users homed on <paramref name="pool"/> are reached by sending to that pool.</summary>
    bool RouteUsersOf(string pool);

    /// <summary>True while <paramref name="user"/> (a user part of the domain) is in resiliency mode: no call park (docs/design.md §7).</summary>
    bool InResiliencyMode(string user);
}
