using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Tests.Transport;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Tracing.TraceMessages;

namespace SipCallPark.Sip.Tests.Tracing;

public class HepTraceExporterTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 10, 20, 30, 123, TimeSpan.Zero);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Every_message_reaches_a_UDP_receiver_as_one_HEP3_packet_with_its_real_addresses_time_and_call_id()
    {
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        var time = new FakeTimeProvider(Start);
        IReadOnlyList<SipMessageEvent> events = Mixed();
        await using var exporter = new HepTraceExporter(Options($"udp:127.0.0.1:{port}", agentId: 2001, password: "homer-pw"), time);

        var packets = new List<byte[]>();
        foreach (SipMessageEvent e in events)
        {
            exporter.Observe(e);
            time.Advance(TimeSpan.FromMicroseconds(1500));
            // One at a time, so a lost datagram shows as a timeout here rather than as a wrong order.
            using var wait = new CancellationTokenSource(Bound);
            packets.Add((await receiver.ReceiveAsync(wait.Token)).Buffer);
        }

        AssertPackets(packets, events, agentId: 2001, password: "homer-pw");
        Assert.That(exporter.Sent, Is.EqualTo(events.Count));
        Assert.That(exporter.Dropped + exporter.SendFailures, Is.Zero);
    }

    [Test]
    public async Task Every_message_reaches_a_TCP_receiver_back_to_back_framed_by_the_HEP3_length()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var time = new FakeTimeProvider(Start);
            IReadOnlyList<SipMessageEvent> events = Mixed();
            await using var exporter = new HepTraceExporter(Options($"tcp:127.0.0.1:{port}"), time);
            foreach (SipMessageEvent e in events)
            {
                exporter.Observe(e);
                time.Advance(TimeSpan.FromMicroseconds(1500));
            }

            using var wait = new CancellationTokenSource(Bound);
            using TcpClient client = await listener.AcceptTcpClientAsync(wait.Token);
            NetworkStream stream = client.GetStream();
            var packets = new List<byte[]>();
            while (packets.Count < events.Count)
            {
                byte[] header = new byte[6];
                await stream.ReadExactlyAsync(header, wait.Token);
                byte[] packet = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4))];
                header.CopyTo(packet, 0);
                await stream.ReadExactlyAsync(packet.AsMemory(6), wait.Token);
                packets.Add(packet);
            }

            AssertPackets(packets, events, agentId: 7, password: null);
            Assert.That(exporter.ConnectAttempts, Is.EqualTo(1));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Test]
    public async Task A_flood_while_the_server_is_stuck_never_blocks_fills_the_queue_drops_the_rest_and_warns_once_per_interval()
    {
        var time = new FakeTimeProvider(Start);
        var link = new GatedLink();
        var log = new CapturingLogger();
        var exporter = new HepTraceExporter(Options("tcp:127.0.0.1:9", queueCapacity: 3), time, log, (_, _) => ValueTask.FromResult<IHepLink>(link));
        SipMessageEvent message = In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1));

        exporter.Observe(message);
        await link.FirstSendEntered.Task.WaitAsync(Bound); // the sender holds one packet, stuck in the write
        for (int i = 0; i < 9; i++) exporter.Observe(message);

        Assert.Multiple(() =>
        {
            Assert.That(exporter.QueueLength, Is.EqualTo(3));
            Assert.That(exporter.Dropped, Is.EqualTo(6));
            Assert.That(log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("dropping")), Is.EqualTo(1));
        });

        time.Advance(HepTraceExporter.WarningInterval);
        exporter.Observe(message);
        Assert.That(log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("dropping")), Is.EqualTo(2));
        Assert.That(log.Entries.Last(e => e.Message.Contains("dropping")).Message, Does.Contain("7 dropped so far"));

        link.Release.SetResult();
        await exporter.DisposeAsync().AsTask().WaitAsync(Bound);
        Assert.That(exporter.Sent, Is.EqualTo(4));
        Assert.That(link.Packets, Has.Count.EqualTo(4));
    }

    [Test]
    public async Task A_TCP_server_that_refuses_is_tried_again_after_a_doubling_backoff_up_to_the_cap_then_gets_the_waiting_message()
    {
        var time = new FakeTimeProvider(Start);
        var attempts = new List<DateTimeOffset>();
        var link = new GatedLink();
        link.Release.SetResult();
        var log = new CapturingLogger();
        await using var exporter = new HepTraceExporter(
            Options("tcp:127.0.0.1:9", reconnect: TimeSpan.FromMilliseconds(200), maxReconnect: TimeSpan.FromMilliseconds(500)), time, log,
            (_, _) =>
            {
                lock (attempts) attempts.Add(time.GetUtcNow());
                return attempts.Count <= 3 ? throw new SocketException((int)SocketError.ConnectionRefused) : ValueTask.FromResult<IHepLink>(link);
            });

        exporter.Observe(In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("INVITE", 1, "waiting-call")));
        await Until(() => exporter.ConnectAttempts == 1);
        foreach (int waitMs in new[] { 200, 400, 500 }) // doubled, then capped at 500
        {
            long before = exporter.ConnectAttempts;
            time.Advance(TimeSpan.FromMilliseconds(waitMs - 1));
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Until(() => exporter.ConnectAttempts == before + 1);
        }
        await Until(() => exporter.Sent == 1);

        Assert.That(attempts, Is.EqualTo(new[]
        {
            Start, Start.AddMilliseconds(200), Start.AddMilliseconds(600), Start.AddMilliseconds(1100),
        }));
        Assert.That(HepPacketReader.Read(link.Packets.Single()).CorrelationId, Is.EqualTo("waiting-call"));
        Assert.That(log.Entries.Count(e => e.Message.Contains("cannot reach")), Is.EqualTo(1), "one line for the outage, not one per attempt");
        Assert.That(log.Entries.Count(e => e.Message.Contains("reaches tcp:127.0.0.1:9 again after 3 failed")), Is.EqualTo(1));
    }

    [Test]
    public async Task A_TCP_connection_that_broke_after_being_up_a_while_loses_only_the_message_in_flight_and_is_made_again_at_once()
    {
        var time = new FakeTimeProvider(Start);
        var links = new List<GatedLink> { new() { FailSends = true }, new() };
        links[1].Release.SetResult();
        int next = 0;
        await using var exporter = new HepTraceExporter(Options("tcp:127.0.0.1:9", maxReconnect: TimeSpan.FromSeconds(30)), time, null,
            (_, _) => ValueTask.FromResult<IHepLink>(links[next++]));

        exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1, "lost")));
        await links[0].FirstSendEntered.Task.WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(30)); // the connection has been up as long as the longest backoff
        links[0].Release.SetResult();
        await Until(() => exporter.SendFailures == 1);
        exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 2, "delivered")));
        await Until(() => exporter.Sent == 1); // fake time stands still: only a reconnect without backoff gets here

        Assert.That(exporter.ConnectAttempts, Is.EqualTo(2));
        Assert.That(links[0].Disposed, Is.True, "the broken connection is closed");
        Assert.That(HepPacketReader.Read(links[1].Packets.Single()).CorrelationId, Is.EqualTo("delivered"));
    }

    [Test]
    public async Task A_TCP_server_that_accepts_and_drops_every_connection_is_retried_after_a_doubling_backoff_not_once_per_message()
    {
        var time = new FakeTimeProvider(Start);
        var attempts = new List<DateTimeOffset>();
        await using var exporter = new HepTraceExporter(
            Options("tcp:127.0.0.1:9", reconnect: TimeSpan.FromMilliseconds(200), maxReconnect: TimeSpan.FromSeconds(1)), time, null,
            (_, _) =>
            {
                lock (attempts) attempts.Add(time.GetUtcNow());
                var broken = new GatedLink { FailSends = true };
                broken.Release.SetResult();
                return ValueTask.FromResult<IHepLink>(broken);
            });
        for (int i = 0; i < 5; i++) exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", i)));

        int[] waitsMs = [200, 400, 800, 1000]; // doubled, then capped at 1 s
        for (int k = 1; k <= 5; k++)
        {
            await Until(() => exporter.SendFailures >= k);
            if (k < 5) time.Advance(TimeSpan.FromMilliseconds(waitsMs[k - 1]));
        }

        lock (attempts)
        {
            Assert.That(attempts, Is.EqualTo(new[]
            {
                Start, Start.AddMilliseconds(200), Start.AddMilliseconds(600), Start.AddMilliseconds(1400), Start.AddMilliseconds(2400),
            }), "one connection per backoff step, not one per message");
        }
        Assert.That(exporter.Sent, Is.Zero);
    }

    [Test]
    public async Task A_connection_the_TCP_server_closed_is_noticed_before_writing_so_the_next_message_goes_on_a_new_connection()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var time = new FakeTimeProvider(Start);
            await using var exporter = new HepTraceExporter(Options($"tcp:127.0.0.1:{port}", maxReconnect: TimeSpan.FromSeconds(30)), time);
            using var wait = new CancellationTokenSource(Bound);

            exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1, "first")));
            using (TcpClient first = await listener.AcceptTcpClientAsync(wait.Token))
            {
                Assert.That((await ReadPacketAsync(first.GetStream(), wait.Token)).CorrelationId, Is.EqualTo("first"));
                first.Client.Shutdown(SocketShutdown.Both); // the capture server restarts, say
            }
            time.Advance(TimeSpan.FromSeconds(30)); // up long enough: reconnecting needs no backoff

            exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 2, "second")));
            using TcpClient second = await listener.AcceptTcpClientAsync(wait.Token);
            Assert.That((await ReadPacketAsync(second.GetStream(), wait.Token)).CorrelationId, Is.EqualTo("second"),
                "written into the closed connection, the message would be lost without an error");
            Assert.That(exporter.SendFailures, Is.Zero);
            Assert.That(exporter.ConnectAttempts, Is.EqualTo(2));
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<HepPacketReader> ReadPacketAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        byte[] header = new byte[6];
        await stream.ReadExactlyAsync(header, cancellationToken);
        byte[] packet = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4))];
        header.CopyTo(packet, 0);
        await stream.ReadExactlyAsync(packet.AsMemory(6), cancellationToken);
        return HepPacketReader.Read(packet);
    }

    [Test]
    public async Task Stopping_while_the_server_is_unreachable_drops_what_is_queued_instead_of_waiting_for_the_backoff()
    {
        var time = new FakeTimeProvider(Start);
        var exporter = new HepTraceExporter(Options("tcp:127.0.0.1:9", reconnect: TimeSpan.FromMinutes(1), maxReconnect: TimeSpan.FromMinutes(1)),
            time, null, (_, _) => throw new SocketException((int)SocketError.ConnectionRefused));
        for (int i = 0; i < 5; i++) exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", i)));
        await Until(() => exporter.ConnectAttempts == 1);

        await exporter.DisposeAsync().AsTask().WaitAsync(Bound); // fake time never moves: only a stop that does not wait ends

        Assert.That(exporter.Sent, Is.Zero);
        Assert.That(exporter.Dropped, Is.EqualTo(5));
        exporter.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 9)));
        Assert.That(exporter.Dropped, Is.EqualTo(6), "after the stop a message is counted, not queued");
    }

    [Test]
    public async Task A_message_too_large_for_one_HEP3_packet_is_dropped_and_counted_and_the_next_one_still_goes()
    {
        var time = new FakeTimeProvider(Start);
        var link = new GatedLink();
        link.Release.SetResult();
        await using var exporter = new HepTraceExporter(Options("tcp:127.0.0.1:9"), time, null, (_, _) => ValueTask.FromResult<IHepLink>(link));

        exporter.Observe(In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("MESSAGE", 1, "huge", new string('x', 70_000))));
        exporter.Observe(In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("MESSAGE", 2, "small")));
        await Until(() => exporter.Sent == 1);

        Assert.That(exporter.Dropped, Is.EqualTo(1));
        Assert.That(HepPacketReader.Read(link.Packets.Single()).CorrelationId, Is.EqualTo("small"));
    }

    private static HepOptions Options(string endpoint, uint agentId = 7, string? password = null, int queueCapacity = 10_000,
        TimeSpan? reconnect = null, TimeSpan? maxReconnect = null) => new()
    {
        Endpoint = HepEndpoint.Parse(endpoint),
        AgentId = agentId,
        Password = password,
        QueueCapacity = queueCapacity,
        ReconnectDelay = reconnect ?? TimeSpan.FromSeconds(1),
        MaxReconnectDelay = maxReconnect ?? TimeSpan.FromSeconds(30),
    };

    private static void AssertPackets(List<byte[]> packets, IReadOnlyList<SipMessageEvent> events, uint agentId, string? password)
    {
        Assert.That(packets, Has.Count.EqualTo(events.Count));
        for (int i = 0; i < events.Count; i++)
        {
            SipMessageEvent e = events[i];
            HepPacketReader p = HepPacketReader.Read(packets[i]);
            (IPEndPoint source, IPEndPoint target) = e.Direction == SipDirection.In ? (e.Remote.Address, e.Local) : (e.Local, e.Remote.Address);
            Assert.Multiple(() =>
            {
                Assert.That(p.Family, Is.EqualTo(source.AddressFamily == AddressFamily.InterNetwork ? 2 : 10), $"packet {i}");
                Assert.That(p.IpProtocol, Is.EqualTo(e.Remote.Protocol == SipProtocol.Udp ? 17 : 6), $"packet {i}");
                Assert.That(p.Source, Is.EqualTo(source), $"packet {i}");
                Assert.That(p.Destination, Is.EqualTo(target), $"packet {i}");
                Assert.That(p.Timestamp, Is.EqualTo(Start + TimeSpan.FromMicroseconds(1500 * i)), $"packet {i}");
                Assert.That(p.Chunks[11], Is.EqualTo(new byte[] { 1 }), "protocol type SIP");
                Assert.That(p.AgentId, Is.EqualTo(agentId));
                Assert.That(p.AuthKey, Is.EqualTo(password));
                Assert.That(p.CorrelationId, Is.EqualTo(e.Message.CallId), $"packet {i}");
                Assert.That(p.Payload, Is.EqualTo(e.Bytes.ToArray()), $"packet {i}");
            });
        }
    }

    /// <summary>Polls a condition the background sender makes true, within a bound (no fixed sleeps).</summary>
    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("the condition did not become true within the bound");
            await Task.Delay(5);
        }
    }

    /// <summary>A link that records packets, can hold the first write until released, and can fail every write.</summary>
    private sealed class GatedLink : IHepLink
    {
        public TaskCompletionSource FirstSendEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<byte[]> Packets { get; } = [];

        public bool FailSends { get; init; }

        public bool Disposed { get; private set; }

        public async ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
        {
            FirstSendEntered.TrySetResult();
            await Release.Task;
            if (FailSends) throw new SocketException((int)SocketError.ConnectionReset);
            lock (Packets) Packets.Add(packet.ToArray());
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
