using System.Net.Sockets;
using SipCallPark.Sip.Tracing;

namespace SipCallPark.Sip.Tests.Tracing;

public class HepEndpointTests
{
    [TestCase("udp:127.0.0.1:9060", ProtocolType.Udp, "127.0.0.1", 9060)]
    [TestCase("TCP:homer.example.net:9061", ProtocolType.Tcp, "homer.example.net", 9061)]
    [TestCase("udp:[::1]:1", ProtocolType.Udp, "::1", 1)]
    [TestCase("tcp:localhost:65535", ProtocolType.Tcp, "localhost", 65535)]
    public void A_transport_host_and_port_are_read(string text, ProtocolType transport, string host, int port)
    {
        Assert.That(HepEndpoint.TryParse(text, out HepEndpoint? endpoint, out string reason), Is.True, reason);
        Assert.That(endpoint, Is.EqualTo(new HepEndpoint(transport, host, port)));
    }

    [TestCase("", "empty")]
    [TestCase("127.0.0.1:9060", "udp: or tcp:")]
    [TestCase("sctp:127.0.0.1:9060", "udp: or tcp:")]
    [TestCase("udp:127.0.0.1", "port")]
    [TestCase("udp::9060", "host and a port")]
    [TestCase("udp:127.0.0.1:0", "port")]
    [TestCase("udp:127.0.0.1:65536", "port")]
    [TestCase("udp:127.0.0.1:+9060", "port")]
    [TestCase("udp:::1:9060", "brackets")]
    [TestCase("udp:[127.0.0.1]:9060", "IPv6")]
    [TestCase("udp:[::1:9060", "IPv6")]
    [TestCase("udp:homer server:9060", "host")]
    [TestCase("udp:homer/x:9060", "host")]
    public void A_malformed_endpoint_is_refused_with_a_reason(string text, string reasonPart)
    {
        Assert.That(HepEndpoint.TryParse(text, out HepEndpoint? endpoint, out string reason), Is.False);
        Assert.That(endpoint, Is.Null);
        Assert.That(reason, Does.Contain(reasonPart));
    }

    [Test]
    public void An_endpoint_prints_as_it_is_written()
    {
        Assert.That(HepEndpoint.Parse("udp:[::1]:9060").ToString(), Is.EqualTo("udp:[::1]:9060"));
        Assert.That(HepEndpoint.Parse("tcp:10.0.0.1:9060").ToString(), Is.EqualTo("tcp:10.0.0.1:9060"));
    }
}
