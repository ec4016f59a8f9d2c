using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.RateLimiting;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>What a running pool does with requests it must not serve: no credentials, someone else's name, a route
/// elsewhere, an extension it lacks, and a source over its rate.</summary>
[TestFixture]
public sealed class AbuseTests : IntegrationTest
{
    private static readonly SipUri Bob = SipUri.Parse("sip:bob@callpark.lab");

    [Test]
    public async Task A_MESSAGE_without_credentials_gets_407_and_reaches_nobody()
    {
        var lab = await StartLabAsync();
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var stranger = await lab.PhoneAsync("alice", lab.A, withoutPassword: true);

        var sent = await stranger.Agent.SendMessageAsync(Bob, "hello").WaitAsync(LabPhone.Bound);

        Assert.That(sent.StatusCode, Is.EqualTo(407));
        Assert.That(sent.Response!.Headers.Get(HeaderNames.ProxyAuthenticate), Does.StartWith("Digest"));
        Assert.That(bob.PendingMessages, Is.Zero);
    }

    [Test]
    public async Task A_REFER_without_credentials_gets_407()
    {
        var lab = await StartLabAsync();
        await RegisteredPhoneAsync(lab, "bob");
        var stranger = await lab.PhoneAsync("alice", lab.A, withoutPassword: true);

        var refer = await stranger.Agent.ReferAsync(Bob, new NameAddress(SipUri.Parse("sip:park@callpark.lab")), destination: stranger.Pool)
            .WaitAsync(LabPhone.Bound);

        Assert.That(refer.ReferStatus, Is.EqualTo(407));
    }

    [TestCase("MESSAGE")]
    [TestCase("INVITE")]
    public async Task A_wrong_password_after_the_challenge_gets_403(string method)
    {
        var lab = await StartLabAsync();
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var guesser = await lab.PhoneAsync("alice", lab.A, password: "not-alice-lab-pw");

        var status = method == "MESSAGE"
            ? (await guesser.Agent.SendMessageAsync(Bob, "hello").WaitAsync(LabPhone.Bound)).StatusCode
            : (await guesser.CallAsync("bob")).StatusCode;

        Assert.That(status, Is.EqualTo(403));
        Assert.That(bob.PendingMessages + bob.PendingIncoming, Is.Zero);
    }

    [Test]
    public async Task A_user_with_good_credentials_sending_as_another_user_gets_403()
    {
        var lab = await StartLabAsync();
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var alice = await lab.PhoneAsync("alice", lab.A);

        var sent = await alice.Agent.SendMessageAsync(Bob, "from carol, honest", from: new NameAddress(SipUri.Parse("sip:carol@callpark.lab")))
            .WaitAsync(LabPhone.Bound);

        Assert.That(sent.StatusCode, Is.EqualTo(403));
        Assert.That(sent.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("may not send as"));
        Assert.That(bob.PendingMessages, Is.Zero);
    }

    [Test]
    public async Task A_request_routed_through_the_pool_to_elsewhere_is_refused_403_and_not_relayed()
    {
        var lab = await StartLabAsync();
        using var elsewhere = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var elsewherePort = ((IPEndPoint)elsewhere.Client.LocalEndPoint!).Port;
        var alice = await lab.PhoneAsync("alice", lab.A);
        var listening = elsewhere.ReceiveAsync();

        var sent = await alice.Agent.SendMessageAsync(SipUri.Parse("sip:x@example.com"), "relay me",
            headers: [(HeaderNames.Route, $"<sip:127.0.0.1:{elsewherePort};lr>")], destination: alice.Pool).WaitAsync(LabPhone.Bound);

        Assert.That(sent.StatusCode, Is.EqualTo(403));
        Assert.That(sent.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("route set"));
        // The pool answers only after deciding not to forward: nothing was on its way to the other socket.
        Assert.That(listening.IsCompleted, Is.False, "the pool sent nothing to the route's target");
    }

