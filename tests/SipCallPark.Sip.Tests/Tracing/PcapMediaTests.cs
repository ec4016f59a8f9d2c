using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Rtp;
using SipCallPark.Sip.Tests.Transport;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Tracing.TraceMessages;

namespace SipCallPark.Sip.Tests.Tracing;

/// <summary>Music-on-hold RTP in the pcap trace (<see cref="PcapTraceWriter.ObserveMedia"/>).</summary>
public class PcapMediaTests
{
    private static readonly IPEndPoint MediaPort = new(IPAddress.Loopback, 40002);
    private static readonly IPEndPoint PhoneRtp = new(IPAddress.Loopback, 10032);

    [Test]
    public async Task Media_packets_are_UDP_frames_from_the_media_port_to_the_phone_counted_apart_from_SIP()
    {
        using var dir = new TempDirectory();
        byte[][] packets = [Rtp(100, 8000, marker: true), Rtp(101, 8160), Rtp(102, 8320)];
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, TimeProvider.System))
        {
            writer.Observe(Out(SipProtocol.Udp, PhoneV4, PoolV4, Request("INVITE", 1)));
            foreach (byte[] packet in packets) writer.ObserveMedia(MediaPort, PhoneRtp, packet);
            await writer.DisposeAsync();
            Assert.That(writer.Written, Is.EqualTo(1), "SIP messages");
            Assert.That(writer.MediaWritten, Is.EqualTo(3), "RTP packets");
            Assert.That(writer.Dropped + writer.MediaDropped, Is.Zero);
        }

        var frames = PcapTraceWriter.ReadAll(dir.File("trace.pcap"));
        Assert.That(frames, Has.Count.EqualTo(4));
        for (int i = 0; i < packets.Length; i++)
        {
            PcapFrame frame = frames[i + 1];
            Assert.That(frame.Protocol, Is.EqualTo(SipProtocol.Udp));
            Assert.That(frame.Source, Is.EqualTo(MediaPort));
            Assert.That(frame.Destination, Is.EqualTo(PhoneRtp));
            Assert.That(frame.Payload, Is.EqualTo(packets[i]));
            Assert.That(frame.Payload[0] >> 6, Is.EqualTo(2), "RTP version 2");
            Assert.That(BinaryPrimitives.ReadUInt16BigEndian(frame.Payload.AsSpan(2)), Is.EqualTo(100 + i), "sequence number");
        }
    }

    [Test]
    public async Task Media_may_fill_only_half_the_queue_so_it_never_takes_the_room_of_SIP()
    {
        using var dir = new TempDirectory();
        var gate = new GateStream();
        var log = new CapturingLogger();
        await using var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap"), QueueCapacity = 4 },
            new FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T12:00:00Z")), log, _ => gate);
        SipMessageEvent sip = In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1));

        writer.Observe(sip);
        Assert.That(await gate.Entered.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "the writer holds the first message");
        for (int i = 0; i < 5; i++) writer.ObserveMedia(MediaPort, PhoneRtp, Rtp((ushort)i, 0));
        Assert.That(writer.MediaDropped, Is.EqualTo(3), "two of four queue places for media, three packets dropped");
        writer.Observe(sip);
        writer.Observe(sip);
        Assert.That(writer.Dropped, Is.Zero, "the other half still takes SIP");
        writer.Observe(sip);
        Assert.That(writer.Dropped, Is.EqualTo(1), "now the queue is full");
        Assert.That(log.Entries.Count(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning), Is.EqualTo(1),
            "one warning, for the SIP drop; media drops are only counted");

        gate.Open();
        await writer.DisposeAsync();
        Assert.That(writer.Written, Is.EqualTo(3));
        Assert.That(writer.MediaWritten, Is.EqualTo(2));
        writer.ObserveMedia(MediaPort, PhoneRtp, Rtp(9, 0));
        Assert.That(writer.MediaDropped, Is.EqualTo(4), "after dispose media is dropped");
    }

    [Test]
    public async Task Tshark_decodes_the_media_frames_as_RTP_PCMU_and_finds_nothing_malformed()
    {
        string? tshark = Tshark.Find();
        if (tshark is null) Assert.Ignore("tshark is not on PATH");

        using var dir = new TempDirectory();
        string file = dir.File("trace.pcap");
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = file }, TimeProvider.System))
        {
            writer.Observe(Out(SipProtocol.Udp, PhoneV4, PoolV4, Request("INVITE", 1)));
            for (int i = 0; i < 5; i++) writer.ObserveMedia(MediaPort, PhoneRtp, Rtp((ushort)(500 + i), (uint)(160 * i), marker: i == 0));
        }

        (int exit, string output, string errors) = await Tshark.RunAsync(tshark!, "-r", file, "-d", $"udp.port=={MediaPort.Port},rtp",
            "-Y", "rtp", "-T", "fields", "-e", "rtp.p_type", "-e", "rtp.seq", "-e", "rtp.timestamp");
        Assert.That(exit, Is.Zero, errors);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Is.EqualTo(Enumerable.Range(0, 5).Select(i => $"0\t{500 + i}\t{160 * i}").ToArray()));

        (exit, output, errors) = await Tshark.RunAsync(tshark!, "-r", file, "-d", $"udp.port=={MediaPort.Port},rtp", "-Y", "_ws.malformed");
        Assert.That(exit, Is.Zero, errors);
        Assert.That(output.Trim(), Is.Empty, "no malformed frames");
    }

    /// <summary>An RTP/PCMU packet as the music-on-hold streamer writes it: the header and 160 bytes of silence.</summary>
    private static byte[] Rtp(ushort sequence, uint timestamp, bool marker = false)
    {
        byte[] packet = new byte[RtpPacket.HeaderSize + 160];
        byte[] silence = Enumerable.Repeat((byte)0xFF, 160).ToArray();
        int length = new RtpPacket(RtpPacket.PayloadTypePcmu, marker, sequence, timestamp, 0x1234_5678).Write(packet, silence);
        Assert.That(length, Is.EqualTo(packet.Length));
        return packet;
    }

    /// <summary>A file whose writes wait until opened: the writer stuck on a slow disk, holding one message.</summary>
    private sealed class GateStream : MemoryStream
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<bool> Entered => _entered.Task.ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);

        public void Open() => _open.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _entered.TrySetResult();
            await _open.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            await base.WriteAsync(buffer, cancellationToken);
        }
    }
}

/// <summary>Finding and running tshark for the trace tests, bounded.</summary>
internal static class Tshark
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "tshark"))
            .FirstOrDefault(File.Exists);

    public static async Task<(int Exit, string Output, string Errors)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true); // this process only, by its own handle
            Assert.Fail($"{program} did not finish within {Patience}");
        }
        return (process.ExitCode, await output, await errors);
    }
}
