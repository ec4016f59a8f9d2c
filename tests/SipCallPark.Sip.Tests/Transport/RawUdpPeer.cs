using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>A plain UDP socket on loopback playing a phone, so a test picks exactly what the Via claims.</summary>
internal sealed class RawUdpPeer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public RawUdpPeer() => _socket.Bind(Loopback.V4Any);

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public int Port => LocalEndPoint.Port;

    /// <summary>Bytes waiting to be read: datagrams sent to us on loopback are queued by the time the send returns.</summary>
    public int Available => _socket.Available;

    public Task SendAsync(string text, IPEndPoint to) => SendAsync(Encoding.UTF8.GetBytes(text), to);

    public async Task SendAsync(byte[] datagram, IPEndPoint to) =>
        await _socket.SendToAsync(datagram, SocketFlags.None, to, Loopback.Timeout());

    /// <summary>The next datagram and who sent it, within the test patience.</summary>
    public async Task<(string Text, IPEndPoint From)> ReceiveAsync()
    {
        var buffer = new byte[65536];
        SocketReceiveFromResult result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None,
            new IPEndPoint(IPAddress.Any, 0), Loopback.Timeout());
        return (Encoding.UTF8.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
    }

    public void Dispose() => _socket.Dispose();
}
