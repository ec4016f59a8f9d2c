namespace SipCallPark.Pool.Registrar;

/// <summary>
/// Where the pool sends requests for a registered contact (<c>Pool:Registrar:NatTraversal</c>): to the Contact, as
/// RFC 3261 §16.5 says, or to the address its REGISTER came from, which is how a phone behind NAT is reached.
/// </summary>
public enum NatTraversal
{
    /// <summary>The Contact, unless the REGISTER showed a sign that the phone needs NAT help (<see cref="NatSigns"/>).</summary>
    Auto,

    /// <summary>Always the REGISTER's source (the behaviour before <see cref="Auto"/>).</summary>
    Always,

    /// <summary>Always the Contact; the source only when the Contact cannot be resolved (a host name).</summary>
    Never,
}
