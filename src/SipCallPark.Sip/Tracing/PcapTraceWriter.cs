using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tracing;

/// <summary>
/// Writes every SIP message it observes to classic pcap files as synthetic Ethernet/IP/UDP or TCP frames with the
/// real addresses and ports, for Wireshark, tshark and <c>sngrep -I</c>. <see cref="Observe"/> never blocks: it copies
/// the bytes into a bounded queue or, when that is full, drops the message and counts it. One background task
/// writes, rolling to a new file when <see cref="PcapOptions.MaxFileBytes"/> would be passed.
/// </summary>
/// <remarks>TCP, TLS, WS and WSS messages are all written as plain TCP segments carrying the SIP text (the trace
/// sees messages, not the wire). Each direction of a connection (source and destination address and port) has its
/// own sequence number starting at <see cref="InitialSequence"/> and advancing by the payload length, so Wireshark
/// reassembles messages split or joined across segments.</remarks>
public sealed class PcapTraceWriter : IAsyncDisposable
{
    /// <summary>The sequence number of the first byte of every TCP flow direction in the trace.</summary>
    public const uint InitialSequence = 1;

    private const int MaxFlows = 100_000;
    private const int MaxFileIndex = 100_000;
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(5);

    private readonly PcapOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<string, Stream> _open;
    private readonly Channel<Item> _queue;
    private readonly Task _writer;
    private readonly byte[] _buffer = new byte[PcapFormat.RecordHeaderLength + PcapFormat.MaxFrameLength];
    private readonly Dictionary<(IPEndPoint From, IPEndPoint To), Flow> _flows = [];

    private long _written;
    private long _dropped;
    private long _mediaWritten;
    private long _mediaDropped;
    private long _lastWarning;
    private int _disposed;

    // Writer task only.
    private Stream? _stream;
    private string? _currentPath;
    private long _fileBytes;
    private int _nextIndex;
    private ushort _ipId;
    private long _flowClock;
    private long _pausedUntil = long.MinValue;

    /// <summary>Starts the writer task. The first file is created at the first message.</summary>
    public PcapTraceWriter(PcapOptions options, TimeProvider timeProvider, ILogger<PcapTraceWriter>? logger = null)
        : this(options, timeProvider, logger, OpenFile)
    {
    }

