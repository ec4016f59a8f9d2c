using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SipCallPark.Sip.Rtp;

/// <summary>
/// Plays one <see cref="MusicSource"/> to every parked call as RTP/PCMU, 20 ms per packet (RFC 3551 §4.5.14). One
/// timer loop on the injected <see cref="TimeProvider"/> serves all streams — no thread or task per call: at each
/// 20 ms tick it sends every stream the frames that are due (at most <see cref="MaxBurst"/> after a late wake-up)
/// and, every few ticks, reads and drops whatever the phones sent to our ports so the receive buffers never fill.
/// </summary>
internal sealed class MusicOnHoldStreamer : IAsyncDisposable
{
    public static readonly TimeSpan PacketInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>The most packets a stream gets at one wake-up; a longer stall is skipped, not replayed.</summary>
    public const int MaxBurst = 3;

    /// <summary>Incoming media is drained every this many ticks, at most <see cref="MaxDrainPerSocket"/> datagrams a socket.</summary>
    internal const int DrainEveryTicks = 5;

    internal const int MaxDrainPerSocket = 64;

    /// <summary>A timer that fires a little before its due time still counts for that tick.</summary>
    private static readonly TimeSpan TickTolerance = TimeSpan.FromMilliseconds(2);

    private readonly MusicSource _music;
    private readonly RtpPortRange _ports;
    private readonly IPAddress _localAddress;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<MohStream> _streams = [];
    private readonly PeriodicTimer _timer;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly long _epoch;
    private readonly Task _loop;

    // Owned by the timer loop.
    private readonly List<MohStream> _snapshot = [];
    private readonly byte[] _packet = new byte[RtpPacket.HeaderSize + MusicSource.FrameSize];
    private readonly byte[] _discard = new byte[2048];
    private long _lastTick;

    private long _packetsSent;
    private long _packetsDiscarded;
    private int _disposed;

    public MusicOnHoldStreamer(
        MusicSource music,
        RtpPortRange ports,
        IPAddress localAddress,
        TimeProvider timeProvider,
        Random random,
        ILogger<MusicOnHoldStreamer>? logger = null)
    {
        _music = music ?? throw new ArgumentNullException(nameof(music));
        _ports = ports ?? throw new ArgumentNullException(nameof(ports));
        _localAddress = localAddress ?? throw new ArgumentNullException(nameof(localAddress));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _logger = logger ?? NullLogger<MusicOnHoldStreamer>.Instance;

        // The timer is created here, not inside the loop, so no tick is lost before the loop first awaits it.
        _epoch = _time.GetTimestamp();
        _timer = new PeriodicTimer(PacketInterval, _time);
        _loop = Task.Run(() => RunAsync(_shutdown.Token));
        _logger.StreamerStarted(music.Description, music.Duration, ports.ToString(), localAddress);
    }

    /// <summary>
    /// Called with every RTP packet just sent (local port, destination, the packet), from the timer loop; set before
    /// the first stream starts. For the pcap trace (<c>PcapTraceWriter.ObserveMedia</c>), which only copies and queues.
    /// A failing observer is logged and does not stop the music.
    /// </summary>
    public RtpPacketObserver? PacketSent { get; set; }

    /// <summary>RTP packets sent by all streams since start (metrics).</summary>
    public long PacketsSent => Interlocked.Read(ref _packetsSent);

    /// <summary>Datagrams that arrived on our RTP/RTCP ports and were dropped unread.</summary>
    public long PacketsDiscarded => Interlocked.Read(ref _packetsDiscarded);

