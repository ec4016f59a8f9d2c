using System.Net;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Park;

/// <summary>
/// Where the park application sends a request of its own (the INVITE that parks, a MESSAGE to the parker): a user of
/// the domain registered here is reached at its binding's contact, one homed on another pool through that pool, and
/// any other URI at its own address. The park app sits inside the proxy, so it looks the location up itself.
/// </summary>
internal sealed class ParkRoutes(PoolTopology topology, string self, IBindingStore bindings, Registrar.BindingTargets targets, TimeProvider time)
{
    /// <summary>Whether a pool serves its own users now (DR phase Normal); when not, the replicas stand in for its bindings.</summary>
    public Func<string, bool> ServesOwnUsers { get; init; } = _ => true;

    public Replication.IReplicaStore? Replicas { get; set; }

    public (SipUri RequestUri, SipEndPoint Destination)? Resolve(SipUri uri)
    {
        var target = uri.WithoutHeaders();
        if (string.Equals(target.Host, topology.Domain, StringComparison.OrdinalIgnoreCase) && target.UnescapedUser is { } user)
        {
            var aor = $"sip:{user}@{topology.Domain}".ToLowerInvariant();
            var home = topology.Users.FirstOrDefault(u => string.Equals(u.User, user, StringComparison.OrdinalIgnoreCase))?.HomePool;
            var current = bindings.Get(aor, time.GetUtcNow());
            if (current.Count == 0 && home is not null && !ServesOwnUsers(home) && Replicas is { } replicas) current = replicas.Get(aor, time.GetUtcNow());
            var binding = current.OrderByDescending(b => b.Q).ThenByDescending(b => b.ExpiresAt).FirstOrDefault();
            if (binding is not null && SipUri.TryParse(binding.Contact, out var contact)
                && targets.Choose(binding).Destination is { } reached)
                return (contact, reached);
            if (home is not null && !string.Equals(home, self, StringComparison.OrdinalIgnoreCase) && topology.FindPool(home) is { } pool
                && IPEndPoint.TryParse(pool.Sip, out var address))
                return (target, new SipEndPoint(SipProtocol.Udp, address));
            return null;
        }
        return SipTargetResolver.Resolve(target) is { } direct ? (target, direct) : null;
    }
}
