using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Tests.Pairing;

namespace SipCallPark.Pool.Tests.Admin;

/// <summary>The replication routes take the partner pool's signature and nothing else (docs/design.md §11 "Trust").</summary>
public class ReplicationAuthTests
{
    private const string OperatorToken = "operator-token-0123";
    private FakeAdminBackend _backend = null!;
    private AdminServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task Start()
    {
        _backend = new FakeAdminBackend();
        _server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0", Token = OperatorToken }, _backend, new SipMetrics(),
            NullLogger.Instance);
        _http = new HttpClient { BaseAddress = _server.Url, Timeout = TimeSpan.FromSeconds(10) };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static ReplicationBatch Injected() =>
        new([new AorBindings("sip:erin@callpark.lab", [new Binding("sip:erin@callpark.lab", "<sip:erin@127.0.0.1:9999>", DateTimeOffset.UtcNow.AddHours(1),
            1, "x", 1, null, null, null, RegistrationMode.Normal, "pool-b")])], [], []);

    [Test]
    public async Task A_replication_post_without_the_partner_signature_gets_401_even_with_the_operator_token()
    {
        var bare = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(), signer: null));
        var operatorOnly = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(), signer: null, OperatorToken));
        var snapshot = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Put, "/replication/pool-b/snapshot", new ReplicationSnapshot([], []), null, OperatorToken));

        Assert.Multiple(() =>
        {
            Assert.That(bare.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(operatorOnly.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(snapshot.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(_backend.Replicated, Is.Empty);
        });
    }

    [Test]
    public async Task A_replication_post_signed_with_another_secret_as_another_pool_or_replayed_gets_403()
    {
        var wrongSecret = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(),
            PartnerKeys.For("pool-b", secret: "guessed-secret-0123456789")));
        var otherPool = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(), PartnerKeys.For("pool-c")));
        var signed = PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(), PartnerKeys.For("pool-b"));
        var replay = PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(), signer: null);
        replay.Headers.TryAddWithoutValidation("X-Pool-Auth", signed.Headers.GetValues("X-Pool-Auth"));
        var first = await _http.SendAsync(signed);
        var replayed = await _http.SendAsync(replay);

        Assert.Multiple(() =>
        {
            Assert.That(wrongSecret.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(otherPool.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the genuine one");
            Assert.That(replayed.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(_backend.Replicated, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task A_replication_post_signed_beyond_the_clock_skew_gets_403()
    {
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-2));

        var stale = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", Injected(), PartnerKeys.For("pool-b", past)));

        Assert.That(stale.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(_backend.Replicated, Is.Empty);
    }

    [Test]
    public async Task The_operator_routes_still_need_the_operator_token_and_not_a_partner_signature()
    {
        var withoutToken = await _http.GetAsync("/status");
        using var signedOnly = new HttpRequestMessage(HttpMethod.Get, "/status");
        signedOnly.Headers.TryAddWithoutValidation("X-Pool-Auth", PartnerKeys.For("pool-b").SignHttp("GET", "/status", []));
        var partnerOnly = await _http.SendAsync(signedOnly);

        Assert.That(withoutToken.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(partnerOnly.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
