using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// The message side of the transport layer (RFC 3261 §18): turns frames from the channels into validated messages,
/// stamps <c>received</c>/<c>rport</c> on requests (RFC 3581), answers what cannot be parsed with 400/505/416, and
/// sends requests to a destination and responses back along their request's path (§18.2.2). Every message in and
/// out is logged: a summary at Debug, the raw text at Trace (Serilog's Verbose).
/// </summary>
public sealed class SipMessageTransport : ISipMessageSender, IAsyncDisposable
{
    private const int DefaultPort = 5060;
    private const int DefaultTlsPort = 5061;
    private const uint StunMagicCookie = 0x2112A442;
    private const int StunHeaderSize = 20;

    private readonly List<ISipChannel> _channels;
    private readonly ILogger _logger;
    private readonly LogBudget _rejectionLog;
    private Func<IncomingMessage, ValueTask>? _handler;
    private int _disposed;
    private int _tracing; // messages between the stopped check and the end of their MessageTraced observers

    /// <summary>Lines per second (and at once) for rejected and dropped messages; beyond, they are counted.</summary>
    internal const int RejectionLinesPerSecond = 50;
    internal const int RejectionLineBurst = 500;

    public SipMessageTransport(IEnumerable<ISipChannel> channels, ILogger<SipMessageTransport> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(logger);
        _channels = channels.ToList();
        if (_channels.Count == 0) throw new ArgumentException("At least one channel is needed", nameof(channels));
        _logger = logger;
        _rejectionLog = new LogBudget(RejectionLinesPerSecond, RejectionLineBurst, time ?? TimeProvider.System);
    }

    public IReadOnlyList<ISipChannel> Channels => _channels;

    /// <summary>
    /// Raised once for every message handed to the handler (direction In) and every message sent (Out, rejections
    /// included), after it is logged, for traces, pcap and metrics. Frames that are dropped or answered as broken
    /// are not messages and only logged. Runs on the receive or send path: keep it short; exceptions are logged.
    /// </summary>
    public event Action<SipMessageEvent>? MessageTraced;