    public int ActiveStreams
    {
        get
        {
            lock (_lock)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>
    /// Starts music towards <paramref name="remote"/> from a fresh port pair of the range, with a random SSRC, initial
    /// sequence number and timestamp (RFC 3550 §5.1). The first packet goes at the next tick.
    /// </summary>
    /// <exception cref="RtpPortsExhaustedException">Every port pair of the range is taken.</exception>
    public MohStream StartStream(IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return OpenStream(remote);
    }

    /// <summary>
    /// Binds a port pair for an offer whose answer is not in yet (the port goes into our SDP first); the stream is
    /// silent until <see cref="MohStream.Retarget"/> names where to send, then plays from the start of the music.
    /// </summary>
    public MohStream OpenStream(IPEndPoint? remote = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (remote is not null && remote.AddressFamily != _localAddress.AddressFamily)
        {
            throw new ArgumentException($"cannot send from {_localAddress} to {remote}: different address family", nameof(remote));
        }

        var (rtp, rtcp) = BindPortPair();
        MohStream stream;
        lock (_lock)
        {
            uint ssrc;
            do
            {
                ssrc = (uint)_random.NextInt64(0, 1L << 32);
            }
            while (_streams.Exists(s => s.Ssrc == ssrc));

            var sequence = (ushort)_random.Next(0, 1 << 16);
            var timestamp = (uint)_random.NextInt64(0, 1L << 32);
            stream = new MohStream(this, rtp, rtcp, remote, ssrc, sequence, timestamp, CurrentTick() + 1);
            _streams.Add(stream);
        }

        _logger.StreamStarted(stream.LocalEndPoint, remote, stream.Ssrc);
        return stream;
    }

    internal void Stop(MohStream stream)
    {
        if (!stream.MarkStopped())
        {
            return;
        }

        lock (_lock)
        {
            _streams.Remove(stream);
        }

        // The loop may be sending on these sockets right now; it treats ObjectDisposedException as "stopped".
        int port = stream.LocalPort;
        stream.RtpSocket.Dispose();
        stream.RtcpSocket.Dispose();
        _ports.Release(port);
        _logger.StreamStopped(stream.LocalEndPoint, stream.Remote, stream.PacketsSent);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _shutdown.Cancel();
        _timer.Dispose();
        await _loop.ConfigureAwait(false);

        MohStream[] remaining;
        lock (_lock)
        {
            remaining = [.. _streams];
        }

        foreach (var stream in remaining)
        {
            Stop(stream);
        }

        _shutdown.Dispose();
    }

    private long CurrentTick() => (_time.GetElapsedTime(_epoch) + TickTolerance).Ticks / PacketInterval.Ticks;

    /// <summary>Binds the next even port of the range and the odd one above it; at most one try per pair.</summary>
    private (Socket Rtp, Socket Rtcp) BindPortPair()
    {
        SocketError lastError = SocketError.Success;
        for (int attempt = 0; attempt < _ports.Capacity; attempt++)
        {
            int port = _ports.Acquire();
            Socket? rtp = null, rtcp = null;
            try
            {
                rtp = Bind(port);
                rtcp = Bind(port + 1);
                return (rtp, rtcp);
            }
            catch (SocketException e)
            {
                // Taken by another program: leave it and try the next pair (the range hands out round-robin).
                rtp?.Dispose();
                rtcp?.Dispose();
                _ports.Release(port);
                lastError = e.SocketErrorCode;
                _logger.PortUnavailable(port, _localAddress, e.SocketErrorCode);
            }
        }

        throw new InvalidOperationException(
            $"No RTP port pair of {_ports} could be bound on {_localAddress} (last error {lastError})");
    }

    private Socket Bind(int port)
    {
        var socket = new Socket(_localAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        try
        {
            socket.Bind(new IPEndPoint(_localAddress, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    OnTick(CurrentTick());
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.TickFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    internal void OnTick(long tick)
    {
        _snapshot.Clear();
        lock (_lock)
        {
            _snapshot.AddRange(_streams);
        }

        long late = tick - _lastTick - 1;
        long skipped = 0;
        foreach (var stream in _snapshot)
        {
            skipped = Math.Max(skipped, SendDue(stream, tick));
        }

        if (late > MaxBurst - 1 && skipped > 0)
        {
            _logger.CaughtUp(late, skipped);
        }

        // Drain on every DrainEveryTicks-th tick, and at least once after a long stall.
        if (tick / DrainEveryTicks != _lastTick / DrainEveryTicks)
        {
            foreach (var stream in _snapshot)
            {
                Drain(stream.RtpSocket);
                Drain(stream.RtcpSocket);
            }
        }

        _lastTick = tick;
        _snapshot.Clear();
    }

    /// <summary>Sends the frames due for <paramref name="tick"/>; returns how many were skipped.</summary>
    private long SendDue(MohStream stream, long tick)
    {
        if (stream.RemoteAddress is not { } remote)
        {
            // Not sending yet: the stream's clock waits at the next tick.
            stream.NextTick = tick + 1;
            return 0;
        }

        if (!stream.MarkerSent && stream.NextTick < tick)
        {
            // Nothing sent yet, so nothing was missed: however late the loop woke, the music starts at its beginning
            // now, rather than skipping the frames of ticks that passed before the first packet.
            stream.NextTick = tick;
        }

        var plan = CatchUp.Plan(stream.NextTick, tick, MaxBurst);
        if (plan.Skip > 0)
        {
            stream.NextTick += plan.Skip;
            stream.NextTimestamp += (uint)(plan.Skip * MusicSource.FrameSize);
            stream.MusicPosition += plan.Skip;
        }

        for (int i = 0; i < plan.Send && !stream.IsStopped; i++)
        {
            var header = new RtpPacket(RtpPacket.PayloadTypePcmu, !stream.MarkerSent, stream.NextSequence, stream.NextTimestamp, stream.Ssrc);
            int length = header.Write(_packet, stream.CurrentFrame(_music));

            // The marker starts the talkspurt (RFC 3551 §4.1); music is one long talkspurt.
            stream.MarkerSent = true;
            stream.NextSequence++;
            stream.NextTimestamp += MusicSource.FrameSize;
            stream.MusicPosition++;
            stream.NextTick++;
            try
            {
                stream.RtpSocket.SendTo(_packet.AsSpan(0, length), SocketFlags.None, remote);
                stream.CountSent();
                Interlocked.Increment(ref _packetsSent);
                if (PacketSent is { } observer && stream.Remote is { } target) Observe(observer, stream.LocalEndPoint, target, _packet.AsSpan(0, length));
            }
            catch (SocketException e)
            {
                stream.CountSendFailure();
                _logger.SendFailed(stream.LocalEndPoint, stream.Remote, e.SocketErrorCode);
            }
            catch (ObjectDisposedException)
            {
                break;
            }
        }

        return plan.Skip;
    }

    private void Observe(RtpPacketObserver observer, IPEndPoint local, IPEndPoint remote, ReadOnlySpan<byte> packet)
    {
        try
        {
            observer(local, remote, packet);
        }
        catch (Exception e)
        {
            _logger.ObserverFailed(e, local);
        }
    }

    private void Drain(Socket socket)
    {
        try
        {
            for (int i = 0; i < MaxDrainPerSocket && socket.Available > 0; i++)
            {
                socket.Receive(_discard, SocketFlags.None);
                Interlocked.Increment(ref _packetsDiscarded);
            }
        }
        catch (SocketException)
        {
            // An ICMP port-unreachable from a phone that went away shows up here (ConnectionReset); nothing to read.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>Sees one RTP packet the pool sent: from <paramref name="local"/> to <paramref name="remote"/>. The span is
/// only valid during the call.</summary>
public delegate void RtpPacketObserver(IPEndPoint local, IPEndPoint remote, ReadOnlySpan<byte> packet);
