using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.State;
using SipCallPark.Pool.Tests.Integration;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Proxy;

/// <summary>The router's trust rules (docs/design.md §11) on requests written by hand: no network, no clock running.</summary>
public class ProxyRouterTests
{
    private static readonly IPEndPoint PoolA = new(IPAddress.Loopback, 5060);
    private static readonly IPEndPoint PoolB = new(IPAddress.Loopback, 5062);
    private static readonly SipEndPoint Stranger = new(SipProtocol.Udp, new IPEndPoint(IPAddress.Loopback, 40123));
    private static readonly RecordRouteToken Tokens = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 18, 0, 0, TimeSpan.Zero));
    private InMemoryBindingStore _bindings = null!;
    private FakePartner _partner = null!;
    private ProxyRouter _router = null!;

    [SetUp]
    public void SetUp()
    {
        _bindings = new InMemoryBindingStore();
        _partner = new FakePartner();
        var users = new UserDirectory([new LabUser("alice", "pool-a", Password: "alice-lab-pw"), new LabUser("bob", "pool-a", Password: "bob-lab-pw")]);
        _router = new ProxyRouter(new PoolIdentity("pool-a", [PoolA]), LabPools.CreateTopology(PoolA, PoolB), _bindings,
            new DigestAuthenticator(new DigestOptions { Realm = "callpark.lab" }, users, _time), new FakeParkBook(), _partner, Tokens, new BindingTargets(NatTraversal.Auto), 10, _time);
    }

    private static SipRequest Parse(string text) => (SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;

    private static SipRequest Request(string method, string uri, string? toTag, string routes = "", string from = "<sip:alice@callpark.lab>;tag=alicetag") =>
        Parse($"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40123;branch=z9hG4bK{Guid.NewGuid():N}\r\nMax-Forwards: 70\r\n" +
              $"From: {from}\r\nTo: <sip:bob@callpark.lab>{(toTag is null ? "" : $";tag={toTag}")}\r\nCall-ID: call-1\r\nCSeq: 2 {method}\r\n" +
              (routes.Length == 0 ? "" : $"Route: {routes}\r\n") + "Content-Length: 0\r\n\r\n");

    private static string OurRoute(string callId = "call-1", string tag = "alicetag") =>
        $"<sip:127.0.0.1:5060;lr;{RecordRouteToken.Parameter}={Tokens.Mint(callId, tag)}>";

    [Test]
    public void An_in_dialog_request_along_our_route_with_the_token_of_its_dialog_goes_to_its_target_in_either_direction()
    {
        var forward = _router.Decide(Request("BYE", "sip:bob@127.0.0.3:5070", "bobtag", OurRoute()), Stranger);
        var reverse = _router.Decide(Request("BYE", "sip:alice@127.0.0.2:5070", "alicetag", OurRoute(), from: "<sip:bob@callpark.lab>;tag=bobtag"), Stranger);

        Assert.That(forward, Is.InstanceOf<ProxyDecision.Forward>());
        Assert.That(((ProxyDecision.Forward)forward).Targets.Single().Destination.Address.Port, Is.EqualTo(5070));
        Assert.That(reverse, Is.InstanceOf<ProxyDecision.Forward>(), "the callee's requests carry the tags the other way round");
    }

    [Test]
    public async Task An_in_dialog_request_to_a_browsers_invalid_contact_goes_on_the_websocket_it_registered_over()
    {
        var now = _time.GetUtcNow();
        await _bindings.SetAsync("sip:bob@callpark.lab", [new Binding("sip:bob@callpark.lab", "sip:v6pj3sfe@ujhusg5e4sas.invalid;transport=ws",
            now.AddHours(1), 1.0, "reg-1", 1, null, null, "wss:127.0.0.1:45944", RegistrationMode.Normal, "pool-a", NatSigns.None)]);

        var ack = _router.Decide(Request("ACK", "sip:v6pj3sfe@ujhusg5e4sas.invalid;transport=ws", "bobtag", OurRoute()), Stranger);
        var bye = _router.Decide(Request("BYE", "sip:v6pj3sfe@ujhusg5e4sas.invalid;transport=ws", "bobtag", OurRoute()), Stranger);

        foreach (var decision in new[] { ack, bye })
        {
            Assert.That(decision, Is.InstanceOf<ProxyDecision.Forward>(), "a .invalid host resolves to nothing: only the registration knows the way");
            Assert.That(((ProxyDecision.Forward)decision).Targets.Single().Destination,
                Is.EqualTo(new SipEndPoint(SipProtocol.Wss, new IPEndPoint(IPAddress.Loopback, 45944))));
        }
    }

    [Test]
    public void An_in_dialog_request_to_an_invalid_host_nobody_registered_gets_502()
    {
        var decision = _router.Decide(Request("BYE", "sip:x@nobody.invalid;transport=ws", "bobtag", OurRoute()), Stranger);

        Assert.That(decision, Is.TypeOf<ProxyDecision.Respond>().With.Property("StatusCode").EqualTo(502));
    }

    [Test]
    public void An_in_dialog_request_with_the_token_of_another_dialog_gets_403()
    {
        var decision = _router.Decide(Request("BYE", "sip:bob@127.0.0.3:5070", "bobtag", OurRoute(callId: "another-call")), Stranger);

        Assert.That(decision, Is.EqualTo(new ProxyDecision.Respond(403, "this request belongs to no dialog set up through this pool")));
    }

    [Test]
    public void An_in_dialog_request_with_a_token_of_another_pools_key_gets_403()
    {
        var foreign = new RecordRouteToken(new byte[32]).Mint("call-1", "alicetag");
        var decision = _router.Decide(Request("BYE", "sip:bob@127.0.0.3:5070", "bobtag", $"<sip:127.0.0.1:5060;lr;cpt={foreign}>"), Stranger);

        Assert.That(decision, Is.TypeOf<ProxyDecision.Respond>().With.Property("StatusCode").EqualTo(403));
    }

    [Test]
    public void A_new_request_with_a_route_past_the_pool_is_challenged_before_the_route_is_looked_at()
    {
        var decision = _router.Decide(Request("INVITE", "sip:victim@evil.example", null, "<sip:127.0.0.1:5060;lr>, <sip:127.0.0.1:9999;lr>"), Stranger);

        Assert.That(decision, Is.InstanceOf<ProxyDecision.Challenge>());
    }

    [Test]
    public void A_new_request_from_the_partner_with_a_route_onwards_is_followed_without_a_challenge()
    {
        _partner.Trusted = true;
        var decision = _router.Decide(Request("INVITE", "sip:bob@callpark.lab", null, "<sip:127.0.0.1:5060;lr>, <sip:127.0.0.1:5070;lr>"), Stranger);

        Assert.That(decision, Is.InstanceOf<ProxyDecision.Forward>());
    }

    [Test]
    public async Task A_route_naming_the_domain_itself_is_ours_to_consume_so_a_phone_that_found_the_pool_by_dns_srv_is_routed()
    {
        _partner.Trusted = true; // no credentials needed: the route is what is looked at
        await _bindings.SetAsync("sip:bob@callpark.lab", [new Binding("sip:bob@callpark.lab", "sip:bob@127.0.0.3:5070", _time.GetUtcNow().AddHours(1), 1.0,
            "reg-1", 1, null, null, null, RegistrationMode.Normal, "pool-a")]);
        var request = Request("INVITE", "sip:bob@callpark.lab", null, "<sip:callpark.lab;transport=tcp;lr>");

        var decision = _router.Decide(request, Stranger);

        Assert.That(decision, Is.InstanceOf<ProxyDecision.Forward>());
        Assert.That(((ProxyDecision.Forward)decision).Targets.Single().Destination.Address.Port, Is.EqualTo(5070));
        Assert.That(request.Routes, Is.Empty, "the domain's route is consumed (RFC 3261 §16.4)");
    }

    [Test]
    public void A_route_naming_the_domain_with_a_port_is_not_taken_for_the_pool()
    {
        _partner.Trusted = true;
        var request = Request("INVITE", "sip:bob@callpark.lab", null, "<sip:callpark.lab:7777;lr>");

        var decision = _router.Decide(request, Stranger);

        Assert.That(decision, Is.TypeOf<ProxyDecision.Respond>().With.Property("StatusCode").EqualTo(502), "followed as a route elsewhere, which does not resolve");
        Assert.That(request.Routes, Has.Count.EqualTo(1));
    }

    [Test]
    public void An_OPTIONS_ping_to_the_pool_is_answered_without_credentials()
    {
        Assert.That(_router.Decide(Request("OPTIONS", "sip:127.0.0.1:5060", null), Stranger), Is.EqualTo(new ProxyDecision.Local(LocalService.Options)));
    }

    [Test]
    public async Task A_request_to_an_address_of_record_with_more_bindings_than_the_maximum_forks_to_the_maximum_only()
    {
        _partner.Trusted = true; // no credentials needed for this one: the count is what is looked at
        var now = _time.GetUtcNow();
        var bindings = Enumerable.Range(0, 15).Select(i => new Binding("sip:bob@callpark.lab", $"sip:bob@127.0.0.3:{6000 + i}", now.AddHours(1), 1.0,
            $"reg-{i}", 1, null, null, null, RegistrationMode.Normal, "pool-a")).ToArray();
        await _bindings.SetAsync("sip:bob@callpark.lab", bindings);

        var decision = _router.Decide(Request("INVITE", "sip:bob@callpark.lab", null), Stranger);

        Assert.That(((ProxyDecision.Forward)decision).Targets, Has.Count.EqualTo(10));
    }

    private sealed class FakePartner : IPartnerRouting
    {
        public bool Trusted { get; set; }

        public bool IsFromPartner(SipRequest request, SipEndPoint source) => Trusted;

        public bool RouteUsersOf(string pool) => false;

        public bool InResiliencyMode(string user) => false;
    }

    private sealed class FakeParkBook : IParkAddressBook
    {
        public bool IsParkAddress(string user) => user == "park";

        public string? FeatureCodeOrbit(string user) => user.StartsWith("*72", StringComparison.Ordinal) ? user[3..] : null;

        public bool IsDirectedPark(string user) => false;

        public bool ServesOrbitsOf(string pool) => pool == "pool-a";
    }
}