    /// <summary>Starts every channel; <paramref name="handler"/> gets each valid message. Call once.</summary>
    public async Task StartAsync(Func<IncomingMessage, ValueTask> handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
            throw new InvalidOperationException("The message transport is already started.");
        foreach (var channel in _channels)
        {
            var from = channel;
            await channel.StartAsync(frame => OnFrameAsync(from, frame), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The channel for a protocol and address family, preferring the one bound to the same family.</summary>
    public ISipChannel? ChannelFor(SipProtocol protocol, AddressFamily family) =>
        _channels.FirstOrDefault(c => c.Protocol == protocol && c.LocalEndPoint.AddressFamily == family) ??
        _channels.FirstOrDefault(c => c.Protocol == protocol);

    /// <summary>A top Via for a request we send: our address on that transport, the branch, and rport (RFC 3581).</summary>
    public ViaHeader CreateVia(SipProtocol protocol, string branch, AddressFamily family = AddressFamily.InterNetwork)
    {
        var channel = ChannelFor(protocol, family) ?? throw new InvalidOperationException($"No {protocol} channel");
        var local = channel.LocalEndPoint;
        var parameters = SipParameters.Empty.With("branch", branch).With("rport", null);
        // RFC 5923: over TLS the far end may send its requests to us back on this connection.
        if (protocol == SipProtocol.Tls) parameters = parameters.With("alias", null);
        return new ViaHeader(protocol.ToString(), HostText(local.Address), local.Port, parameters);
    }

    /// <summary>Our contact address on that transport: <c>sip:user@host:port;transport=tcp</c>.</summary>
    public SipUri ContactUri(string? user, SipProtocol protocol, AddressFamily family = AddressFamily.InterNetwork)
    {
        var channel = ChannelFor(protocol, family) ?? throw new InvalidOperationException($"No {protocol} channel");
        var uri = SipUri.Create("sip", user, HostText(channel.LocalEndPoint.Address), channel.LocalEndPoint.Port);
        return protocol == SipProtocol.Udp ? uri : uri.WithParameter("transport", protocol.ToString().ToLowerInvariant());
    }

    public async ValueTask<bool> SendRequestAsync(SipRequest request, SipEndPoint destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var channel = ChannelFor(destination.Protocol, destination.Address.AddressFamily);
        if (channel is null)
        {
            _logger.NoChannelFor(destination.Protocol, request.FirstLine, destination);
            return false;
        }
        return await SendAsync(channel, request, destination.Address, 0, destination.Address, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="response"/> from the channel <paramref name="request"/> came in on. On a stream: on the
    /// request's connection while it is open, else to <see cref="ReconnectTarget"/>. Over UDP: to
    /// <see cref="ResponseTarget"/>, from the socket the request arrived on.
    /// </summary>
    public async ValueTask<bool> SendResponseAsync(SipResponse response, IncomingMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(request);
        var channel = ResponseChannel(request);
        if (channel is null)
        {
            _logger.NoChannelFor(request.Remote.Protocol, response.FirstLine, request.Remote);
            return false;
        }
        if (!request.IsReliable)
        {
            var target = ResponseTarget(response, request);
            return await SendAsync(channel, response, target, 0, target, cancellationToken).ConfigureAwait(false);
        }

        // The channel writes on the connection while it is open and only otherwise goes to the fallback, so the
        // fallback is what it is given; the trace names whom the bytes will really reach.
        var fallback = ReconnectTarget(response, request);
        var peer = (channel as IConnectionLookup)?.OpenConnectionRemote(request.ConnectionId);
        return await SendAsync(channel, response, fallback, request.ConnectionId, peer ?? fallback, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// RFC 3261 §18.2.2 with RFC 3581 §4 for unreliable transports: maddr if present (with the sent-by port), else
    /// the received address (the source when there is none) and the rport value, else the sent-by port, else 5060.
    /// For a stream, where the response goes when its connection is gone (see <see cref="ReconnectTarget"/>).
    /// </summary>
    internal static IPEndPoint ResponseTarget(SipResponse response, IncomingMessage request)
    {
        if (request.IsReliable) return ReconnectTarget(response, request);
        var via = TopViaOrNull(response);
        if (via is null) return request.Remote.Address;
        if (via.MAddr is { } maddr && IPAddress.TryParse(maddr.Trim('[', ']'), out var maddrIp))
            return new IPEndPoint(maddrIp, via.Port ?? DefaultPort);
        return new IPEndPoint(ReceivedAddress(via, request), via.RPort ?? via.Port ?? DefaultPort);
    }

    /// <summary>
    /// RFC 3261 §18.2.2 for reliable transports whose connection has closed: the received address (the source when
    /// there is none) and the sent-by port, else the transport's default port. The source port is not used: it was
    /// the peer's end of a connection that no longer exists.
    /// </summary>
    internal static IPEndPoint ReconnectTarget(SipResponse response, IncomingMessage request)
    {
        var via = TopViaOrNull(response);
        if (via is null) return request.Remote.Address;
        var port = via.Port ?? (request.Remote.Protocol is SipProtocol.Tls or SipProtocol.Wss ? DefaultTlsPort : DefaultPort);
        return new IPEndPoint(ReceivedAddress(via, request), port);
    }

    private static IPAddress ReceivedAddress(ViaHeader via, IncomingMessage request)
    {
        var source = request.Remote.Address.Address;
        if (via.Received is { } received && IPAddress.TryParse(received.Trim('[', ']'), out var address))
            return SameAddress(address, source) ? source : address;   // keep the source's IPv6 scope
        // Without received the sent-by host was the source address itself (we stamp it otherwise); no DNS here.
        return source;
    }

    private static ViaHeader? TopViaOrNull(SipMessage message)
    {
        try
        {
            return message.TopVia;
        }
        catch (SipParseException)
        {
            return null;
        }
    }

    /// <summary>The channel the request arrived on; for a hand-built message, the one bound where it arrived.</summary>
    private ISipChannel? ResponseChannel(IncomingMessage request)
    {
        if (request.Channel is { } arrivedOn && _channels.Contains(arrivedOn)) return arrivedOn;
        var protocol = request.Remote.Protocol;
        return _channels.FirstOrDefault(c => c.Protocol == protocol && c.LocalEndPoint.Equals(request.Local))
               ?? _channels.FirstOrDefault(c => c.Protocol == protocol && IsWildcard(c.LocalEndPoint.Address) && c.LocalEndPoint.Port == request.Local.Port)
               ?? ChannelFor(protocol, request.Remote.Address.AddressFamily);
    }

    private async ValueTask<bool> SendAsync(ISipChannel channel, SipMessage message, IPEndPoint remote, long connectionId,
        IPEndPoint reaches, CancellationToken ct)
    {
        var bytes = message.ToArray();
        if (!TryTrace(SipDirection.Out, message, new SipEndPoint(channel.Protocol, reaches), channel.LocalEndPoint, bytes))
        {
            // Stopped (a retransmission timer may fire while the pool stops): nothing goes on the wire, so nothing is
            // logged or traced as sent.
            _logger.NotSentStopped(message.FirstLine, new SipEndPoint(channel.Protocol, reaches));
            return false;
        }
        try
        {
            var sent = await channel.SendAsync(bytes, remote, connectionId, ct).ConfigureAwait(false);
            if (!sent) _logger.MessageNotSent(message.FirstLine, new SipEndPoint(channel.Protocol, reaches), "the channel could not send it");
            return sent;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            _logger.MessageNotSent(message.FirstLine, new SipEndPoint(channel.Protocol, reaches), e.Message);
            return false;
        }
    }

    private async ValueTask OnFrameAsync(ISipChannel channel, ReceivedFrame frame)
    {
        if (channel.Protocol == SipProtocol.Udp && !LooksLikeSip(frame)) return;

        SipParseResult parsed;
        SipRejection? rejection = null;
        string? brokenResponse = null;
        try
        {
            parsed = SipParser.Parse(frame.Data);
            if (parsed.Message is SipRequest request)
            {
                rejection = SipMessageValidator.Validate(request);
                if (rejection is null)
                {
                    StampReceived(request, frame.Remote.Address);
                    NoteAlias(channel, frame, request.TopVia!);
                }
            }
            else if (parsed.Message is SipResponse response)
            {
                brokenResponse = SipMessageValidator.Validate(response);
            }
        }
        catch (Exception e) when (e is SipParseException or ArgumentException or FormatException or InvalidOperationException
                                      or IndexOutOfRangeException or OverflowException)
        {
            // The parser and the validator are meant never to throw on input; if they do, the input is dropped, not the loop.
            if (MayLogRejection()) _logger.MessageBrokeParser(e, frame.Remote);
            return;
        }

        if (!parsed.Success)
        {
            await RejectAsync(channel, frame, parsed.Error!, parsed.RejectStatus, parsed.IsRequest, parsed.Headers, null).ConfigureAwait(false);
            return;
        }
        var message = parsed.Message!;
        if (rejection is not null)
        {
            var request = (SipRequest)message;
            await RejectAsync(channel, frame, rejection.Reason, rejection.StatusCode, true, request.Headers, request.Method).ConfigureAwait(false);
            return;
        }
        if (brokenResponse is not null)
        {
            // §18.1.2 and §8.1.3.3: a broken response is dropped; there is nobody to answer it to.
            LogDropped(frame.Remote, brokenResponse);
            TraceRaw(SipDirection.In, frame.Remote, frame.Data);
            return;
        }

        if (!TryTrace(SipDirection.In, message, frame.Remote, frame.Local, frame.Data)) return; // stopped: not handled either
        if (_handler is not { } handler) return;
        try
        {
            var incoming = new IncomingMessage(message, frame.Remote, frame.Local, frame.ConnectionId, frame.ReceivedAt) { Channel = channel };
            await handler(incoming).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A fault above must never stop the receive loop; it is a bug, so it is logged loudly.
            _logger.HandlerFailed(e, message.FirstLine, frame.Remote);
        }
    }

    /// <summary>
    /// UDP shares its port with STUN (RFC 5389 keepalives, RFC 7983 demultiplexing) and with anything anyone sends:
    /// a SIP message starts with a method or "SIP/" after optional CRLFs (RFC 3261 §7.5). A method is a token, so it
    /// may start with a digit or a mark such as '!' (RFC 4475 §3.1.1.2); anything else is not SIP.
    /// </summary>
    private bool LooksLikeSip(ReceivedFrame frame)
    {
        var data = frame.Data.Span;
        if (IsStun(data))
        {
            _logger.StunDropped(frame.Remote, data.Length);
            return false;
        }
        var first = data.IndexOfAnyExcept((byte)'\r', (byte)'\n');
        if (first < 0) return false;   // keepalive; the channel drops these already
        if (SipText.IsTokenChar((char)data[first])) return true;
        _logger.NotSipDropped(frame.Remote, data[first], data.Length);
        return false;
    }

    private void LogDropped(SipEndPoint remote, string reason)
    {
        if (MayLogRejection()) _logger.MessageDropped(remote, reason);
    }

    /// <summary>Whether the rejection budget allows one more line; first reports the lines it left out.</summary>
    private bool MayLogRejection()
    {
        if (!_rejectionLog.TryTake(out var suppressed)) return false;
        if (suppressed > 0) _logger.RejectionLinesSuppressed(suppressed, _rejectionLog.PerSecond);
        return true;
    }

    private static bool IsStun(ReadOnlySpan<byte> data) =>
        data.Length >= StunHeaderSize && (data[0] & 0xC0) == 0 && BinaryPrimitives.ReadUInt32BigEndian(data[4..8]) == StunMagicCookie;

    /// <summary>RFC 3261 §18.2.1 and RFC 3581 §4: record the address and port the request really came from.</summary>
    private static void StampReceived(SipMessage message, IPEndPoint source)
    {
        var via = message.TopVia!;
        var updated = via;
        if (via.HasRPort) updated = updated.WithParameter("rport", source.Port.ToString(CultureInfo.InvariantCulture));
        // received is added when sent-by is a name or another address, and always with rport (RFC 3581 §4).
        var sameHost = IPAddress.TryParse(via.Host.Trim('[', ']'), out var sentBy) && SameAddress(sentBy, source.Address);
        if (via.HasRPort || !sameHost) updated = updated.WithParameter("received", AddressText(source.Address));
        if (ReferenceEquals(updated, via)) return;
        message.Headers.RemoveFirstValue(HeaderNames.Via);
        message.Headers.Prepend(HeaderNames.Via, updated.ToString());
    }

    /// <summary>
    /// RFC 5923 §5: a Via with <c>alias</c> asks that requests to its sent-by reuse the connection it came on (a phone
    /// whose Contact names its listening port still gets its calls on the connection it registered over). The channel
    /// decides whether to honour it.
    /// </summary>
    private static void NoteAlias(ISipChannel channel, ReceivedFrame frame, ViaHeader via)
    {
        if (frame.ConnectionId == 0 || channel is not IConnectionAliases aliases || !via.Parameters.Contains("alias")) return;
        if (!IPAddress.TryParse(via.Host.Trim('[', ']'), out var host)) return;
        var port = via.Port ?? (frame.Protocol is SipProtocol.Tls or SipProtocol.Wss ? DefaultTlsPort : DefaultPort);
        aliases.AddAlias(frame.ConnectionId, new IPEndPoint(host, port));
    }

    /// <summary>
    /// Answers a request that cannot be processed with <paramref name="status"/> and a Warning saying why (RFC 3261
    /// §8.2, §21.4.5, §21.5.7); drops responses, ACKs (never answered, §17.1.1.3) and anything without a usable Via.
    /// </summary>
    private async ValueTask RejectAsync(ISipChannel channel, ReceivedFrame frame, string reason, int status, bool isRequest,
        SipHeaders? headers, string? method)
    {
        TraceRaw(SipDirection.In, frame.Remote, frame.Data);
        if (!isRequest || status == 0 || headers is null || !headers.Contains(HeaderNames.Via))
        {
            LogDropped(frame.Remote, reason);
            return;
        }
        if (IsAck(method, headers))
        {
            LogDropped(frame.Remote, $"ACK, not answered: {reason}");
            return;
        }

        SipResponse response;
        try
        {
            response = SipResponse.CreateFor(headers, status, toTag: NewTag());
            response.Headers.Add(HeaderNames.Warning, $"399 {WarnAgent(channel, frame)} \"{WarnText(reason)}\"");
            if (TopViaOrNull(response) is null)
            {
                LogDropped(frame.Remote, $"too broken to answer ({reason}): unusable Via");
                return;
            }
            StampReceived(response, frame.Remote.Address);
        }
        catch (Exception e) when (e is SipParseException or ArgumentException)
        {
            LogDropped(frame.Remote, $"too broken to answer ({reason}): {e.Message}");
            return;
        }
        if (MayLogRejection()) _logger.RequestRejected(frame.Remote, status, reason);
        var request = new IncomingMessage(response, frame.Remote, frame.Local, frame.ConnectionId, frame.ReceivedAt) { Channel = channel };
        await SendResponseAsync(response, request).ConfigureAwait(false);
    }

    private static bool IsAck(string? method, SipHeaders headers)
    {
        if (method is not null) return method == SipMethods.Ack;
        var cseq = headers.Get(HeaderNames.CSeq);
        return cseq is not null && CSeqHeader.TryParse(cseq, out var parsed) && parsed.Method == SipMethods.Ack;
    }

    private static string NewTag() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static string WarnAgent(ISipChannel channel, ReceivedFrame frame)
    {
        // frame.Local is the connection's own address on TCP, the bound one on UDP; a wildcard names nobody.
        var local = IsWildcard(frame.Local.Address) ? channel.LocalEndPoint : frame.Local;
        return IsWildcard(local.Address) ? "-" : $"{HostText(local.Address)}:{local.Port}";
    }

    /// <summary>The reason as the inside of a quoted-string: printable ASCII, no quote or backslash.</summary>
    private static string WarnText(string reason)
    {
        var sb = new StringBuilder(Math.Min(reason.Length, 200));
        foreach (var c in reason)
        {
            if (sb.Length == 200) break;
            sb.Append(c is >= ' ' and <= '~' && c != '"' && c != '\\' ? c : c == '"' ? '\'' : '?');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Logs and traces the message unless the transport is stopped (false). Once <see cref="DisposeAsync"/> has
    /// returned no message is logged or raised any more, so an observer disposed after the transport (the pcap writer)
    /// has seen every message the log names.
    /// </summary>
    private bool TryTrace(SipDirection direction, SipMessage message, SipEndPoint remote, IPEndPoint local, ReadOnlyMemory<byte> bytes)
    {
        // Counted in before the check, so DisposeAsync (which sets the flag first, then waits for the count) either
        // stops this message here or waits for its observers to finish.
        Interlocked.Increment(ref _tracing);
        try
        {
            if (Volatile.Read(ref _disposed) != 0) return false;
            Trace(direction, message, remote, local, bytes);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _tracing);
        }
    }

    private void Trace(SipDirection direction, SipMessage message, SipEndPoint remote, IPEndPoint local, ReadOnlyMemory<byte> bytes)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            string firstLine = "", callId = "", cseq = "";
            try
            {
                firstLine = message.FirstLine;
                callId = message.CallId;
                cseq = message.CSeq.ToString();
            }
            catch (SipParseException)
            {
                // A summary is best effort: an outgoing message we built may lack a header.
            }
            _logger.MessageSummary(direction == SipDirection.In ? "IN " : "OUT", remote.Protocol, remote.Address, firstLine, callId, cseq);
        }
        TraceRaw(direction, remote, bytes);
        if (MessageTraced is not { } traced) return;
        try
        {
            traced(new SipMessageEvent(direction, message, remote, local, bytes));
        }
        catch (Exception e)
        {
            // An observer's fault must neither lose the message nor stop the receive loop.
            _logger.TraceObserverFailed(e, direction, remote);
        }
    }

    private void TraceRaw(SipDirection direction, SipEndPoint remote, ReadOnlyMemory<byte> bytes)
    {
        if (_logger.IsEnabled(LogLevel.Trace)) _logger.MessageRaw(direction, remote, Encoding.UTF8.GetString(bytes.Span));
    }

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>Equal ignoring the IPv6 scope and IPv4-mapping, which differ between a socket's view and a header's.</summary>
    private static bool SameAddress(IPAddress a, IPAddress b)
    {
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (b.IsIPv4MappedToIPv6) b = b.MapToIPv4();
        return a.AddressFamily == b.AddressFamily && a.GetAddressBytes().AsSpan().SequenceEqual(b.GetAddressBytes());
    }

    /// <summary>An address as a received value: IPv6 without brackets or scope (RFC 3261 §25.1, IPv6address).</summary>
    private static string AddressText(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(address.GetAddressBytes()).ToString() : address.ToString();

    private static string HostText(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    /// <summary>Stops sending and handling messages, waits until the messages being traced have reached every
    /// observer, then closes the channels.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Observers are short (they copy and queue): a message being traced takes microseconds. Bounded anyway (after
        // a few spins each turn sleeps 1 ms: a few seconds at most), so an observer stuck by a bug cannot hold the stop.
        var wait = new SpinWait();
        while (Volatile.Read(ref _tracing) != 0 && wait.Count < MaxTraceDrainTurns) wait.SpinOnce(sleep1Threshold: 10);
        foreach (var channel in _channels) await channel.DisposeAsync().ConfigureAwait(false);
    }

    private const int MaxTraceDrainTurns = 2_000;
}
