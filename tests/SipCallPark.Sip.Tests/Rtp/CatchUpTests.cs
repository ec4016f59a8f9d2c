using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

public class CatchUpTests
{
    [Test]
    public void On_time_one_packet_is_due() =>
        Assert.That(CatchUp.Plan(nextTick: 10, currentTick: 10, maxBurst: 3), Is.EqualTo(new CatchUp(0, 1)));

    [Test]
    public void Before_its_tick_nothing_is_due() =>
        Assert.That(CatchUp.Plan(nextTick: 11, currentTick: 10, maxBurst: 3), Is.EqualTo(new CatchUp(0, 0)));

    [Test]
    public void A_short_delay_is_caught_up_in_full() =>
        Assert.That(CatchUp.Plan(nextTick: 8, currentTick: 10, maxBurst: 3), Is.EqualTo(new CatchUp(0, 3)));

    [Test]
    public void A_long_stall_sends_at_most_the_burst_and_skips_the_rest() =>
        Assert.That(CatchUp.Plan(nextTick: 1, currentTick: 50, maxBurst: 3), Is.EqualTo(new CatchUp(47, 3)));
}
