using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>A plain socket playing the peer, so tests control exactly how bytes are cut into writes.</summary>
internal sealed class RawTcpClient : IDisposable
{
    private readonly List<byte> _received = [];

    private RawTcpClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    public IPEndPoint LocalEndPoint => (IPEndPoint)Socket.LocalEndPoint!;

    /// <summary>Plays the peer on a socket accepted from a test's own listener.</summary>
    public static RawTcpClient Adopt(Socket socket) => new(socket);

    public static async Task<RawTcpClient> ConnectAsync(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, Loopback.Timeout());
        return new RawTcpClient(socket);
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] data)
    {
        int sent = 0;
        while (sent < data.Length)
        {
            sent += await Socket.SendAsync(data.AsMemory(sent), SocketFlags.None, Loopback.Timeout());
        }
    }

    /// <summary>Reads until one whole message (or a keepalive, as raw text) has arrived, within the test patience.</summary>
    public async Task<string> ReadFrameAsync()
    {
        using var timeout = new CancellationTokenSource(FrameCollector.Patience);
        var chunk = new byte[4096];
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(_received.ToArray());
            FrameStatus status = TcpFramer.TryReadFrame(ref buffer, 1 << 20, out ReadOnlySequence<byte> frame);
            if (status == FrameStatus.Frame)
            {
                _received.RemoveRange(0, (int)(_received.Count - buffer.Length));
                return Encoding.ASCII.GetString(frame.ToArray());
            }

            int read = await Socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                throw new InvalidOperationException("The server closed the connection.");
            }

            _received.AddRange(chunk.AsSpan(0, read));
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> raw bytes.</summary>
    public async Task<string> ReadRawAsync(int count)
    {
        using var timeout = new CancellationTokenSource(FrameCollector.Patience);
        var chunk = new byte[count];
        while (_received.Count < count)
        {
            int read = await Socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                break;
            }

            _received.AddRange(chunk.AsSpan(0, read));
        }

        string text = Encoding.ASCII.GetString(_received.Take(count).ToArray());
        _received.RemoveRange(0, Math.Min(count, _received.Count));
        return text;
    }

    /// <summary>True when the server closes (FIN or RST) within the test patience.</summary>
    public async Task<bool> WaitForCloseAsync()
    {
        using var timeout = new CancellationTokenSource(FrameCollector.Patience);
        var chunk = new byte[4096];
        try
        {
            while (await Socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token) > 0)
            {
                // Discard anything the server still sent before closing.
            }

            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => Socket.Dispose();
}
