using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Rtp;

/// <summary>Every log line of music on hold, as structured templates (event ids 1900–1999).</summary>
internal static partial class RtpLog
{
    [LoggerMessage(1900, LogLevel.Information, "Music on hold ready: {Music}, {Duration}, ports {Ports} on {Address}")]
    public static partial void StreamerStarted(this ILogger logger, string music, TimeSpan duration, string ports, IPAddress address);

    [LoggerMessage(1901, LogLevel.Debug, "Music on hold started from {Local} to {Remote}, SSRC {Ssrc}")]
    public static partial void StreamStarted(this ILogger logger, IPEndPoint local, IPEndPoint? remote, uint ssrc);

    [LoggerMessage(1902, LogLevel.Debug, "Music on hold stopped from {Local} to {Remote} after {Packets} packets")]
    public static partial void StreamStopped(this ILogger logger, IPEndPoint local, IPEndPoint? remote, long packets);

    [LoggerMessage(1903, LogLevel.Debug, "RTP send from {Local} to {Remote} failed with {SocketError}")]
    public static partial void SendFailed(this ILogger logger, IPEndPoint local, IPEndPoint? remote, SocketError socketError);

    [LoggerMessage(1904, LogLevel.Warning, "RTP port {Port} on {Address} could not be bound ({SocketError}); trying the next one")]
    public static partial void PortUnavailable(this ILogger logger, int port, IPAddress address, SocketError socketError);

    [LoggerMessage(1905, LogLevel.Error, "Music on hold tick failed; the loop goes on")]
    public static partial void TickFailed(this ILogger logger, Exception exception);

    [LoggerMessage(1906, LogLevel.Debug, "Music on hold woke {Late} ticks late; skipped {Skipped} frames per stream")]
    public static partial void CaughtUp(this ILogger logger, long late, long skipped);

    [LoggerMessage(1907, LogLevel.Error, "The RTP packet observer failed on a packet from {Local}; the music goes on")]
    public static partial void ObserverFailed(this ILogger logger, Exception exception, System.Net.IPEndPoint local);
}
