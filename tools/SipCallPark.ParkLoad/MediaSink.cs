using System.Net;
using System.Net.Sockets;

namespace SipCallPark.ParkLoad;

/// <summary>
/// The one UDP port every load phone puts in its SDP. Music on hold from the pool arrives here; it is read only while
/// <see cref="CountAsync"/> samples it (the rest of the time the kernel drops what does not fit the buffer), so the
/// load generator spends no CPU on media while the pool's CPU is measured.
/// </summary>
public sealed class MediaSink : IDisposable
{
    private readonly Socket _socket;

    public MediaSink()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>Drains what is queued, then counts the datagrams arriving during <paramref name="window"/>.</summary>
    public async Task<long> CountAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        // Whatever queued up while nobody read is old: throw it away first (bounded).
        for (var i = 0; i < 100_000 && _socket.Available > 0; i++) _socket.Receive(buffer);
        long count = 0;
        using var until = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        until.CancelAfter(window);
        try
        {
            while (true)
            {
                await _socket.ReceiveAsync(buffer, SocketFlags.None, until.Token);
                count++;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        return count;
    }

    public void Dispose() => _socket.Dispose();
}
