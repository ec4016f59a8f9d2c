using System.Net;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class SipEndPointTests
{
    [Test]
    public void An_IPv4_endpoint_prints_as_protocol_address_and_port()
    {
        var endPoint = new SipEndPoint(SipProtocol.Udp, new IPEndPoint(IPAddress.Parse("127.0.0.1"), 5060));

        Assert.That(endPoint.ToString(), Is.EqualTo("udp:127.0.0.1:5060"));
    }

    [Test]
    public void An_IPv6_endpoint_prints_its_address_in_brackets()
    {
        var endPoint = new SipEndPoint(SipProtocol.Tcp, new IPEndPoint(IPAddress.IPv6Loopback, 5060));

        Assert.That(endPoint.ToString(), Is.EqualTo("tcp:[::1]:5060"));
    }

    [Test]
    public void Endpoints_with_equal_values_are_equal_and_differ_by_protocol()
    {
        var a = new SipEndPoint(SipProtocol.Tcp, new IPEndPoint(IPAddress.Loopback, 5060));
        var b = new SipEndPoint(SipProtocol.Tcp, new IPEndPoint(IPAddress.Loopback, 5060));

        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
        Assert.That(a with { Protocol = SipProtocol.Udp }, Is.Not.EqualTo(a));
    }

    [Test]
    public void Only_UDP_is_unreliable()
    {
        Assert.That(Enum.GetValues<SipProtocol>().Where(p => !new SipEndPoint(p, new IPEndPoint(IPAddress.Loopback, 1)).IsReliable),
            Is.EqualTo(new[] { SipProtocol.Udp }));
    }
}
