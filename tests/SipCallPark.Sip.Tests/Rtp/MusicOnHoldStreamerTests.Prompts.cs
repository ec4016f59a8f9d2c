using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

/// <summary>Prompts queued before the music: the attended park speaking its orbit (docs/design.md §5).</summary>
public partial class MusicOnHoldStreamerTests
{
    private static MusicSource Constant(short level, int frames) =>
        MusicSource.FromSamples(Enumerable.Repeat(level, frames * MusicSource.FrameSize).ToArray(), $"level {level}");

    private static async Task<byte[]> NextPayloadAsync(UdpClient receiver)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var packet = (await receiver.ReceiveAsync(timeout.Token)).Buffer;
        Assert.That(RtpPacket.TryRead(packet, out _, out var offset), Is.True);
        return packet[offset..];
    }

    [Test]
    public async Task A_stream_with_prompts_sends_every_frame_of_each_prompt_in_order_and_then_the_music_from_its_start()
    {
        var time = new FakeTimeProvider();
        var receiver = Receiver();
        var music = MusicSource.Generated();
        await using var streamer = Streamer(time, music: music);
        var first = Constant(1000, 2);
        var second = Constant(-3000, 3);
        var stream = streamer.OpenStream();
        stream.PlayFirst([first, second]);
        stream.Retarget(EndPointOf(receiver));

        var payloads = new List<byte[]>();
        for (int i = 0; i < 8; i++)
        {
            time.Advance(Tick);
            payloads.Add(await NextPayloadAsync(receiver));
        }

        var expected = new[]
        {
            first.Frame(0).ToArray(), first.Frame(1).ToArray(), second.Frame(0).ToArray(), second.Frame(1).ToArray(), second.Frame(2).ToArray(),
            music.Frame(0).ToArray(), music.Frame(1).ToArray(), music.Frame(2).ToArray(),
        };
        Assert.That(payloads, Is.EqualTo(expected));
    }

    [Test]
    public async Task Once_the_music_plays_it_loops_without_the_prompts()
    {
        var time = new FakeTimeProvider();
        var receiver = Receiver();
        var music = Constant(500, 2);
        await using var streamer = Streamer(time, music: music);
        var prompt = Constant(-700, 1);
        var stream = streamer.OpenStream();
        stream.PlayFirst([prompt]);
        stream.Retarget(EndPointOf(receiver));

        var payloads = new List<byte[]>();
        for (int i = 0; i < 6; i++)
        {
            time.Advance(Tick);
            payloads.Add(await NextPayloadAsync(receiver));
        }

        Assert.That(payloads.Skip(1), Is.All.EqualTo(music.Frame(0).ToArray()), "after the one prompt frame, only the (constant) music");
        Assert.That(payloads[0], Is.EqualTo(prompt.Frame(0).ToArray()));
    }

    [Test]
    public async Task Prompts_cannot_be_queued_on_a_stream_that_already_plays()
    {
        await using var streamer = Streamer(new FakeTimeProvider());
        var stream = streamer.StartStream(EndPointOf(Receiver()));

        Assert.Throws<InvalidOperationException>(() => stream.PlayFirst([Constant(1, 1)]));
    }
}