    [Test]
    public async Task A_Proxy_Require_the_pool_does_not_support_gets_420_listing_it_in_Unsupported()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);

        var sent = await alice.Agent.SendMessageAsync(Bob, "hello", headers: [(HeaderNames.ProxyRequire, "warp-drive")]).WaitAsync(LabPhone.Bound);

        Assert.That(sent.StatusCode, Is.EqualTo(420));
        Assert.That(sent.Response!.Headers.Get(HeaderNames.Unsupported), Is.EqualTo("warp-drive"));
    }

    [Test]
    public async Task A_source_over_its_rate_gets_503_with_Retry_After_one_warning_and_is_served_again_once_its_bucket_refills()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: time,
            rateLimit: new RateLimitOptions { RequestsPerSecond = 1, Burst = 2, RetryAfter = TimeSpan.FromSeconds(7) });
        var alice = await lab.PhoneAsync("alice", lab.A);
        var bob = await lab.PhoneAsync("bob", lab.A);

        var first = await alice.SendAsync(Ping(lab));
        var second = await alice.SendAsync(Ping(lab));
        var third = await alice.SendAsync(Ping(lab));
        var fourth = await alice.SendAsync(Ping(lab));

        Assert.Multiple(() =>
        {
            Assert.That(new[] { first.StatusCode, second.StatusCode }, Is.All.EqualTo(200), "the burst");
            Assert.That(third.StatusCode, Is.EqualTo(503));
            Assert.That(third.Response!.Headers.Get(HeaderNames.RetryAfter), Is.EqualTo("7"));
            Assert.That(fourth.StatusCode, Is.EqualTo(503));
            Assert.That(lab.Log.Lines.Count(l => l.Contains("Rate limit: 127.0.0.1", StringComparison.Ordinal)), Is.EqualTo(1),
                "one warning for the source, not one per refused request");
        });
        // Every lab phone shares 127.0.0.1: the bucket is the address's, whatever the port.
        Assert.That((await bob.SendAsync(Ping(lab))).StatusCode, Is.EqualTo(503));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((await alice.SendAsync(Ping(lab))).StatusCode, Is.EqualTo(200), "one token back after a second");
    }

    [Test]
    public async Task The_partner_pools_requests_are_never_counted_against_the_rate_limit()
    {
        // A bucket of one request a second, and pool-b probing pool-a with OPTIONS every 100 ms from the same address.
        var lab = await StartLabAsync(bothPools: true, rateLimit: new RateLimitOptions { RequestsPerSecond = 1, Burst = 1 });

        await WaitUntilAsync(() => lab.A.Metrics.Requests(SipDirection.In, SipMethods.Options) >= 10);

        Assert.Multiple(() =>
        {
            Assert.That(lab.A.Metrics.Responses(SipDirection.Out, 200, SipMethods.Options), Is.GreaterThanOrEqualTo(10));
            Assert.That(lab.A.Metrics.Responses(SipDirection.Out, 503, SipMethods.Options), Is.Zero);
            Assert.That(lab.Log.Lines.Where(l => l.Contains("Rate limit:", StringComparison.Ordinal)), Is.Empty);
        });
    }

    [Test]
    public async Task A_disabled_rate_limit_never_answers_503()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: time, rateLimit: new RateLimitOptions { Enabled = false, RequestsPerSecond = 1, Burst = 1 });
        var alice = await lab.PhoneAsync("alice", lab.A);

        for (var i = 0; i < 5; i++) Assert.That((await alice.SendAsync(Ping(lab))).StatusCode, Is.EqualTo(200));
    }

    [Test]
    public async Task A_pool_with_too_much_in_flight_answers_new_requests_503_but_still_carries_a_BYE_and_the_partners_probes()
    {
        // The longest queue delay: this test is about the requests in flight, and a loaded machine must not shed its setup.
        var lab = await StartLabAsync(bothPools: true, overload: new OverloadOptions
        {
            MaxInFlight = 3, RetryAfter = TimeSpan.FromSeconds(4), MaxQueueDelay = LabPools.PatientOverload.MaxQueueDelay,
        });
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var guard = lab.A.Dispatcher.Overload!;
        // Work the pool is busy with: three requests in flight that never finish until the test lets them go.
        for (var i = 0; i < 3; i++) guard.Enter(lab.Time.GetUtcNow(), mayRefuse: false);
        var probesAnswered = lab.A.Metrics.Responses(SipDirection.Out, 200, SipMethods.Options);

        var newCall = await alice.CallAsync("bob");
        var ping = await alice.SendAsync(Ping(lab));
        var hangUp = await aliceCall.HangUpAsync().WaitAsync(LabPhone.Bound);
        await WaitUntilAsync(() => lab.A.Metrics.Responses(SipDirection.Out, 200, SipMethods.Options) >= probesAnswered + 3);

        Assert.Multiple(() =>
        {
            Assert.That(newCall.StatusCode, Is.EqualTo(503), newCall.ToString());
            Assert.That(ping.StatusCode, Is.EqualTo(503));
            Assert.That(ping.Response!.Headers.Get(HeaderNames.RetryAfter), Is.EqualTo("4"));
            Assert.That(ping.Response.Headers.Get(HeaderNames.Warning), Does.Contain("overloaded"));
            Assert.That(hangUp!.StatusCode, Is.EqualTo(200), "the BYE of a call in progress is carried");
            Assert.That(bobCall.IsEnded, Is.True);
            Assert.That(lab.A.Metrics.Responses(SipDirection.Out, 503, SipMethods.Options), Is.EqualTo(1), "pool-b's probes are never shed");
            Assert.That(lab.Log.Lines.Count(l => l.Contains("Overload: answering new requests 503", StringComparison.Ordinal)), Is.EqualTo(1));
        });

        for (var i = 0; i < 3; i++) guard.Exit();
        Assert.That((await alice.SendAsync(Ping(lab))).StatusCode, Is.EqualTo(200), "served again once the work is done");
        Assert.That(guard.InFlight, Is.Zero, "every request handled has left");
    }

    private static SipRequest Ping(LabPools lab)
    {
        var ping = new SipRequest(SipMethods.Options, SipUri.Create("sip", null, "127.0.0.1", lab.A.SipEndPoint.Port));
        ping.Headers.Add(HeaderNames.From, $"<sip:alice@callpark.lab>;tag={Guid.NewGuid():N}");
        ping.Headers.Add(HeaderNames.To, $"<sip:127.0.0.1:{lab.A.SipEndPoint.Port}>");
        ping.Headers.Add(HeaderNames.CallId, Guid.NewGuid().ToString("N"));
        ping.Headers.Add(HeaderNames.CSeq, "1 OPTIONS");
        return ping;
    }
}
