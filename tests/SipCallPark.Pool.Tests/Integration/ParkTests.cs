using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Sdp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>The park application end to end: lab phones on loopback UDP, one or two in-process pools.</summary>
[TestFixture]
public sealed partial class ParkTests : IntegrationTest
{
    private static readonly TimeSpan Bound = LabPhone.Bound;
    private static readonly SipUri ParkUri = SipUri.Parse("sip:park@callpark.lab");

    [Test]
    public async Task Way_1_REFER_to_park_with_Replaces_gets_202_with_the_orbit_then_the_party_is_INVITEd_with_Replaces_and_music_and_leaves_the_parker()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        var parking = ParkByReferAsync(alice, aliceCall, "bob");
        var parkInvite = await bob.NextIncomingAsync();
        var request = parkInvite.Request;
        var replaces = ReplacesHeader.Parse(request.Headers.Get(HeaderNames.Replaces)!);
        var offer = SessionDescription.Parse(parkInvite.Offer!);
        Assert.Multiple(() =>
        {
            Assert.That(parkInvite.Replaces, Is.SameAs(bobCall), "the Replaces names bob's call with alice");
            Assert.That(replaces, Is.EqualTo(new ReplacesHeader(bobCall.CallId, bobCall.Dialog.Id.LocalTag, bobCall.Dialog.Id.RemoteTag)));
            Assert.That(request.OptionTags(HeaderNames.Require), Does.Contain("replaces"));
            Assert.That(NameAddress.Parse(request.Headers.Get(HeaderNames.ReferredBy)!).Uri.User, Is.EqualTo("alice"));
            Assert.That(request.From.Uri.User, Is.EqualTo("7000"), "the park speaks for the orbit");
            Assert.That(offer.GetEffectiveDirection(offer.Media[0]), Is.EqualTo(MediaDirection.SendOnly), "music on hold is offered");
            Assert.That(offer.Media[0].Formats, Does.Contain("0"));
        });
        var parkLeg = await parkInvite.AnswerAsync(bob.Sdp);

        var outcome = await parking;
        Assert.Multiple(() =>
        {
            Assert.That(outcome.ReferStatus, Is.EqualTo(202));
            Assert.That(outcome.ReferResponse!.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7000"));
            Assert.That(outcome.Progress, Is.EqualTo(new[] { 100, 200 }), "NOTIFY 100 Trying, then the final 200 OK");
        });
        Assert.That(await aliceCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "bob's phone ended its call with alice (RFC 3891)");
        Assert.That(parkLeg.IsEnded, Is.False);
        var parked = lab.A.Park.Parked().Single();
        Assert.Multiple(() =>
        {
            Assert.That(parked.Orbit, Is.EqualTo("7000"));
            Assert.That(parked.Parker, Is.EqualTo("sip:alice@callpark.lab"));
            Assert.That(parked.Way, Is.EqualTo(ParkWay.ReferToPark));
            Assert.That(parked.TimeoutDue, Is.EqualTo(parked.Since + lab.Park.CallPickupTimeout).Within(TimeSpan.FromSeconds(1)));
        });
    }

    [Test]
    public async Task Way_1_to_a_party_without_Replaces_support_fails_with_420_in_the_final_NOTIFY_and_frees_the_orbit()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var (aliceCall, _) = await ConnectAsync(alice, bob);

        var outcome = await ParkByReferAsync(alice, aliceCall, "bob");

