using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>Every log line of the transport layer, as structured templates (event ids 1100–1199).</summary>
internal static partial class TransportLog
{
    [LoggerMessage(1100, LogLevel.Warning, "Ignored UDP datagram from {Remote}: {Size} bytes, over {Cap} bytes")]
    public static partial void UdpDatagramTooLarge(this ILogger logger, SipEndPoint remote, int size, int cap);

    [LoggerMessage(1101, LogLevel.Debug, "UDP receive on {Local} failed with {SocketError}; receiving goes on")]
    public static partial void UdpReceiveFailed(this ILogger logger, IPEndPoint local, SocketError socketError);

    [LoggerMessage(1102, LogLevel.Warning, "UDP send to {Remote} failed with {SocketError}")]
    public static partial void UdpSendFailed(this ILogger logger, IPEndPoint remote, SocketError socketError);

    [LoggerMessage(1103, LogLevel.Warning, "Cannot send from {Local} to {Remote}: different address family")]
    public static partial void AddressFamilyMismatch(this ILogger logger, IPEndPoint local, IPEndPoint remote);

    [LoggerMessage(1104, LogLevel.Error, "Frame handler failed for a frame from {Remote}")]
    public static partial void FrameHandlerFailed(this ILogger logger, Exception exception, SipEndPoint remote);

    [LoggerMessage(1110, LogLevel.Warning, "Closed TCP connection {Remote}: message over {Cap} bytes")]
    public static partial void TcpMessageTooLarge(this ILogger logger, SipEndPoint remote, int cap);

    [LoggerMessage(1111, LogLevel.Warning, "Closed TCP connection {Remote}: message without a valid Content-Length")]
    public static partial void TcpMessageMalformed(this ILogger logger, SipEndPoint remote);

    [LoggerMessage(1112, LogLevel.Warning, "Closed TCP connection {Remote}: partial message pending for over {Timeout}")]
    public static partial void TcpPartialMessageTimedOut(this ILogger logger, SipEndPoint remote, TimeSpan timeout);

    [LoggerMessage(1113, LogLevel.Information, "Closed TCP connection {Remote}: idle for {Timeout}")]
    public static partial void TcpIdleTimedOut(this ILogger logger, SipEndPoint remote, TimeSpan timeout);

    [LoggerMessage(1114, LogLevel.Debug, "Opened TCP connection {ConnectionId} with {Remote} ({Direction})")]
    public static partial void TcpConnectionOpened(this ILogger logger, long connectionId, SipEndPoint remote, string direction);

    [LoggerMessage(1115, LogLevel.Debug, "TCP connection {ConnectionId} with {Remote} ended: {Reason}")]
    public static partial void TcpConnectionEnded(this ILogger logger, long connectionId, SipEndPoint remote, TcpCloseReason reason);

    [LoggerMessage(1116, LogLevel.Warning, "Refused TCP connection with {Remote}: {Max} connections already open")]
    public static partial void TcpConnectionLimitReached(this ILogger logger, IPEndPoint remote, int max);

    [LoggerMessage(1117, LogLevel.Warning, "TCP connect to {Remote} failed with {SocketError}")]
    public static partial void TcpConnectFailed(this ILogger logger, IPEndPoint remote, SocketError socketError);

    [LoggerMessage(1118, LogLevel.Warning, "TCP connect to {Remote} timed out after {Timeout}")]
    public static partial void TcpConnectTimedOut(this ILogger logger, IPEndPoint remote, TimeSpan timeout);

    [LoggerMessage(1119, LogLevel.Warning, "TCP accept on {Local} failed with {SocketError}")]
    public static partial void TcpAcceptFailed(this ILogger logger, IPEndPoint local, SocketError socketError);

    [LoggerMessage(1120, LogLevel.Warning, "TCP write to {Remote} failed; closing connection {ConnectionId}")]
    public static partial void TcpWriteFailed(this ILogger logger, Exception exception, SipEndPoint remote, long connectionId);

    [LoggerMessage(1121, LogLevel.Debug, "TCP connection {ConnectionId} with {Remote} failed while reading")]
    public static partial void TcpReadFailed(this ILogger logger, Exception exception, long connectionId, SipEndPoint remote);

    [LoggerMessage(1122, LogLevel.Debug, "TCP peer {Remote} closed the connection in the middle of a message")]
    public static partial void TcpPeerClosedMidMessage(this ILogger logger, SipEndPoint remote);

    [LoggerMessage(1123, LogLevel.Warning, "Closed TCP connection {ConnectionId} with {Remote}: a write did not complete within {Timeout} (the peer stopped reading)")]
    public static partial void TcpWriteTimedOut(this ILogger logger, long connectionId, SipEndPoint remote, TimeSpan timeout);

    [LoggerMessage(1124, LogLevel.Warning, "TLS handshake with {Remote} ({Direction}) failed: {Reason}")]
    public static partial void TlsHandshakeFailed(this ILogger logger, IPEndPoint remote, string direction, string reason);

    [LoggerMessage(1128, LogLevel.Warning, "Left out {Count} lines about failed TLS handshakes: more than {PerSecond} a second")]
    public static partial void TlsFailureLinesSuppressed(this ILogger logger, long count, int perSecond);

