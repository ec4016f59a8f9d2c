using System.Net;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// The routing half of the stateful proxy (RFC 3261 §16.3–16.5): validates Max-Forwards, consumes our own
/// Route, authenticates users' dialog-creating requests, and resolves the Request-URI: the pool itself, the park
/// application, a registered user's contacts (all of them, to fork), a user or orbit of the paired pool, or nothing
/// (404/480). Foreign domains get 403: the pool is not an open relay. Loops (§16.3 step 4) are the caller's to check
/// first, with <see cref="StatefulProxy.IsLoop"/>; a <see cref="ProxyDecision.Forward"/> goes to
/// <see cref="StatefulProxy.ForwardAsync"/>.
/// </summary>
public sealed class ProxyRouter
{
    private static readonly HashSet<string> AuthenticatedMethods = [SipMethods.Invite, SipMethods.Refer, SipMethods.Message];
    private static readonly HashSet<string> DialogCreating = [SipMethods.Invite, SipMethods.Subscribe, SipMethods.Refer];

    private readonly PoolIdentity _self;
    private readonly PoolTopology _topology;
    private readonly IBindingStore _bindings;
    private readonly DigestAuthenticator _auth;
    private readonly IParkAddressBook _park;
    private readonly IPartnerRouting _partner;
    private readonly TimeProvider _time;

    public ProxyRouter(PoolIdentity self, PoolTopology topology, IBindingStore bindings, DigestAuthenticator auth,
        IParkAddressBook park, IPartnerRouting partner, TimeProvider time)
    {
        _self = self;
        _topology = topology;
        _bindings = bindings;
        _auth = auth;
        _park = park;
        _partner = partner;
        _time = time;
    }

    /// <summary>Sees each in-dialog REFER that transfers a call to the park address or an orbit, as it passes.</summary>
    public Action<SipRequest>? ParkTransferSeen { get; set; }

    /// <summary>The partner's replicated bindings (DESIGN §7), consulted for its users while it is not serving them.</summary>
    public Replication.IReplicaStore? Replicas { get; set; }