        Assert.That(outcome.ReferStatus, Is.EqualTo(202));
        Assert.That(outcome.StatusCode, Is.EqualTo(420), "bob refused Require: replaces instead of taking a second call");
        Assert.That(aliceCall.IsEnded, Is.False, "alice still has her call");
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
        Assert.That(bob.PendingIncoming, Is.Zero);
    }

    [Test]
    public async Task Way_1_with_a_Replaces_that_matches_no_call_ends_with_481_and_frees_the_orbit()
    {
        var lab = await StartLabAsync();
        var (alice, _) = await RegisteredAsync(lab, "alice", "bob");

        var referTo = new NameAddress(LabPhone.Aor("bob").WithHeader(HeaderNames.Replaces, new ReplacesHeader("no-such-call", "x", "y").ToString()));
        var outcome = await alice.Agent.ReferAsync(ParkUri, referTo).WaitAsync(Bound);

        Assert.That(outcome.ReferStatus, Is.EqualTo(202));
        Assert.That(outcome.StatusCode, Is.EqualTo(481));
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
    }

    [Test]
    public async Task Retrieve_by_transfer_out_the_parked_party_INVITEs_the_retriever_with_Replaces_and_the_park_leaves_both_calls()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (aliceCall, _) = await ConnectAsync(alice, bob);
        var parking = ParkByReferAsync(alice, aliceCall, "bob");
        var bobParkLeg = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp);
        Assert.That((await parking).Succeeded, Is.True);
        var transfer = FollowReferAsync(bobParkLeg, bob);

        var retrieving = carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab"));
        var carolParkLeg = (await retrieving).Call!;
        Assert.That(SessionDescription.Parse(carolParkLeg.RemoteSdp!).Media[0].Direction, Is.EqualTo(MediaDirection.Inactive), "carol is held silent while bob comes over");
        var swap = await carol.NextIncomingAsync();
        Assert.That(swap.Replaces, Is.SameAs(carolParkLeg));
        var carolWithBob = await swap.AnswerAsync(carol.Sdp);
        var (refer, _) = await transfer;
        var referTo = NameAddress.Parse(refer.Headers.Get(HeaderNames.ReferTo)!);
        var replacesAtCarol = ReplacesHeader.Parse(referTo.Uri.GetHeader(HeaderNames.Replaces)!);
        Assert.Multiple(() =>
        {
            Assert.That(referTo.Uri.WithoutHeaders(), Is.EqualTo(carolParkLeg.Dialog.RemoteTarget.WithoutHeaders()).Or.EqualTo(carol.Contact));
            Assert.That(replacesAtCarol, Is.EqualTo(new ReplacesHeader(carolParkLeg.CallId, carolParkLeg.Dialog.Id.LocalTag, carolParkLeg.Dialog.Id.RemoteTag)),
                "to-tag is carol's, from-tag the park's (RFC 3891 §3)");
        });

        Assert.That(await carolParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.Replaced), "carol swapped the park's leg for bob");
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the park hung up on bob after the transfer");
        Assert.That(carolWithBob.IsEnded, Is.False);
        Assert.That(lab.A.Park.Parked(), Is.Empty);
        Assert.That(lab.A.Park.ActiveBridges, Is.Zero, "nothing of the call is left at the park");
        Assert.That(lab.A.Metrics.Count("park_retrieves_total", ("how", "transfer")), Is.EqualTo(1));
    }

    [Test]
    public async Task Way_2_blind_transfer_to_park_answers_with_music_tells_the_parker_by_MESSAGE_and_a_retrieve_without_Replaces_bridges()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var dave = await RegisteredPhoneAsync(lab, "dave");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);

        var transfer = await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, $"bob reached the park: {transfer.StatusCode}");
        var (_, attempt) = await following;
        var bobParkLeg = attempt.Call!;
        Assert.That(SessionDescription.Parse(bobParkLeg.RemoteSdp!).Media[0].Direction, Is.EqualTo(MediaDirection.SendOnly));
        Assert.That(attempt.Response!.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7000"));
        var notice = await alice.NextMessageAsync();
        Assert.Multiple(() =>
        {
            Assert.That(notice.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7000"));
            Assert.That(notice.BodyText, Does.Contain("parked on orbit 7000").And.Contain("bob"));
            Assert.That(notice.Headers.Get(HeaderNames.ContentType), Does.StartWith("text/plain"));
        });
        await aliceCall.HangUpAsync();
        Assert.That(lab.A.Park.Parked().Single().Way, Is.EqualTo(ParkWay.BlindTransfer));

        var daveCall = (await dave.CallAsync(SipUri.Parse("sip:7000@callpark.lab"))).Call!;

        Assert.That(daveCall.RemoteSdp, Is.EqualTo(bob.Sdp), "dave got bob's media description: media flows directly");
        Assert.That(WithoutOrigin(bobParkLeg.RemoteSdp), Is.EqualTo(WithoutOrigin(dave.Sdp)), "bob was re-INVITEd with dave's offer (in the park's origin)");
        Assert.That(lab.A.Park.Parked(), Is.Empty, "the orbit is free at once");
        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 1);
        await daveCall.HangUpAsync().WaitAsync(Bound);
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "dave's BYE was passed on to bob");
    }

    [Test]
    public async Task Way_2_without_Referred_By_still_tells_the_transferor_whose_REFER_passed_the_pool()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);

        var transfer = await aliceCall.ReferAsync(new NameAddress(ParkUri)).WaitAsync(Bound); // no Referred-By, as baresip sends it

        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var (refer, attempt) = await following;
        Assert.That(refer.Headers.Contains(HeaderNames.ReferredBy), Is.False);
        Assert.That(attempt.IsSuccess, Is.True);
        var notice = await alice.NextMessageAsync();
        Assert.That(notice.BodyText, Does.Contain("parked on orbit 7000"));
        Assert.That(lab.A.Park.Parked().Single().Parker, Is.EqualTo("sip:alice@callpark.lab"));
        Assert.That(bob.PendingMessages, Is.Zero, "the parked party is not taken for its parker");
    }

    [Test]
    public async Task Directed_park_to_a_free_orbit_uses_it_and_to_an_occupied_one_is_refused_486()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (carol, dave) = await RegisteredAsync(lab, "carol", "dave");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var bobFollows = FollowReferAsync(bobCall, bob);

        var first = await aliceCall.ReferAsync(new NameAddress(SipUri.Parse("sip:7042@callpark.lab")), alice.Agent.Identity).WaitAsync(Bound);
        Assert.That(first.Succeeded, Is.True);
        await bobFollows;
        Assert.That((await alice.NextMessageAsync()).Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7042"));
        Assert.That(lab.A.Park.Parked().Single().Orbit, Is.EqualTo("7042"));

        var (carolCall, daveCall) = await ConnectAsync(carol, dave);
        var daveFollows = FollowReferAsync(daveCall, dave);
        var second = await carolCall.ReferAsync(new NameAddress(SipUri.Parse("sip:7042@callpark.lab")), carol.Agent.Identity).WaitAsync(Bound);
        Assert.That(second.StatusCode, Is.EqualTo(486));
        Assert.That((await daveFollows).Attempt.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("orbit 7042 is in use"));
    }

    [Test]
    public async Task When_every_orbit_is_taken_a_park_is_refused_480_no_free_orbit()
    {
        var lab = await StartLabAsync(orbitsA: "7000-7000");
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (carol, dave) = await RegisteredAsync(lab, "carol", "dave");
        await ParkBobByTransferAsync(alice, bob);
        var (carolCall, daveCall) = await ConnectAsync(carol, dave);
        var daveFollows = FollowReferAsync(daveCall, dave);

        var refused = await carolCall.ReferAsync(new NameAddress(ParkUri), carol.Agent.Identity).WaitAsync(Bound);

        Assert.That(refused.StatusCode, Is.EqualTo(480));
        Assert.That((await daveFollows).Attempt.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("no free orbit"));
        Assert.That(carolCall.IsEnded, Is.False, "the parker keeps its call");
    }

    [Test]
    public async Task A_transfer_out_the_parked_party_refuses_falls_back_to_the_bridge()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (aliceCall, _) = await ConnectAsync(alice, bob);
        var parking = ParkByReferAsync(alice, aliceCall, "bob");
        var bobParkLeg = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp);
        Assert.That((await parking).Succeeded, Is.True);
        var referRefused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bobParkLeg.OnRefer = async refer =>
        {
            await refer.RejectAsync(603);
            referRefused.TrySetResult();
        };

        var carolCall = (await carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab"))).Call!;
        await referRefused.Task.WaitAsync(Bound);
        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 1);

        Assert.That(WithoutOrigin(bobParkLeg.RemoteSdp), Is.EqualTo(WithoutOrigin(carol.Sdp)), "bob was re-INVITEd with carol's new offer (in the park's origin)");
        await WaitUntilAsync(() => WithoutOrigin(carolCall.RemoteSdp) == WithoutOrigin(bob.Sdp)); // the ACK with bob's answer is on its way to carol
        Assert.That(lab.A.Metrics.Count("park_retrieves_total", ("how", "bridge")), Is.EqualTo(1));
        await bobParkLeg.HangUpAsync().WaitAsync(Bound);
        Assert.That(await carolCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }

    [Test]
    public async Task Calling_an_empty_orbit_gets_404_with_a_Warning_naming_it()
    {
        var lab = await StartLabAsync();
        var carol = await RegisteredPhoneAsync(lab, "carol");

        var attempt = await carol.CallAsync(SipUri.Parse("sip:7005@callpark.lab"));

        Assert.That(attempt.StatusCode, Is.EqualTo(404));
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("orbit 7005 is empty"));
    }

    [Test]
    public async Task An_orbit_of_the_other_pool_is_retrieved_through_that_pool()
    {
        var lab = await StartLabAsync(bothPools: true);
        var erin = await lab.PhoneAsync("erin", lab.B!);
        var frank = await lab.PhoneAsync("frank", lab.B!, supportsReplaces: false);
        Assert.That((await erin.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await frank.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (erinCall, frankCall) = await ConnectAsync(erin, frank);
        var frankFollows = FollowReferAsync(frankCall, frank);
        Assert.That((await erinCall.ReferAsync(new NameAddress(ParkUri), erin.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        var frankParkLeg = (await frankFollows).Attempt.Call!;
        await erin.NextMessageAsync();
        Assert.That(lab.B!.Park.Parked().Single().Orbit, Is.EqualTo("7100"));

        var carolCall = (await carol.CallAsync(SipUri.Parse("sip:7100@callpark.lab"))).Call!;

        Assert.That(carolCall.RemoteSdp, Is.EqualTo(frank.Sdp));
        Assert.That(WithoutOrigin(frankParkLeg.RemoteSdp), Is.EqualTo(WithoutOrigin(carol.Sdp)));
        Assert.That(lab.B.Park.Parked(), Is.Empty);
    }

    [Test]
    public async Task A_parker_homed_on_the_other_pool_is_told_through_it_by_a_message_the_partner_takes_for_its_pools()
    {
        // The park service's MESSAGE to erin goes to pool-b signed (docs/design.md §11): unsigned, pool-b would challenge it.
        var lab = await StartLabAsync(bothPools: true);
        var erin = await lab.PhoneAsync("erin", lab.B!);
        Assert.That((await erin.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var alice = await lab.PhoneAsync("alice", lab.A, supportsReplaces: false);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var (erinCall, aliceCall) = await ConnectAsync(erin, alice);
        var aliceFollows = FollowReferAsync(aliceCall, alice);

        Assert.That((await erinCall.ReferAsync(new NameAddress(ParkUri), erin.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        await aliceFollows;
        var told = await erin.NextMessageAsync();

        Assert.That(lab.A.Park.Parked().Single().Orbit, Is.EqualTo("7000"));
        Assert.That(told.BodyText, Does.Contain("7000"));
    }

    [Test]
    public async Task A_parked_party_that_stops_answering_keepalives_is_dropped_and_the_parker_told()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        await ParkBobByTransferAsync(alice, bob);
        await bob.DisposeAsync(); // the phone vanishes without a BYE

        clock.Advance(lab.Park.KeepaliveInterval);
        await WaitUntilAsync(() => lab.A.Metrics.Requests(Sip.Transport.SipDirection.Out, SipMethods.Options) > 0);
        clock.Advance(lab.A.Settings.Transactions.T1 * 64); // Timer F: the OPTIONS is unanswered

        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("was lost"));
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
        Assert.That(lab.A.Metrics.Count("park_drops_total", ("reason", "keepalive")), Is.EqualTo(1));
    }

    [Test]
    public async Task Unpark_sends_BYE_to_the_parked_party_frees_the_orbit_and_tells_the_parker()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);

        Assert.That(await lab.A.Park.UnparkAsync(orbit), Is.True);

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("disconnected by an operator"));
        Assert.That(lab.A.Park.Parked(), Is.Empty);
        Assert.That(await lab.A.Park.UnparkAsync(orbit), Is.False, "an empty orbit cannot be unparked");
    }

    [Test]
    public async Task After_a_restart_on_the_same_database_every_journaled_park_dialog_gets_BYE_and_its_parker_a_MESSAGE()
    {
        var lab = await StartLabAsync(persistent: true);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);

        await lab.RestartAAsync(); // the old instance stops without a word to its parked calls: like a crash

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That(await lab.A.LeftoversTornDown.WaitAsync(Bound), Is.EqualTo(1));
        var notice = await alice.NextMessageAsync();
        Assert.That(notice.BodyText, Does.Contain("park server restarted"));
        Assert.That(notice.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo(orbit));
        Assert.That(lab.A.Park.Parked(), Is.Empty);
    }

    [Test]
    public async Task A_parked_party_hanging_up_frees_its_orbit()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (bobParkLeg, _) = await ParkBobByTransferAsync(alice, bob);

        await bobParkLeg.HangUpAsync().WaitAsync(Bound);

        await WaitUntilAsync(() => lab.A.Park.OrbitsInUse == 0);
        Assert.That(lab.A.Metrics.Count("park_drops_total", ("reason", "hangup")), Is.EqualTo(1));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private static async Task<(LabPhone, LabPhone)> RegisteredAsync(LabPools lab, string first, string second) =>
        (await RegisteredPhoneAsync(lab, first), await RegisteredPhoneAsync(lab, second));

    /// <summary>Way 1 from the parker's side: REFER to the park server naming its call with the party.</summary>
    private static Task<ReferOutcome> ParkByReferAsync(LabPhone parker, SipCall call, string party)
    {
        var d = call.Dialog; // the parker called: its tag is the from-tag, the party's the to-tag
        var replaces = new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag);
        var referTo = new NameAddress(LabPhone.Aor(party).WithHeader(HeaderNames.Replaces, replaces.ToString()));
        return parker.Agent.ReferAsync(ParkUri, referTo, parker.Agent.Identity).WaitAsync(Bound);
    }

    /// <summary>Way 2: alice calls bob and blind-transfers him to the park; returns bob's leg with the park and the orbit.</summary>
    private static async Task<(SipCall BobParkLeg, string Orbit)> ParkBobByTransferAsync(LabPhone alice, LabPhone bob)
    {
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);
        var transfer = await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var (_, attempt) = await following;
        var notice = await alice.NextMessageAsync();
        await aliceCall.HangUpAsync().WaitAsync(Bound);
        return (attempt.Call!, notice.Headers.Get(ParkApplication.OrbitHeader)!);
    }

    /// <summary>Makes the phone follow the next REFER in <paramref name="call"/> as a transferee; yields the REFER and the new call.</summary>
    private static Task<(SipRequest Refer, CallAttempt Attempt)> FollowReferAsync(SipCall call, LabPhone phone) => new ReferFollower(call, phone).NextAsync();

    /// <summary>Follows every REFER in a call as a transferee, in order; <see cref="NextAsync"/> yields each REFER and the call it made.</summary>
    private sealed class ReferFollower
    {
        private readonly System.Threading.Channels.Channel<(SipRequest, CallAttempt)> _followed = System.Threading.Channels.Channel.CreateUnbounded<(SipRequest, CallAttempt)>();

        public ReferFollower(SipCall call, LabPhone phone)
        {
            call.OnRefer = async refer => await _followed.Writer.WriteAsync((refer.Request, await refer.FollowAsync(phone.Sdp)));
        }

        public Task<(SipRequest Refer, CallAttempt Attempt)> NextAsync() => _followed.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
    }

}
