using System.Net;
using System.Text;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Proxy;

public class ProxyRulesTests
{
    private static readonly Func<SipUri, bool> OursIs127001 = uri => uri.Host == "127.0.0.1" && uri.Port is 5060 or null;

    private static SipRequest Parse(string text) =>
        (SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"))).Message!;

    private static SipRequest Invite(string extra = "") => Parse($"""
        INVITE sip:bob@callpark.lab SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKa1;rport=5060;received=127.0.0.2
        Max-Forwards: 70
        From: <sip:alice@callpark.lab>;tag=a
        To: <sip:bob@callpark.lab>
        Call-ID: c1
        CSeq: 7 INVITE
        {extra}Content-Length: 0


        """);

    [TestCase(new[] { 486, 404 }, 486)]
    [TestCase(new[] { 404, 408 }, 404)]
    [TestCase(new[] { 408, 503 }, 408, Description = "lowest class first")]
    [TestCase(new[] { 302, 486 }, 302)]
    [TestCase(new[] { 486, 603, 302 }, 603, Description = "a 6xx beats every other class")]
    [TestCase(new[] { 404, 407, 486 }, 407, Description = "a challenge lets the caller retry")]
    [TestCase(new[] { 500, 503 }, 500)]
    [TestCase(new[] { 480, 480 }, 480)]
    public void The_best_response_follows_the_class_and_preference_rules(int[] statuses, int expected)
    {
        var finals = statuses.Select(s => new BranchOutcome(s, null)).ToList();
        Assert.That(BestResponse.Choose(finals).StatusCode, Is.EqualTo(expected));
    }

    [Test]
    public void Ties_keep_the_first_response()
    {
        var first = new BranchOutcome(486, null);
        Assert.That(BestResponse.Choose([first, new BranchOutcome(486, null)]), Is.SameAs(first));
    }

    [Test]
    public void A_copy_has_its_own_headers_the_new_request_uri_and_one_hop_less()
    {
        var original = Invite();
        var copy = ProxyMessages.CopyFor(original, SipUri.Parse("sip:bob@127.0.0.3:5060"));
        copy.Headers.Prepend(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp");
        Assert.Multiple(() =>
        {
            Assert.That(copy.RequestUri.ToString(), Is.EqualTo("sip:bob@127.0.0.3:5060"));
            Assert.That(copy.MaxForwards, Is.EqualTo(69));
            Assert.That(original.MaxForwards, Is.EqualTo(70));
            Assert.That(original.Vias, Has.Count.EqualTo(1), "the original is untouched");
        });
    }

    [Test]
    public void Record_route_names_the_interface_with_lr_and_a_non_udp_transport()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ProxyMessages.RecordRoute(SipProtocol.Udp, new IPEndPoint(IPAddress.Loopback, 5060)), Is.EqualTo("<sip:127.0.0.1:5060;lr>"));
            Assert.That(ProxyMessages.RecordRoute(SipProtocol.Tcp, new IPEndPoint(IPAddress.IPv6Loopback, 5070)), Is.EqualTo("<sip:[::1]:5070;transport=tcp;lr>"));
        });
    }

    [Test]
    public void The_loop_hash_covers_routing_fields_but_neither_our_routes_nor_the_vias()
    {
        var plain = ProxyMessages.LoopHash(Invite(), OursIs127001);
        Assert.Multiple(() =>
        {
            Assert.That(plain, Has.Length.EqualTo(16));
            Assert.That(ProxyMessages.LoopHash(Invite("Route: <sip:127.0.0.1:5060;lr>\n"), OursIs127001), Is.EqualTo(plain));
            var moreVias = Invite();
            moreVias.Headers.Prepend(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKx");
            Assert.That(ProxyMessages.LoopHash(moreVias, OursIs127001), Is.EqualTo(plain));
            Assert.That(ProxyMessages.LoopHash(Invite("Route: <sip:10.9.9.9;lr>\n"), OursIs127001), Is.Not.EqualTo(plain));
            Assert.That(ProxyMessages.LoopHash(Invite("Proxy-Require: foo\n"), OursIs127001), Is.Not.EqualTo(plain));
            Assert.That(ProxyMessages.LoopHash(Invite("Proxy-Authorization: Digest username=\"alice\"\n"), OursIs127001), Is.Not.EqualTo(plain));
            Assert.That(ProxyMessages.LoopHash(ProxyMessages.CopyFor(Invite(), SipUri.Parse("sip:carol@callpark.lab")), OursIs127001), Is.Not.EqualTo(plain));
        });
    }

    [Test]
    public void Our_branch_carries_the_loop_hash_after_the_unique_part()
    {
        var branch = ProxyMessages.BranchWithLoopHash("z9hG4bK0123456789abcdef0123", "00112233445566ff");
        Assert.Multiple(() =>
        {
            Assert.That(ProxyMessages.LoopHashOf(branch), Is.EqualTo("00112233445566ff"));
            Assert.That(ProxyMessages.LoopHashOf("z9hG4bK0123456789abcdef0123"), Is.Null);
            Assert.That(ProxyMessages.LoopHashOf("z9hG4bKabc.short"), Is.Null);
            Assert.That(ProxyMessages.LoopHashOf("legacy.00112233445566ff"), Is.Null, "no magic cookie: not one of ours");
            Assert.That(ProxyMessages.LoopHashOf(null), Is.Null);
        });
    }

    [TestCase("SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKa;rport=40000;received=192.0.2.1", "udp:192.0.2.1:40000")]
    [TestCase("SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKa;received=192.0.2.1", "udp:192.0.2.1:5070")]
    [TestCase("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKa", "udp:10.0.0.5:5060")]
    [TestCase("SIP/2.0/TLS 10.0.0.5;branch=z9hG4bKa", "tls:10.0.0.5:5061")]
    [TestCase("SIP/2.0/TCP 10.0.0.5:5080;branch=z9hG4bKa;maddr=10.0.0.7", "tcp:10.0.0.7:5080")]
    public void A_relayed_response_goes_where_the_next_via_says(string via, string expected)
    {
        Assert.That(ProxyMessages.ResponseDestination(ViaHeader.Parse(via))?.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void A_relayed_response_needs_a_numeric_host_and_a_known_transport()
    {
        Assert.That(ProxyMessages.ResponseDestination(ViaHeader.Parse("SIP/2.0/UDP pc33.example.com;branch=z9hG4bKa")), Is.Null);
        Assert.That(ProxyMessages.ResponseDestination(ViaHeader.Parse("SIP/2.0/SCTP 10.0.0.5;branch=z9hG4bKa")), Is.Null);
    }

    [Test]
    public void Removing_our_via_leaves_the_rest_and_never_the_last()
    {
        var response = SipResponse.CreateFor(Invite(), 180, toTag: "b");
        Assert.That(ProxyMessages.WithoutTopVia(response), Is.Null, "a response with only one Via is not ours to relay");
        response.Headers.Prepend(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp");
        var upstream = ProxyMessages.WithoutTopVia(response)!;
        Assert.That(upstream.Vias.Select(v => v.Branch), Is.EqualTo(new[] { "z9hG4bKa1" }));
        Assert.That(response.Vias, Has.Count.EqualTo(2), "the response received is untouched");
    }
}
