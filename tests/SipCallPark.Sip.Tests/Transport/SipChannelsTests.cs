using System.Net;
using System.Net.Sockets;
using System.Text;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class SipChannelsTests
{
    [Test]
    public async Task UDP_and_TCP_bound_together_share_one_port_and_both_receive_on_it()
    {
        var (udp, tcp) = SipChannels.BindUdpAndTcp(Loopback.V4Any);
        await using var udpChannel = udp;
        await using var tcpChannel = tcp;
        var udpFrames = new FrameCollector();
        var tcpFrames = new FrameCollector();
        await udp.StartAsync(udpFrames.OnFrame, CancellationToken.None);
        await tcp.StartAsync(tcpFrames.OnFrame, CancellationToken.None);
        string message = TcpChannelTests.Request("OPTIONS");

        using var udpPeer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udpPeer.Bind(Loopback.V4Any);
        await udpPeer.SendToAsync(Encoding.ASCII.GetBytes(message), new IPEndPoint(IPAddress.Loopback, udp.LocalEndPoint.Port));
        using RawTcpClient tcpPeer = await RawTcpClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, udp.LocalEndPoint.Port));
        await tcpPeer.SendAsync(message);

        Assert.That(udp.LocalEndPoint.Port, Is.Not.Zero);
        Assert.That(tcp.LocalEndPoint, Is.EqualTo(udp.LocalEndPoint));
        Assert.That((await udpFrames.WaitForAsync(1))[0].Protocol, Is.EqualTo(SipProtocol.Udp));
        Assert.That((await tcpFrames.WaitForAsync(1))[0].Protocol, Is.EqualTo(SipProtocol.Tcp));
    }

    [Test]
    public void When_the_TCP_side_of_an_explicit_port_is_taken_binding_fails_and_releases_the_UDP_side()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(Loopback.V4Any);
        squatter.Listen(1);
        var taken = (IPEndPoint)squatter.LocalEndPoint!;

        Assert.That(() => SipChannels.BindUdpAndTcp(taken), Throws.InstanceOf<SocketException>());

        using var udpProbe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.That(() => udpProbe.Bind(taken), Throws.Nothing, "the UDP socket of the failed attempt must be closed");
    }
}
