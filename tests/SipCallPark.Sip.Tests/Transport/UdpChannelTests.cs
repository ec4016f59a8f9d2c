using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class UdpChannelTests
{
    private static readonly byte[] Message = Encoding.ASCII.GetBytes("OPTIONS sip:park@127.0.0.1 SIP/2.0\r\nl: 0\r\n\r\n");

    private readonly List<IAsyncDisposable> _disposables = [];

    [TearDown]
    public async Task DisposeChannels()
    {
        foreach (IAsyncDisposable disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }

        _disposables.Clear();
    }

    private async Task<(UdpChannel Channel, FrameCollector Frames)> StartAsync(IPEndPoint at,
        TransportOptions? options = null, CapturingLogger? logger = null, TimeProvider? time = null)
    {
        var channel = new UdpChannel(at, options, logger, time);
        _disposables.Add(channel);
        var frames = new FrameCollector();
        await channel.StartAsync(frames.OnFrame, CancellationToken.None);
        return (channel, frames);
    }

    [Test]
    public async Task Two_channels_on_IPv4_loopback_exchange_a_datagram()
    {
        var (a, _) = await StartAsync(Loopback.V4Any);
        var (b, received) = await StartAsync(Loopback.V4Any);

        Assert.That(await a.SendAsync(Message, b.LocalEndPoint, 0, Loopback.Timeout()), Is.True);

        ReceivedFrame frame = (await received.WaitForAsync(1))[0];
        Assert.That(frame.Data.ToArray(), Is.EqualTo(Message));
        Assert.That(frame.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Udp, a.LocalEndPoint)));
        Assert.That(frame.Local, Is.EqualTo(b.LocalEndPoint));
        Assert.That(frame.ConnectionId, Is.Zero);
    }

    [Test]
    public async Task Two_channels_on_IPv6_loopback_exchange_a_datagram()
    {
        Loopback.RequireIPv6();
        var (a, _) = await StartAsync(Loopback.V6Any);
        var (b, received) = await StartAsync(Loopback.V6Any);

        Assert.That(await a.SendAsync(Message, b.LocalEndPoint, 0, Loopback.Timeout()), Is.True);

        ReceivedFrame frame = (await received.WaitForAsync(1))[0];
        Assert.That(frame.Data.ToArray(), Is.EqualTo(Message));
        Assert.That(frame.Remote.ToString(), Is.EqualTo($"udp:[::1]:{a.LocalEndPoint.Port}"));
    }

    [Test]
    public async Task Binding_port_zero_reports_the_port_actually_bound()
    {
        var (channel, _) = await StartAsync(Loopback.V4Any);

        Assert.That(channel.LocalEndPoint.Port, Is.Not.Zero);
        Assert.That(channel.LocalEndPoint.Address, Is.EqualTo(IPAddress.Loopback));
    }

    [Test]
    public async Task The_frame_is_stamped_with_the_injected_clock_and_owns_its_bytes()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var (a, _) = await StartAsync(Loopback.V4Any);
        var (b, received) = await StartAsync(Loopback.V4Any, time: time);
        byte[] second = Encoding.ASCII.GetBytes("BYE sip:x@y SIP/2.0\r\nl: 0\r\n\r\n");

        await a.SendAsync(Message, b.LocalEndPoint, 0, Loopback.Timeout());
        ReceivedFrame first = (await received.WaitForAsync(1))[0];
        await a.SendAsync(second, b.LocalEndPoint, 0, Loopback.Timeout());
        await received.WaitForAsync(2);

        // The receive buffer has been reused for the second datagram; the first frame must not have changed.
        Assert.That(first.Data.ToArray(), Is.EqualTo(Message));
        Assert.That(first.ReceivedAt, Is.EqualTo(time.GetUtcNow()));
    }

    [Test]
    public async Task Empty_and_CRLF_keepalive_datagrams_are_ignored()
    {
        var (b, received) = await StartAsync(Loopback.V4Any);
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        raw.Bind(Loopback.V4Any);

        await raw.SendToAsync(Array.Empty<byte>(), b.LocalEndPoint);
        await raw.SendToAsync("\r\n\r\n"u8.ToArray(), b.LocalEndPoint);
        await raw.SendToAsync("\r\n"u8.ToArray(), b.LocalEndPoint);
        await raw.SendToAsync(Message, b.LocalEndPoint);
        await raw.SendToAsync(Message, b.LocalEndPoint);

        await received.WaitForAsync(2);
        Assert.That(received.Frames.Select(f => f.Data.ToArray()), Is.All.EqualTo(Message));
    }

    [Test]
    public async Task A_datagram_over_the_cap_is_ignored_with_a_log_line_and_receiving_goes_on()
    {
        var logger = new CapturingLogger();
        var (a, _) = await StartAsync(Loopback.V4Any);
        var (b, received) = await StartAsync(Loopback.V4Any, new TransportOptions { MaxMessageSize = 1000 }, logger);

        Assert.That(await a.SendAsync(new byte[1001], b.LocalEndPoint, 0, Loopback.Timeout()), Is.True);
        var entry = await logger.WaitForAsync(e => e.Template.StartsWith("Ignored UDP datagram", StringComparison.Ordinal));
        await a.SendAsync(Message, b.LocalEndPoint, 0, Loopback.Timeout());
        await received.WaitForAsync(1);

        Assert.That(entry.Properties["Size"], Is.EqualTo(1001));
        Assert.That(entry.Properties["Cap"], Is.EqualTo(1000));
        Assert.That(received.Frames.Single().Data.ToArray(), Is.EqualTo(Message));
    }

    [Test]
    public async Task Sending_to_a_closed_port_does_not_stop_the_receive_loop()
    {
        var (a, received) = await StartAsync(Loopback.V4Any);
        var (b, _) = await StartAsync(Loopback.V4Any);
        IPEndPoint closed = Loopback.UnusedTcpPort(); // the same number is very likely free for UDP too

        // Windows reports the ICMP port unreachable on the next receive; Linux does not on unconnected sockets.
        await a.SendAsync(Message, closed, 0, Loopback.Timeout());
        await a.SendAsync(Message, closed, 0, Loopback.Timeout());
        await b.SendAsync(Message, a.LocalEndPoint, 0, Loopback.Timeout());

        Assert.That((await received.WaitForAsync(1)).Single().Data.ToArray(), Is.EqualTo(Message));
    }

    [Test]
    public async Task A_handler_that_throws_is_logged_and_the_next_datagram_still_arrives()
    {
        var logger = new CapturingLogger();
        var channel = new UdpChannel(Loopback.V4Any, logger: logger);
        _disposables.Add(channel);
        var frames = new FrameCollector();
        int calls = 0;
        await channel.StartAsync(frame =>
            Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("boom") : frames.OnFrame(frame),
            CancellationToken.None);
        var (sender, _) = await StartAsync(Loopback.V4Any);

        await sender.SendAsync(Message, channel.LocalEndPoint, 0, Loopback.Timeout());
        await logger.WaitForAsync(e => e.Template.StartsWith("Frame handler failed", StringComparison.Ordinal));
        await sender.SendAsync(Message, channel.LocalEndPoint, 0, Loopback.Timeout());

        Assert.That(await frames.WaitForAsync(1), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Sending_to_another_address_family_returns_false()
    {
        Loopback.RequireIPv6();
        var (a, _) = await StartAsync(Loopback.V4Any);

        Assert.That(await a.SendAsync(Message, new IPEndPoint(IPAddress.IPv6Loopback, 5060), 0, Loopback.Timeout()), Is.False);
    }

    [Test]
    public void Sending_before_start_is_a_programming_error()
    {
        var channel = new UdpChannel(Loopback.V4Any);
        _disposables.Add(channel);

        Assert.That(async () => await channel.SendAsync(Message, Loopback.V4Any, 0, CancellationToken.None),
            Throws.InvalidOperationException);
    }

    [Test]
    public async Task Binding_a_port_already_taken_throws()
    {
        var (a, _) = await StartAsync(Loopback.V4Any);

        Assert.That(() => new UdpChannel(a.LocalEndPoint), Throws.InstanceOf<SocketException>());
    }

    [Test]
    public async Task Disposing_ends_the_receive_loops_promptly()
    {
        var channel = new UdpChannel(Loopback.V4Any);
        await channel.StartAsync(_ => ValueTask.CompletedTask, CancellationToken.None);

        await channel.DisposeAsync().AsTask().WaitAsync(FrameCollector.Patience);
    }
}
