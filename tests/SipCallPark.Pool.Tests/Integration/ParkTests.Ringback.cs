using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Sdp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>The timeout (docs/design.md §5 "Timeout"): the park app calls the parker itself and joins the parked party to it.</summary>
public sealed partial class ParkTests
{
    private const string NoRefer = "INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, INFO";

    [Test]
    public async Task At_the_timeout_the_park_calls_the_parker_as_the_parked_party_and_an_answer_joins_them_by_transfer_when_both_phones_can()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);
        var transfer = FollowReferAsync(bobParkLeg, bob);

        clock.Advance(lab.Park.CallPickupTimeout);

        var ringback = await alice.NextIncomingAsync();
        var invite = ringback.Request;
        var offer = SessionDescription.Parse(ringback.Offer!);
        Assert.Multiple(() =>
        {
            Assert.That(invite.From.Uri.WithoutHeaders().ToString(), Is.EqualTo("sip:bob@callpark.lab"), "the parker sees who is coming back");
            Assert.That(invite.To.Uri.ToString(), Is.EqualTo("sip:alice@callpark.lab"), "To is the parker's address of record");
            Assert.That(invite.Headers.Get("Alert-Info"), Is.EqualTo(ParkApplication.RingbackAlertInfo));
            Assert.That(invite.Headers.Get("Call-Info"), Does.Contain($"orbit={orbit}").And.Contain("park=ringback"));
            Assert.That(invite.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo(orbit));
            Assert.That(ringback.ReferredBy, Is.Null, "the park places this call itself; no REFER made it");
            Assert.That(offer.GetEffectiveDirection(offer.Media[0]), Is.EqualTo(MediaDirection.Inactive), "held silent until joined");
            Assert.That(lab.A.Park.Parked().Single().State, Is.EqualTo("RingingBack"));
        });
        var aliceParkLeg = await ringback.AnswerAsync(alice.Sdp);
        var swap = await alice.NextIncomingAsync();
        Assert.That(swap.Replaces, Is.SameAs(aliceParkLeg), "bob's INVITE replaces the park's call with alice");
        var aliceWithBob = await swap.AnswerAsync(alice.Sdp);
        var (refer, _) = await transfer;

        var replaces = ReplacesHeader.Parse(NameAddress.Parse(refer.Headers.Get(HeaderNames.ReferTo)!).Uri.GetHeader(HeaderNames.Replaces)!);
        Assert.That(replaces, Is.EqualTo(new ReplacesHeader(aliceParkLeg.CallId, aliceParkLeg.Dialog.Id.LocalTag, aliceParkLeg.Dialog.Id.RemoteTag)));
        Assert.That(await aliceParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.Replaced));
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the park left the call after the transfer");
        Assert.That(aliceWithBob.IsEnded, Is.False);
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("returned to you"));
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
        Assert.That(lab.A.Metrics.Count("park_timeouts_total"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_parked_phone_whose_Allow_lacks_REFER_is_bridged_to_the_parker_who_answers_the_ringback_and_never_gets_a_REFER()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, _) = await ConnectAsync(alice, bob);
        var parking = ParkByReferAsync(alice, aliceCall, "bob");
        var bobParkLeg = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp, ok =>
        {
            ok.Headers.Remove(HeaderNames.Allow);
            ok.Headers.Add(HeaderNames.Allow, NoRefer);
        });
        Assert.That((await parking).Succeeded, Is.True);
        var atBob = new ConcurrentQueue<string>();
        bobParkLeg.RequestReceived += request => atBob.Enqueue(request.Method);

        clock.Advance(lab.Park.CallPickupTimeout);

        var ringback = await alice.NextIncomingAsync();
        Assert.That(ringback.Request.From.Uri.User, Is.EqualTo("bob"));
        var aliceParkLeg = await ringback.AnswerAsync(alice.Sdp);
        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 1);
        await WaitUntilAsync(() => WithoutOrigin(aliceParkLeg.RemoteSdp) == WithoutOrigin(bob.Sdp)); // the ACK with bob's answer
        Assert.Multiple(() =>
        {
            Assert.That(WithoutOrigin(bobParkLeg.RemoteSdp), Is.EqualTo(WithoutOrigin(alice.Sdp)), "bob was re-INVITEd with alice's offer");
            Assert.That(atBob, Does.Not.Contain(SipMethods.Refer), "a phone that does not allow REFER is never sent one");
            Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
        });
        await aliceParkLeg.HangUpAsync().WaitAsync(Bound);
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "alice's BYE was passed on to bob");
        Assert.That(atBob, Does.Not.Contain(SipMethods.Refer));
    }

    [Test]
    public async Task An_unanswered_ringback_is_cancelled_at_RingbackTimeout_and_counted_and_after_the_last_one_the_park_calls_OnTimeoutUri_and_bridges_it()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var park = new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest, MaxCallPickupAttempts = 2, OnTimeoutUri = "sip:dave@callpark.lab" };
        var lab = await StartLabAsync(time: clock, park: park);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var dave = await RegisteredPhoneAsync(lab, "dave");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            clock.Advance(park.CallPickupTimeout);
            var ringing = await alice.NextIncomingAsync();
            await ringing.RingAsync();
            clock.Advance(park.RingbackTimeout);
            await ringing.Cancelled.WaitAsync(Bound);
            if (attempt == 1) await WaitUntilAsync(() => lab.A.Park.Parked().SingleOrDefault() is { State: "Parked", Attempts: 1 });
        }
        var atDave = await dave.NextIncomingAsync();
        Assert.Multiple(() =>
        {
            Assert.That(atDave.Request.From.Uri.User, Is.EqualTo("bob"));
            Assert.That(atDave.Request.Headers.Get("Call-Info"), Does.Contain($"orbit={orbit}").And.Contain("park=fallback"));
            Assert.That(atDave.ReferredBy, Is.Null);
        });
        var daveParkLeg = await atDave.AnswerAsync(dave.Sdp);

        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 1);
        Assert.That(WithoutOrigin(bobParkLeg.RemoteSdp), Is.EqualTo(WithoutOrigin(dave.Sdp)), "bob (no Replaces) was bridged to dave");
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("transferred to sip:dave@callpark.lab"));
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
        Assert.That(lab.A.Metrics.Count("park_timeouts_total"), Is.EqualTo(2));
        Assert.That(lab.A.Metrics.Count("park_fallbacks_total", ("to", "uri")), Is.EqualTo(1));
        await daveParkLeg.HangUpAsync().WaitAsync(Bound);
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }

    [Test]
    public async Task A_parker_who_declines_the_last_ringback_gets_no_more_calls_and_the_parked_party_gets_BYE()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (bobParkLeg, _) = await ParkBobByTransferAsync(alice, bob);

        clock.Advance(lab.Park.CallPickupTimeout);
        await (await alice.NextIncomingAsync()).RejectAsync(603);

        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("was disconnected"));
        Assert.That(lab.A.Park.OrbitsInUse, Is.Zero);
        Assert.That(lab.A.Metrics.Count("park_fallbacks_total", ("to", "disconnect")), Is.EqualTo(1));
        Assert.That(alice.PendingIncoming, Is.Zero);
    }

    [Test]
    public async Task A_parked_party_hanging_up_while_its_ringback_rings_cancels_the_ringback()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (bobParkLeg, _) = await ParkBobByTransferAsync(alice, bob);

        clock.Advance(lab.Park.CallPickupTimeout);
        var ringing = await alice.NextIncomingAsync();
        await ringing.RingAsync();
        await bobParkLeg.HangUpAsync().WaitAsync(Bound);

        await ringing.Cancelled.WaitAsync(Bound);
        await WaitUntilAsync(() => lab.A.Park.OrbitsInUse == 0);
    }

    [Test]
    public async Task The_ringback_calls_the_parker_at_its_registered_contact_never_at_an_address_the_parked_call_named()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        using var elsewhere = new RawSipSocket();
        // bob parks himself naming alice as the parker, with a host, port and maddr that point at another socket.
        var claimed = NameAddress.Parse($"<sip:alice@callpark.lab:{elsewhere.Port};maddr=127.0.0.1;transport=udp>");
        var parked = await bob.Agent.CallAsync(ParkUri, new CallOptions { Sdp = bob.Sdp, ReferredBy = claimed }).WaitAsync(Bound);
        Assert.That(parked.IsSuccess, Is.True, parked.ToString());
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("parked on orbit"), "told at her contact; the timeout runs from here");

        clock.Advance(lab.Park.CallPickupTimeout);

        var ringback = await alice.NextIncomingAsync();
        Assert.That(ringback.Request.RequestUri.Port, Is.EqualTo(alice.Contact.Port), "rung at alice's registered contact");
        Assert.That(ringback.Request.Headers.Get("Alert-Info"), Is.EqualTo(ParkApplication.RingbackAlertInfo));
        await ringback.RejectAsync(486);
        Assert.That(await parked.Call!.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That(await elsewhere.RequestAsync(TimeSpan.FromMilliseconds(300)), Is.Null, "nothing was sent to the address in Referred-By");
    }

    [Test]
    public async Task A_parker_homed_on_the_other_pool_is_rung_back_through_that_pool()
    {
        // The ringback goes to pool-b signed (docs/design.md §11), like the park's MESSAGE; pool-b forwards it to erin.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The clock jumps the whole pickup timeout at once: with the lab's 100 ms probes that step would replay 900
        // ticks per pool, and the flood of probes loses the ringback's datagram on loopback (LabPools.FastHealth).
        var lab = await StartLabAsync(bothPools: true, time: clock,
            health: new HealthMonitorOptions { Interval = TimeSpan.FromSeconds(30), DownAfter = TimeSpan.FromMinutes(5) });
        var erin = await lab.PhoneAsync("erin", lab.B!);
        Assert.That((await erin.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var alice = await lab.PhoneAsync("alice", lab.A, supportsReplaces: false);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        var (erinCall, aliceCall) = await ConnectAsync(erin, alice);
        var aliceFollows = FollowReferAsync(aliceCall, alice);
        Assert.That((await erinCall.ReferAsync(new NameAddress(ParkUri), erin.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        var aliceParkLeg = (await aliceFollows).Attempt.Call!;
        await erin.NextMessageAsync();
        await erinCall.HangUpAsync().WaitAsync(Bound);

        clock.Advance(lab.Park.CallPickupTimeout);

        var ringback = await erin.NextIncomingAsync();
        Assert.That(ringback.Request.From.Uri.User, Is.EqualTo("alice"));
        Assert.That(ringback.Request.Headers.Get("Alert-Info"), Is.EqualTo(ParkApplication.RingbackAlertInfo));
        var erinParkLeg = await ringback.AnswerAsync(erin.Sdp);
        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 1);
        await erinParkLeg.HangUpAsync().WaitAsync(Bound);
        Assert.That(await aliceParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }
}