    /// <summary>As the public constructor, with the file opening replaced (tests: a stream that blocks or fails).</summary>
    internal PcapTraceWriter(PcapOptions options, TimeProvider timeProvider, ILogger? logger, Func<string, Stream> open)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(open);
        options.Validate();
        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _open = open;
        _lastWarning = _time.GetTimestamp() - _time.TimestampFrequency; // so the first drop warns at once
        _queue = Channel.CreateBounded<Item>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with Wait, TryWrite reports a full queue instead of dropping silently
            SingleReader = true,
            SingleWriter = false,
        });
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Messages written to a file.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Messages not written: the queue was full, the writer was disposed, or a file could not be written.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Media packets (<see cref="ObserveMedia"/>) written to a file; not counted in <see cref="Written"/>.</summary>
    public long MediaWritten => Interlocked.Read(ref _mediaWritten);

    /// <summary>Media packets not written: the queue was half full (the other half is kept for SIP), or the writer was
    /// disposed, or the file failed. Not counted in <see cref="Dropped"/>.</summary>
    public long MediaDropped => Interlocked.Read(ref _mediaDropped);

    /// <summary>The file being written, or null before the first message.</summary>
    public string? CurrentPath => Volatile.Read(ref _currentPath);

    /// <summary>Queues a copy of the message for the file; never blocks. Subscribe it to
    /// <see cref="SipMessageTransport.MessageTraced"/>.</summary>
    public void Observe(SipMessageEvent message)
    {
        if (message.Remote.Address is null || message.Local is null)
        {
            Interlocked.Increment(ref _dropped); // a default event has nowhere to come from: nothing to frame
            return;
        }
        var item = new Item(message.Direction, message.Remote.Protocol, message.Remote.Address, message.Local,
            message.Bytes.ToArray(), _time.GetUtcNow());
        if (_queue.Writer.TryWrite(item)) return;
        long dropped = Interlocked.Increment(ref _dropped);
        if (Volatile.Read(ref _disposed) != 0) return;
        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastWarning);
        if (_time.GetElapsedTime(last, now) >= WarningInterval && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            _logger.PcapQueueFull(dropped);
        }
    }

    /// <summary>
    /// Queues a copy of a media datagram the pool sent (music-on-hold RTP) as a UDP frame from <paramref name="source"/>
    /// to <paramref name="destination"/>; never blocks. Media may use only half of the queue, so a burst of RTP never
    /// takes the room of SIP messages; what does not fit is dropped and counted in <see cref="MediaDropped"/>, quietly
    /// (the SIP drop warning stays about SIP).
    /// </summary>
    public void ObserveMedia(IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (Volatile.Read(ref _disposed) != 0 || _queue.Reader.Count >= Math.Max(1, _options.QueueCapacity / 2))
        {
            Interlocked.Increment(ref _mediaDropped);
            return;
        }
        // Sent by us: local = source, remote = destination, as for an outgoing SIP datagram.
        var item = new Item(SipDirection.Out, SipProtocol.Udp, destination, source, payload.ToArray(), _time.GetUtcNow(), IsMedia: true);
        if (!_queue.Writer.TryWrite(item)) Interlocked.Increment(ref _mediaDropped);
    }

    /// <summary>Reads a pcap file written by this class back into frames (tests and tools).</summary>
    public static IReadOnlyList<PcapFrame> ReadAll(string path) => PcapReader.ReadAll(path);

    /// <summary>Stops taking messages, writes those queued, flushes and closes the file, and logs what it wrote and
    /// dropped (a warning when a SIP message is missing from the files), so a reader of the trace knows if it is whole.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _writer.ConfigureAwait(false);
            return;
        }
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        string file = CurrentPath ?? _options.Path;
        if (Dropped == 0) _logger.PcapClosed(Written, Dropped, MediaWritten, MediaDropped, file);
        else _logger.PcapClosedIncomplete(Written, Dropped, MediaWritten, MediaDropped, file);
    }

    private static Stream OpenFile(string path) =>
        new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);

    private async Task WriteLoopAsync()
    {
        ChannelReader<Item> reader = _queue.Reader;
        // Ends when DisposeAsync completes the queue and every queued message is taken.
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out Item? item))
            {
                await WriteItemAsync(item).ConfigureAwait(false);
            }
            await FlushAsync().ConfigureAwait(false);
        }
        await CloseAsync().ConfigureAwait(false);
    }

    private async Task WriteItemAsync(Item item)
    {
        if (_time.GetTimestamp() < _pausedUntil)
        {
            CountDropped(item);
            return;
        }

        bool outgoing = item.Direction == SipDirection.Out;
        IPEndPoint remote = item.Remote;
        IPEndPoint local = item.Local;
        (IPAddress sourceAddress, IPAddress targetAddress) = outgoing
            ? PcapFormat.SameFamily(local.Address, remote.Address)
            : PcapFormat.SameFamily(remote.Address, local.Address);
        var source = new IPEndPoint(sourceAddress, outgoing ? local.Port : remote.Port);
        var target = new IPEndPoint(targetAddress, outgoing ? remote.Port : local.Port);

        try
        {
            if (item.Protocol == SipProtocol.Udp)
            {
                if (!PcapFormat.UdpFits(sourceAddress, item.Bytes.Length))
                {
                    CountDropped(item);
                    _logger.PcapDatagramTooLarge(item.Bytes.Length, source.ToString(), target.ToString());
                    return;
                }
                int frame = PcapFormat.WriteUdpFrame(_buffer.AsSpan(PcapFormat.RecordHeaderLength), source, target,
                    outgoing, _ipId++, item.Bytes);
                if (!await WriteRecordAsync(item.Timestamp, frame).ConfigureAwait(false))
                {
                    CountDropped(item);
                    return;
                }
            }
            else
            {
                Flow forward = FlowOf(source, target);
                Flow backward = FlowOf(target, source);
                int offset = 0;
                do // an empty payload still makes one segment; larger ones are cut to fit the snap length
                {
                    int length = Math.Min(PcapFormat.MaxTcpSegment, item.Bytes.Length - offset);
                    int frame = PcapFormat.WriteTcpFrame(_buffer.AsSpan(PcapFormat.RecordHeaderLength), source, target,
                        outgoing, _ipId++, forward.Next, backward.Next, item.Bytes.AsSpan(offset, length));
                    if (!await WriteRecordAsync(item.Timestamp, frame).ConfigureAwait(false))
                    {
                        CountDropped(item);
                        return;
                    }
                    forward.Next += (uint)length; // wraps modulo 2^32, as TCP does
                    offset += length;
                }
                while (offset < item.Bytes.Length);
            }
            if (item.IsMedia) Interlocked.Increment(ref _mediaWritten);
            else Interlocked.Increment(ref _written);
        }
        catch (Exception e) // a broken file must not end the writer task: drop, log, pause, then try a new file
        {
            CountDropped(item);
            _pausedUntil = _time.GetTimestamp() + (long)(PauseAfterFailure.TotalSeconds * _time.TimestampFrequency);
            _logger.PcapWriteFailed(e, _currentPath ?? _options.Path, PauseAfterFailure);
            await CloseAsync(quietly: true).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the record whose frame is already in the buffer, rolling the file first if needed.</summary>
    private async ValueTask<bool> WriteRecordAsync(DateTimeOffset timestamp, int frameLength)
    {
        int included = PcapFormat.WriteRecordHeader(_buffer, timestamp, frameLength);
        int recordLength = PcapFormat.RecordHeaderLength + included;
        if (_stream is not null && _fileBytes + recordLength > _options.MaxFileBytes && _fileBytes > PcapFormat.GlobalHeaderLength)
        {
            await CloseAsync().ConfigureAwait(false);
        }
        if (_stream is null && !await OpenNextAsync().ConfigureAwait(false))
        {
            return false; // the caller counts the drop
        }
        await _stream!.WriteAsync(_buffer.AsMemory(0, recordLength)).ConfigureAwait(false);
        _fileBytes += recordLength;
        return true;
    }

    private async ValueTask<bool> OpenNextAsync()
    {
        string first = Path.GetFullPath(_options.Path);
        string directory = Path.GetDirectoryName(first) ?? ".";
        string stem = Path.GetFileNameWithoutExtension(first);
        string extension = Path.GetExtension(first);
        Directory.CreateDirectory(directory);
        for (; _nextIndex <= MaxFileIndex; _nextIndex++)
        {
            string candidate = _nextIndex == 0 ? first : Path.Combine(directory, $"{stem}-{_nextIndex}{extension}");
            if (File.Exists(candidate)) continue;
            Stream stream = _open(candidate);
            _nextIndex++;
            byte[] header = new byte[PcapFormat.GlobalHeaderLength];
            PcapFormat.WriteGlobalHeader(header);
            try
            {
                await stream.WriteAsync(header).ConfigureAwait(false);
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            _stream = stream;
            _fileBytes = header.Length;
            Volatile.Write(ref _currentPath, candidate);
            _logger.PcapFileOpened(candidate);
            return true;
        }
        _logger.PcapNoFreeName(first);
        _pausedUntil = long.MaxValue;
        return false;
    }

    private async Task FlushAsync()
    {
        if (_stream is null) return;
        try
        {
            await _stream.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _logger.PcapWriteFailed(e, _currentPath ?? _options.Path, PauseAfterFailure);
            _pausedUntil = _time.GetTimestamp() + (long)(PauseAfterFailure.TotalSeconds * _time.TimestampFrequency);
            await CloseAsync(quietly: true).ConfigureAwait(false);
        }
    }

    private async Task CloseAsync(bool quietly = false)
    {
        if (_stream is not { } stream) return;
        _stream = null;
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (quietly && e is IOException or ObjectDisposedException)
        {
            // Already failing: the failure was logged once.
        }
    }

    private Flow FlowOf(IPEndPoint from, IPEndPoint to)
    {
        _flowClock++;
        if (_flows.TryGetValue((from, to), out Flow? flow))
        {
            flow.LastUsed = _flowClock;
            return flow;
        }
        if (_flows.Count >= MaxFlows) EvictOldestHalf();
        flow = new Flow { Next = InitialSequence, LastUsed = _flowClock };
        _flows[(from, to)] = flow;
        return flow;
    }

    /// <summary>Keeps the flow table bounded; a flow idle long enough to be evicted most likely has closed.</summary>
    private void EvictOldestHalf()
    {
        long[] uses = [.. _flows.Values.Select(f => f.LastUsed)];
        Array.Sort(uses);
        long cutoff = uses[uses.Length / 2];
        foreach (var key in _flows.Where(p => p.Value.LastUsed < cutoff).Select(p => p.Key).ToList())
        {
            _flows.Remove(key);
        }
    }

    private void CountDropped(Item item)
    {
        if (item.IsMedia) Interlocked.Increment(ref _mediaDropped);
        else Interlocked.Increment(ref _dropped);
    }

    private sealed record Item(SipDirection Direction, SipProtocol Protocol, IPEndPoint Remote, IPEndPoint Local,
        byte[] Bytes, DateTimeOffset Timestamp, bool IsMedia = false);

    private sealed class Flow
    {
        public uint Next;
        public long LastUsed;
    }
}
