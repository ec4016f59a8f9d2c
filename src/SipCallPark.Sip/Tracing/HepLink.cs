using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Tracing;

/// <summary>One open way to the capture server: a connected UDP socket (each packet one datagram) or a TCP
/// connection (packets back to back; HEP3's length field frames them).</summary>
internal interface IHepLink : IAsyncDisposable
{
    /// <summary>False once the capture server has closed a TCP connection: a packet written now would be lost
    /// without an error (the server answers it with a reset), so the sender connects again first.</summary>
    bool IsOpen => true;

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

    /// <summary>A stream socket the server closed reads as ready with nothing to read (end of stream); the server
    /// never sends anything else, so that is the only way readable happens.</summary>
    public bool IsOpen
    {
        get
        {
            if (socket.SocketType != SocketType.Stream) return true;
            try
            {
                return !(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
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
