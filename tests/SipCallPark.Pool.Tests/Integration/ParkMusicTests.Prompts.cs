using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Tests.Park;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Rtp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>The attended park speaks its orbit (docs/design.md §5 "Attended park"): lead-in and digits, then music.</summary>
public sealed partial class ParkMusicTests
{
    private static ParkOptions WithPrompts()
    {
        var first = 30000 + 2 * Random.Shared.Next(0, 1000);
        return new ParkOptions
        {
            OrbitAssignment = OrbitAssignment.Lowest, EnableMusicOnHold = true, MediaPorts = $"{first}-{first + 99}",
            PromptDirectory = OrbitPromptsTests.RepositoryPrompts(),
        };
    }

    private static string AudioAt(UdpClient media, string user) =>
        $"v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {((IPEndPoint)media.Client.LocalEndPoint!).Port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

    /// <summary>The next <paramref name="count"/> payloads, one per 20 ms step of the park's clock.</summary>
    private static async Task<List<byte[]>> PayloadsAsync(FakeTimeProvider clock, UdpClient media, int count)
    {
        var payloads = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            var packet = await NextPacketWithinAsync(media, Bound);
            Assert.That(packet, Is.Not.Null, $"packet {i + 1} of {count}");
            payloads.Add(packet!.Value.Buffer[RtpHeaderSize..]);
        }
        return payloads;
    }

    [Test]
    public async Task The_parkers_reservation_call_hears_the_lead_in_and_each_digit_of_its_orbit_and_then_the_music()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock, park: WithPrompts());
        var alice = await RegisteredPhoneAsync(lab, "alice");
        using var aliceMedia = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));

        var attempt = await alice.Agent.CallAsync(SipUri.Parse("sip:park@callpark.lab"), new CallOptions { Sdp = AudioAt(aliceMedia, "alice") }).WaitAsync(Bound);

        Assert.That(attempt.IsSuccess, Is.True, attempt.ToString());
        Assert.That(attempt.Response!.Headers.Get(ParkApplication.OrbitHeader), Is.EqualTo("7000"));
        var prompts = OrbitPrompts.Load(OrbitPromptsTests.RepositoryPrompts(), NullLogger.Instance)!.For("7000");
        var expected = prompts.SelectMany(p => Enumerable.Range(0, p.FrameCount).Select(f => p.Frame(f).ToArray())).ToList();
        var music = MusicSource.Generated();
        expected.AddRange(Enumerable.Range(0, 3).Select(f => music.Frame(f).ToArray()));

        var payloads = await PayloadsAsync(clock, aliceMedia, expected.Count);

        var firstWrong = Enumerable.Range(0, expected.Count).FirstOrDefault(i => !payloads[i].AsSpan().SequenceEqual(expected[i]), -1);
        Assert.That(firstWrong, Is.EqualTo(-1),
            $"{expected.Count} frames: 'orbit', 'seven', 'zero' x3 ({expected.Count - 3} frames), then the music; frame {firstWrong} differs");
        await attempt.Call!.HangUpAsync().WaitAsync(Bound);
    }

    [Test]
    public async Task A_party_parked_by_transfer_hears_the_music_from_its_start_and_no_prompt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lab = await StartLabAsync(time: clock, park: WithPrompts());
        using var bobMedia = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await ParkBobAsync(lab, bobMedia);

        var payloads = await PayloadsAsync(clock, bobMedia, 10);

        var music = MusicSource.Generated();
        Assert.That(payloads, Is.EqualTo(Enumerable.Range(0, 10).Select(f => music.Frame(f).ToArray())));
    }
}
