using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>Park keys and feature codes (docs/design.md §5 "Park keys"): directed park by blind transfer, *71, *72, and their abuse.</summary>
public sealed partial class ParkTests
{
    private static NameAddress Dialled(string user) => new(SipUri.Parse($"sip:{user}@callpark.lab"));

    [Test]
    public async Task A_blind_transfer_to_an_empty_orbit_without_Referred_By_parks_there_for_the_transferor()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);

        var transfer = await aliceCall.ReferAsync(Dialled("7005")).WaitAsync(Bound); // no Referred-By, as baresip sends it

        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var (refer, attempt) = await following;
        Assert.That(refer.Headers.Contains(HeaderNames.ReferredBy), Is.False);
        Assert.That(attempt.Response!.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7005"));
        // The MESSAGE leaves once the call is parked (bob's ACK in).
        Assert.That((await alice.NextMessageAsync()).Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7005"));
        var parked = lab.A.Park.Parked().Single();
        Assert.Multiple(() =>
        {
            Assert.That(parked.Orbit, Is.EqualTo("7005"));
            Assert.That(parked.Parker, Is.EqualTo("sip:alice@callpark.lab"), "the transferor whose REFER passed the pool parked it");
            Assert.That(parked.ParkedParty, Does.Contain("bob"));
        });
    }

    [Test]
    public async Task A_blind_transfer_without_Referred_By_into_an_occupied_orbit_is_refused_486_naming_it_and_retrieves_nothing()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (carol, dave) = await RegisteredAsync(lab, "carol", "dave");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var bobFollows = FollowReferAsync(bobCall, bob);
        Assert.That((await aliceCall.ReferAsync(Dialled("7042")).WaitAsync(Bound)).Succeeded, Is.True);
        await bobFollows;
        await alice.NextMessageAsync(); // bob is parked
        var (carolCall, daveCall) = await ConnectAsync(carol, dave);
        var daveFollows = FollowReferAsync(daveCall, dave);

        var second = await carolCall.ReferAsync(Dialled("7042")).WaitAsync(Bound);

        Assert.That(second.StatusCode, Is.EqualTo(486), "dave's INVITE to 7042 was a park, not a retrieve of bob");
        Assert.That((await daveFollows).Attempt.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("orbit 7042 is in use"));
        Assert.That(carolCall.IsEnded, Is.False, "the transferor keeps its call");
        var parked = lab.A.Park.Parked().Single();
        Assert.That((parked.Orbit, parked.Parker), Is.EqualTo(("7042", "sip:alice@callpark.lab")), "bob is still parked, for alice");
        Assert.That(lab.A.Park.ActiveBridges, Is.Zero);
    }

    [Test]
    public async Task Star_71_with_an_orbit_parks_there_and_star_72_with_it_picks_the_call_up()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);

        var transfer = await aliceCall.ReferAsync(Dialled("*717031")).WaitAsync(Bound);

        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        Assert.That((await following).Attempt.Response!.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7031"));
        await alice.NextMessageAsync(); // bob is parked
        Assert.That(lab.A.Park.Parked().Single().Orbit, Is.EqualTo("7031"));
        Assert.That(lab.A.Park.Parked().Single().Parker, Is.EqualTo("sip:alice@callpark.lab"));

        var empty = await carol.CallAsync(SipUri.Parse("sip:*727032@callpark.lab"));
        Assert.That(empty.StatusCode, Is.EqualTo(404));
        Assert.That(empty.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("orbit 7032 is empty"));
        var pickUp = await carol.CallAsync(SipUri.Parse("sip:*727031@callpark.lab"));
        Assert.That(pickUp.IsSuccess, Is.True, $"{pickUp.StatusCode}");
        Assert.That(lab.A.Park.Parked(), Is.Empty, "the orbit is free once picked up");
    }

    [Test]
    public async Task A_feature_code_with_no_orbit_after_it_is_refused_whether_dialled_or_transferred_to()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");

        Assert.That((await carol.CallAsync(SipUri.Parse("sip:*71@callpark.lab"))).StatusCode, Is.EqualTo(484));
        Assert.That((await carol.CallAsync(SipUri.Parse("sip:*71abc@callpark.lab"))).StatusCode, Is.EqualTo(404));
        Assert.That((await carol.CallAsync(SipUri.Parse("sip:*717000x@callpark.lab"))).StatusCode, Is.EqualTo(404));
        var outOfRange = await carol.CallAsync(SipUri.Parse("sip:*729999@callpark.lab"));
        Assert.That(outOfRange.StatusCode, Is.EqualTo(404));
        Assert.That(outOfRange.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("no orbit 9999"));

        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var garbage = await aliceCall.ReferAsync(Dialled("*71hello")).WaitAsync(Bound);
        Assert.That(garbage.ReferStatus, Is.EqualTo(404), "the pool answers the REFER itself");
        Assert.That(garbage.ReferResponse!.Headers.Get(HeaderNames.Warning), Does.Contain("is not an orbit number"));
        Assert.That(aliceCall.IsEnded || bobCall.IsEnded, Is.False);
        Assert.That(lab.A.Park.Parked(), Is.Empty);
    }

    [Test]
    public async Task A_transfer_into_an_orbit_of_the_other_pool_is_refused_403_before_the_transferee_moves()
    {
        var lab = await StartLabAsync(bothPools: true);
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var bobGotRefer = false;
        bobCall.OnRefer = async refer =>
        {
            bobGotRefer = true;
            await refer.RejectAsync(500);
        };

        foreach (var target in new[] { "7105", "*717105" })
        {
            var refused = await aliceCall.ReferAsync(Dialled(target)).WaitAsync(Bound);
            Assert.That(refused.ReferStatus, Is.EqualTo(403), target);
            Assert.That(refused.ReferResponse!.Headers.Get(HeaderNames.Warning), Does.Contain("orbit 7105 is pool-b's"));
        }
        Assert.That(bobGotRefer, Is.False, "the REFER never reached bob");
        Assert.That(lab.A.Park.Parked().Concat(lab.B!.Park.Parked()), Is.Empty);
    }

    [Test]
    public async Task A_transfer_to_the_park_whose_Refer_To_carries_headers_is_refused_403()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, _) = await ConnectAsync(alice, bob);

        // The transferee would copy the Referred-By into its INVITE and name carol the parker.
        var forged = SipUri.Parse("sip:7005@callpark.lab").WithHeader(HeaderNames.ReferredBy, "<sip:carol@callpark.lab>");
        var refused = await aliceCall.ReferAsync(new NameAddress(forged)).WaitAsync(Bound);

        Assert.That(refused.ReferStatus, Is.EqualTo(403));
        Assert.That(refused.ReferResponse!.Headers.Get(HeaderNames.Warning), Does.Contain("may not carry headers"));
        Assert.That(lab.A.Park.Parked(), Is.Empty);
    }

    [Test]
    public async Task A_transfer_to_an_orbit_number_of_a_foreign_domain_or_of_no_pool_parks_nothing()
    {
        var lab = await StartLabAsync();
        var (alice, bob) = await RegisteredAsync(lab, "alice", "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var follower = new ReferFollower(bobCall, bob);

        var foreign = await aliceCall.ReferAsync(new NameAddress(SipUri.Parse("sip:7005@evil.example"))).WaitAsync(Bound);
        Assert.That(foreign.StatusCode, Is.EqualTo(403), "bob's INVITE to another domain is not relayed");
        await follower.NextAsync();
        var noPool = await aliceCall.ReferAsync(Dialled("7500")).WaitAsync(Bound);
        Assert.That(noPool.StatusCode, Is.EqualTo(404), "7500 is no orbit and no user");
        await follower.NextAsync();

        Assert.That(lab.A.Park.Parked(), Is.Empty);
        Assert.That(aliceCall.IsEnded, Is.False);
    }
}
