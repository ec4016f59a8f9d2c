using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>Attended park (docs/design.md §5 "Attended park"): the parker calls the park, hears the orbit, transfers with Replaces.</summary>
public sealed partial class ParkTests
{
    /// <summary>The parker's call to the park service: the reservation call and the orbit the 200 names.</summary>
    private static async Task<(SipCall ParkCall, string Orbit)> ReserveAsync(LabPhone parker)
    {
        var attempt = await parker.CallAsync(ParkUri);
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        return (attempt.Call!, attempt.Response!.Headers.Get(ParkApplication.OrbitHeader)!);
    }

    /// <summary>The Refer-To of an attended transfer to the park call: its remote target with Replaces naming it (RFC 5589 §7).</summary>
    private static NameAddress AttendedReferTo(SipCall parkCall)
    {
        var d = parkCall.Dialog; // the parker called: its tag is the from-tag, the park's the to-tag
        var replaces = new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag);
        return new NameAddress(d.RemoteTarget.WithHeader(HeaderNames.Replaces, replaces.ToString()));
    }

    [Test]
    public async Task Attended_park_names_the_reserved_orbit_to_the_parker_and_its_transfer_with_Replaces_moves_the_held_party_there()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);

        var (parkCall, orbit) = await ReserveAsync(alice);

        Assert.That(orbit, Is.EqualTo("7000"));
        var reserved = await alice.NextMessageAsync();
        Assert.That(reserved.BodyText, Does.Contain("Orbit 7000 reserved"));
        Assert.That(reserved.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7000"));
        Assert.That((lab.A.Park.Reservations, lab.A.Park.Parked().Count), Is.EqualTo((1, 0)), "reserved, nobody parked yet");

        var bobFollows = FollowReferAsync(bobCall, bob);
        var transfer = await aliceCall.ReferAsync(AttendedReferTo(parkCall)).WaitAsync(Bound);

        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var (refer, attempt) = await bobFollows;
        Assert.That(attempt.Response!.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7000"), "bob's INVITE landed in the reserved orbit");
        Assert.That(await parkCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp), "the park ended the call bob replaced");
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("parked on orbit 7000").And.Contain("bob"));
        var parked = lab.A.Park.Parked().Single();
        Assert.Multiple(() =>
        {
            Assert.That((parked.Orbit, parked.Parker), Is.EqualTo(("7000", "sip:alice@callpark.lab")));
            Assert.That(parked.ParkedParty, Does.Contain("bob"));
            Assert.That(lab.A.Park.Reservations, Is.Zero);
            Assert.That(lab.A.Park.OrbitsInUse, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_reservation_whose_parker_hangs_up_frees_its_orbit()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var (parkCall, _) = await ReserveAsync(alice);
        Assert.That(lab.A.Park.OrbitsInUse, Is.EqualTo(1));

        await parkCall.HangUpAsync().WaitAsync(Bound);

        await WaitUntilAsync(() => lab.A.Park.OrbitsInUse == 0 && lab.A.Park.Reservations == 0);
        Assert.That(lab.A.Park.Parked(), Is.Empty);
    }

    [Test]
    public async Task A_reservation_left_unused_ends_with_a_BYE_after_the_completion_timeout_and_frees_its_orbit()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock);
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var (parkCall, _) = await ReserveAsync(alice);

        clock.Advance(lab.Park.CompletionTimeout - TimeSpan.FromSeconds(1));
        Assert.That(parkCall.IsEnded, Is.False, "still reserved just before the bound");
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.That(await parkCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That((lab.A.Park.OrbitsInUse, lab.A.Park.Reservations), Is.EqualTo((0, 0)));
    }

    [Test]
    public async Task A_REFER_whose_Replaces_names_another_users_reservation_is_refused_403_and_moves_nobody()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var (carolsReservation, orbit) = await ReserveAsync(carol);
        var bobGotRefer = false;
        bobCall.OnRefer = async refer =>
        {
            bobGotRefer = true;
            await refer.RejectAsync(500);
        };

        var byContact = await aliceCall.ReferAsync(AttendedReferTo(carolsReservation)).WaitAsync(Bound);
        var d = carolsReservation.Dialog;
        var byAddress = await aliceCall.ReferAsync(new NameAddress(ParkUri.WithHeader(HeaderNames.Replaces,
            new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()))).WaitAsync(Bound);

        Assert.That((byContact.ReferStatus, byAddress.ReferStatus), Is.EqualTo((403, 403)));
        Assert.That(byAddress.ReferResponse!.Headers.Get(HeaderNames.Warning), Does.Contain("no attended park of yours"));
        Assert.That(bobGotRefer, Is.False, "the pool answered the REFER itself");
        Assert.That(carolsReservation.IsEnded, Is.False);
        Assert.That((lab.A.Park.Reservations, lab.A.Park.Parked().Count, orbit), Is.EqualTo((1, 0, "7000")));
    }

    [Test]
    public async Task An_INVITE_with_Replaces_naming_a_parked_call_its_own_reservation_or_no_call_is_refused()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (carol, dave) = await RegisteredAsync(lab, "carol", "dave");
        var (bobParkLeg, _) = await ParkBobByTransferAsync(alice, bob);
        var (carolsReservation, _) = await ReserveAsync(carol);

        async Task<int> InviteReplacingAsync(LabPhone phone, SipCall call, string? callId = null)
        {
            var id = call.Dialog.Id;
            var attempt = await phone.Agent.CallAsync(ParkUri, new CallOptions
            {
                Sdp = phone.Sdp, Replaces = new ReplacesHeader(callId ?? id.CallId, id.RemoteTag, id.LocalTag), // the park's tag is the to-tag
            }).WaitAsync(Bound);
            return attempt.StatusCode;
        }

        Assert.That(await InviteReplacingAsync(dave, bobParkLeg), Is.EqualTo(403), "a parked call is picked up by its orbit, not taken by Replaces");
        Assert.That(await InviteReplacingAsync(carol, carolsReservation), Is.EqualTo(403), "the parker cannot park itself into its reservation");
        Assert.That(await InviteReplacingAsync(dave, carolsReservation, "no-such-call"), Is.EqualTo(481));
        Assert.That(bobParkLeg.IsEnded || carolsReservation.IsEnded, Is.False);
        Assert.That(lab.A.Park.Parked().Single().Parker, Is.EqualTo("sip:alice@callpark.lab"));
    }
}
