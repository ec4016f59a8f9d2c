using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Auth;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Auth;

/// <summary>What the pool accepts as proof of a password (RFC 3261 §22.4, RFC 7616 §3.4) and what it refuses.</summary>
public class DigestAuthenticatorTests
{
    private static readonly UserDirectory Users = new([new LabUser("alice", "pool-a", Password: "alice-lab-pw")]);
    private static readonly byte[] Secret = Enumerable.Repeat((byte)7, 32).ToArray();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 18, 0, 0, TimeSpan.Zero));

    private DigestAuthenticator Create(bool allowRfc2069 = false, string realm = "callpark.lab") =>
        new(new DigestOptions { Realm = realm, Algorithms = [DigestAlgorithm.Md5], AllowRfc2069 = allowRfc2069 }, Users, _time, Secret);

    private static SipRequest Message(string uri = "sip:bob@callpark.lab") =>
        (SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(
            $"MESSAGE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@callpark.lab>;tag=a\r\n" +
            "To: <sip:bob@callpark.lab>\r\nCall-ID: m1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")).Message!;

    /// <summary>Alice's credentials for <paramref name="request"/> answering <paramref name="auth"/>'s challenge.</summary>
    private static void Sign(SipRequest request, DigestAuthenticator auth, bool withoutQop = false, string? uri = null, DigestClient? client = null)
    {
        var challenge = auth.Challenges()[0];
        if (withoutQop) challenge = challenge.Replace(", qop=\"auth\"", "", StringComparison.Ordinal);
        Assert.That(AuthHeaderValue.TryParse(challenge, out var parsed), Is.True);
        var answer = (client ?? new DigestClient("alice", "alice-lab-pw")).Answer(parsed!, request.Method, uri ?? request.RequestUri.ToString());
        request.Headers.Add(HeaderNames.ProxyAuthorization, answer);
    }

    [Test]
    public void A_response_with_qop_auth_for_the_Request_URI_authenticates()
    {
        var auth = Create();
        var request = Message();
        Sign(request, auth);

        Assert.That(auth.Verify(request, HeaderNames.ProxyAuthorization), Is.EqualTo(new DigestResult(DigestOutcome.Authenticated, "alice")));
    }

    [Test]
    public void A_response_without_qop_RFC_2069_is_refused_unless_allowed_and_then_serves_one_request_only()
    {
        var strict = Create();
        var refused = Message();
        Sign(refused, strict, withoutQop: true);
        var lenient = Create(allowRfc2069: true);
        var first = Message();
        Sign(first, lenient, withoutQop: true);
        var replay = Message();
        replay.Headers.Add(HeaderNames.ProxyAuthorization, first.Headers.Get(HeaderNames.ProxyAuthorization)!);

        Assert.Multiple(() =>
        {
            Assert.That(strict.Verify(refused, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Rejected));
            Assert.That(lenient.Verify(first, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Authenticated));
            Assert.That(lenient.Verify(replay, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Stale), "no nonce count: the nonce is spent");
        });
    }

    [Test]
    public void A_response_computed_for_another_uri_than_the_Request_URI_is_refused()
    {
        var auth = Create();
        var request = Message("sip:bob@callpark.lab");
        Sign(request, auth, uri: "sip:park@callpark.lab");

        var result = auth.Verify(request, HeaderNames.ProxyAuthorization);

        Assert.That(result.Outcome, Is.EqualTo(DigestOutcome.Rejected));
        Assert.That(result.Reason, Does.Contain("Request-URI"));
    }

    [Test]
    public void A_response_computed_for_the_pools_own_address_as_sipp_writes_it_authenticates_but_not_for_another_host()
    {
        var auth = new DigestAuthenticator(new DigestOptions { Realm = "callpark.lab", Algorithms = [DigestAlgorithm.Md5] }, Users, _time, Secret,
            isOwnAddress: uri => uri.Host == "127.0.0.1" && uri.Port == 5060);
        var ours = Message();
        Sign(ours, auth, uri: "sip:127.0.0.1:5060");
        var other = Message();
        Sign(other, auth, uri: "sip:127.0.0.1:9999");

        Assert.That(auth.Verify(ours, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Authenticated));
        Assert.That(auth.Verify(other, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Rejected));
    }

    [Test]
    public void The_same_nonce_count_twice_is_a_replay_answered_with_a_fresh_challenge_never_accepted()
    {
        var auth = Create();
        var first = Message();
        Sign(first, auth);
        var replay = Message();
        replay.Headers.Add(HeaderNames.ProxyAuthorization, first.Headers.Get(HeaderNames.ProxyAuthorization)!);

        Assert.That(auth.Verify(first, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Authenticated));
        Assert.That(auth.Verify(replay, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Stale));
    }

    [Test]
    public void A_nonce_expires_after_its_lifetime()
    {
        var auth = Create();
        var request = Message();
        Sign(request, auth);
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        Assert.That(auth.Verify(request, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Stale));
    }

    [Test]
    public void A_nonce_issued_for_another_realm_with_the_same_secret_is_not_taken_as_ours()
    {
        var other = Create(realm: "other.lab");
        var ours = Create();
        var nonce = AuthHeaderValue.TryParse(other.Challenges()[0], out var challenge) ? challenge!.Get("nonce")! : "";
        var request = Message();
        // A correct answer for our realm, but on the other realm's nonce.
        var forged = ours.Challenges()[0];
        var ourNonce = AuthHeaderValue.TryParse(forged, out var c) ? c!.Get("nonce")! : "";
        Assert.That(AuthHeaderValue.TryParse(forged.Replace(ourNonce, nonce, StringComparison.Ordinal), out var swapped), Is.True);
        request.Headers.Add(HeaderNames.ProxyAuthorization, new DigestClient("alice", "alice-lab-pw").Answer(swapped!, "MESSAGE", request.RequestUri.ToString()));

        Assert.That(ours.Verify(request, HeaderNames.ProxyAuthorization).Outcome, Is.EqualTo(DigestOutcome.Stale), "a foreign nonce is never accepted");
    }
}
