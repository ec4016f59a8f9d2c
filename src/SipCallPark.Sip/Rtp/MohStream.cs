using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Rtp;

/// <summary>
/// Music on hold towards one parked party: a local RTP/RTCP port pair and the RTP state of one synchronisation
/// source. The streamer's timer loop is the only writer of the RTP state; the park app reads the port for its SDP
/// (<c>m=audio {LocalPort} RTP/AVP 0</c>, <c>a=sendonly</c>) and calls <see cref="Stop"/> when the call leaves the orbit.
/// </summary>
internal sealed class MohStream
{
    private readonly MusicOnHoldStreamer _owner;
    private SocketAddress? _remoteAddress;
    private IPEndPoint? _remote;
    private long _packetsSent;
    private long _sendFailures;
    private int _stopped;
    private Prelude? _prelude;

    /// <summary>Prompts played before the music, and how many frames they take together.</summary>
    private sealed record Prelude(MusicSource[] Prompts, int Frames);

    internal MohStream(
        MusicOnHoldStreamer owner, Socket rtp, Socket rtcp, IPEndPoint? remote, uint ssrc, ushort sequence, uint timestamp, long firstTick)
    {
        _owner = owner;
        RtpSocket = rtp;
        RtcpSocket = rtcp;
        _remote = remote;
        _remoteAddress = remote?.Serialize();
        Ssrc = ssrc;
        NextSequence = sequence;
        NextTimestamp = timestamp;
        NextTick = firstTick;
        LocalEndPoint = (IPEndPoint)rtp.LocalEndPoint!;
    }

    /// <summary>The even local port music is sent from; RTCP is expected on the odd port above it.</summary>
    public int LocalPort => LocalEndPoint.Port;

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Where the parked party receives RTP (its SDP's connection address and <c>m=</c> port); null until known.</summary>
    public IPEndPoint? Remote => Volatile.Read(ref _remote);

    public uint Ssrc { get; }

    public long PacketsSent => Interlocked.Read(ref _packetsSent);

    /// <summary>Packets the socket refused (e.g. a full send buffer); the music skips them.</summary>
    public long SendFailures => Interlocked.Read(ref _sendFailures);

    public bool IsStopped => Volatile.Read(ref _stopped) != 0;

    /// <summary>
    /// Plays <paramref name="prompts"/> one after the other before the music (the attended park speaking its orbit,
    /// docs/design.md §5); the music then starts at its beginning. Only before the stream knows where to send: the
    /// first packet must already belong to the first prompt. The prompts are shared, read-only sources.
    /// </summary>
    public void PlayFirst(IReadOnlyList<MusicSource> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (Remote is not null) throw new InvalidOperationException("the prompts must be queued before the stream has a destination");
        var copy = prompts.ToArray();
        int frames = 0;
        foreach (var prompt in copy) frames += prompt.FrameCount;
        Volatile.Write(ref _prelude, new Prelude(copy, frames));
    }

    /// <summary>Ends the music and frees the port pair; calling it again does nothing.</summary>
    public void Stop() => _owner.Stop(this);

    /// <summary>Sends to a new address from the next packet on, e.g. after the parked party's re-INVITE moved its media.</summary>
    public void Retarget(IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (remote.AddressFamily != LocalEndPoint.AddressFamily)
        {
            throw new ArgumentException($"cannot send from {LocalEndPoint} to {remote}: different address family", nameof(remote));
        }

        Volatile.Write(ref _remoteAddress, remote.Serialize());
        Volatile.Write(ref _remote, remote);
    }

    public override string ToString() => $"MoH {LocalEndPoint} → {Remote} SSRC {Ssrc:x8}";

    // The RTP state below belongs to the timer loop.
    internal Socket RtpSocket { get; }

    internal Socket RtcpSocket { get; }

    internal SocketAddress? RemoteAddress => Volatile.Read(ref _remoteAddress);

    internal ushort NextSequence { get; set; }

    internal uint NextTimestamp { get; set; }

    /// <summary>The scheduler tick the next frame belongs to.</summary>
    internal long NextTick { get; set; }

    /// <summary>The next frame of the music; every stream starts at the beginning.</summary>
    internal long MusicPosition { get; set; }

    internal bool MarkerSent { get; set; }

    /// <summary>
    /// The PCMU frame at <see cref="MusicPosition"/>: a frame of the queued prompts while they last, then of
    /// <paramref name="music"/> counted from its start. No allocation: a walk over a handful of shared sources.
    /// </summary>
    internal ReadOnlySpan<byte> CurrentFrame(MusicSource music)
    {
        long position = MusicPosition;
        if (Volatile.Read(ref _prelude) is not { } prelude) return music.Frame(position);
        if (position >= prelude.Frames) return music.Frame(position - prelude.Frames);
        foreach (var prompt in prelude.Prompts)
        {
            if (position < prompt.FrameCount) return prompt.Frame(position);
            position -= prompt.FrameCount;
        }

        return music.Frame(0);
    }

    internal void CountSent() => Interlocked.Increment(ref _packetsSent);

    internal void CountSendFailure() => Interlocked.Increment(ref _sendFailures);

    /// <summary>Marks the stream stopped; true for the one caller that stopped it.</summary>
    internal bool MarkStopped() => Interlocked.Exchange(ref _stopped, 1) == 0;
}
