using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class TransportOptionsTests
{
    [Test]
    public void The_defaults_are_valid()
    {
        var options = new TransportOptions();

        Assert.That(options.Validate, Throws.Nothing);
        Assert.That(options.MaxMessageSize, Is.EqualTo(65535));
        Assert.That(options.TcpHeaderReadTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(options.TcpWriteTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    private static IEnumerable<TestCaseData> InvalidOptions()
    {
        yield return new TestCaseData(new TransportOptions { MaxMessageSize = 10 }, "MaxMessageSize");
        yield return new TestCaseData(new TransportOptions { TcpIdleTimeout = TimeSpan.Zero }, "TcpIdleTimeout");
        yield return new TestCaseData(new TransportOptions { TcpConnectTimeout = TimeSpan.FromSeconds(-1) }, "TcpConnectTimeout");
        yield return new TestCaseData(new TransportOptions { TcpHeaderReadTimeout = TimeSpan.FromDays(365) }, "TcpHeaderReadTimeout");
        yield return new TestCaseData(new TransportOptions { TcpWriteTimeout = TimeSpan.Zero }, "TcpWriteTimeout");
        yield return new TestCaseData(new TransportOptions { MaxTcpConnections = 0 }, "MaxTcpConnections");
        yield return new TestCaseData(new TransportOptions { UdpReceiveLoops = 0 }, "UdpReceiveLoops");
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public void An_out_of_range_option_is_refused_by_name(TransportOptions options, string name)
    {
        Assert.That(options.Validate,
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo(name));
    }

    [Test]
    public void A_channel_refuses_to_start_with_invalid_options()
    {
        Assert.That(() => new UdpChannel(Loopback.V4Any, new TransportOptions { MaxMessageSize = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
