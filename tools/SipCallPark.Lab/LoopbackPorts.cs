using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Lab;

/// <summary>
/// Free loopback ports for pools the lab (and the process tests) start. A port is checked free and released, and
/// the pool binds it a moment later in another process. The ports come at random from 10000–19999, below Linux's
/// ephemeral range (32768–60999 by default): a port from that range could become, in the meantime, the local port
/// of any outgoing connection (an HTTP client of an admin API, a phone's socket, another test's), and the pool's
/// start would fail; a port below it is only ever taken by an explicit bind.
/// </summary>
internal static class LoopbackPorts
{
    private const int First = 10000;
    private const int Last = 19999;
    private const int Attempts = 200;

    /// <summary>A loopback port free for both UDP and TCP when checked (a pool binds both on its SIP port).</summary>
    public static int FreeUdpAndTcp() => Find(port =>
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
        CheckTcp(port);
    }, "UDP and TCP");

    /// <summary>A loopback port free for TCP when checked (an admin API).</summary>
    public static int FreeTcp() => Find(CheckTcp, "TCP");

    private static void CheckTcp(int port)
    {
        var tcp = new TcpListener(IPAddress.Loopback, port);
        try
        {
            tcp.Start();
        }
        finally
        {
            tcp.Stop();
        }
    }

    private static int Find(Action<int> bind, string what)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var port = Random.Shared.Next(First, Last + 1);
            try
            {
                bind(port);
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new LabException($"no loopback port in {First}-{Last} free for {what} in {Attempts} tries");
    }
}
