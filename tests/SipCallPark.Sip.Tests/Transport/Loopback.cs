using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Tests.Transport;

internal static class Loopback
{
    public static IPEndPoint V4Any => new(IPAddress.Loopback, 0);

    public static IPEndPoint V6Any => new(IPAddress.IPv6Loopback, 0);

    /// <summary>Ignores the test when this machine cannot bind [::1].</summary>
    public static void RequireIPv6()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Ignore("IPv6 is not supported on this machine.");
        }

        try
        {
            using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            probe.Bind(V6Any);
        }
        catch (SocketException e)
        {
            Assert.Ignore($"IPv6 loopback is unavailable: {e.SocketErrorCode}.");
        }
    }

    /// <summary>A loopback port with nothing listening on it (bound, read, released).</summary>
    public static IPEndPoint UnusedTcpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(V4Any);
        return (IPEndPoint)probe.LocalEndPoint!;
    }

    public static CancellationToken Timeout() => new CancellationTokenSource(FrameCollector.Patience).Token;
}
