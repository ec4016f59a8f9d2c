using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Proxy;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Park;

[TestFixture]
public sealed class ParkTransfersTests
{
    private static readonly PoolTopology Topology = new()
    {
        Domain = "callpark.lab",
        Pools =
        [
            new PoolDefinition { Name = "pool-a", Orbits = ["7000-7099"] },
            new PoolDefinition { Name = "pool-b", Orbits = ["7100-7199"] },
        ],
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T22:00:00Z"));
    private ProxiedDialogs _dialogs = null!;
    private ParkTransfers _transfers = null!;

    [SetUp]
    public void SetUp()
    {
        _dialogs = new ProxiedDialogs(_time);
        // alice called bob through the pool: the dialog call-1, alice's tag a1, bob's b1.
        _dialogs.Add(Parse<SipRequest>("INVITE sip:bob@callpark.lab SIP/2.0", "sip:alice@callpark.lab;tag=a1", "sip:bob@callpark.lab", "call-1", "1 INVITE"),
            Parse<SipResponse>("SIP/2.0 200 OK", "sip:alice@callpark.lab;tag=a1", "sip:bob@callpark.lab;tag=b1", "call-1", "1 INVITE"));
        _transfers = new ParkTransfers(Topology, "pool-a", new ParkOptions(), _dialogs, _time);
    }

    private static T Parse<T>(string startLine, string from, string to, string callId, string cseq, string extra = "") where T : SipMessage
    {
        var text = $"{startLine}\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <{from.Replace(";tag=", ">;tag=")}{(from.Contains(";tag=") ? "" : ">")}\r\n" +
                   $"To: <{to.Replace(";tag=", ">;tag=")}{(to.Contains(";tag=") ? "" : ">")}\r\nCall-ID: {callId}\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\n" +
                   $"Contact: <sip:x@127.0.0.1:5070>\r\n{extra}Content-Length: 0\r\n\r\n";
        return (T)SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;
    }

    private static SipRequest Refer(string referTo, string from = "sip:alice@callpark.lab;tag=a1", string to = "sip:bob@callpark.lab;tag=b1") =>
        Parse<SipRequest>("REFER sip:bob@127.0.0.1:5071 SIP/2.0", from, to, "call-1", "2 REFER", $"Refer-To: <{referTo}>\r\n");

    private static readonly SipUri Bob = SipUri.Parse("sip:bob@callpark.lab");

    [Test]
    public void A_transfer_to_a_free_orbit_is_noted_once_for_the_transferee_and_that_orbit_only()
    {
        Assert.That(_transfers.Check(Refer("sip:7005@callpark.lab")), Is.Null);

        Assert.That(_transfers.Take(Bob, "7006"), Is.Null, "another orbit");
        Assert.That(_transfers.Take(Bob, null), Is.Null, "the park service");
        Assert.That(_transfers.Take(Bob, "7005")!.Uri.User, Is.EqualTo("alice"));
        Assert.That(_transfers.Take(Bob, "7005"), Is.Null, "taken once");
    }

    [Test]
    public void A_note_is_forgotten_after_the_completion_timeout()
    {
        _transfers.Check(Refer("sip:*717005@callpark.lab"));
        _time.Advance(new ParkOptions().CompletionTimeout + TimeSpan.FromSeconds(1));

        Assert.That(_transfers.Take(Bob, "7005"), Is.Null);
    }

    [Test]
    public void A_REFER_whose_To_is_not_the_other_party_of_its_call_is_refused_and_notes_nothing()
    {
        var refusal = _transfers.Check(Refer("sip:7005@callpark.lab", to: "sip:carol@callpark.lab;tag=b1"));

        Assert.That(refusal?.StatusCode, Is.EqualTo(403));
        Assert.That(_transfers.Take(SipUri.Parse("sip:carol@callpark.lab"), "7005"), Is.Null, "carol's retrieve of 7005 stays a retrieve");
    }

    [Test]
    public void A_REFER_in_a_call_the_pool_no_longer_remembers_is_noted_as_its_token_proved_the_dialog()
    {
        var beforeRestart = Parse<SipRequest>("REFER sip:bob@127.0.0.1:5071 SIP/2.0", "sip:alice@callpark.lab;tag=zz", "sip:bob@callpark.lab;tag=b1", "call-9",
            "2 REFER", "Refer-To: <sip:7005@callpark.lab>\r\n");

        Assert.That(_transfers.Check(beforeRestart), Is.Null);
        Assert.That(_transfers.Take(Bob, "7005")!.Uri.User, Is.EqualTo("alice"));
    }

    [TestCase("sip:7105@callpark.lab", 403, "orbit 7105 is pool-b's")]
    [TestCase("sip:*717105@callpark.lab", 403, "orbit 7105 is pool-b's")]
    [TestCase("sip:*717500@callpark.lab", 404, "no orbit 7500")]
    [TestCase("sip:*71xyz@callpark.lab", 404, "'xyz' is not an orbit number")]
    [TestCase("sip:7005@callpark.lab?Replaces=call-1%3Bto-tag%3Da1%3Bfrom-tag%3Db1", 403, "may not carry headers")]
    public void A_transfer_that_cannot_park_here_is_refused_with_a_reason(string referTo, int status, string reason)
    {
        var refusal = _transfers.Check(Refer(referTo));

        Assert.That(refusal, Is.Not.Null);
        Assert.That(refusal!.StatusCode, Is.EqualTo(status));
        Assert.That(refusal.Warning, Does.Contain(reason));
        Assert.That(_transfers.Take(Bob, "7005"), Is.Null);
    }

    [TestCase("sip:7005@evil.example")]
    [TestCase("sip:*727005@callpark.lab")]
    [TestCase("sip:carol@callpark.lab")]
    public void A_transfer_that_is_no_park_passes_unnoted(string referTo)
    {
        Assert.That(_transfers.Check(Refer(referTo)), Is.Null);
        Assert.That(_transfers.Take(Bob, "7005"), Is.Null);
    }
}