    [LoggerMessage(1125, LogLevel.Warning, "Refused TLS connection with {Remote}: {Max} handshakes already in progress")]
    public static partial void TlsHandshakeLimitReached(this ILogger logger, IPEndPoint remote, int max);

    [LoggerMessage(1126, LogLevel.Debug, "TLS connection with {Remote} ({Direction}) uses {Protocol} {Cipher}")]
    public static partial void TlsHandshakeDone(this ILogger logger, IPEndPoint remote, string direction, System.Security.Authentication.SslProtocols protocol, System.Net.Security.TlsCipherSuite cipher);

    [LoggerMessage(1127, LogLevel.Debug, "Connection {ConnectionId} with {Remote} also serves {Alias} (RFC 5923 alias)")]
    public static partial void ConnectionAliasAdded(this ILogger logger, long connectionId, SipEndPoint remote, IPEndPoint alias);

    [LoggerMessage(1131, LogLevel.Information, "Refused WebSocket upgrade from {Remote}: {Reason}")]
    public static partial void WebSocketUpgradeRefused(this ILogger logger, SipEndPoint remote, string reason);

    [LoggerMessage(1132, LogLevel.Debug, "WebSocket connection {ConnectionId} with {Remote} ended: {Reason}")]
    public static partial void WebSocketClosed(this ILogger logger, long connectionId, SipEndPoint remote, string reason);

    [LoggerMessage(1133, LogLevel.Warning, "Closed WebSocket connection {Remote}: message over {Cap} bytes")]
    public static partial void WebSocketMessageTooLarge(this ILogger logger, SipEndPoint remote, int cap);

    [LoggerMessage(1134, LogLevel.Warning, "No open WebSocket connection to {Remote}: a browser is only reached on its own connection")]
    public static partial void WebSocketNoConnection(this ILogger logger, SipEndPoint remote);

    [LoggerMessage(1140, LogLevel.Debug, "Dropped a STUN packet from {Remote} ({Size} bytes)")]
    public static partial void StunDropped(this ILogger logger, SipEndPoint remote, int size);

    [LoggerMessage(1141, LogLevel.Debug, "Dropped a datagram from {Remote} that is not SIP: first byte 0x{FirstByte:X2}, {Size} bytes")]
    public static partial void NotSipDropped(this ILogger logger, SipEndPoint remote, byte firstByte, int size);

    [LoggerMessage(1142, LogLevel.Information, "Dropped a message from {Remote}: {Reason}")]
    public static partial void MessageDropped(this ILogger logger, SipEndPoint remote, string reason);

    [LoggerMessage(1143, LogLevel.Information, "Rejected a request from {Remote} with {Status}: {Reason}")]
    public static partial void RequestRejected(this ILogger logger, SipEndPoint remote, int status, string reason);

    [LoggerMessage(1151, LogLevel.Warning, "Left out {Count} lines about rejected or dropped messages: more than {PerSecond} a second (each was still answered or dropped)")]
    public static partial void RejectionLinesSuppressed(this ILogger logger, long count, int perSecond);

    [LoggerMessage(1152, LogLevel.Debug, "Not sending {FirstLine} to {Remote}: the transport is stopped")]
    public static partial void NotSentStopped(this ILogger logger, string firstLine, SipEndPoint remote);

    [LoggerMessage(1144, LogLevel.Warning, "Dropped a message from {Remote}: parsing it threw")]
    public static partial void MessageBrokeParser(this ILogger logger, Exception exception, SipEndPoint remote);

    [LoggerMessage(1145, LogLevel.Error, "Handling {FirstLine} from {Remote} failed")]
    public static partial void HandlerFailed(this ILogger logger, Exception exception, string firstLine, SipEndPoint remote);

    [LoggerMessage(1146, LogLevel.Warning, "No {Protocol} channel to send {FirstLine} to {Destination}")]
    public static partial void NoChannelFor(this ILogger logger, SipProtocol protocol, string firstLine, SipEndPoint destination);

    [LoggerMessage(1147, LogLevel.Warning, "Could not send {FirstLine} to {Remote}: {Error}")]
    public static partial void MessageNotSent(this ILogger logger, string firstLine, SipEndPoint remote, string error);

    [LoggerMessage(1148, LogLevel.Debug, "{Direction} {Transport} {Remote} {FirstLine} Call-ID {CallId} CSeq {CSeq}")]
    public static partial void MessageSummary(this ILogger logger, string direction, SipProtocol transport, IPEndPoint remote,
        string firstLine, string callId, string cseq);

    [LoggerMessage(1149, LogLevel.Trace, "{Direction} {Remote} raw message:\n{Raw}")]
    public static partial void MessageRaw(this ILogger logger, SipDirection direction, SipEndPoint remote, string raw);

    [LoggerMessage(1150, LogLevel.Error, "A MessageTraced observer failed on a message {Direction} {Remote}")]
    public static partial void TraceObserverFailed(this ILogger logger, Exception exception, SipDirection direction, SipEndPoint remote);

    [LoggerMessage(1130, LogLevel.Debug, "In-memory frame for {Local} dropped: the channel is not receiving")]
    public static partial void InMemoryNotReceiving(this ILogger logger, SipEndPoint local);
}
