using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Sdp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// Music on hold as the parked phone receives it: bob is parked by blind transfer with an SDP naming a UDP socket the
/// test owns, and the test reads the RTP the park sends there (RFC 3550 header, RFC 3551 PCMU at 20 ms).
/// </summary>
[TestFixture]
public sealed partial class ParkMusicTests : IntegrationTest
{
    private static readonly TimeSpan Bound = LabPhone.Bound;
    private const int RtpHeaderSize = 12;
    private const int PcmuFrameBytes = 160; // 20 ms of 8 kHz G.711

    [Test]
    public async Task A_parked_party_receives_PCMU_RTP_from_the_port_in_the_parks_answer_with_one_SSRC_a_first_marker_and_consecutive_sequence_numbers_at_about_50_packets_a_second()
    {
        var lab = await StartLabAsync(park: WithMusic(true));
        using var bobMedia = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var (_, answer) = await ParkBobAsync(lab, bobMedia);
        var offered = SessionDescription.Parse(answer);
        Assert.That(offered.GetEffectiveDirection(offered.Media[0]), Is.EqualTo(MediaDirection.SendOnly), "the park's answer plays music");

        // The music started when the park answered, so the first packets wait in the socket already; by the 26th the
        // test reads them as they come, and the last 25 show the rate.
        var packets = await ReceiveAsync(bobMedia, 50);

        var live = packets[25..];
        Assert.Multiple(() =>
        {
            Assert.That(packets.Select(p => p.From.Port).Distinct(), Is.EqualTo(new[] { offered.Media[0].Port }), "RTP comes from the port the park's SDP named");
            Assert.That(packets.Select(p => p.Bytes.Length).Distinct(), Is.EqualTo(new[] { RtpHeaderSize + PcmuFrameBytes }), "12-byte header, 160 bytes of PCMU");
            Assert.That(packets.Select(p => p.Bytes[0] >> 6).Distinct(), Is.EqualTo(new[] { 2 }), "RTP version 2");
            Assert.That(packets.Select(p => p.Bytes[0] & 0x3F).Distinct(), Is.EqualTo(new[] { 0 }), "no padding, no extension, no CSRC");
            Assert.That(packets.Select(p => p.Bytes[1] & 0x7F).Distinct(), Is.EqualTo(new[] { 0 }), "payload type 0 (PCMU)");
            Assert.That(packets.Select(p => p.Ssrc).Distinct().Count(), Is.EqualTo(1), "one synchronisation source");
            Assert.That(packets[0].Marker, Is.True, "the marker starts the talkspurt");
            Assert.That(packets.Skip(1).Where(p => p.Marker), Is.Empty, "and only the first packet has it");
            for (var i = 1; i < packets.Count; i++)
            {
                Assert.That((ushort)(packets[i].Sequence - packets[i - 1].Sequence), Is.EqualTo(1), $"sequence number of packet {i}");
                // Exactly 160 unless the streamer woke more than 3 packets late and skipped frames (RFC 3550 §5.1: the
                // timestamp counts the skipped audio, the sequence number does not); the fake-clock test pins the 160.
                var step = packets[i].Timestamp - packets[i - 1].Timestamp;
                Assert.That(step > 0 && step % PcmuFrameBytes == 0, Is.True, $"timestamp of packet {i} advanced by {step}, not a whole number of 160-sample frames");
            }
            // 24 intervals of 20 ms = 480 ms; loose bounds, as a loaded machine may delay or bunch packets.
            Assert.That(live[^1].At - live[0].At, Is.InRange(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2)), "25 packets at 20 ms");
        });
        Assert.That(MohStreams(lab), Is.EqualTo(1));
    }

    [Test]
    public async Task Each_20_ms_of_the_parks_clock_sends_the_parked_party_one_packet_with_the_next_sequence_number_and_a_timestamp_160_on()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock, park: WithMusic(true));
        using var bobMedia = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await ParkBobAsync(lab, bobMedia);
        Assert.That(await NextPacketWithinAsync(bobMedia, TimeSpan.FromMilliseconds(100)), Is.Null, "nothing before the clock moves");

        var packets = new List<RtpArrival>();
        for (var i = 0; i < 25; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            var packet = await NextPacketWithinAsync(bobMedia, Bound);
            Assert.That(packet, Is.Not.Null, $"packet {i + 1} after {20 * (i + 1)} ms");
            packets.Add(new RtpArrival(packet!.Value.Buffer, packet.Value.RemoteEndPoint, TimeSpan.Zero));
        }

        Assert.Multiple(() =>
        {
            for (var i = 1; i < packets.Count; i++)
            {
                Assert.That((ushort)(packets[i].Sequence - packets[i - 1].Sequence), Is.EqualTo(1), $"sequence number of packet {i}");
                Assert.That(packets[i].Timestamp - packets[i - 1].Timestamp, Is.EqualTo((uint)PcmuFrameBytes), $"timestamp of packet {i}");
            }
            Assert.That(packets[0].Marker, Is.True);
            Assert.That(packets.Skip(1).Where(p => p.Marker), Is.Empty);
        });
        Assert.That(await NextPacketWithinAsync(bobMedia, TimeSpan.FromMilliseconds(100)), Is.Null, "one packet per 20 ms, no more");
    }

    [Test]
    public async Task Unparking_stops_the_music_and_the_park_moh_streams_gauge_drops_to_0()
    {
        var lab = await StartLabAsync(park: WithMusic(true));
        using var bobMedia = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var (bobParkLeg, _) = await ParkBobAsync(lab, bobMedia);
        await ReceiveAsync(bobMedia, 3);
        Assert.That(MohStreams(lab), Is.EqualTo(1), "one stream while bob is parked");

        Assert.That(await lab.A.Park.UnparkAsync("7000"), Is.True);
        Assert.That(await bobParkLeg.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));

        // Whatever was sent before the BYE is already in our socket on loopback: drop it, then nothing more may come.
        while (bobMedia.Available > 0) await bobMedia.ReceiveAsync();
        Assert.That(await NextPacketWithinAsync(bobMedia, TimeSpan.FromMilliseconds(300)), Is.Null, "no RTP after the BYE");
        Assert.That(MohStreams(lab), Is.Zero);
    }

    [Test]
    public async Task With_music_on_hold_off_the_parks_answer_is_inactive_and_no_RTP_arrives()
    {
        var lab = await StartLabAsync(park: WithMusic(false));
        using var bobMedia = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        var (_, answer) = await ParkBobAsync(lab, bobMedia);

        var offered = SessionDescription.Parse(answer);
        Assert.That(offered.GetEffectiveDirection(offered.Media[0]), Is.EqualTo(MediaDirection.Inactive));
        Assert.That(answer, Does.Contain("a=inactive"));
        Assert.That(await NextPacketWithinAsync(bobMedia, TimeSpan.FromMilliseconds(500)), Is.Null, "no RTP while parked without music");
        Assert.That(lab.A.Park.Parked().Single().Orbit, Is.EqualTo("7000"), "bob is parked all the same");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private sealed record RtpArrival(byte[] Bytes, IPEndPoint From, TimeSpan At)
    {
        public bool Marker => (Bytes[1] & 0x80) != 0;

        public ushort Sequence => BinaryPrimitives.ReadUInt16BigEndian(Bytes.AsSpan(2));

        public uint Timestamp => BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(4));

        public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(Bytes.AsSpan(8));
    }

    /// <summary>Lowest orbit first, and music ports of a random block so that parallel runs of the lab rarely meet.</summary>
    private static ParkOptions WithMusic(bool enabled)
    {
        var first = 30000 + 2 * Random.Shared.Next(0, 1000);
        return new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest, EnableMusicOnHold = enabled, MediaPorts = $"{first}-{first + 99}" };
    }

    /// <summary>
    /// alice calls bob and blind-transfers him to the park; bob follows the REFER offering audio at
    /// <paramref name="media"/>. Returns bob's leg with the park and the park's SDP answer.
    /// </summary>
    private static async Task<(SipCall BobParkLeg, string Answer)> ParkBobAsync(LabPools lab, UdpClient media)
    {
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var port = ((IPEndPoint)media.Client.LocalEndPoint!).Port;
        var bobSdp = $"v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

        var dialling = alice.CallAsync(bob.User);
        var bobCall = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp);
        var aliceCall = (await dialling).Call!;
        var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        bobCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(bobSdp));
        var transfer = await aliceCall.ReferAsync(new NameAddress(SipUri.Parse("sip:park@callpark.lab")), alice.Agent.Identity).WaitAsync(Bound);
        Assert.That(transfer.Succeeded, Is.True, transfer.ToString());
        var attempt = await followed.Task.WaitAsync(Bound);
        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        Assert.That((await alice.NextMessageAsync()).BodyText, Does.Contain("parked on orbit 7000"));
        await aliceCall.HangUpAsync().WaitAsync(Bound);
        return (attempt.Call!, attempt.Call!.RemoteSdp!);
    }

    /// <summary>The next <paramref name="count"/> datagrams at <paramref name="socket"/>, each awaited for at most a second.</summary>
    private static async Task<List<RtpArrival>> ReceiveAsync(UdpClient socket, int count)
    {
        var clock = Stopwatch.StartNew();
        var packets = new List<RtpArrival>(count);
        while (packets.Count < count)
        {
            var packet = await NextPacketWithinAsync(socket, TimeSpan.FromSeconds(1));
            Assert.That(packet, Is.Not.Null, $"RTP packet {packets.Count + 1} of {count} did not arrive within a second");
            packets.Add(new RtpArrival(packet!.Value.Buffer, packet.Value.RemoteEndPoint, clock.Elapsed));
        }
        return packets;
    }

    /// <summary>The next datagram, or null when none arrives within <paramref name="wait"/>.</summary>
    private static async Task<UdpReceiveResult?> NextPacketWithinAsync(UdpClient socket, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await socket.ReceiveAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The <c>park_moh_streams</c> gauge as a scrape of the pool's metrics shows it.</summary>
    private static double MohStreams(LabPools lab)
    {
        var line = lab.A.Metrics.Render().Split('\n').Single(l => l.StartsWith("sipcallpark_park_moh_streams ", StringComparison.Ordinal));
        return double.Parse(line["sipcallpark_park_moh_streams ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
