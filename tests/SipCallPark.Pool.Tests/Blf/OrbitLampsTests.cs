using SipCallPark.Pool.Blf;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Blf;

[TestFixture]
public sealed class OrbitLampsTests
{
    private static readonly NameAddress Bob = NameAddress.Parse("<sip:bob@callpark.lab>");

    private static OrbitChange Change(OrbitStatus status, string? callId) => new("7000", status, Bob, Bob, callId, DateTimeOffset.UnixEpoch);

    [Test]
    public void A_park_lights_the_lamp_and_its_free_puts_it_out_each_raising_one_change()
    {
        var lamps = new OrbitLamps();
        var changes = new List<string>();
        lamps.Changed += changes.Add;

        lamps.OnOrbitChanged(Change(OrbitStatus.Parked, "call-1"));
        var lit = lamps.Get("7000");
        lamps.OnOrbitChanged(Change(OrbitStatus.Free, "call-1"));

        Assert.That(lit.Status, Is.EqualTo(OrbitStatus.Parked));
        Assert.That(lamps.Get("7000").Status, Is.EqualTo(OrbitStatus.Free));
        Assert.That(changes, Is.EqualTo(new[] { "7000", "7000" }));
    }

    [Test]
    public void The_same_state_twice_raises_no_second_change()
    {
        var lamps = new OrbitLamps();
        var changes = 0;
        lamps.Changed += _ => changes++;

        lamps.OnOrbitChanged(Change(OrbitStatus.Parked, "call-1"));
        lamps.OnOrbitChanged(Change(OrbitStatus.Parked, "call-1"));
        lamps.OnOrbitChanged(Change(OrbitStatus.Free, "call-1"));
        lamps.OnOrbitChanged(Change(OrbitStatus.Free, "call-1"));

        Assert.That(changes, Is.EqualTo(2));
    }

    [Test]
    public void A_late_free_for_a_call_that_no_longer_holds_the_orbit_leaves_the_new_calls_lamp_on()
    {
        var lamps = new OrbitLamps();
        lamps.OnOrbitChanged(Change(OrbitStatus.Parked, "call-2"));

        lamps.OnOrbitChanged(Change(OrbitStatus.Free, "call-1"));
        lamps.OnOrbitChanged(Change(OrbitStatus.Free, null));

        Assert.That(lamps.Get("7000"), Is.EqualTo(new OrbitLamp("7000", OrbitStatus.Parked, Bob, "call-2")));
        Assert.That(lamps.Occupied().Select(l => l.Orbit), Is.EqualTo(new[] { "7000" }));
    }
}
