using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

public class RtpPortRangeTests
{
    [Test]
    public void Ports_are_even_and_handed_out_round_robin()
    {
        var range = new RtpPortRange(40000, 40005);

        Assert.That(range.Capacity, Is.EqualTo(3));
        Assert.That(new[] { range.Acquire(), range.Acquire() }, Is.EqualTo(new[] { 40000, 40002 }));
        range.Release(40000);
        Assert.That(range.Acquire(), Is.EqualTo(40004));
        Assert.That(range.Acquire(), Is.EqualTo(40000));
        Assert.That(range.InUse, Is.EqualTo(3));
    }

    [Test]
    public void An_even_last_port_has_no_RTCP_partner_and_is_not_used() =>
        Assert.That(new RtpPortRange(40000, 40004).Capacity, Is.EqualTo(2));

    [Test]
    public void When_every_pair_is_taken_acquiring_says_so_with_the_range()
    {
        var range = new RtpPortRange(40000, 40003);
        range.Acquire();
        range.Acquire();

        var e = Assert.Throws<RtpPortsExhaustedException>(() => range.Acquire());

        Assert.That(e!.Message, Does.Contain("40000-40003").And.Contain("all 2 port pairs are in use"));
    }

    [Test]
    public void Releasing_twice_frees_the_port_once()
    {
        var range = new RtpPortRange(40000, 40003);
        var port = range.Acquire();
        range.Release(port);
        range.Release(port);
        Assert.That(range.InUse, Is.Zero);
    }

    [TestCase(40001, 40010)]
    [TestCase(40000, 40000)]
    [TestCase(80, 1000)]
    public void An_unusable_range_is_refused(int first, int last) =>
        Assert.That(() => new RtpPortRange(first, last), Throws.InstanceOf<ArgumentException>());

    [Test]
    public void The_configuration_text_is_parsed()
    {
        var range = RtpPortRange.Parse("40000-40999");
        Assert.That((range.First, range.Last, range.Capacity), Is.EqualTo((40000, 40999, 500)));
        Assert.That(() => RtpPortRange.Parse("40000"), Throws.TypeOf<FormatException>());
    }
}
