using System.Buffers.Binary;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Tracing.TraceMessages;

namespace SipCallPark.Sip.Tests.Tracing;

/// <summary>Music-on-hold RTP as counters only (<see cref="HepRtpCounters"/>, <c>Pool:Trace:Hep:RtpCounters</c>).</summary>
public class HepRtpCountersTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 22, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly IPEndPoint MusicPort = new(IPAddress.Loopback, 40002);
    private static readonly IPEndPoint PartyRtp = new(IPAddress.Loopback, 10032);

    [Test]
    public async Task A_music_stream_is_reported_as_a_JSON_media_report_with_its_counters_correlated_by_the_Call_ID_of_the_SDP_that_offered_its_port()
    {
        var time = new FakeTimeProvider(Start);
        var link = new RecordingLink();
        await using var exporter = Exporter(time, link);
        await using var counters = new HepRtpCounters(exporter, Interval, time);

        counters.ObserveSip(Out(SipProtocol.Udp, PhoneV4, PoolV4, Invite("moh-call-1", MusicPort.Port)));
        for (int i = 0; i < 3; i++) counters.ObservePacket(MusicPort, PartyRtp, Rtp(0xCAFE0001, (ushort)i));
        time.Advance(Interval);
        HepPacketReader first = await link.NextAsync();

        Assert.Multiple(() =>
        {
            Assert.That(first.Chunks[11], Is.EqualTo(new byte[] { 0x22 }), "protocol type: JSON media report, not SIP (1) or RTP (4)");
            Assert.That(first.IpProtocol, Is.EqualTo(17));
            Assert.That(first.Source, Is.EqualTo(MusicPort));
            Assert.That(first.Destination, Is.EqualTo(PartyRtp));
            Assert.That(first.CorrelationId, Is.EqualTo("moh-call-1"));
            Assert.That(first.AgentId, Is.EqualTo(2001));
        });
        JsonElement report = JsonDocument.Parse(first.Payload).RootElement;
        Assert.That(report.GetProperty("report").GetString(), Is.EqualTo("rtp-counters"));
        Assert.That(report.GetProperty("call_id").GetString(), Is.EqualTo("moh-call-1"));
        Assert.That(report.GetProperty("ssrc").GetUInt32(), Is.EqualTo(0xCAFE0001));
        Assert.That(report.GetProperty("payload_type").GetInt32(), Is.Zero, "PCMU");
        Assert.That(report.GetProperty("packets").GetInt64(), Is.EqualTo(3));
        Assert.That(report.GetProperty("octets").GetInt64(), Is.EqualTo(3 * 172));
        Assert.That(report.GetProperty("final").GetBoolean(), Is.False);

        counters.ObservePacket(MusicPort, PartyRtp, Rtp(0xCAFE0001, 3));
        time.Advance(Interval);
        JsonElement second = JsonDocument.Parse((await link.NextAsync()).Payload).RootElement;
        Assert.That((second.GetProperty("packets").GetInt64(), second.GetProperty("final").GetBoolean()), Is.EqualTo((4L, false)), "totals, not deltas");

        time.Advance(Interval); // a round without packets: the stream ended
        JsonElement last = JsonDocument.Parse((await link.NextAsync()).Payload).RootElement;
        Assert.That((last.GetProperty("packets").GetInt64(), last.GetProperty("final").GetBoolean()), Is.EqualTo((4L, true)));
        Assert.That(counters.ActiveStreams, Is.Zero, "a finished stream is forgotten");
        Assert.That(link.Count, Is.EqualTo(3), "one report a round, no RTP packet went over HEP");
    }

    [Test]
    public async Task Stopping_sends_a_final_report_for_every_stream_still_playing()
    {
        var time = new FakeTimeProvider(Start);
        var link = new RecordingLink();
        await using var exporter = Exporter(time, link);
        var counters = new HepRtpCounters(exporter, Interval, time);
        counters.ObservePacket(MusicPort, PartyRtp, Rtp(1, 0));
        counters.ObservePacket(new IPEndPoint(IPAddress.Loopback, 40004), PartyRtp, Rtp(2, 0));

        await counters.DisposeAsync().AsTask().WaitAsync(Bound);
        var reports = new[] { await link.NextAsync(), await link.NextAsync() }.Select(p => JsonDocument.Parse(p.Payload).RootElement).ToList();

        Assert.That(reports.Select(r => r.GetProperty("ssrc").GetUInt32()), Is.EquivalentTo(new uint[] { 1, 2 }));
        Assert.That(reports.All(r => r.GetProperty("final").GetBoolean()), Is.True);
        Assert.That(reports.All(r => !r.TryGetProperty("call_id", out _)), Is.True, "no SDP named these ports: no correlation");
    }

    [Test]
    public async Task A_hostile_Call_ID_stays_inside_its_JSON_string_and_only_the_pools_own_SDP_names_a_port()
    {
        var time = new FakeTimeProvider(Start);
        var link = new RecordingLink();
        await using var exporter = Exporter(time, link);
        await using var counters = new HepRtpCounters(exporter, Interval, time);
        const string hostile = "x\"}{\"final\":true}\\";

        // A phone's SDP naming our music port must not bind it to the phone's Call-ID; our own answer does.
        counters.ObserveSip(In(SipProtocol.Udp, PhoneV4, PoolV4, Invite("phone-claims-it", MusicPort.Port)));
        counters.ObserveSip(Out(SipProtocol.Udp, PhoneV4, PoolV4, Invite(hostile, MusicPort.Port)));
        counters.ObservePacket(MusicPort, PartyRtp, Rtp(7, 0));
        counters.ObservePacket(MusicPort, PartyRtp, new byte[8]); // too short for RTP: not counted
        time.Advance(Interval);
        HepPacketReader packet = await link.NextAsync();
        JsonElement report = JsonDocument.Parse(packet.Payload).RootElement;

        Assert.That(report.GetProperty("call_id").GetString(), Is.EqualTo(hostile));
        Assert.That(report.GetProperty("packets").GetInt64(), Is.EqualTo(1));
        Assert.That(report.GetProperty("final").GetBoolean(), Is.False);
        Assert.That(counters.Untracked, Is.EqualTo(1));
    }

    private static HepTraceExporter Exporter(TimeProvider time, RecordingLink link) =>
        new(new HepOptions { Endpoint = HepEndpoint.Parse("udp:127.0.0.1:9"), AgentId = 2001 }, time, null,
            (_, _) => ValueTask.FromResult<IHepLink>(link));

    private static string Invite(string callId, int musicPort)
    {
        string sdp = "v=0\r\no=callpark 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
                     $"m=audio {musicPort} RTP/AVP 0\r\na=sendonly\r\n";
        return Request("INVITE", 1, callId, sdp).Replace("Content-Length:", "Content-Type: application/sdp\r\nContent-Length:", StringComparison.Ordinal);
    }

    private static byte[] Rtp(uint ssrc, ushort sequence)
    {
        byte[] packet = new byte[12 + 160];
        packet[0] = 0x80;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        return packet;
    }

    /// <summary>Records each packet and lets the test wait for the next one, within a bound.</summary>
    private sealed class RecordingLink : IHepLink
    {
        private readonly System.Threading.Channels.Channel<byte[]> _packets = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public async Task<HepPacketReader> NextAsync()
        {
            using var wait = new CancellationTokenSource(Bound);
            return HepPacketReader.Read(await _packets.Reader.ReadAsync(wait.Token));
        }

        public ValueTask SendAsync(ReadOnlyMemory<byte> packet, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            _packets.Writer.TryWrite(packet.ToArray());
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
