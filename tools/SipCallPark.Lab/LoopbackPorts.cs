using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Lab;

/// <summary>Free loopback ports for pools the lab (and the process tests) start.</summary>
internal static class LoopbackPorts
{
    /// <summary>A loopback port free for both UDP and TCP when checked (a pool binds both on its SIP port).</summary>
    public static int FreeUdpAndTcp()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
            var tcp = new TcpListener(IPAddress.Loopback, port);
            try
            {
                tcp.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken for TCP: try another.
            }
            finally
            {
                tcp.Stop();
            }
        }
        throw new LabException("no loopback port free for both UDP and TCP in 50 tries");
    }

    public static int FreeTcp()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
