using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// How the proxy treats the paired pool: requests it forwards are trusted (not challenged again, not rate-limited or
/// shed) only when they carry its valid <c>X-Pool-Auth</c> signature (<see cref="PartnerAuthenticator"/>,
/// docs/design.md §11 "Trust"); a source address or a Via proves nothing. With mutual TLS (<paramref name="certificates"/>)
/// a request over TLS is the partner's only when its connection presented the partner's certificate. Users homed there
/// are reached through it while it serves them.
/// </summary>
public sealed class PartnerRouting(string self, PoolTopology topology, Func<string, DrPhase> phaseOf, PartnerAuthenticator authenticator,
    PartnerCertificateCheck? certificates = null) : IPartnerRouting
{
    /// <summary>The one partner test of the pool: over TLS with mutual TLS on, the connection's certificate; otherwise the
    /// request's signature, whatever address it came from.</summary>
    public bool IsFromPartner(SipRequest request, SipEndPoint source) =>
        certificates is not null && source.Protocol == SipProtocol.Tls ? certificates.IsPartner(source) : authenticator.IsFromPartner(request);

    /// <summary>A pool's users are reached through it only while it serves them itself (Normal phase).</summary>
    public bool RouteUsersOf(string pool) => !string.Equals(pool, self, StringComparison.OrdinalIgnoreCase) && phaseOf(pool) == DrPhase.Normal;

    /// <summary>A user is in resiliency mode while its home pool is in Outage, FailingOver or FailingBack.</summary>
    public bool InResiliencyMode(string user) =>
        topology.Users.FirstOrDefault(u => string.Equals(u.User, user, StringComparison.OrdinalIgnoreCase)) is { } known
        && phaseOf(known.HomePool) is DrPhase.Outage or DrPhase.FailingOver or DrPhase.FailingBack;
}
