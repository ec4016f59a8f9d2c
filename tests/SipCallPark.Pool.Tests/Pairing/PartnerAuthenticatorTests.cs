using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Pairing;

public class PartnerAuthenticatorTests
{
    private FakeTimeProvider _time = null!;
    private PartnerAuthenticator _poolA = null!;
    private PartnerAuthenticator _poolB = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_765_000_000));
        _poolA = PartnerKeys.For("pool-a", _time);
        _poolB = PartnerKeys.For("pool-b", _time);
    }

    private static SipRequest Invite(string body = "v=0\r\n")
    {
        var request = new SipRequest(SipMethods.Invite, SipUri.Parse("sip:erin@callpark.lab"));
        request.Headers.Add(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1");
        request.Headers.Add(HeaderNames.From, "<sip:alice@callpark.lab>;tag=a1");
        request.Headers.Add(HeaderNames.To, "<sip:erin@callpark.lab>");
        request.Headers.Add(HeaderNames.CallId, "call-1@test");
        request.Headers.Add(HeaderNames.CSeq, "1 INVITE");
        request.SetBody("application/sdp", body);
        return request;
    }

    /// <summary>The message as the receiving pool parses it off the wire (a new object, as every arrival is).</summary>
    private static T OffTheWire<T>(T message) where T : SipMessage => (T)SipParser.Parse(message.ToArray()).Message!;

    [Test]
    public void A_request_signed_by_the_partner_is_the_partners_and_the_same_request_replayed_is_not()
    {
        var invite = Invite();
        _poolA.Sign(invite);

        Assert.That(_poolB.Verify(OffTheWire(invite)), Is.EqualTo(PartnerVerdict.Valid));
        Assert.That(_poolB.Verify(OffTheWire(invite)), Is.EqualTo(PartnerVerdict.Replayed));
    }

    [Test]
    public void One_message_is_judged_once_so_every_layer_that_asks_gets_the_same_answer()
    {
        var invite = Invite();
        _poolA.Sign(invite);
        var received = OffTheWire(invite);

        Assert.That(new[] { _poolB.IsFromPartner(received), _poolB.IsFromPartner(received), _poolB.IsFromPartner(received) }, Is.All.True);
    }

    [Test]
    public void A_request_without_the_header_or_signed_with_another_secret_is_a_users()
    {
        var plain = Invite();
        var forged = Invite();
        PartnerKeys.For("pool-a", _time, secret: "not-the-shared-secret-at-all").Sign(forged);

        Assert.Multiple(() =>
        {
            Assert.That(_poolB.Verify(OffTheWire(plain)), Is.EqualTo(PartnerVerdict.Missing));
            Assert.That(_poolB.Verify(OffTheWire(forged)), Is.EqualTo(PartnerVerdict.BadSignature));
        });
    }

    [Test]
    public void A_signed_request_whose_body_CSeq_or_method_changed_on_the_way_is_refused()
    {
        var invite = Invite();
        _poolA.Sign(invite);
        var text = Encoding.UTF8.GetString(invite.ToArray());

        string[] tampered =
        [
            text.Replace("v=0", "v=1"),
            text.Replace("CSeq: 1 INVITE", "CSeq: 2 INVITE"),
            text.Replace("call-1@test", "call-2@test"),
        ];

        foreach (var wire in tampered)
            Assert.That(_poolB.Verify((SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(wire)).Message!), Is.EqualTo(PartnerVerdict.BadSignature), wire);
    }

    [Test]
    public void A_signature_older_or_newer_than_the_clock_skew_is_refused_and_one_within_it_taken()
    {
        var old = Invite();
        _poolA.Sign(old);
        _time.Advance(TimeSpan.FromSeconds(31));
        var future = Invite();
        PartnerKeys.For("pool-a", new FakeTimeProvider(_time.GetUtcNow().AddSeconds(31))).Sign(future);

        Assert.Multiple(() =>
        {
            Assert.That(_poolB.Verify(OffTheWire(old)), Is.EqualTo(PartnerVerdict.Skewed));
            Assert.That(_poolB.Verify(OffTheWire(future)), Is.EqualTo(PartnerVerdict.Skewed));
        });
        var inTime = Invite();
        _poolA.Sign(inTime);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(_poolB.Verify(OffTheWire(inTime)), Is.EqualTo(PartnerVerdict.Valid));
    }

    [Test]
    public void A_message_signed_as_this_pool_itself_or_as_a_pool_not_in_the_topology_is_refused()
    {
        var reflected = Invite();
        _poolB.Sign(reflected);   // pool-b's own signature sent back to it
        var stranger = Invite();
        new PartnerAuthenticator("pool-z", new PoolTopology { Pools = [new PoolDefinition { Name = "pool-z", Sip = "127.0.0.1:5099" }] },
            new PartnerOptions { Secret = PartnerKeys.Secret }, _time, Microsoft.Extensions.Logging.Abstractions.NullLogger<PartnerAuthenticator>.Instance)
            .Sign(stranger);

        Assert.Multiple(() =>
        {
            Assert.That(_poolB.Verify(OffTheWire(reflected)), Is.EqualTo(PartnerVerdict.UnknownPool));
            Assert.That(_poolB.Verify(OffTheWire(stranger)), Is.EqualTo(PartnerVerdict.UnknownPool));
        });
    }

    [Test]
    public void A_probe_answer_is_believed_only_from_the_pool_probed_and_only_with_the_DR_phases_it_signed()
    {
        var ok = SipResponse.CreateFor(Options(), 200, toTag: "t1");
        ok.Headers.Add(PartnerAuthenticator.DrPhaseHeader, "pool-a=Normal");
        _poolB.Sign(ok);
        var altered = Encoding.UTF8.GetString(ok.ToArray()).Replace("pool-a=Normal", "pool-a=FailedOver");

        Assert.Multiple(() =>
        {
            Assert.That(_poolA.Verify(OffTheWire(ok), "pool-b"), Is.EqualTo(PartnerVerdict.Valid));
            Assert.That(_poolA.Verify((SipResponse)SipParser.Parse(Encoding.UTF8.GetBytes(altered)).Message!, "pool-b"), Is.EqualTo(PartnerVerdict.BadSignature));
            Assert.That(PartnerKeys.For("pool-a", _time).Verify(OffTheWire(ok), "pool-c"), Is.EqualTo(PartnerVerdict.UnknownPool));
        });
    }

    [Test]
    public void A_DR_phase_claim_is_believed_only_with_a_valid_signature()
    {
        Assert.Multiple(() =>
        {
            Assert.That(PartnerPhaseClaim.Believe("pool-a=FailedOver, pool-b=Normal", "pool-a", PartnerVerdict.Valid), Is.EqualTo(SipCallPark.Pool.Resiliency.DrPhase.FailedOver));
            foreach (var verdict in Enum.GetValues<PartnerVerdict>().Where(v => v != PartnerVerdict.Valid))
                Assert.That(PartnerPhaseClaim.Believe("pool-a=FailedOver", "pool-a", verdict), Is.Null, verdict.ToString());
            Assert.That(PartnerPhaseClaim.Believe("pool-a=42", "pool-a", PartnerVerdict.Valid), Is.Null, "not a phase");
        });
    }

    [Test]
    public void A_replication_signature_covers_method_path_and_body()
    {
        var body = Encoding.UTF8.GetBytes("{\"bindings\":[]}");
        var signature = _poolA.SignHttp("POST", "/replication/pool-a/changes", body);

        Assert.Multiple(() =>
        {
            Assert.That(_poolB.VerifyHttp(signature, "PUT", "/replication/pool-a/changes", body, out _), Is.EqualTo(PartnerVerdict.BadSignature));
            Assert.That(_poolB.VerifyHttp(signature, "POST", "/replication/pool-a/snapshot", body, out _), Is.EqualTo(PartnerVerdict.BadSignature));
            Assert.That(_poolB.VerifyHttp(signature, "POST", "/replication/pool-a/changes", "{}"u8, out _), Is.EqualTo(PartnerVerdict.BadSignature));
            Assert.That(_poolB.VerifyHttp(signature, "POST", "/replication/pool-a/changes", body, out var pool), Is.EqualTo(PartnerVerdict.Valid));
            Assert.That(pool, Is.EqualTo("pool-a"));
            Assert.That(_poolB.VerifyHttp(signature, "POST", "/replication/pool-a/changes", body, out _), Is.EqualTo(PartnerVerdict.Replayed));
        });
    }

    [Test]
    public void The_replay_window_is_bounded_and_frees_itself_once_signatures_age_past_the_skew()
    {
        var small = new PartnerAuthenticator("pool-b", PartnerKeys.Topology, new PartnerOptions { Secret = PartnerKeys.Secret, MaxRemembered = 1_000 }, _time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PartnerAuthenticator>.Instance);
        var body = "{}"u8.ToArray();
        for (var i = 0; i < 1_000; i++)
            Assert.That(small.VerifyHttp(_poolA.SignHttp("POST", "/x", body), "POST", "/x", body, out _), Is.EqualTo(PartnerVerdict.Valid));

        Assert.That(small.VerifyHttp(_poolA.SignHttp("POST", "/x", body), "POST", "/x", body, out _), Is.EqualTo(PartnerVerdict.Replayed), "full");
        Assert.That(small.Remembered, Is.EqualTo(1_000));

        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.That(small.VerifyHttp(_poolA.SignHttp("POST", "/x", body), "POST", "/x", body, out _), Is.EqualTo(PartnerVerdict.Valid));
        Assert.That(small.Remembered, Is.EqualTo(1));
    }

    [Test]
    public void Pools_beyond_loopback_without_a_secret_refuse_to_start_naming_the_key()
    {
        var remote = new PoolTopology
        {
            Pools =
            [
                new PoolDefinition { Name = "pool-a", Sip = "10.0.0.1:5060", Admin = "http://10.0.0.1:8060" },
                new PoolDefinition { Name = "pool-b", Sip = "10.0.0.2:5060", Admin = "http://10.0.0.2:8060" },
            ],
        };

        var missing = Assert.Throws<OptionsValidationError>(() => new PartnerOptions().Validate(PartnerOptions.Section, remote));
        var short_ = Assert.Throws<OptionsValidationError>(() => new PartnerOptions { Secret = "short" }.Validate(PartnerOptions.Section, remote));
        Assert.Multiple(() =>
        {
            Assert.That(missing!.Key, Is.EqualTo("Pool:Partner:Secret"));
            Assert.That(short_!.Key, Is.EqualTo("Pool:Partner:Secret"));
            Assert.DoesNotThrow(() => new PartnerOptions().Validate(PartnerOptions.Section, PartnerKeys.Topology), "all on loopback");
            Assert.DoesNotThrow(() => new PartnerOptions { Secret = PartnerKeys.Secret }.Validate(PartnerOptions.Section, remote));
        });
    }

    private static SipRequest Options()
    {
        var request = new SipRequest(SipMethods.Options, SipUri.Parse("sip:127.0.0.1:5062"));
        request.Headers.Add(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-2");
        request.Headers.Add(HeaderNames.From, "<sip:pool-a@callpark.lab>;tag=p1");
        request.Headers.Add(HeaderNames.To, "<sip:127.0.0.1:5062>");
        request.Headers.Add(HeaderNames.CallId, "probe-1@pool-a");
        request.Headers.Add(HeaderNames.CSeq, "1 OPTIONS");
        return request;
    }
}
