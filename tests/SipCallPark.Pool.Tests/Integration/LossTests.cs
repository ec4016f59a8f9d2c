using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Park, retrieve and the backup's orphan teardown with every phone on a lossy link: each phone's UDP channel is a
/// <see cref="LossyChannel"/> dropping 10% of datagrams both ways and delaying the rest by 0–100 ms (50 ms jitter, so
/// datagrams overtake each other), seeded per test case so a failure replays with the seed in the test's name. Each
/// flow must complete as without loss, and the ledger must show that a lost message was later delivered by a
/// retransmission (same branch and CSeq) — the transaction timers are what carried the flow.
/// </summary>
[TestFixture]
public sealed class LossTests : IntegrationTest
{
    private const double Loss = 0.10;
    private static readonly TimeSpan Jitter = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20); // a message lost twice waits T1 + 2×T1 before it is resent
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");

    private LossLedger _ledger = new();
    private int _phones;

    [SetUp]
    public void FreshLedger()
    {
        _ledger = new LossLedger(); // NUnit runs every case on one fixture instance
        _phones = 0;
    }

    [TestCase(101)]
    [TestCase(202)]
    [TestCase(303)]
    public async Task Way_1_park_and_retrieve_by_transfer_complete_with_10_percent_loss_and_50_ms_jitter(int seed)
    {
        var lab = await StartLabAsync();
        var alice = await LossyPhoneAsync(lab, "alice", lab.A, seed);
        var bob = await LossyPhoneAsync(lab, "bob", lab.A, seed);
        var carol = await LossyPhoneAsync(lab, "carol", lab.A, seed);
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        var d = aliceCall.Dialog;
        var referTo = new NameAddress(LabPhone.Aor("bob").WithHeader(HeaderNames.Replaces, new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()));
        var parking = alice.Agent.ReferAsync(ParkUri, referTo, alice.Agent.Identity).WaitAsync(Bound);
        var parkInvite = await NextIncomingAsync(bob);
        Assert.That(parkInvite.Replaces, Is.SameAs(bobCall));
        var bobParkLeg = await parkInvite.AnswerAsync(bob.Sdp);
        var parked = await parking;
        Assert.That(parked.ReferStatus, Is.EqualTo(202), parked.ToString());
        Assert.That(parked.StatusCode, Is.EqualTo(200), parked.ToString());
        Assert.That(await aliceCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That(lab.A.Park.Parked().Single().Orbit, Is.EqualTo("7000"));

        var transfer = FollowOnceAsync(bobParkLeg, bob);
        var carolParkLeg = (await carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab")).WaitAsync(Bound)).Call!;
        var swap = await NextIncomingAsync(carol);
        Assert.That(swap.Replaces, Is.SameAs(carolParkLeg));
        var carolWithBob = await swap.AnswerAsync(carol.Sdp);
        Assert.That((await transfer).IsSuccess, Is.True);

        Assert.That(await carolParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.Replaced));
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        await WaitUntilAsync(() => lab.A.Park.Parked().Count == 0 && lab.A.Park.ActiveBridges == 0);
        Assert.That(carolWithBob.IsEnded, Is.False, "carol and bob talk");
        AssertRetransmissionRecovered(seed);
    }

    [TestCase(101)]
    [TestCase(202)]
    [TestCase(303)]
    public async Task Way_2_park_and_retrieve_by_bridge_complete_with_10_percent_loss_and_50_ms_jitter(int seed)
    {
        var lab = await StartLabAsync();
        var alice = await LossyPhoneAsync(lab, "alice", lab.A, seed);
        var bob = await LossyPhoneAsync(lab, "bob", lab.A, seed, supportsReplaces: false);
        var dave = await LossyPhoneAsync(lab, "dave", lab.A, seed);

        var (bobParkLeg, orbit) = await ParkByTransferAsync(alice, bob);
        Assert.That(orbit, Is.EqualTo("7000"));
        var daveCall = (await dave.CallAsync(SipUri.Parse("sip:7000@callpark.lab")).WaitAsync(Bound)).Call!;

        Assert.That(daveCall.RemoteSdp, Is.EqualTo(bob.Sdp), "dave is bridged to bob");
        Assert.That(lab.A.Park.Parked(), Is.Empty);
        await daveCall.HangUpAsync().WaitAsync(Bound);
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "dave's BYE reached bob");
        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 0);
        AssertRetransmissionRecovered(seed);
    }

    [TestCase(101)]
    [TestCase(202)]
    [TestCase(303)]
    public async Task When_the_primary_dies_the_backup_BYEs_the_parked_call_tells_the_parker_and_takes_a_re_registration_with_loss(int seed)
    {
        var lab = await StartLabAsync(bothPools: true, replication: true);
        var alice = await LossyPhoneAsync(lab, "alice", lab.A, seed);
        var bob = await LossyPhoneAsync(lab, "bob", lab.A, seed, supportsReplaces: false);
        var (bobParkLeg, orbit) = await ParkByTransferAsync(alice, bob);
        await WaitUntilAsync(() => lab.B!.Replicas.ParksOf("pool-a").Select(p => p.Orbit).SequenceEqual([orbit]));

        await lab.A.DisposeAsync(); // silent, as after kill -9

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the backup's BYE reached bob");
        var notice = await alice.NextMessageAsync().WaitAsync(Bound);
        Assert.That(notice.BodyText, Does.Contain($"on orbit {orbit} was disconnected"));
        await WaitUntilAsync(() => lab.B!.DrMachineOf("pool-a")!.Phase == DrPhase.Outage);
        var aliceAtB = await LossyPhoneAsync(lab, "alice", lab.B!, seed);
        var registered = await aliceAtB.RegisterAsync().WaitAsync(Bound);
        Assert.That(registered.StatusCode, Is.EqualTo(200), registered.ToString());
        Assert.That(registered.Response!.Headers.Get("X-Registration-Mode"), Is.EqualTo("resiliency"));
        AssertRetransmissionRecovered(seed);
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>A registered phone whose UDP channel loses and delays; phone n of the test draws from seed + n.</summary>
    private async Task<LabPhone> LossyPhoneAsync(LabPools lab, string user, PoolServer pool, int seed, bool supportsReplaces = true)
    {
        int phoneSeed = seed + _phones++;
        var phone = await lab.PhoneAsync(user, pool, supportsReplaces: supportsReplaces,
            udpDecorator: udp => new LossyChannel(udp, Loss, Jitter, phoneSeed, ledger: _ledger));
        var result = await phone.RegisterAsync().WaitAsync(Bound);
        Assert.That(result.StatusCode, Is.EqualTo(200), result.ToString());
        return phone;
    }

    private static Task<IncomingCall> NextIncomingAsync(LabPhone phone) => phone.NextIncomingAsync().WaitAsync(Bound);

    /// <summary>Way 2 on the parker's pool; returns the party's park leg and the orbit once the parker is told and has hung up.</summary>
    private static async Task<(SipCall PartyParkLeg, string Orbit)> ParkByTransferAsync(LabPhone parker, LabPhone party)
    {
        var dialling = parker.Dial(party.User).Completion.WaitAsync(Bound);
        var calleeCall = await (await NextIncomingAsync(party)).AnswerAsync(party.Sdp);
        var attempt = await dialling;
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        await calleeCall.Confirmed.WaitAsync(Bound);
        var parkerCall = attempt.Call!;
        var follow = FollowOnceAsync(calleeCall, party);
        var transfer = await parkerCall.ReferAsync(new NameAddress(ParkUri), parker.Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var leg = (await follow).Call!;
        var notice = await parker.NextMessageAsync().WaitAsync(Bound);
        await parkerCall.HangUpAsync().WaitAsync(Bound);
        return (leg, notice.Headers.Get(ParkApplication.OrbitHeader)!);
    }

    private static Task<CallAttempt> FollowOnceAsync(SipCall call, LabPhone phone)
    {
        var done = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        call.OnRefer = async refer => done.TrySetResult(await refer.FollowAsync(phone.Sdp));
        return done.Task.WaitAsync(Bound);
    }

    private void AssertRetransmissionRecovered(int seed)
    {
        TestContext.Out.WriteLine($"seed {seed}: {_ledger}");
        Assert.Multiple(() =>
        {
            Assert.That(_ledger.Dropped, Is.GreaterThan(0), $"seed {seed} lost nothing: it proves nothing about loss");
            Assert.That(_ledger.Retransmissions, Is.GreaterThan(0), "the same branch was seen twice");
            Assert.That(_ledger.Recovered, Is.GreaterThan(0), "a lost message went through when it was retransmitted");
        });
    }
}
