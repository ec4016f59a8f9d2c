using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class TcpConnectionTests
{
    [Test]
    public async Task Concurrent_writes_never_interleave_even_when_the_stream_writes_in_pieces()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(Loopback.V4Any);
        listener.Listen(1);
        using RawTcpClient peer = await RawTcpClient.ConnectAsync((IPEndPoint)listener.LocalEndPoint!);
        Socket accepted = await listener.AcceptAsync(Loopback.Timeout());
        var connection = new TcpConnection(1, accepted, new ChunkingStream(new NetworkStream(accepted), 256),
            new SipEndPoint(SipProtocol.Tcp, peer.LocalEndPoint), new TransportOptions(), TimeProvider.System,
            NullLogger.Instance, CancellationToken.None);
        connection.Start(_ => ValueTask.CompletedTask);
        string[] messages = Enumerable.Range(1, 20)
            .Select(i => TcpChannelTests.Request("MESSAGE", new string((char)('a' + i), 2000 + i), i)).ToArray();

        bool[] written = await Task.WhenAll(messages.Select(m =>
            connection.WriteAsync(Encoding.ASCII.GetBytes(m), Loopback.Timeout()).AsTask()));

        var received = new List<string>();
        foreach (string _ in messages)
        {
            received.Add(await peer.ReadFrameAsync());
        }

        Assert.That(written, Is.All.True);
        Assert.That(received, Is.EquivalentTo(messages));
        connection.Close(TcpCloseReason.ChannelStopped);
        await connection.Completion.WaitAsync(FrameCollector.Patience);
    }
}