    public ProxyDecision Decide(SipRequest request, SipEndPoint source)
    {
        // §16.4: a Route naming us is ours to consume; what follows decides the next hop.
        var consumedOwnRoute = false;
        while (request.Routes.Count > 0 && _self.IsMe(request.Routes[0].Uri))
        {
            request.Headers.RemoveFirstValue(HeaderNames.Route);
            consumedOwnRoute = true;
        }
        if (request.Method == SipMethods.Register && (request.RequestUri.User is null || request.Routes.Count == 0) && IsOurDomainOrAddress(request.RequestUri))
            return new ProxyDecision.Local(LocalService.Register);

        if (request.MaxForwards is 0)
            return request.Method == SipMethods.Options && IsOurDomainOrAddress(request.RequestUri) && request.RequestUri.User is null
                ? new ProxyDecision.Local(LocalService.Options)
                : new ProxyDecision.Respond(483);
        // An in-dialog REFER that transfers to the park passes here unauthenticated (it follows the dialog's route):
        // refuse it now for a parker in resiliency mode. A REFER to the park server itself is authenticated first
        // and refused by the park application.
        if (request.Method == SipMethods.Refer && request.To.Tag is not null && ParksCall(request))
        {
            if (InResiliencyMode(request.From.Uri)) return new ProxyDecision.Respond(403, ResiliencyParkRefusal);
            // The transferee may not name its transferor (no Referred-By): remember who it is.
            ParkTransferSeen?.Invoke(request);
        }
        if (request.Routes.Count > 0)
        {
            // A route set that did not start at this pool was not built through it: following it for anyone but the
            // partner would relay strangers' requests anywhere (an open relay by loose routing, §16.4).
            if (!consumedOwnRoute && !_partner.IsFromPartner(request, source))
                return new ProxyDecision.Respond(403, "this pool routes only requests whose route set starts at it");
            var next = request.Routes[0].Uri;
            return SipTargetResolver.Resolve(next) is { } hop
                ? new ProxyDecision.Forward([new ProxyTarget(request.RequestUri, hop)], false, true)
                : new ProxyDecision.Respond(502, $"cannot resolve route {next}");
        }

        var uri = request.RequestUri;
        if (!uri.IsSip) return new ProxyDecision.Respond(416);
        // An in-dialog request that reached us by the Record-Route we put in its route set goes to its target:
        // following a route set the dialog's parties agreed on is not relaying for strangers.
        if (consumedOwnRoute && request.To.Tag is not null && !IsOurDomainOrAddress(uri))
        {
            return SipTargetResolver.Resolve(uri) is { } target
                ? new ProxyDecision.Forward([new ProxyTarget(uri, target)], false, true)
                : new ProxyDecision.Respond(502, $"cannot resolve {uri}");
        }
        if (!IsOurDomainOrAddress(uri)) return DecideForeign(request, source, uri);
        // An OPTIONS addressed to this pool's own address is a ping (sipsak, the partner's health probe).
        if (request.Method == SipMethods.Options && _self.IsMe(uri)) return new ProxyDecision.Local(LocalService.Options);
        if (uri.User is null)
            return request.Method == SipMethods.Options ? new ProxyDecision.Local(LocalService.Options) : new ProxyDecision.Respond(404, "no user in the Request-URI");

        var fromPartner = _partner.IsFromPartner(request, source);
        if (AuthenticatedMethods.Contains(request.Method) && request.To.Tag is null && !fromPartner)
        {
            var result = _auth.Verify(request, HeaderNames.ProxyAuthorization);
            if (result.Outcome is DigestOutcome.Missing or DigestOutcome.Stale) return new ProxyDecision.Challenge(result.Outcome == DigestOutcome.Stale);
            if (result.Outcome == DigestOutcome.Rejected) return new ProxyDecision.Respond(403, "authentication failed");
            if (!string.Equals(result.User, request.From.Uri.UnescapedUser, StringComparison.OrdinalIgnoreCase))
                return new ProxyDecision.Respond(403, $"{result.User} may not send as {request.From.Uri.AddressOfRecord}");
        }

        var user = uri.UnescapedUser!;
        if (_park.IsParkAddress(user)) return new ProxyDecision.Local(LocalService.Park);
        if (OrbitRange.IsOrbitNumber(user) && _topology.OwnerOfOrbit(user) is { } orbitOwner)
        {
            if (_self.Is(orbitOwner.Name) || _park.ServesOrbitsOf(orbitOwner.Name)) return new ProxyDecision.Local(LocalService.Park);
            return ForwardToPool(orbitOwner, request, fromPartner);
        }

        var known = _topology.Users.FirstOrDefault(u => string.Equals(u.User, user, StringComparison.OrdinalIgnoreCase));
        if (known is null) return new ProxyDecision.Respond(404, $"no user {user} in {_topology.Domain}");
        var aor = $"sip:{known.User}@{_topology.Domain}".ToLowerInvariant();
        var bindings = _bindings.Get(aor, _time.GetUtcNow());
        if (bindings.Count == 0 && !_self.Is(known.HomePool))
        {
            if (!fromPartner && _partner.RouteUsersOf(known.HomePool) && _topology.FindPool(known.HomePool) is { } home)
                return ForwardToPool(home, request, fromPartner);
            // The home pool is out: its bindings, replicated here while it was healthy, are active in resiliency mode.
            if (!_partner.RouteUsersOf(known.HomePool) && Replicas is { } replicas)
                bindings = replicas.Get(aor, _time.GetUtcNow()).Select(b => b with { Mode = RegistrationMode.Resiliency }).ToArray();
        }
        if (bindings.Count == 0) return new ProxyDecision.Respond(480, $"{known.User} has no registered contact");
        var targets = new List<ProxyTarget>();
        foreach (var b in bindings.OrderByDescending(b => b.Q))
        {
            if (!SipUri.TryParse(b.Contact, out var contact)) continue;
            var destination = SourceOf(b) ?? SipTargetResolver.Resolve(contact);
            if (destination is { } d) targets.Add(new ProxyTarget(contact, d, b.Mode));
        }
        return targets.Count == 0
            ? new ProxyDecision.Respond(480, $"{known.User} has no reachable contact")
            : new ProxyDecision.Forward(targets, DialogCreating.Contains(request.Method), false);
    }

