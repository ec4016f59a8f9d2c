using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

public partial class MusicOnHoldStreamerTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly List<IDisposable> _disposables = [];

    [TearDown]
    public void DisposeSockets()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        _disposables.Clear();
    }

    private static RtpPortRange SomeRange(int pairs = 20)
    {
        int first = 20000 + 2 * Random.Shared.Next(0, 4000);
        return new RtpPortRange(first, first + 2 * pairs - 1);
    }

    private UdpClient Receiver()
    {
        var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _disposables.Add(client);
        return client;
    }

    private static IPEndPoint EndPointOf(UdpClient client) => (IPEndPoint)client.Client.LocalEndPoint!;

    private static MusicOnHoldStreamer Streamer(TimeProvider time, RtpPortRange? range = null, MusicSource? music = null) =>
        new(music ?? MusicSource.Generated(), range ?? SomeRange(), IPAddress.Loopback, time, new Random(42));

    /// <summary>Waits (in real time, bounded) for the timer loop to catch up with the fake clock.</summary>
    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > Patience)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(1);
        }
    }

    [Test]
    public async Task A_stream_sends_PCMU_packets_of_172_bytes_with_one_SSRC_and_steady_numbering()
    {
        var receiver = Receiver();
        var music = MusicSource.Generated();
        await using var streamer = Streamer(TimeProvider.System, music: music);
        var stream = streamer.StartStream(EndPointOf(receiver));

        const int count = 10;
        var packets = new List<byte[]>();
        using (var timeout = new CancellationTokenSource(Patience))
        {
            while (packets.Count < count)
            {
                var result = await receiver.ReceiveAsync(timeout.Token);
                packets.Add(result.Buffer);
                Assert.That(result.RemoteEndPoint.Port, Is.EqualTo(stream.LocalPort));
            }
        }

        var headers = packets.Select(p =>
        {
            Assert.That(RtpPacket.TryRead(p, out var header, out var offset), Is.True);
            Assert.That(offset, Is.EqualTo(12));
            return header;
        }).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(packets.Select(p => p.Length), Is.All.EqualTo(172));
            Assert.That(headers.Select(h => h.PayloadType), Is.All.EqualTo(0));
            Assert.That(headers.Select(h => h.Ssrc).Distinct(), Is.EqualTo(new[] { stream.Ssrc }));
            Assert.That(headers.Select(h => h.Marker), Is.EqualTo(new[] { true }.Concat(Enumerable.Repeat(false, count - 1))));
            for (int i = 1; i < count; i++)
            {
                Assert.That((ushort)(headers[i].SequenceNumber - headers[i - 1].SequenceNumber), Is.EqualTo(1), $"sequence at {i}");
                // On the real clock a late tick skips the frames it missed (CatchUp): the timestamp then moves on by
                // whole frames of 160 samples while the sequence number still counts packets.
                var step = headers[i].Timestamp - headers[i - 1].Timestamp;
                Assert.That(step > 0 && step % 160 == 0, Is.True, $"timestamp at {i} moved by {step}");
                var frame = (int)((headers[i].Timestamp - headers[0].Timestamp) / 160);
                var actual = Enumerable.Range(0, 50).Where(f => music.Frame(f).SequenceEqual(packets[i].AsSpan(12))).ToList();
                Assert.That(packets[i][12..], Is.EqualTo(music.Frame(frame).ToArray()), $"packet {i} carries frame {frame}; it is frame(s) {string.Join(",", actual)}; ts {string.Join(",", headers.Select(h => h.Timestamp - headers[0].Timestamp))} seq {string.Join(",", headers.Select(h => h.SequenceNumber))}");
            }

            Assert.That(packets[0][12..], Is.EqualTo(music.Frame(0).ToArray()), "the music starts at its beginning");
        });
        Assert.That(stream.PacketsSent, Is.GreaterThanOrEqualTo(count));
    }

    [Test]
    public async Task One_scheduler_sends_exactly_50_packets_a_second_to_each_of_three_streams()
    {
        var time = new FakeTimeProvider();
        var receiver = Receiver();
        await using var streamer = Streamer(time);
        var streams = Enumerable.Range(0, 3).Select(_ => streamer.StartStream(EndPointOf(receiver))).ToList();

        for (int tick = 1; tick <= 50; tick++)
        {
            time.Advance(Tick);
            int expected = 3 * tick;
            await WaitUntil(() => streamer.PacketsSent >= expected, $"{expected} packets at tick {tick}");
        }

        await Task.Delay(50); // real time: nothing more may come without the fake clock moving
        Assert.That(streams.Select(s => s.PacketsSent), Is.All.EqualTo(50));
        Assert.That(streamer.PacketsSent, Is.EqualTo(150));
        Assert.That(streams.Select(s => s.Ssrc).Distinct().Count(), Is.EqualTo(3));
        Assert.That(streams.Select(s => s.LocalPort), Is.All.Matches<int>(p => p % 2 == 0));
    }

    [Test]
    public async Task A_stream_started_between_ticks_sends_its_first_packet_at_the_next_tick()
    {
        var time = new FakeTimeProvider();
        await using var streamer = Streamer(time);
        time.Advance(TimeSpan.FromMilliseconds(10));
        var stream = streamer.StartStream(EndPointOf(Receiver()));

        time.Advance(TimeSpan.FromMilliseconds(10));
        await WaitUntil(() => stream.PacketsSent == 1, "the first packet");
        Assert.That(stream.PacketsSent, Is.EqualTo(1));
    }

    [Test]
    public async Task Random_SSRC_sequence_and_timestamp_come_from_the_injected_source()
    {
        var time = new FakeTimeProvider();
        var remote = EndPointOf(Receiver());
        await using var first = Streamer(time);
        await using var second = Streamer(time);

        Assert.That(first.StartStream(remote).Ssrc, Is.EqualTo(second.StartStream(remote).Ssrc), "same seed, same SSRC");
    }

    [Test]
    public async Task Stopping_a_stream_ends_its_packets_and_frees_its_port_pair()
    {
        var time = new FakeTimeProvider();
        var range = SomeRange();
        await using var streamer = Streamer(time, range);
        var stopped = streamer.StartStream(EndPointOf(Receiver()));
        var kept = streamer.StartStream(EndPointOf(Receiver()));
        time.Advance(Tick);
        await WaitUntil(() => streamer.PacketsSent == 2, "a packet each");

        int port = stopped.LocalPort;
        stopped.Stop();
        stopped.Stop();

        Assert.That(stopped.IsStopped, Is.True);
        Assert.That(range.InUse, Is.EqualTo(1));
        Assert.That(streamer.ActiveStreams, Is.EqualTo(1));
        using (new UdpClient(new IPEndPoint(IPAddress.Loopback, port)))
        using (new UdpClient(new IPEndPoint(IPAddress.Loopback, port + 1)))
        {
            // Both ports of the pair can be bound again.
        }

        time.Advance(Tick);
        await WaitUntil(() => kept.PacketsSent == 2, "the kept stream's second packet");
        Assert.That(stopped.PacketsSent, Is.EqualTo(1));
    }

    [Test]
    public async Task When_the_range_is_exhausted_starting_a_stream_says_so()
    {
        var time = new FakeTimeProvider();
        var range = SomeRange(pairs: 2);
        await using var streamer = Streamer(time, range);
        var remote = EndPointOf(Receiver());
        streamer.StartStream(remote);
        var second = streamer.StartStream(remote);

        Assert.That(() => streamer.StartStream(remote), Throws.TypeOf<RtpPortsExhaustedException>().With.Message.Contains(range.ToString()));

        second.Stop();
        Assert.That(streamer.StartStream(remote).LocalPort, Is.EqualTo(second.LocalPort), "a freed pair is used again");
    }

    [Test]
    public async Task A_port_taken_by_another_program_is_skipped()
    {
        var time = new FakeTimeProvider();
        var range = SomeRange(pairs: 3);
        using var squatter = new UdpClient(new IPEndPoint(IPAddress.Loopback, range.First + 1));
        await using var streamer = Streamer(time, range);

        var stream = streamer.StartStream(EndPointOf(Receiver()));

        Assert.That(stream.LocalPort, Is.EqualTo(range.First + 2));
        Assert.That(range.InUse, Is.EqualTo(1));
    }

    [Test]
    public async Task Media_sent_to_our_ports_is_read_and_dropped()
    {
        var time = new FakeTimeProvider();
        await using var streamer = Streamer(time);
        var stream = streamer.StartStream(EndPointOf(Receiver()));
        using var phone = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        for (int i = 0; i < 4; i++)
        {
            await phone.SendAsync(new byte[172], new IPEndPoint(IPAddress.Loopback, stream.LocalPort));
        }

        await phone.SendAsync(new byte[52], new IPEndPoint(IPAddress.Loopback, stream.LocalPort + 1));

        for (int tick = 0; tick < 100 && streamer.PacketsDiscarded < 5; tick++)
        {
            time.Advance(Tick);
            await Task.Delay(1);
        }

        Assert.That(streamer.PacketsDiscarded, Is.EqualTo(5));
    }

    [Test]
    public async Task After_a_stall_a_stream_sends_a_short_burst_and_its_timestamp_keeps_time()
    {
        var time = new FakeTimeProvider();
        var receiver = Receiver();
        await using var streamer = Streamer(time);
        var stream = streamer.StartStream(EndPointOf(receiver));
        time.Advance(Tick);
        await WaitUntil(() => stream.PacketsSent == 1, "the first packet");

        // Drive the loop directly so the stall is exactly 20 ticks, whatever the thread pool does.
        streamer.OnTick(21);

        Assert.That(stream.PacketsSent, Is.EqualTo(1 + MusicOnHoldStreamer.MaxBurst));
        var headers = new List<RtpPacket>();
        using var timeout = new CancellationTokenSource(Patience);
        while (headers.Count < 4)
        {
            RtpPacket.TryRead((await receiver.ReceiveAsync(timeout.Token)).Buffer, out var header, out _);
            headers.Add(header);
        }

        Assert.That(headers.Select(h => (ushort)(h.SequenceNumber - headers[0].SequenceNumber)), Is.EqualTo(new ushort[] { 0, 1, 2, 3 }));
        Assert.That(headers.Select(h => h.Timestamp - headers[0].Timestamp), Is.EqualTo(new uint[] { 0, 18 * 160, 19 * 160, 20 * 160 }));
    }

    [Test]
    public async Task A_stream_whose_first_tick_comes_late_starts_at_the_beginning_of_the_music_with_one_packet()
    {
        var time = new FakeTimeProvider();
        var receiver = Receiver();
        var music = MusicSource.Generated();
        await using var streamer = Streamer(time, music: music);
        var stream = streamer.StartStream(EndPointOf(receiver)); // due at tick 1

        // The loop wakes 20 ticks late for the stream's first packet, then on time.
        streamer.OnTick(21);
        streamer.OnTick(22);

        Assert.That(stream.PacketsSent, Is.EqualTo(2), "one packet at the late tick, not a burst");
        using var timeout = new CancellationTokenSource(Patience);
        var first = (await receiver.ReceiveAsync(timeout.Token)).Buffer;
        var second = (await receiver.ReceiveAsync(timeout.Token)).Buffer;
        RtpPacket.TryRead(first, out var firstHeader, out _);
        RtpPacket.TryRead(second, out var secondHeader, out _);
        Assert.Multiple(() =>
        {
            Assert.That(first[12..], Is.EqualTo(music.Frame(0).ToArray()), "the first packet carries the first frame");
            Assert.That(firstHeader.Marker, Is.True);
            Assert.That(second[12..], Is.EqualTo(music.Frame(1).ToArray()));
            Assert.That(secondHeader.Timestamp - firstHeader.Timestamp, Is.EqualTo(160u));
        });
    }

    [Test]
    public async Task Disposing_stops_every_stream_and_frees_the_ports()
    {
        var range = SomeRange();
        var streamer = Streamer(new FakeTimeProvider(), range);
        var stream = streamer.StartStream(EndPointOf(Receiver()));

        await streamer.DisposeAsync();

        Assert.That(stream.IsStopped, Is.True);
        Assert.That(range.InUse, Is.Zero);
        Assert.That(() => streamer.StartStream(EndPointOf(Receiver())), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public async Task An_IPv6_remote_is_refused_by_an_IPv4_streamer()
    {
        await using var streamer = Streamer(new FakeTimeProvider());
        Assert.That(() => streamer.StartStream(new IPEndPoint(IPAddress.IPv6Loopback, 5004)), Throws.ArgumentException);
    }
}
