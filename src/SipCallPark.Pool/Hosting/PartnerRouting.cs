using System.Net;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>
/// How the proxy treats the paired pool: requests it forwards are trusted (not challenged again) when they come from
/// its address and carry its Via; users homed there are reached through it while it serves them.
/// </summary>
public sealed class PartnerRouting(string self, PoolTopology topology, Func<string, DrPhase> phaseOf) : IPartnerRouting
{
    private readonly IPEndPoint[] _partners = topology.Pools
        .Where(p => !string.Equals(p.Name, self, StringComparison.OrdinalIgnoreCase))
        .Select(p => IPEndPoint.Parse(p.Sip)).ToArray();

    public bool IsFromPartner(SipRequest request, SipEndPoint source)
    {
        var via = request.TopVia;
        if (via is null) return false;
        foreach (var partner in _partners)
        {
            if (!partner.Address.Equals(source.Address.Address)) continue;
            // Over UDP the partner sends from its SIP port; over TCP from an ephemeral one, so trust its Via there.
            if (source.Protocol == SipProtocol.Udp && source.Address.Port != partner.Port) continue;
            if (IPAddress.TryParse(via.Host.Trim('[', ']'), out var host) && host.Equals(partner.Address) && (via.Port ?? 5060) == partner.Port) return true;
        }
        return false;
    }

    /// <summary>A pool's users are reached through it only while it serves them itself (Normal phase).</summary>
    public bool RouteUsersOf(string pool) => !string.Equals(pool, self, StringComparison.OrdinalIgnoreCase) && phaseOf(pool) == DrPhase.Normal;

    /// <summary>A user is in resiliency mode while its home pool is in Outage, FailingOver or FailingBack.</summary>
    public bool InResiliencyMode(string user) =>
        topology.Users.FirstOrDefault(u => string.Equals(u.User, user, StringComparison.OrdinalIgnoreCase)) is { } known
        && phaseOf(known.HomePool) is DrPhase.Outage or DrPhase.FailingOver or DrPhase.FailingBack;
}
