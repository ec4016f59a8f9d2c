using System.Net;
using System.Net.Sockets;
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
    private readonly List<ISipChannel> _channels;
    private readonly ILogger _logger;
    private Func<IncomingMessage, ValueTask>? _handler;

    public SipMessageTransport(IEnumerable<ISipChannel> channels, ILogger<SipMessageTransport> logger)
    {
        _channels = channels.ToList();
        if (_channels.Count == 0) throw new ArgumentException("At least one channel is needed", nameof(channels));
        _logger = logger;
    }

    public IReadOnlyList<ISipChannel> Channels => _channels;

    /// <summary>Raised for every message in or out, after it is logged (for traces, pcap and metrics).</summary>
    public event Action<SipMessageEvent>? MessageTraced;

    public async Task StartAsync(Func<IncomingMessage, ValueTask> handler, CancellationToken cancellationToken)
    {
        _handler = handler;
        foreach (var channel in _channels) await channel.StartAsync(OnFrameAsync, cancellationToken).ConfigureAwait(false);
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
        return new ViaHeader(protocol.ToString(), HostText(local.Address), local.Port,
            SipParameters.Empty.With("branch", branch).With("rport", null));
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
        var channel = ChannelFor(destination.Protocol, destination.Address.AddressFamily);
        if (channel is null)
        {
            _logger.LogWarning("No {Protocol} channel to send {Method} to {Destination}", destination.Protocol, request.Method, destination);
            return false;
        }
        return await SendAsync(channel, request, destination.Address, 0, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> SendResponseAsync(SipResponse response, IncomingMessage request, CancellationToken cancellationToken = default)
    {
        var channel = _channels.FirstOrDefault(c => c.Protocol == request.Remote.Protocol && c.LocalEndPoint.Equals(request.Local))
                      ?? ChannelFor(request.Remote.Protocol, request.Remote.Address.AddressFamily);
        if (channel is null) return false;
        var target = ResponseTarget(response, request);
        return await SendAsync(channel, response, target, request.ConnectionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// RFC 3261 §18.2.2 with RFC 3581: on a stream, the connection it came on (the channel falls back to the source);
    /// over UDP, maddr if present, else the source address and — with rport — the source port, else the Via port.
    /// </summary>
    internal static IPEndPoint ResponseTarget(SipResponse response, IncomingMessage request)
    {
        var via = response.TopVia;
        if (request.IsReliable || via is null) return request.Remote.Address;
        if (via.MAddr is { } maddr && IPAddress.TryParse(maddr.Trim('[', ']'), out var maddrIp)) return new IPEndPoint(maddrIp, via.Port ?? 5060);
        var host = via.Received is { } received && IPAddress.TryParse(received.Trim('[', ']'), out var r) ? r : request.Remote.Address.Address;
        var port = via.RPort ?? via.Port ?? 5060;
        return new IPEndPoint(host, port);
    }

    private async ValueTask<bool> SendAsync(ISipChannel channel, SipMessage message, IPEndPoint remote, long connectionId, CancellationToken ct)
    {
        var bytes = message.ToArray();
        var to = new SipEndPoint(channel.Protocol, remote);
        Trace(SipDirection.Out, message, to, channel.LocalEndPoint, bytes);
        try
        {
            var sent = await channel.SendAsync(bytes, remote, connectionId, ct).ConfigureAwait(false);
            if (!sent) _logger.LogWarning("Could not send {FirstLine} to {Remote}", message.FirstLine, to);
            return sent;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            _logger.LogWarning("Could not send {FirstLine} to {Remote}: {Error}", message.FirstLine, to, e.Message);
            return false;
        }
    }

    private async ValueTask OnFrameAsync(ReceivedFrame frame)
    {
        var result = SipParser.Parse(frame.Data);
        if (!result.Success)
        {
            await RejectAsync(frame, result.Error!, result.RejectStatus, result.IsRequest, result.Headers).ConfigureAwait(false);
            return;
        }
        var message = result.Message!;
        if (message is SipRequest request)
        {
            if (SipMessageValidator.Validate(request) is { } rejection)
            {
                await RejectAsync(frame, rejection.Reason, rejection.StatusCode, true, request.Headers).ConfigureAwait(false);
                return;
            }
            StampReceived(request, frame.Remote.Address);
        }
        else if (SipMessageValidator.Validate((SipResponse)message) is { } problem)
        {
            await RejectAsync(frame, problem, 0, false, null).ConfigureAwait(false);
            return;
        }
        Trace(SipDirection.In, message, frame.Remote, frame.Local, frame.Data);
        if (_handler is { } handler)
        {
            try
            {
                await handler(new IncomingMessage(message, frame.Remote, frame.Local, frame.ConnectionId, frame.ReceivedAt)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // A fault above must never stop the receive loop; it is a bug, so it is logged loudly.
                _logger.LogError(e, "Handling {FirstLine} from {Remote} failed", message.FirstLine, frame.Remote);
            }
        }
    }

    /// <summary>RFC 3261 §18.2.1 and RFC 3581 §4: record the address and port the request really came from.</summary>
    private static void StampReceived(SipRequest request, IPEndPoint source)
    {
        var via = request.TopVia!;
        var updated = via;
        var sourceHost = source.Address.ToString();
        if (via.HasRPort) updated = updated.WithParameter("rport", source.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (via.HasRPort || !string.Equals(via.Host.Trim('[', ']'), sourceHost, StringComparison.OrdinalIgnoreCase))
            updated = updated.WithParameter("received", sourceHost);
        if (ReferenceEquals(updated, via)) return;
        request.Headers.RemoveFirstValue(HeaderNames.Via);
        request.Headers.Prepend(HeaderNames.Via, updated.ToString());
    }

    private async ValueTask RejectAsync(ReceivedFrame frame, string reason, int status, bool isRequest, SipHeaders? headers)
    {
        if (!isRequest || status == 0 || headers is null || !headers.Contains(HeaderNames.Via))
        {
            _logger.LogInformation("Dropped a message from {Remote}: {Reason}", frame.Remote, reason);
            return;
        }
        _logger.LogInformation("Rejected a request from {Remote} with {Status}: {Reason}", frame.Remote, status, reason);
        SipResponse response;
        try
        {
            response = SipResponse.CreateFor(headers, status);
            response.Headers.Add(HeaderNames.Warning, $"399 - \"{reason.Replace('"', '\'')}\"");
            var via = response.TopVia;
            if (via is null) return;
        }
        catch (SipParseException)
        {
            _logger.LogInformation("Dropped a request from {Remote} too broken to answer: {Reason}", frame.Remote, reason);
            return;
        }
        var fake = new IncomingMessage(response, frame.Remote, frame.Local, frame.ConnectionId, frame.ReceivedAt);
        await SendResponseAsync(response, fake).ConfigureAwait(false);
    }

    private void Trace(SipDirection direction, SipMessage message, SipEndPoint remote, IPEndPoint local, ReadOnlyMemory<byte> bytes)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            string callId = "", cseq = "";
            try { callId = message.CallId; cseq = message.CSeq.ToString(); } catch (SipParseException) { }
            _logger.LogDebug("{Direction} {Transport} {Remote} {FirstLine} Call-ID {CallId} CSeq {CSeq}",
                direction == SipDirection.In ? "IN " : "OUT", remote.Protocol, remote.Address, message.FirstLine, callId, cseq);
        }
        if (_logger.IsEnabled(LogLevel.Trace))
            _logger.LogTrace("{Direction} {Remote} raw message:\n{Raw}", direction, remote, System.Text.Encoding.UTF8.GetString(bytes.Span));
        MessageTraced?.Invoke(new SipMessageEvent(direction, message, remote, local, bytes));
    }

    private static string HostText(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels) await channel.DisposeAsync().ConfigureAwait(false);
    }
}
