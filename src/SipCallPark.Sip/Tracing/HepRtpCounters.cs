using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Sdp;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tracing;

/// <summary>
/// Music-on-hold RTP for Homer as counters only (<see cref="HepOptions.RtpCounters"/>, off by default): no RTP packet
/// and no RTCP goes over HEP. Every <see cref="HepOptions.RtpCounterInterval"/>, each stream that sent since the last
/// round becomes one HEP3 packet of protocol type 0x22 (a JSON media report, <see cref="HepFormat.ProtocolTypeMediaReport"/>)
/// from the music port to the party, carrying the stream's SSRC and its packet and octet totals; its correlation id is
/// the Call-ID of the dialog whose SDP, sent by the pool, offered that music port, so Homer shows the counters with the
/// call. A stream that sent nothing for a whole round gets a last report (<c>"final": true</c>) and is forgotten.
/// Counting is a dictionary update on the music loop; reports are built on a timer, never on the SIP or media path.
/// See docs/design.md §8.
/// </summary>
internal sealed class HepRtpCounters : IAsyncDisposable
{
    /// <summary>The most streams tracked at once (music streams are bounded by the media port range long before).</summary>
    internal const int MaxStreams = 10_000;

    private readonly HepTraceExporter _exporter;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<(IPEndPoint Local, uint Ssrc), Counts> _streams = [];
    private readonly ConcurrentDictionary<int, string> _callIdByPort = new();
    private readonly PeriodicTimer _timer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _untracked;
    private int _disposed;

    public HepRtpCounters(HepTraceExporter exporter, TimeSpan interval, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _exporter = exporter;
        _time = timeProvider;
        _timer = new PeriodicTimer(interval, timeProvider); // created here so no round is lost before the loop awaits
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Streams counted and not yet reported final.</summary>
    public int ActiveStreams
    {
        get
        {
            lock (_lock) return _streams.Count;
        }
    }

    /// <summary>Packets of streams beyond <see cref="MaxStreams"/>, or not RTP: seen, not counted.</summary>
    public long Untracked => Interlocked.Read(ref _untracked);

    /// <summary>Counts one RTP packet the pool sent; an <see cref="Rtp.RtpPacketObserver"/> for the music loop.</summary>
    public void ObservePacket(IPEndPoint local, IPEndPoint remote, ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 12 || packet[0] >> 6 != 2 || Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Increment(ref _untracked);
            return;
        }
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        lock (_lock)
        {
            if (!_streams.TryGetValue((local, ssrc), out Counts? counts))
            {
                if (_streams.Count >= MaxStreams)
                {
                    Interlocked.Increment(ref _untracked);
                    return;
                }
                counts = new Counts(local, ssrc, packet[1] & 0x7f, _time.GetUtcNow());
                _streams[(local, ssrc)] = counts;
            }
            counts.Remote = remote;
            counts.Packets++;
            counts.Octets += packet.Length;
        }
    }

    /// <summary>Learns which Call-ID a music port belongs to from the SDP of a message the pool sends (its offer or
    /// answer with the music port in <c>m=audio</c>). Subscribe it to <see cref="SipMessageTransport.MessageTraced"/>.</summary>
    public void ObserveSip(SipMessageEvent message)
    {
        if (message.Direction != SipDirection.Out || message.Message is not { } sip || sip.Body.IsEmpty) return;
        if (sip.Headers.Get(HeaderNames.ContentType) is not { } type || !type.Trim().StartsWith("application/sdp", StringComparison.OrdinalIgnoreCase)) return;
        if (sip.Headers.Get(HeaderNames.CallId)?.Trim() is not { Length: > 0 } callId) return;
        if (!SessionDescription.TryParse(sip.BodyText, out SessionDescription? sdp)) return;
        foreach (MediaDescription media in sdp.Media)
        {
            if (media.Media == "audio" && media.Port is > 0 and < 65536) _callIdByPort[media.Port] = callId;
        }
    }

    /// <summary>Stops the rounds and sends a final report for every stream still counted (before the exporter stops).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _timer.Dispose();
        await _loop.ConfigureAwait(false);
        Report(finalAll: true);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) Report(finalAll: false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One round: a report per stream that sent since the last one, a final report per stream that did not
    /// (or every stream, when stopping).</summary>
    private void Report(bool finalAll)
    {
        var due = new List<(Counts Stream, long Packets, long Octets, IPEndPoint Remote, bool Final)>();
        lock (_lock)
        {
            foreach (Counts counts in _streams.Values)
            {
                bool final = finalAll || counts.Packets == counts.ReportedPackets;
                counts.ReportedPackets = counts.Packets;
                due.Add((counts, counts.Packets, counts.Octets, counts.Remote!, final));
            }
            foreach (var item in due.Where(d => d.Final)) _streams.Remove((item.Stream.Local, item.Stream.Ssrc));
        }

        DateTimeOffset now = _time.GetUtcNow();
        var json = new ArrayBufferWriter<byte>(256);
        foreach (var (stream, packets, octets, remote, final) in due)
        {
            string? callId = _callIdByPort.TryGetValue(stream.Local.Port, out string? id) ? id : null;
            json.Clear();
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartObject();
                writer.WriteString("report", "rtp-counters");
                if (callId is not null) writer.WriteString("call_id", callId);
                writer.WriteNumber("ssrc", stream.Ssrc);
                writer.WriteNumber("payload_type", stream.PayloadType);
                writer.WriteNumber("packets", packets);
                writer.WriteNumber("octets", octets);
                writer.WriteString("first_packet", stream.FirstPacket.UtcDateTime);
                writer.WriteString("time", now.UtcDateTime);
                writer.WriteBoolean("final", final);
                writer.WriteEndObject();
            }
            _exporter.ObserveReport(stream.Local, remote, callId, json.WrittenSpan);
        }
    }

    private sealed class Counts(IPEndPoint local, uint ssrc, int payloadType, DateTimeOffset firstPacket)
    {
        public IPEndPoint Local { get; } = local;

        public uint Ssrc { get; } = ssrc;

        public int PayloadType { get; } = payloadType;

        public DateTimeOffset FirstPacket { get; } = firstPacket;

        public IPEndPoint? Remote { get; set; }

        public long Packets { get; set; }

        public long Octets { get; set; }

        public long ReportedPackets { get; set; }
    }
}
