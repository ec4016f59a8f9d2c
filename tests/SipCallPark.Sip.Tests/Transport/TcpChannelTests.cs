using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class TcpChannelTests
{
    private readonly List<IAsyncDisposable> _channels = [];
    private readonly List<IDisposable> _clients = [];

    [TearDown]
    public async Task DisposeAll()
    {
        _clients.ForEach(c => c.Dispose());
        _clients.Clear();
        foreach (IAsyncDisposable channel in _channels)
        {
            await channel.DisposeAsync().AsTask().WaitAsync(FrameCollector.Patience);
        }

        _channels.Clear();
    }

    internal static string Request(string method, string body = "", int cseq = 1) =>
        $"{method} sip:park@127.0.0.1 SIP/2.0\r\n" +
        "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-" + cseq + "\r\n" +
        $"CSeq: {cseq} {method}\r\n" +
        $"Content-Length: {Encoding.ASCII.GetByteCount(body)}\r\n\r\n" + body;

    private async Task<(TcpChannel Channel, FrameCollector Frames)> StartServerAsync(
        TransportOptions? options = null, CapturingLogger? logger = null, TimeProvider? time = null,
        IPEndPoint? at = null)
    {
        var channel = new TcpChannel(at ?? Loopback.V4Any, options, logger, time);
        _channels.Add(channel);
        var frames = new FrameCollector();
        await channel.StartAsync(frames.OnFrame, CancellationToken.None);
        return (channel, frames);
    }

    private async Task<RawTcpClient> ConnectAsync(TcpChannel server)
    {
        RawTcpClient client = await RawTcpClient.ConnectAsync(server.LocalEndPoint);
        _clients.Add(client);
        return client;
    }

    [Test]
    public async Task Two_messages_coalesced_in_one_write_arrive_as_two_frames_in_order()
    {
        var (server, frames) = await StartServerAsync();
        RawTcpClient client = await ConnectAsync(server);
        string first = Request("INVITE", "v=0\r\n", 1);
        string second = Request("ACK", "", 2);

        await client.SendAsync(first + second);

        await frames.WaitForAsync(2);
        Assert.That(frames.Texts, Is.EqualTo(new[] { first, second }));
        Assert.That(frames.Frames.Select(f => f.ConnectionId).Distinct().Single(), Is.Not.Zero);
        Assert.That(frames.Frames[0].Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, client.LocalEndPoint)));
    }

    [Test]
    public async Task A_message_split_over_several_writes_arrives_intact_after_the_ones_before_it()
    {
        var (server, frames) = await StartServerAsync();
        RawTcpClient client = await ConnectAsync(server);
        string first = Request("REGISTER", "", 1);
        string split = Request("INVITE", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", 2);
        int[] cuts = [10, 40, 41, split.Length - 5, split.Length];

        await client.SendAsync(first + split[..cuts[0]]);
        for (int i = 1; i < cuts.Length; i++)
        {
            // Pauses make the pieces separate reads on the server; correctness never depends on them.
            await Task.Delay(20);
            await client.SendAsync(split[cuts[i - 1]..cuts[i]]);
        }

        await frames.WaitForAsync(2);
        Assert.That(frames.Texts, Is.EqualTo(new[] { first, split }));
    }

    [Test]
    public async Task A_message_over_the_cap_closes_the_connection_with_a_log_line_and_the_listener_keeps_serving()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(new TransportOptions { MaxMessageSize = 1000 }, logger);
        RawTcpClient greedy = await ConnectAsync(server);

        await greedy.SendAsync(Request("INVITE", new string('x', 1500)));

        Assert.That(await greedy.WaitForCloseAsync(), Is.True, "the connection should be closed");
        var entry = await logger.WaitForAsync(e => e.Template == "Closed TCP connection {Remote}: message over {Cap} bytes");
        Assert.That(entry.Properties["Cap"], Is.EqualTo(1000));
        Assert.That(entry.Properties["Remote"], Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, greedy.LocalEndPoint)));

        RawTcpClient polite = await ConnectAsync(server);
        string small = Request("OPTIONS");
        await polite.SendAsync(small);
        await frames.WaitForAsync(1);
        Assert.That(frames.Texts, Is.EqualTo(new[] { small }));
    }

    [Test]
    public async Task A_message_without_Content_Length_closes_the_connection_with_a_log_line()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(logger: logger);
        RawTcpClient client = await ConnectAsync(server);

        await client.SendAsync("OPTIONS sip:park@127.0.0.1 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n");

        Assert.That(await client.WaitForCloseAsync(), Is.True);
        await logger.WaitForAsync(e => e.Template.Contains("without a valid Content-Length", StringComparison.Ordinal));
        Assert.That(frames.Frames, Is.Empty);
    }

    [Test]
    public async Task The_server_replies_on_the_connection_the_request_came_in_on()
    {
        var (server, frames) = await StartServerAsync();
        RawTcpClient client = await ConnectAsync(server);
        await client.SendAsync(Request("INVITE"));
        ReceivedFrame request = (await frames.WaitForAsync(1))[0];
        string response = "SIP/2.0 180 Ringing\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

        bool sent = await server.SendAsync(Encoding.ASCII.GetBytes(response), request.Remote.Address,
            request.ConnectionId, Loopback.Timeout());

        Assert.That(sent, Is.True);
        Assert.That(await client.ReadFrameAsync(), Is.EqualTo(response));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Two_TCP_channels_keep_using_the_one_connection_both_ways()
    {
        var (server, serverFrames) = await StartServerAsync();
        var (client, clientFrames) = await StartServerAsync();
        string invite = Request("INVITE", "", 1);
        string ok = "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
        string bye = Request("BYE", "", 2);

        Assert.That(await client.SendAsync(Encoding.ASCII.GetBytes(invite), server.LocalEndPoint, 0, Loopback.Timeout()), Is.True);
        ReceivedFrame atServer = (await serverFrames.WaitForAsync(1))[0];
        Assert.That(await server.SendAsync(Encoding.ASCII.GetBytes(ok), atServer.Remote.Address, atServer.ConnectionId,
            Loopback.Timeout()), Is.True);
        ReceivedFrame atClient = (await clientFrames.WaitForAsync(1))[0];
        Assert.That(await client.SendAsync(Encoding.ASCII.GetBytes(bye), server.LocalEndPoint, 0, Loopback.Timeout()), Is.True);
        await serverFrames.WaitForAsync(2);

        Assert.That(Encoding.ASCII.GetString(atClient.Data.Span), Is.EqualTo(ok));
        Assert.That(atClient.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, server.LocalEndPoint)));
        Assert.That(serverFrames.Frames.Select(f => f.ConnectionId).Distinct().Count(), Is.EqualTo(1));
        Assert.That(server.ConnectionCount, Is.EqualTo(1));
        Assert.That(client.ConnectionCount, Is.EqualTo(1));
    }

    // End to end over real sockets; TcpConnectionTests proves the serialization itself with a stream that splits
    // writes, since a plain NetworkStream on .NET already queues whole sends.
    [Test]
    public async Task Concurrent_sends_on_one_connection_never_interleave()
    {
        var (server, serverFrames) = await StartServerAsync();
        var (client, _) = await StartServerAsync();
        string[] messages = Enumerable.Range(1, 40)
            .Select(i => Request("MESSAGE", new string((char)('a' + i % 26), 20_000 + i), i)).ToArray();

        bool[] sent = await Task.WhenAll(messages.Select(m =>
            client.SendAsync(Encoding.ASCII.GetBytes(m), server.LocalEndPoint, 0, Loopback.Timeout()).AsTask()));

        await serverFrames.WaitForAsync(messages.Length);
        Assert.That(sent, Is.All.True);
        Assert.That(serverFrames.Texts, Is.EquivalentTo(messages));
        Assert.That(client.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public async Task A_partial_message_held_longer_than_the_header_timeout_closes_the_connection()
    {
        var logger = new CapturingLogger();
        var options = new TransportOptions { TcpHeaderReadTimeout = TimeSpan.FromMilliseconds(300) };
        var (server, _) = await StartServerAsync(options, logger);
        RawTcpClient slow = await ConnectAsync(server);

        await slow.SendAsync(Request("INVITE")[..30]);

        Assert.That(await slow.WaitForCloseAsync(), Is.True);
        await logger.WaitForAsync(e => e.Template.Contains("partial message pending", StringComparison.Ordinal));
    }

    [Test]
    public async Task A_slow_loris_trickling_one_byte_per_100_ms_is_closed_once_its_message_is_300_ms_old_and_not_before()
    {
        var time = new FakeTimeProvider();
        var logger = new CapturingLogger();
        var options = new TransportOptions { TcpHeaderReadTimeout = TimeSpan.FromMilliseconds(300) };
        var (server, frames) = await StartServerAsync(options, logger, time);
        RawTcpClient loris = await ConnectAsync(server);
        string first = Request("OPTIONS");
        string never = Request("INVITE", new string('x', 200));

        // One write: a whole message, then the start of one that never completes. The first frame proves the server
        // has read the start too, so the clock only moves once the unfinished message is there.
        await loris.SendAsync(first + never[..10]);
        await frames.WaitForAsync(1);

        // Then a byte every 100 ms, each well within the timeout of the one before: only the age of the unfinished
        // message counts. The timeout's log line is written inside Advance (the fake clock runs the timer there).
        int steps = 0;
        bool TimedOut() => logger.Entries.Any(e => e.Template.Contains("partial message pending", StringComparison.Ordinal));
        while (!TimedOut() && steps < 50)
        {
            await loris.SendAsync(never.Substring(10 + steps, 1));
            time.Advance(TimeSpan.FromMilliseconds(100));
            steps++;
        }

        Assert.That(TimedOut(), Is.True, "still open after 5 s of trickling");
        Assert.That(steps, Is.GreaterThanOrEqualTo(3), "closed before the message was 300 ms old");
        Assert.That(await loris.WaitForCloseAsync(), Is.True);
        Assert.That(frames.Texts, Is.EqualTo(new[] { first }));
    }

    [Test]
    public async Task A_busy_stream_whose_reads_always_end_mid_message_is_not_taken_for_a_slow_loris()
    {
        var time = new FakeTimeProvider();
        var options = new TransportOptions { TcpHeaderReadTimeout = TimeSpan.FromMilliseconds(300) };
        var (server, frames) = await StartServerAsync(options, time: time);
        RawTcpClient client = await ConnectAsync(server);
        string[] messages = Enumerable.Range(1, 8).Select(i => Request("MESSAGE", "hello", i)).ToArray();
        const int Head = 25;

        // Each write ends one message and starts the next, so some message is always partial; each clock step
        // is shorter than the timeout, their sum far longer.
        await client.SendAsync(messages[0] + messages[1][..Head]);
        for (int i = 1; i <= messages.Length; i++)
        {
            await frames.WaitForAsync(i);
            time.Advance(TimeSpan.FromMilliseconds(100));
            string next = i + 1 < messages.Length ? messages[i + 1][..Head] : "";
            if (i < messages.Length)
            {
                await client.SendAsync(messages[i][Head..] + next);
            }
        }

        Assert.That(frames.Texts, Is.EqualTo(messages));
    }

    [Test]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout_and_not_before()
    {
        var time = new FakeTimeProvider();
        var options = new TransportOptions { TcpIdleTimeout = TimeSpan.FromMinutes(1) };
        var (server, frames) = await StartServerAsync(options, time: time);
        RawTcpClient client = await ConnectAsync(server);
        await client.SendAsync(Request("OPTIONS", "", 1));
        await frames.WaitForAsync(1);

        time.Advance(TimeSpan.FromSeconds(59));
        await client.SendAsync(Request("OPTIONS", "", 2));
        await frames.WaitForAsync(2);
        time.Advance(TimeSpan.FromSeconds(61));

        Assert.That(await client.WaitForCloseAsync(), Is.True);
    }

    [Test]
    public async Task A_peer_that_stops_reading_is_closed_when_a_write_outlasts_the_write_timeout()
    {
        var time = new FakeTimeProvider();
        var logger = new CapturingLogger();
        var options = new TransportOptions { TcpWriteTimeout = TimeSpan.FromSeconds(5) };
        var (server, frames) = await StartServerAsync(options, logger, time);
        RawTcpClient client = await ConnectAsync(server);
        client.Socket.ReceiveBufferSize = 4096;
        await client.SendAsync(Request("OPTIONS"));
        ReceivedFrame request = (await frames.WaitForAsync(1))[0];
        byte[] big = Encoding.ASCII.GetBytes(Request("MESSAGE", new string('x', 60_000)));

        // The client never reads: the buffers fill up and some write stays pending. Only then does the clock move,
        // so a write that merely took a moment is never the one timed out.
        bool closed = false;
        for (int i = 0; i < 4000 && !closed; i++)
        {
            ValueTask<bool> send = server.SendAsync(big, request.Remote.Address, request.ConnectionId, CancellationToken.None);
            if (send.IsCompleted)
            {
                Assert.That(send.Result, Is.True, "a write with room in the buffers failed");
                continue;
            }

            time.Advance(options.TcpWriteTimeout);
            closed = !await send.AsTask().WaitAsync(FrameCollector.Patience);
        }

        Assert.That(closed, Is.True, "no write ever blocked");
        CapturingLogger.LogEntry entry = await logger.WaitForAsync(e => e.Template.Contains("did not complete within", StringComparison.Ordinal));
        Assert.That(entry.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Warning));
        Assert.That(await client.WaitForCloseAsync(), Is.True);
    }

    [Test]
    public async Task A_write_that_completes_at_once_is_not_timed_out_however_the_clock_moves()
    {
        var time = new FakeTimeProvider();
        var options = new TransportOptions { TcpWriteTimeout = TimeSpan.FromSeconds(5) };
        var (server, frames) = await StartServerAsync(options, time: time);
        RawTcpClient client = await ConnectAsync(server);
        await client.SendAsync(Request("OPTIONS"));
        ReceivedFrame request = (await frames.WaitForAsync(1))[0];

        Assert.That(await server.SendAsync(Encoding.ASCII.GetBytes(Request("OPTIONS", "", 2)), request.Remote.Address,
            request.ConnectionId, CancellationToken.None), Is.True);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(await server.SendAsync(Encoding.ASCII.GetBytes(Request("OPTIONS", "", 3)), request.Remote.Address,
            request.ConnectionId, CancellationToken.None), Is.True);

        Assert.That(await client.ReadFrameAsync(), Does.Contain("CSeq: 2 OPTIONS"));
        Assert.That(await client.ReadFrameAsync(), Does.Contain("CSeq: 3 OPTIONS"));
    }

    [Test]
    public async Task A_double_CRLF_ping_is_answered_with_a_CRLF_pong_and_the_stream_goes_on()
    {
        var (server, frames) = await StartServerAsync();
        RawTcpClient client = await ConnectAsync(server);
        string message = Request("OPTIONS");

        await client.SendAsync("\r\n\r\n");
        Assert.That(await client.ReadRawAsync(2), Is.EqualTo("\r\n"));
        await client.SendAsync(message);

        await frames.WaitForAsync(1);
        Assert.That(frames.Texts, Is.EqualTo(new[] { message }));
    }

    [Test]
    public async Task Sending_to_a_port_where_nobody_listens_returns_false()
    {
        var (server, _) = await StartServerAsync();

        bool sent = await server.SendAsync(Encoding.ASCII.GetBytes(Request("OPTIONS")), Loopback.UnusedTcpPort(), 0,
            Loopback.Timeout());

        Assert.That(sent, Is.False);
        Assert.That(server.ConnectionCount, Is.Zero);
    }

    [Test]
    public async Task A_connection_over_the_limit_is_refused_and_the_open_one_keeps_working()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(new TransportOptions { MaxTcpConnections = 1 }, logger);
        RawTcpClient first = await ConnectAsync(server);
        await first.SendAsync(Request("OPTIONS", "", 1));
        await frames.WaitForAsync(1);

        RawTcpClient second = await ConnectAsync(server);

        Assert.That(await second.WaitForCloseAsync(), Is.True);
        await logger.WaitForAsync(e => e.Template.StartsWith("Refused TCP connection", StringComparison.Ordinal));
        await first.SendAsync(Request("OPTIONS", "", 2));
        await frames.WaitForAsync(2);
    }

    [Test]
    public async Task Disposing_the_channel_closes_its_connections()
    {
        var (server, frames) = await StartServerAsync();
        RawTcpClient client = await ConnectAsync(server);
        await client.SendAsync(Request("OPTIONS"));
        await frames.WaitForAsync(1);

        await server.DisposeAsync().AsTask().WaitAsync(FrameCollector.Patience);

        Assert.That(await client.WaitForCloseAsync(), Is.True);
        Assert.That(server.ConnectionCount, Is.Zero);
    }

    [Test]
    public async Task IPv6_loopback_carries_a_message()
    {
        Loopback.RequireIPv6();
        var (server, frames) = await StartServerAsync(at: Loopback.V6Any);
        RawTcpClient client = await ConnectAsync(server);

        await client.SendAsync(Request("OPTIONS"));

        ReceivedFrame frame = (await frames.WaitForAsync(1))[0];
        Assert.That(frame.Remote.ToString(), Is.EqualTo($"tcp:[::1]:{client.LocalEndPoint.Port}"));
    }
}
