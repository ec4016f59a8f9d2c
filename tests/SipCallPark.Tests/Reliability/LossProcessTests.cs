using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LabSettings = SipCallPark.Lab.LabSettings;
using PoolPair = SipCallPark.Lab.PoolPair;
using SipCallPark.LossyRelay;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;
using SipCallPark.Tests.Hosting;

namespace SipCallPark.Tests.Reliability;

/// <summary>
/// Park, retrieve and disaster recovery between real pool processes with every phone behind a
/// <see cref="LossyUdpRelay"/>: 10% of datagrams lost each way, the rest delayed 0–100 ms (50 ms jitter), seeded per
/// test case. Each flow must complete, and the relays' ledgers must show a lost message that a retransmission (same
/// branch and CSeq) later carried through.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class LossProcessTests
{
    private const double Loss = 0.10;
    private static readonly TimeSpan Jitter = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly SipUri ParkUri = SipUri.Parse($"sip:park@{LabPhone.Domain}");

    [TestCase(11)]
    [TestCase(22)]
    [TestCase(33)]
    public async Task Park_both_ways_and_retrieve_complete_through_a_relay_losing_10_percent_with_50_ms_jitter(int seed)
    {
        using var setup = new ParkPoolSetup();
        using var pool = setup.Start();
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
        await using var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), setup.SipEndPoint, Loss, Jitter, seed);
        relay.Start();
        var routes = new Dictionary<IPEndPoint, IPEndPoint> { [setup.SipEndPoint] = relay.ListenEndPoint };
        await using var alice = await RelayedPhoneAsync("alice", setup.SipEndPoint, routes);
        await using var bob = await RelayedPhoneAsync("bob", setup.SipEndPoint, routes);
        await using var carol = await RelayedPhoneAsync("carol", setup.SipEndPoint, routes);
        using var http = new HttpClient { BaseAddress = setup.AdminUrl, Timeout = Bound };

        try
        {
            // Way 1: alice REFERs the park server to bob with Replaces; carol retrieves and the park transfers bob to her.
            var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
            var d = aliceCall.Dialog;
            var referTo = new NameAddress(LabPhone.Aor("bob").WithHeader(HeaderNames.Replaces, new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()));
            var parking = alice.Agent.ReferAsync(ParkUri, referTo, alice.Agent.Identity).WaitAsync(Bound);
            var parkInvite = await bob.NextIncomingAsync().WaitAsync(Bound);
            Assert.That(parkInvite.Replaces, Is.SameAs(bobCall));
            var bobParkLeg = await parkInvite.AnswerAsync(bob.Sdp);
            var parked = await parking;
            Assert.That((parked.ReferStatus, parked.StatusCode), Is.EqualTo((202, 200)), parked.ToString());
            Assert.That(await aliceCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
            Assert.That(await ParkedAsync(http), Is.EqualTo(new[] { "7000" }));

            var transfer = FollowOnceAsync(bobParkLeg, bob);
            var carolParkLeg = (await carol.Agent.CallAsync(SipUri.Parse($"sip:7000@{LabPhone.Domain}"), new CallOptions { Sdp = carol.Sdp }).WaitAsync(Bound)).Call!;
            var swap = await carol.NextIncomingAsync().WaitAsync(Bound);
            var carolWithBob = await swap.AnswerAsync(carol.Sdp);
            Assert.That((await transfer).IsSuccess, Is.True);
            Assert.That(await carolParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.Replaced));
            Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
            Assert.That(await ParkedAsync(http), Is.Empty);
            await carolWithBob.HangUpAsync().WaitAsync(Bound);

            // Way 2: alice blind-transfers bob to the park; carol retrieves 7000 again.
            var (bobWay2Leg, orbit) = await alice.ParkByBlindTransferAsync(bob).WaitAsync(Bound * 3);
            Assert.That(orbit, Is.EqualTo("7000"));
            var transfer2 = FollowOnceAsync(bobWay2Leg, bob);
            var carolLeg2 = (await carol.Agent.CallAsync(SipUri.Parse($"sip:7000@{LabPhone.Domain}"), new CallOptions { Sdp = carol.Sdp }).WaitAsync(Bound)).Call!;
            await (await carol.NextIncomingAsync().WaitAsync(Bound)).AnswerAsync(carol.Sdp);
            Assert.That((await transfer2).IsSuccess, Is.True);
            Assert.That(await carolLeg2.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.Replaced));
            Assert.That(await bobWay2Leg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
            Assert.That(await ParkedAsync(http), Is.Empty);
        }
        catch
        {
            await TestContext.Out.WriteLineAsync($"seed {seed}: {relay.Ledger}{Environment.NewLine}{pool.Output}");
            throw;
        }

        AssertRetransmissionRecovered(seed, relay.Ledger);
    }

    [TestCase(11)]
    [TestCase(22)]
    [TestCase(33)]
    public async Task When_pool_a_is_killed_pool_b_BYEs_its_parked_call_and_takes_the_parkers_registration_through_lossy_relays(int seed)
    {
        var settings = new LabSettings { PoolDll = Path.Combine(AppContext.BaseDirectory, "SipCallPark.dll"), ConfigDirectory = RepositoryPaths.Config(""), Bound = Bound };
        using var pair = PoolPair.Create(settings, $"loss-{seed}");
        await pair.StartAsync();
        await using var relayA = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), pair.A.SipEndPoint, Loss, Jitter, seed);
        await using var relayB = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), pair.B.SipEndPoint, Loss, Jitter, seed + 1);
        relayA.Start();
        relayB.Start();
        var routes = new Dictionary<IPEndPoint, IPEndPoint> { [pair.A.SipEndPoint] = relayA.ListenEndPoint, [pair.B.SipEndPoint] = relayB.ListenEndPoint };
        await using var alice = await RelayedPhoneAsync("alice", pair.A.SipEndPoint, routes);
        await using var bob = await RelayedPhoneAsync("bob", pair.A.SipEndPoint, routes);

        try
        {
            var replicated = (await pair.A.ReplicationAsync())?.Accepted ?? 0;
            var (bobParkLeg, orbit) = await alice.ParkByBlindTransferAsync(bob).WaitAsync(Bound * 3);
            Assert.That(await pair.A.WaitForReplicationAsync(replicated), Is.True, "pool-a replicates");

            pair.A.Kill();

            Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "pool-b's BYE reached bob through the relay");
            var notice = await alice.NextMessageAsync().WaitAsync(Bound);
            Assert.That(notice.BodyText, Does.Contain($"on orbit {orbit} was disconnected"));
            await pair.B.WaitForPhaseAsync("pool-a", "Outage");
            await using var aliceAtB = await LabPhone.StartAsync("alice", pair.B.SipEndPoint, udp => new RelayedChannel(udp, routes));
            var registered = await aliceAtB.RegisterAsync().WaitAsync(Bound);
            Assert.That(registered.StatusCode, Is.EqualTo(200), registered.ToString());
            Assert.That(registered.Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("resiliency"));
        }
        catch
        {
            await TestContext.Out.WriteLineAsync($"seed {seed}: A {relayA.Ledger}; B {relayB.Ledger}{Environment.NewLine}{pair.Output}");
            throw;
        }

        var both = new[] { relayA.Ledger, relayB.Ledger };
        TestContext.Out.WriteLine($"seed {seed}: relay A {relayA.Ledger}; relay B {relayB.Ledger}");
        Assert.Multiple(() =>
        {
            Assert.That(both.Sum(l => l.Dropped), Is.GreaterThan(0), $"seed {seed} lost nothing");
            Assert.That(both.Sum(l => l.Retransmissions), Is.GreaterThan(0));
            Assert.That(both.Sum(l => l.Recovered), Is.GreaterThan(0), "a lost message went through when retransmitted");
        });
    }

    private static async Task<LabPhone> RelayedPhoneAsync(string user, IPEndPoint pool, IReadOnlyDictionary<IPEndPoint, IPEndPoint> routes)
    {
        var phone = await LabPhone.StartAsync(user, pool, udp => new RelayedChannel(udp, routes));
        var result = await phone.RegisterAsync().WaitAsync(Bound);
        Assert.That(result.StatusCode, Is.EqualTo(200), result.ToString());
        return phone;
    }

    private static async Task<(SipCall Caller, SipCall Callee)> ConnectAsync(LabPhone caller, LabPhone callee)
    {
        var dialling = caller.Agent.CallAsync(LabPhone.Aor(callee.User), new CallOptions { Sdp = caller.Sdp }).WaitAsync(Bound);
        var incoming = await callee.NextIncomingAsync().WaitAsync(Bound);
        var calleeCall = await incoming.AnswerAsync(callee.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        await calleeCall.Confirmed.WaitAsync(Bound);
        return (attempt.Call!, calleeCall);
    }

    private static Task<CallAttempt> FollowOnceAsync(SipCall call, LabPhone phone)
    {
        var done = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        call.OnRefer = async refer => done.TrySetResult(await refer.FollowAsync(phone.Sdp));
        return done.Task.WaitAsync(Bound);
    }

    private static async Task<string[]> ParkedAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonElement>("/parked")).EnumerateArray().Select(c => c.GetProperty("orbit").GetString()!).ToArray();

    private static void AssertRetransmissionRecovered(int seed, LossLedger ledger)
    {
        TestContext.Out.WriteLine($"seed {seed}: {ledger}");
        Assert.Multiple(() =>
        {
            Assert.That(ledger.Dropped, Is.GreaterThan(0), $"seed {seed} lost nothing: it proves nothing about loss");
            Assert.That(ledger.Retransmissions, Is.GreaterThan(0), "the same branch was seen twice");
            Assert.That(ledger.Recovered, Is.GreaterThan(0), "a lost message went through when it was retransmitted");
        });
    }
}
