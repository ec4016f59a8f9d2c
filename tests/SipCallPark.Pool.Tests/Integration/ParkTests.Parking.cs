using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Integration;

public sealed partial class ParkTests
{
    /// <summary>
    /// Regression (found by tools/SipCallPark.ParkLoad): the orbit's number is out in the 202 (way 1) or the 200 (way 2)
    /// before the park's state says Parked, and a retriever calling it in that window got 404 "orbit is empty".
    /// </summary>
    [Test]
    public async Task A_retrieve_while_the_orbit_is_still_being_parked_waits_for_the_park_and_is_not_told_the_orbit_is_empty()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (aliceCall, _) = await ConnectAsync(alice, bob);
        var parking = ParkByReferAsync(alice, aliceCall, "bob");
        var parkInvite = await bob.NextIncomingAsync(); // orbit 7000 is taken; bob has not answered the park yet

        var retrieving = carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab"));
        // The park holds carol's INVITE (its transaction sends 100 Trying after 200 ms of silence) instead of a 404.
        await WaitUntilAsync(() => retrieving.IsCompleted
                                   || carol.Responses.Any(r => r.StatusCode == 100 && r.CSeq.Method == SipMethods.Invite && r.CallId != aliceCall.CallId));
        Assert.That(retrieving.IsCompleted, Is.False, () => $"carol was answered before bob's park completed: {retrieving.Result}");
        await parkInvite.AnswerAsync(bob.Sdp);

        Assert.That((await parking).StatusCode, Is.EqualTo(200), "bob is parked");
        var attempt = await retrieving;
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        Assert.That(attempt.Response!.Headers.Get(Pool.Park.ParkApplication.OrbitHeader), Is.EqualTo("7000"));
    }

    [Test]
    public async Task The_parks_message_reaches_the_parkers_phone_addressed_to_the_parkers_address_of_record()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");

        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);
        Assert.That((await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        await following;
        var notice = await alice.NextMessageAsync();

        Assert.Multiple(() =>
        {
            Assert.That(notice.RequestUri.Port, Is.EqualTo(alice.Contact.Port), "sent to where alice's phone is");
            Assert.That(notice.To.Uri.ToString(), Is.EqualTo("sip:alice@callpark.lab"), "To names alice, not her phone's contact");
            Assert.That(notice.To.Tag, Is.Null);
        });
    }
}
