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
/// Route, authenticates every new request of a user before any routing (docs/design.md §11), lets an in-dialog request
/// through only along our own token-bearing Record-Route (or to a dialog of the pool itself), and resolves the Request-URI: the pool itself, the park
/// application, a registered user's contacts (all of them, to fork), a user or orbit of the paired pool, or nothing
/// (404/480). Foreign domains get 403: the pool is not an open relay. Loops (§16.3 step 4) are the caller's to check
/// first, with <see cref="StatefulProxy.IsLoop"/>; a <see cref="ProxyDecision.Forward"/> goes to
/// <see cref="StatefulProxy.ForwardAsync"/>.
/// </summary>
public sealed class ProxyRouter
{
    private static readonly HashSet<string> DialogCreating = [SipMethods.Invite, SipMethods.Subscribe, SipMethods.Refer];

    private readonly PoolIdentity _self;
    private readonly PoolTopology _topology;
    private readonly IBindingStore _bindings;
    private readonly DigestAuthenticator _auth;
    private readonly IParkAddressBook _park;
    private readonly IPartnerRouting _partner;
    private readonly RecordRouteToken _tokens;
    private readonly int _maxForkTargets;
    private readonly BindingTargets _targets;
    private readonly TimeProvider _time;

    /// <param name="tokens">Verifies the token of our Record-Route in an in-dialog request's Route set.</param>
    /// <param name="maxForkTargets">The most contacts one request is forked to (Pool:Registrar:MaxContactsPerAor).</param>
    public ProxyRouter(PoolIdentity self, PoolTopology topology, IBindingStore bindings, DigestAuthenticator auth,
        IParkAddressBook park, IPartnerRouting partner, RecordRouteToken tokens, BindingTargets targets, int maxForkTargets,
        TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxForkTargets, 1);
        _tokens = tokens;
        _targets = targets;
        _maxForkTargets = maxForkTargets;
        _self = self;
        _topology = topology;
        _bindings = bindings;
        _auth = auth;
        _park = park;
        _partner = partner;
        _time = time;
    }

    /// <summary>Sees each in-dialog REFER that transfers a call to the park address or an orbit, as it passes; a
    /// refusal it returns is the REFER's answer (docs/design.md §5 "Feature codes").</summary>
    public Func<SipRequest, ProxyDecision.Respond?>? ParkTransferSeen { get; set; }

    /// <summary>The partner's replicated bindings (docs/design.md §7), consulted for its users while it is not serving them.</summary>
    public Replication.IReplicaStore? Replicas { get; set; }

    public ProxyDecision Decide(SipRequest request, SipEndPoint source)
    {
        // §16.4: a Route naming us is ours to consume; the token it carries decides below whether an in-dialog request
        // belongs to a dialog set up through us.
        List<SipUri>? ownRoutes = null;
        while (request.Routes.Count > 0 && (_self.IsMe(request.Routes[0].Uri) || IsDomainRoute(request.Routes[0].Uri)))
        {
            (ownRoutes ??= []).Add(request.Routes[0].Uri);
            request.Headers.RemoveFirstValue(HeaderNames.Route);
        }
        if (request.Method == SipMethods.Register && (request.RequestUri.User is null || request.Routes.Count == 0) && IsOurDomainOrAddress(request.RequestUri))
            return new ProxyDecision.Local(LocalService.Register);

        if (request.MaxForwards is 0)
            return request.Method == SipMethods.Options && IsOurDomainOrAddress(request.RequestUri) && request.RequestUri.User is null
                ? new ProxyDecision.Local(LocalService.Options)
                : new ProxyDecision.Respond(483);

        // A scheme we do not route says nothing about who asks: answered before any credentials are asked for.
        if (!request.RequestUri.IsSip) return new ProxyDecision.Respond(416);
        var fromPartner = IsFromPartnerPool(request, source);
        var inDialog = request.To.Tag is not null;
        if (!inDialog)
        {
            // docs/design.md §11: a request that may open a dialog or stands alone is authenticated before any routing,
            // whatever its Route set says. An OPTIONS ping to the pool itself (sipsak, the partner's probe) is answered.
            if (request.Routes.Count == 0 && IsPing(request)) return new ProxyDecision.Local(LocalService.Options);
            if (!fromPartner && request.Method != SipMethods.Ack && Authenticate(request) is { } refusal) return refusal;
            if (request.Routes.Count > 0)
            {
                // A pre-loaded route past this pool may lead only to a pool of the topology: anywhere else is relaying.
                if (!fromPartner && !IsPoolAddress(request.Routes[0].Uri))
                    return new ProxyDecision.Respond(403, "this pool routes only requests whose route set starts at it");
                return FollowRoute(request);
            }
        }
        else if (ownRoutes is not null)
        {
            // The Record-Route we put in the dialog's route set, with a token we minted for this very dialog.
            if (!ownRoutes.Any(r => _tokens.Verifies(r, request.CallId, request.From.Tag, request.To.Tag)))
                return new ProxyDecision.Respond(403, NotOurDialog);
            if (CheckParkTransfer(request, keepCall: true) is { } refused) return refused;
            if (request.Routes.Count > 0) return FollowRoute(request);
            // Following a route set the dialog's parties agreed on through us is not relaying for strangers.
            if (!IsOurDomainOrAddress(request.RequestUri))
            {
                // A Request-URI that is a registered Contact goes where the dialog's first request went: the
                // registration's flow (RFC 5626 §5.3; RFC 7118 §5: a browser's `.invalid` host resolves to nothing).
                if (RegisteredContactTarget(request.RequestUri) is { } flow) return new ProxyDecision.Forward([flow], false, true);
                return request.RequestUri.IsSip && SipTargetResolver.Resolve(request.RequestUri) is { } target
                    ? new ProxyDecision.Forward([new ProxyTarget(request.RequestUri, target)], false, true)
                    : new ProxyDecision.Respond(502, $"cannot resolve {request.RequestUri}");
            }
        }
        else if (request.Routes.Count > 0)
        {
            // A route set that did not start at this pool was not built through it: following it for anyone but the
            // partner would relay strangers' requests anywhere (an open relay by loose routing, §16.4).
            if (!fromPartner) return new ProxyDecision.Respond(403, "this pool routes only requests whose route set starts at it");
            if (CheckParkTransfer(request) is { } refused) return refused;
            return FollowRoute(request);
        }

        // The park of a failed partner, named by its address in a dialog it set up (a bridged call's BYE, docs/design.md §7):
        // this pool answers for it while it serves that pool's orbits; the park app takes only a dialog it holds.
        if (inDialog && ownRoutes is null && request.Routes.Count == 0 && IsParkOfServedPartner(request.RequestUri))
            return new ProxyDecision.Local(LocalService.Park);
        var decision = Resolve(request, fromPartner);
        // An in-dialog request that did not come along our Record-Route is for a dialog of the pool itself (a park
        // dialog, a bridged call: the park application answers 481 for one it does not hold) or for nobody here.
        if (inDialog && ownRoutes is null && !fromPartner && decision is ProxyDecision.Forward)
            return new ProxyDecision.Respond(403, NotOurDialog);
        return decision;
    }

    private const string NotOurDialog = "this request belongs to no dialog set up through this pool";

    /// <summary>
    /// The one place that decides whether a request comes from the paired pool (not challenged, may route onwards).
    /// </summary>
    private bool IsFromPartnerPool(SipRequest request, SipEndPoint source) => _partner.IsFromPartner(request, source);

    /// <summary>
    /// A Route naming the domain itself (<c>sip:callpark.lab;lr</c>): a phone whose outbound proxy is the domain found
    /// the pool by RFC 3263 (DNS SRV), so that route names whichever pool of the domain received it.
    /// </summary>
    private bool IsDomainRoute(SipUri uri) =>
        uri.User is null && uri.Port is null && string.Equals(uri.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase);

    /// <summary>An OPTIONS addressed to this pool itself: its address, or the domain without a user.</summary>
    private bool IsPing(SipRequest request) =>
        request.Method == SipMethods.Options && (_self.IsMe(request.RequestUri) || (IsOurDomainOrAddress(request.RequestUri) && request.RequestUri.User is null));

    /// <summary>
    /// Digest authentication of a user's request (RFC 3261 §22.3): null when the credentials are good and name the
    /// From user; a challenge when they are missing or stale; 403 otherwise. Checked once per request: a nonce count
    /// seen twice counts as a replay.
    /// </summary>
    private ProxyDecision? Authenticate(SipRequest request)
    {
        var result = _auth.Verify(request, HeaderNames.ProxyAuthorization);
        if (result.Outcome is DigestOutcome.Missing or DigestOutcome.Stale) return new ProxyDecision.Challenge(result.Outcome == DigestOutcome.Stale);
        if (result.Outcome == DigestOutcome.Rejected) return new ProxyDecision.Respond(403, "authentication failed");
        if (!string.Equals(result.User, request.From.Uri.UnescapedUser, StringComparison.OrdinalIgnoreCase))
            return new ProxyDecision.Respond(403, $"{result.User} may not send as {request.From.Uri.AddressOfRecord}");
        return null;
    }

    /// <summary>The next hop is the (remaining) top Route; the Request-URI stays as it is.</summary>
    private static ProxyDecision FollowRoute(SipRequest request)
    {
        var next = request.Routes[0].Uri;
        return SipTargetResolver.Resolve(next) is { } hop
            ? new ProxyDecision.Forward([new ProxyTarget(request.RequestUri, hop)], false, true)
            : new ProxyDecision.Respond(502, $"cannot resolve route {next}");
    }

    /// <summary>The park service at the SIP address of another pool whose orbits this pool answers for now.</summary>
    private bool IsParkOfServedPartner(SipUri uri) =>
        uri.UnescapedUser is { } user && _park.IsParkAddress(user) && !_self.IsMe(uri) && IPAddress.TryParse(uri.HostWithoutBrackets, out var host)
        && _topology.Pools.FirstOrDefault(p => IPEndPoint.TryParse(p.Sip, out var pool) && pool.Address.Equals(host) && pool.Port == (uri.Port ?? 5060)) is { } owner
        && !_self.Is(owner.Name) && _park.ServesOrbitsOf(owner.Name);

    /// <summary>A URI naming the SIP address of one of the topology's pools.</summary>
    private bool IsPoolAddress(SipUri uri) =>
        IPAddress.TryParse(uri.HostWithoutBrackets, out var host)
        && _topology.Pools.Any(p => IPEndPoint.TryParse(p.Sip, out var pool) && pool.Address.Equals(host) && pool.Port == (uri.Port ?? 5060));

    /// <summary>
    /// An in-dialog REFER that transfers a call to the park follows the dialog's route unauthenticated: refuse it now
    /// for a parker in resiliency mode, and note who transfers whom (the transferee may not name its transferor).
    /// A REFER to the park server itself is authenticated first and refused by the park application.
    /// <paramref name="keepCall"/>: the REFER carries our own Record-Route token for its dialog, so the refusal may
    /// speak for the transferee and keep the call up (202, then a NOTIFY ending the subscription; docs/design.md §7);
    /// any other REFER gets a plain 403.
    /// </summary>
    private ProxyDecision? CheckParkTransfer(SipRequest request, bool keepCall = false)
    {
        if (request.Method != SipMethods.Refer || !ParksCall(request)) return null;
        if (InResiliencyMode(request.From.Uri))
            return keepCall ? new ProxyDecision.EndParkTransfer(ResiliencyParkRefusal) : new ProxyDecision.Respond(403, ResiliencyParkRefusal);
        return ParkTransferSeen?.Invoke(request);
    }

    /// <summary>Where a request for our domain or address goes: the pool itself, the park, a user's contacts, the partner.</summary>
    private ProxyDecision Resolve(SipRequest request, bool fromPartner)
    {
        var uri = request.RequestUri;
        if (!uri.IsSip) return new ProxyDecision.Respond(416);
        if (!IsOurDomainOrAddress(uri)) return DecideForeign(request, fromPartner, uri);
        // An OPTIONS addressed to this pool's own address is a ping (sipsak, the partner's health probe).
        if (request.Method == SipMethods.Options && _self.IsMe(uri)) return new ProxyDecision.Local(LocalService.Options);
        if (uri.User is null)
            return request.Method == SipMethods.Options ? new ProxyDecision.Local(LocalService.Options) : new ProxyDecision.Respond(404, "no user in the Request-URI");

        var user = uri.UnescapedUser!;
        if (_park.IsParkAddress(user)) return new ProxyDecision.Local(LocalService.Park);
        if (_park.FeatureCodeOrbit(user) is { } coded) return ResolveFeatureCode(request, fromPartner, user, coded);
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
        // Forking is bounded by the contacts one address of record may hold (Pool:Registrar:MaxContactsPerAor).
        foreach (var b in bindings.OrderByDescending(b => b.Q).Take(_maxForkTargets))
        {
            if (!SipUri.TryParse(b.Contact, out var contact)) continue;
            // §16.5: the Contact, unless the phone needs NAT help (Pool:Registrar:NatTraversal).
            if (_targets.Choose(b).Destination is { } d) targets.Add(new ProxyTarget(contact, d, b.Mode));
        }
        return targets.Count == 0
            ? new ProxyDecision.Respond(480, $"{known.User} has no reachable contact")
            : new ProxyDecision.Forward(targets, DialogCreating.Contains(request.Method), false);
    }

    /// <summary>
    /// <c>*71&lt;orbit&gt;</c> or <c>*72&lt;orbit&gt;</c> (docs/design.md §5 "Feature codes"): answered where the orbit is,
    /// like the orbit itself; a code without a real orbit after it ends here.
    /// </summary>
    private ProxyDecision ResolveFeatureCode(SipRequest request, bool fromPartner, string user, string orbit)
    {
        if (orbit.Length == 0) return new ProxyDecision.Respond(484, $"{user} needs an orbit number after it");
        if (!OrbitRange.IsOrbitNumber(orbit) || _topology.OwnerOfOrbit(orbit) is not { } owner)
            return new ProxyDecision.Respond(404, $"no orbit {orbit} in {_topology.Domain}");
        if (_self.Is(owner.Name) || _park.ServesOrbitsOf(owner.Name)) return new ProxyDecision.Local(LocalService.Park);
        return ForwardToPool(owner, request, fromPartner);
    }

    /// <summary>
    /// A Request-URI outside our domain. Only one such target is served: a contact registered here, asked for by an
    /// authenticated user of ours — what a phone sends when it follows a transfer to another phone's Contact (the park
    /// app's transfer out puts the retriever's Contact in Refer-To). Anything else is relaying for strangers: 403.
    /// The caller has authenticated the request (or it comes from the partner pool).
    /// </summary>
    private ProxyDecision DecideForeign(SipRequest request, bool fromPartner, SipUri uri)
    {
        var refused = new ProxyDecision.Respond(403, $"{uri.Host} is not served here");
        if (!string.Equals(request.From.Uri.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) || !DialogCreating.Contains(request.Method)) return refused;
        return RegisteredContactTarget(uri) is { } target
            ? new ProxyDecision.Forward([target], DialogCreating.Contains(request.Method), false)
            : refused;
    }

    /// <summary>Where a registered Contact equal to <paramref name="uri"/> is reached (its binding's choice), or null.</summary>
    private ProxyTarget? RegisteredContactTarget(SipUri uri)
    {
        foreach (var binding in _bindings.All(_time.GetUtcNow()))
        {
            // User, host and port decide: phones add or drop parameters such as transport or ob when they copy a Contact.
            if (!SipUri.TryParse(binding.Contact, out var contact) || contact.UnescapedUser != uri.UnescapedUser
                || !string.Equals(contact.Host, uri.Host, StringComparison.OrdinalIgnoreCase) || contact.Port != uri.Port) continue;
            if (_targets.Choose(binding).Destination is { } destination) return new ProxyTarget(uri, destination, binding.Mode);
        }
        return null;
    }

    /// <summary>The Warning text of the 403 that refuses a park while the parker is in resiliency mode (docs/design.md §7).</summary>
    public const string ResiliencyParkRefusal = "Call park is unavailable in resiliency mode";

    /// <summary>A REFER that parks: to the park service or an orbit (way 1), or transferring to one (way 2).</summary>
    private bool ParksCall(SipRequest refer)
    {
        if (IsParkAddressOrOrbit(refer.RequestUri)) return true;
        return refer.Headers.Get(HeaderNames.ReferTo) is { } referTo && NameAddress.TryParse(referTo, out var target)
               && (IsParkAddressOrOrbit(target.Uri) || (_self.IsMe(target.Uri) && target.Uri.UnescapedUser is { } user && _park.IsParkAddress(user)));
    }

    private bool IsParkAddressOrOrbit(SipUri uri) =>
        string.Equals(uri.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) && uri.UnescapedUser is { } user
        && (_park.IsParkAddress(user) || _park.IsDirectedPark(user) || (OrbitRange.IsOrbitNumber(user) && _topology.OwnerOfOrbit(user) is not null));

    /// <summary>True for a user of the domain whose home pool's phase puts it in resiliency mode.</summary>
    public bool InResiliencyMode(SipUri user) =>
        string.Equals(user.Host, _topology.Domain, StringComparison.OrdinalIgnoreCase) && user.UnescapedUser is { } name && _partner.InResiliencyMode(name);

    /// <summary>True when a Request-URI user names the park service or an orbit this pool serves.</summary>
    public bool IsParkTarget(string user) =>
        _park.IsParkAddress(user) || (_park.FeatureCodeOrbit(user) ?? user) is var orbit && OrbitRange.IsOrbitNumber(orbit)
        && _topology.OwnerOfOrbit(orbit) is { } owner && (_self.Is(owner.Name) || _park.ServesOrbitsOf(owner.Name));

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
}
