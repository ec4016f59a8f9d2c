using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>Orbits belong to the pool's domain: the same number in another domain is not this pool's orbit.</summary>
public sealed partial class ParkTests
{
    [TestCase("sip:7000@example.com")]
    [TestCase("sip:7000@callpark.lab.example.com")]
    public async Task A_retrieve_of_an_orbit_in_another_domain_is_refused_403_and_the_call_stays_parked(string target)
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);
        Assert.That((await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        var (_, parked) = await following;
        Assert.That(parked.Response!.Headers.Get(SipCallPark.Pool.Park.ParkApplication.OrbitHeader), Is.EqualTo("7000"));
        // bob's 200 comes before the park has his ACK: the call counts as parked from then on.
        await WaitUntilAsync(() => lab.A.Park.Parked().Any(p => p.Orbit == "7000"));

        var attempt = await carol.CallAsync(SipUri.Parse(target));

        Assert.Multiple(() =>
        {
            Assert.That(attempt.StatusCode, Is.EqualTo(403), attempt.ToString());
            Assert.That(attempt.Response!.Headers.Get(HeaderNames.Warning), Does.Contain("is not served here"));
            Assert.That(lab.A.Park.Parked().Select(p => p.Orbit), Is.EqualTo(new[] { "7000" }), "bob is still parked");
        });
    }

    [Test]
    public async Task A_retrieve_without_credentials_is_challenged_and_the_call_stays_parked()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var (aliceCall, bobCall) = await ConnectAsync(alice, bob);
        var following = FollowReferAsync(bobCall, bob);
        Assert.That((await aliceCall.ReferAsync(new NameAddress(ParkUri), alice.Agent.Identity).WaitAsync(Bound)).Succeeded, Is.True);
        await following;
        await WaitUntilAsync(() => lab.A.Park.Parked().Any(p => p.Orbit == "7000"));
        var stranger = await lab.PhoneAsync("carol", lab.A, withoutPassword: true);

        var attempt = await stranger.CallAsync(SipUri.Parse("sip:7000@callpark.lab"));

        Assert.That(attempt.StatusCode, Is.EqualTo(407), attempt.ToString());
        Assert.That(lab.A.Park.Parked().Select(p => p.Orbit), Is.EqualTo(new[] { "7000" }));
    }
}