    /// <summary>
    /// A Request-URI outside our domain. Only one such target is served: a contact registered here, asked for by an
    /// authenticated user of ours — what a phone sends when it follows a transfer to another phone's Contact (the park
    /// app's transfer out puts the retriever's Contact in Refer-To). Anything else is relaying for strangers: 403.
    /// </summary>
    private ProxyDecision DecideForeign(SipRequest request, SipEndPoint source, SipUri uri)
    {
        var refused = new ProxyDecision.Respond(403, $"{uri.Host} is not served here");
        if (!string.Equals(request.From.Uri.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) || !DialogCreating.Contains(request.Method)) return refused;
        if (!_partner.IsFromPartner(request, source))
        {
            var result = _auth.Verify(request, HeaderNames.ProxyAuthorization);
            if (result.Outcome is DigestOutcome.Missing or DigestOutcome.Stale) return new ProxyDecision.Challenge(result.Outcome == DigestOutcome.Stale);
            if (result.Outcome == DigestOutcome.Rejected || !string.Equals(result.User, request.From.Uri.UnescapedUser, StringComparison.OrdinalIgnoreCase))
                return refused;
        }
        var target = uri;
        foreach (var binding in _bindings.All(_time.GetUtcNow()))
        {
            // User, host and port decide: phones add or drop parameters such as transport or ob when they copy a Contact.
            if (!SipUri.TryParse(binding.Contact, out var contact) || contact.UnescapedUser != target.UnescapedUser
                || !string.Equals(contact.Host, target.Host, StringComparison.OrdinalIgnoreCase) || contact.Port != target.Port) continue;
            if ((SourceOf(binding) ?? SipTargetResolver.Resolve(contact)) is { } destination)
                return new ProxyDecision.Forward([new ProxyTarget(uri, destination, binding.Mode)], DialogCreating.Contains(request.Method), false);
        }
        return refused;
    }

    /// <summary>The Warning text of the 403 that refuses a park while the parker is in resiliency mode (DESIGN §7).</summary>
    public const string ResiliencyParkRefusal = "Call park is unavailable in resiliency mode";

    /// <summary>A REFER that parks: to the park service or an orbit (way 1), or transferring to one (way 2).</summary>
    private bool ParksCall(SipRequest refer)
    {
        if (IsParkAddressOrOrbit(refer.RequestUri)) return true;
        return refer.Headers.Get(HeaderNames.ReferTo) is { } referTo && NameAddress.TryParse(referTo, out var target) && IsParkAddressOrOrbit(target.Uri);
    }

    private bool IsParkAddressOrOrbit(SipUri uri) =>
        string.Equals(uri.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) && uri.UnescapedUser is { } user
        && (_park.IsParkAddress(user) || (OrbitRange.IsOrbitNumber(user) && _topology.OwnerOfOrbit(user) is not null));

    /// <summary>True for a user of the domain whose home pool's phase puts it in resiliency mode.</summary>
    public bool InResiliencyMode(SipUri user) =>
        string.Equals(user.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) && user.UnescapedUser is { } name && _partner.InResiliencyMode(name);

    /// <summary>True when a Request-URI user names the park service or an orbit this pool serves.</summary>
    public bool IsParkTarget(string user) =>
        _park.IsParkAddress(user) || (OrbitRange.IsOrbitNumber(user) && _topology.OwnerOfOrbit(user) is { } owner
                                      && (_self.Is(owner.Name) || _park.ServesOrbitsOf(owner.Name)));

    private ProxyDecision ForwardToPool(PoolDefinition pool, SipRequest request, bool fromPartner)
    {
        // The partner would send it straight back: a request from it that it could not place ends here.
        if (fromPartner) return new ProxyDecision.Respond(480, $"not reachable on {pool.Name} either");
        var address = IPEndPoint.Parse(pool.Sip);
        return new ProxyDecision.Forward([new ProxyTarget(request.RequestUri, new SipEndPoint(SipProtocol.Udp, address)) { ToPartner = true }],
            DialogCreating.Contains(request.Method), false);
    }

    private bool IsOurDomainOrAddress(SipUri uri) =>
        string.Equals(uri.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) || _self.IsMe(uri);

    /// <summary>A binding's source address (where its REGISTER came from) reaches a phone behind NAT.</summary>
    /// <summary>The address a binding's REGISTER came from (where its phone is reached), or null when unknown.</summary>
    internal static SipEndPoint? SourceOf(Binding binding)
    {
        if (binding.Source is not { } source) return null;
        var colon = source.IndexOf(':');
        if (colon < 0 || !Enum.TryParse<SipProtocol>(source[..colon], true, out var protocol)) return null;
        return IPEndPoint.TryParse(source[(colon + 1)..], out var ep) ? new SipEndPoint(protocol, ep) : null;
    }

}
