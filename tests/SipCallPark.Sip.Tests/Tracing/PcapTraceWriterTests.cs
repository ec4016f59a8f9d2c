using System.Buffers.Binary;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Tests.Transport;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Tracing.TraceMessages;

namespace SipCallPark.Sip.Tests.Tracing;

public class PcapTraceWriterTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 10, 20, 30, 123, TimeSpan.Zero);

    [Test]
    public async Task Every_message_reads_back_with_its_addresses_ports_protocol_and_bytes()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        IReadOnlyList<SipMessageEvent> events = Mixed();
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, time))
        {
            foreach (SipMessageEvent e in events)
            {
                writer.Observe(e);
                time.Advance(TimeSpan.FromMilliseconds(1.5));
            }
            await writer.DisposeAsync();
            Assert.That(writer.Written, Is.EqualTo(events.Count));
            Assert.That(writer.Dropped, Is.Zero);
        }

        IReadOnlyList<PcapFrame> frames = PcapTraceWriter.ReadAll(dir.File("trace.pcap"));
        Assert.That(frames, Has.Count.EqualTo(events.Count));
        for (int i = 0; i < events.Count; i++)
        {
            SipMessageEvent e = events[i];
            PcapFrame f = frames[i];
            IPEndPoint remote = e.Remote.Address;
            (IPEndPoint source, IPEndPoint target) = e.Direction == SipDirection.In ? (remote, e.Local) : (e.Local, remote);
            Assert.Multiple(() =>
            {
                Assert.That(f.Protocol, Is.EqualTo(e.Remote.Protocol), $"frame {i}");
                Assert.That(f.Source, Is.EqualTo(source), $"frame {i}");
                Assert.That(f.Destination, Is.EqualTo(target), $"frame {i}");
                Assert.That(f.Payload, Is.EqualTo(e.Bytes.ToArray()), $"frame {i}");
                Assert.That(f.Timestamp, Is.EqualTo(Start + TimeSpan.FromMilliseconds(1.5 * i)), $"frame {i}");
                Assert.That(f.OriginalLength, Is.EqualTo(f.Frame.Length), $"frame {i}");
            });
        }
    }

    [Test]
    public async Task IPv4_header_checksums_and_UDP_and_TCP_checksums_verify()
    {
        using var dir = new TempDirectory();
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, TimeProvider.System))
        {
            foreach (SipMessageEvent e in Mixed()) writer.Observe(e);
        }

        IReadOnlyList<PcapFrame> frames = PcapTraceWriter.ReadAll(dir.File("trace.pcap"));
        Assert.That(frames, Has.Count.EqualTo(Mixed().Count));
        foreach (PcapFrame f in frames)
        {
            byte[] frame = f.Frame;
            ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12));
            if (etherType == 0x0800)
            {
                byte[] ip = frame[14..34];
                Assert.That(OnesComplementSum(ip), Is.EqualTo(0xFFFF), "IPv4 header checksum");
                Assert.That(BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(2)), Is.EqualTo(frame.Length - 14), "IPv4 total length");
                byte[] segment = frame[34..];
                byte[] pseudo = [.. ip[12..20], 0, ip[9], (byte)(segment.Length >> 8), (byte)segment.Length];
                Assert.That(OnesComplementSum([.. pseudo, .. segment]), Is.EqualTo(0xFFFF), "IPv4 UDP/TCP checksum");
            }
            else
            {
                Assert.That(etherType, Is.EqualTo(0x86DD));
                byte[] ip = frame[14..54];
                byte[] segment = frame[54..];
                Assert.That(BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(4)), Is.EqualTo(segment.Length), "IPv6 payload length");
                byte[] length = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(length, segment.Length);
                byte[] pseudo = [.. ip[8..40], .. length, 0, 0, 0, ip[6]];
                Assert.That(BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(f.Protocol == SipProtocol.Udp ? 6 : 16)), Is.Not.Zero);
                Assert.That(OnesComplementSum([.. pseudo, .. segment]), Is.EqualTo(0xFFFF), "IPv6 UDP/TCP checksum");
            }
        }
    }

    [Test]
    public async Task TCP_sequence_numbers_advance_by_payload_length_per_direction_and_acknowledge_the_other()
    {
        using var dir = new TempDirectory();
        var otherPhone = new IPEndPoint(IPAddress.Loopback, 40101);
        SipMessageEvent[] events =
        [
            In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("INVITE", 1)),
            Out(SipProtocol.Tcp, PhoneV4, PoolV4, Response(100, "Trying", "INVITE", 1)),
            In(SipProtocol.Tcp, otherPhone, PoolV4, Request("OPTIONS", 9, "other")),
            Out(SipProtocol.Tcp, PhoneV4, PoolV4, Response(200, "OK", "INVITE", 1)),
            In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("ACK", 1)),
            In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("BYE", 2)),
        ];
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, TimeProvider.System))
        {
            foreach (SipMessageEvent e in events) writer.Observe(e);
        }

        IReadOnlyList<PcapFrame> f = PcapTraceWriter.ReadAll(dir.File("trace.pcap"));
        Assert.That(f, Has.Count.EqualTo(events.Length));
        const uint isn = PcapTraceWriter.InitialSequence;
        uint len(int i) => (uint)f[i].Payload.Length;
        Assert.Multiple(() =>
        {
            Assert.That(f.Select(x => x.TcpFlags), Is.All.EqualTo(0x18), "PSH|ACK");
            // phone -> pool: frames 0, 4, 5
            Assert.That(f[0].Sequence, Is.EqualTo(isn));
            Assert.That(f[4].Sequence, Is.EqualTo(isn + len(0)));
            Assert.That(f[5].Sequence, Is.EqualTo(isn + len(0) + len(4)));
            // pool -> phone: frames 1, 3
            Assert.That(f[1].Sequence, Is.EqualTo(isn));
            Assert.That(f[3].Sequence, Is.EqualTo(isn + len(1)));
            // each acknowledges what the other direction has sent so far
            Assert.That(f[0].Acknowledgment, Is.EqualTo(isn));
            Assert.That(f[1].Acknowledgment, Is.EqualTo(isn + len(0)));
            Assert.That(f[4].Acknowledgment, Is.EqualTo(isn + len(1) + len(3)));
            // another connection has its own numbers
            Assert.That(f[2].Sequence, Is.EqualTo(isn));
            Assert.That(f[2].Source, Is.EqualTo(otherPhone));
        });
    }

    [Test]
    public async Task A_TCP_message_larger_than_a_frame_is_cut_into_consecutive_segments()
    {
        using var dir = new TempDirectory();
        string body = new('x', 150_000);
        SipMessageEvent big = In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("MESSAGE", 1, body: body));
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, TimeProvider.System))
        {
            writer.Observe(big);
            writer.Observe(In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("OPTIONS", 2)));
            await writer.DisposeAsync();
            Assert.That(writer.Written, Is.EqualTo(2));
        }

        IReadOnlyList<PcapFrame> frames = PcapTraceWriter.ReadAll(dir.File("trace.pcap"));
        Assert.That(frames, Has.Count.EqualTo(4));
        Assert.That(frames.Take(3).SelectMany(f => f.Payload).ToArray(), Is.EqualTo(big.Bytes.ToArray()));
        Assert.That(frames.Select(f => f.Frame.Length), Is.All.LessThanOrEqualTo(65535));
        uint expected = PcapTraceWriter.InitialSequence;
        foreach (PcapFrame f in frames)
        {
            Assert.That(f.Sequence, Is.EqualTo(expected));
            expected += (uint)f.Payload.Length;
        }
    }

    [Test]
    public async Task An_IPv4_mapped_remote_on_an_IPv4_socket_is_written_as_IPv4()
    {
        using var dir = new TempDirectory();
        var mapped = new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 40100);
        await using (var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, TimeProvider.System))
        {
            writer.Observe(In(SipProtocol.Udp, mapped, PoolV4, Request("OPTIONS", 1)));
        }

        PcapFrame frame = PcapTraceWriter.ReadAll(dir.File("trace.pcap")).Single();
        Assert.That(frame.Source, Is.EqualTo(PhoneV4));
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(frame.Frame.AsSpan(12)), Is.EqualTo(0x0800));
    }

    [Test]
    public async Task Files_roll_by_size_and_each_starts_with_its_own_global_header()
    {
        using var dir = new TempDirectory();
        var options = new PcapOptions { Path = dir.File("trace.pcap"), MaxFileBytes = PcapOptions.MinFileBytes };
        const int count = 30;
        await using (var writer = new PcapTraceWriter(options, TimeProvider.System))
        {
            for (int i = 0; i < count; i++) writer.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", i + 1)));
            await writer.DisposeAsync();
            Assert.That(writer.Written, Is.EqualTo(count));
            Assert.That(writer.CurrentPath, Does.EndWith("trace-" + (Directory.GetFiles(dir.Path).Length - 1) + ".pcap"));
        }

        string[] files = Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal).ToArray();
        Assert.That(files.Length, Is.GreaterThanOrEqualTo(2));
        Assert.That(files.Select(Path.GetFileName), Does.Contain("trace.pcap").And.Contain("trace-1.pcap"));
        int total = 0;
        foreach (string file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            Assert.That(bytes.Length, Is.LessThanOrEqualTo(options.MaxFileBytes), file);
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes), Is.EqualTo(0xa1b2c3d4), file);
            Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)), Is.EqualTo(1), file);
            total += PcapTraceWriter.ReadAll(file).Count;
        }
        Assert.That(total, Is.EqualTo(count));
    }

    [Test]
    public async Task A_restart_does_not_overwrite_an_earlier_trace()
    {
        using var dir = new TempDirectory();
        var options = new PcapOptions { Path = dir.File("trace.pcap") };
        await using (var first = new PcapTraceWriter(options, TimeProvider.System))
        {
            first.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1)));
        }
        await using (var second = new PcapTraceWriter(options, TimeProvider.System))
        {
            second.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 2)));
            await second.DisposeAsync();
            Assert.That(second.CurrentPath, Is.EqualTo(dir.File("trace-1.pcap")));
        }

        Assert.That(PcapTraceWriter.ReadAll(dir.File("trace.pcap")).Single().Payload, Does.Contain((byte)'1'));
        Assert.That(Encoding.ASCII.GetString(PcapTraceWriter.ReadAll(dir.File("trace-1.pcap")).Single().Payload), Does.Contain("CSeq: 2 OPTIONS"));
    }

    [Test]
    public async Task A_full_queue_drops_and_counts_without_blocking_and_warns_at_most_once_a_second()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        var log = new CapturingLogger();
        var gate = new BlockingStream();
        var options = new PcapOptions { Path = dir.File("trace.pcap"), QueueCapacity = 2 };
        await using var writer = new PcapTraceWriter(options, time, log, _ => gate);
        SipMessageEvent message = In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1));

        writer.Observe(message);
        await gate.Entered.WaitAsync(TimeSpan.FromSeconds(10)); // the writer holds one message and is stuck writing
        // The writer stays stuck until the test ends: an Observe that waited for it would never return.
        var observing = Task.Run(() =>
        {
            for (int i = 0; i < 9; i++) writer.Observe(message);
        });

        Assert.That(await Task.WhenAny(observing, Task.Delay(TimeSpan.FromSeconds(10))), Is.SameAs(observing), "Observe must not wait for the writer");
        Assert.That(writer.Dropped, Is.EqualTo(7), "two queued, seven dropped");
        Assert.That(Warnings(log), Has.Count.EqualTo(1));

        time.Advance(TimeSpan.FromMilliseconds(999));
        writer.Observe(message);
        Assert.That(Warnings(log), Has.Count.EqualTo(1));
        time.Advance(TimeSpan.FromMilliseconds(1));
        writer.Observe(message);
        Assert.That(Warnings(log), Has.Count.EqualTo(2));
        Assert.That(Warnings(log)[1].Properties["Dropped"], Is.EqualTo(9L));

        gate.Release();
        await writer.DisposeAsync();
        Assert.That(writer.Written, Is.EqualTo(3));
        Assert.That(writer.Written + writer.Dropped, Is.EqualTo(12));
        CapturingLogger.LogEntry closed = log.Entries.Single(e => e.Template.StartsWith("SIP pcap trace closed", StringComparison.Ordinal));
        Assert.That(closed.Level, Is.EqualTo(LogLevel.Warning), "a trace with a message missing says so when it closes");
        Assert.That(closed.Properties["Dropped"], Is.EqualTo(9L));
        Assert.That(closed.Properties["Written"], Is.EqualTo(3L));
        writer.Observe(message);
        Assert.That(writer.Dropped, Is.EqualTo(10), "after dispose a message is dropped, quietly");
        Assert.That(Warnings(log), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task Closing_a_complete_trace_logs_how_many_messages_it_holds_and_that_none_was_dropped()
    {
        using var dir = new TempDirectory();
        var log = new CapturingLogger();
        IReadOnlyList<SipMessageEvent> events = Mixed();
        var writer = new PcapTraceWriter(new PcapOptions { Path = dir.File("trace.pcap") }, new FakeTimeProvider(Start), log, p => File.Create(p));
        foreach (SipMessageEvent e in events) writer.Observe(e);
        await writer.DisposeAsync();

        CapturingLogger.LogEntry closed = log.Entries.Single(e => e.Template.StartsWith("SIP pcap trace closed", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(closed.Level, Is.EqualTo(LogLevel.Information));
            Assert.That(closed.Properties["Written"], Is.EqualTo((long)events.Count));
            Assert.That(closed.Properties["Dropped"], Is.EqualTo(0L));
            Assert.That(closed.Properties["File"], Is.EqualTo(dir.File("trace.pcap")));
        });
    }

    [Test]
    public async Task A_failing_file_drops_messages_and_the_writer_survives()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(Start);
        var log = new CapturingLogger();
        int opened = 0;
        var options = new PcapOptions { Path = dir.File("trace.pcap") };
        await using (var writer = new PcapTraceWriter(options, time, log, _ =>
        {
            opened++;
            return opened == 1 ? new FailingStream() : new MemoryStream();
        }))
        {
            writer.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 1)));
            await log.WaitForAsync(e => e.Level == LogLevel.Error);
            writer.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 2))); // within the pause: dropped
            await WaitUntilAsync(() => writer.Dropped == 2);
            time.Advance(TimeSpan.FromSeconds(6));
            writer.Observe(In(SipProtocol.Udp, PhoneV4, PoolV4, Request("OPTIONS", 3)));
            await writer.DisposeAsync();
            Assert.That(writer.Written, Is.EqualTo(1));
            Assert.That(writer.Dropped, Is.EqualTo(2));
            Assert.That(writer.CurrentPath, Is.EqualTo(dir.File("trace-1.pcap")));
        }
    }

    [TestCase(nameof(PcapOptions.Path))]
    [TestCase(nameof(PcapOptions.MaxFileBytes))]
    [TestCase(nameof(PcapOptions.QueueCapacity))]
    public void Invalid_options_are_refused_naming_the_option(string name)
    {
        PcapOptions options = name switch
        {
            nameof(PcapOptions.Path) => new PcapOptions { Path = " " },
            nameof(PcapOptions.MaxFileBytes) => new PcapOptions { Path = "t.pcap", MaxFileBytes = 100 },
            _ => new PcapOptions { Path = "t.pcap", QueueCapacity = 0 },
        };

        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => new PcapTraceWriter(options, TimeProvider.System).DisposeAsync());
        Assert.That(((ArgumentException)e!).ParamName, Is.EqualTo(name));
        Assert.That(e.Message, Does.Contain($"PcapOptions.{name}"));
    }

    [Test]
    public void The_reader_refuses_what_is_not_a_trace()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("bad.pcap"), Encoding.ASCII.GetBytes("not a pcap file at all, really"));
        Assert.Throws<InvalidDataException>(() => PcapTraceWriter.ReadAll(dir.File("bad.pcap")));
    }

    /// <summary>The queue-full warnings (the close line of an incomplete trace is a warning too, counted apart).</summary>
    private static List<CapturingLogger.LogEntry> Warnings(CapturingLogger log) =>
        log.Entries.Where(e => e.Level == LogLevel.Warning && e.Template.StartsWith("SIP pcap trace queue is full", StringComparison.Ordinal)).ToList();

    private static ushort OnesComplementSum(byte[] data)
    {
        ulong sum = 0;
        for (int i = 0; i < data.Length; i += 2) sum += (ulong)((data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0));
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++) await Task.Delay(20);
        Assert.That(condition(), Is.True, "condition not met within 10 s");
    }

    /// <summary>A file whose every write waits until released: a writer stuck on a slow disk.</summary>
    private sealed class BlockingStream : MemoryStream
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly SemaphoreSlim _entered = new(0);

        public Task Entered => _entered.WaitAsync();

        public void Release() => _released.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _entered.Release();
            await _released.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    /// <summary>A file on a full disk.</summary>
    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("No space left on device"));
    }
}
