using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Tracing;

/// <summary>One open way to the capture server: a connected UDP socket (each packet one datagram) or a TCP
/// connection (packets back to back; HEP3's length field frames them).</summary>
internal interface IHepLink : IAsyncDisposable
{
    ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken);
}

/// <summary>The socket behind <see cref="IHepLink"/>.</summary>
internal sealed class HepSocketLink(Socket socket) : IHepLink
{
    /// <summary>Resolves the endpoint's host (an address literal needs no lookup) and opens the socket.</summary>
    public static async ValueTask<IHepLink> ConnectAsync(HepEndpoint endpoint, CancellationToken cancellationToken)
    {
        IPAddress address = IPAddress.TryParse(endpoint.Host, out IPAddress? literal)
            ? literal
            : (await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false)).FirstOrDefault()
              ?? throw new SocketException((int)SocketError.HostNotFound);
        var socket = new Socket(address.AddressFamily, endpoint.Transport == ProtocolType.Udp ? SocketType.Dgram : SocketType.Stream, endpoint.Transport);
        try
        {
            if (endpoint.Transport == ProtocolType.Tcp) socket.NoDelay = true;
            await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
            return new HepSocketLink(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
    {
        while (!packet.IsEmpty) // a datagram socket sends all or throws; a stream may take part of it
        {
            int sent = await socket.SendAsync(packet, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            packet = packet[sent..];
        }
    }

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
