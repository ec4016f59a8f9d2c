using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tracing;

/// <summary>
/// Mirrors every SIP message it observes to a Homer capture server as one HEP3 packet (<see cref="HepFormat"/>) with
/// the real addresses and ports, the transport, the capture time to the microsecond and the Call-ID as correlation id.
/// <see cref="Observe"/> never blocks the SIP path: it encodes into a bounded queue or, when that is full, drops the
/// message, counts it and warns at most every <see cref="WarningInterval"/>. One background task sends; over TCP it
/// connects again after a failure with a doubling backoff (<see cref="HepOptions.ReconnectDelay"/> up to
/// <see cref="HepOptions.MaxReconnectDelay"/>). A connection that breaks (or that the server closed) after it has been
/// up for <see cref="HepOptions.MaxReconnectDelay"/> is made again at once; one that breaks sooner counts as a failed
/// attempt, so a server that accepts and then drops every connection is not reconnected once per message.
/// </summary>
public sealed class HepTraceExporter : IAsyncDisposable
{
    /// <summary>At most one drop warning in this interval.</summary>
    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    private readonly HepOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<HepEndpoint, CancellationToken, ValueTask<IHepLink>> _connect;
    private readonly Channel<byte[]> _queue;
    private readonly byte[] _authKey;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private readonly string _endpoint;

    private long _sent;
    private long _dropped;
    private long _sendFailures;
    private long _connectAttempts;
    private long _lastWarning;
    private int _disposed;

    // Sender task only.
    private IHepLink? _link;
    private long _linkSince;
    private TimeSpan _backoff;
    private long _nextAttempt;
    private long _failuresSinceUp;
    private bool _down;

    /// <summary>Starts the sender task; the first connection is made at the first message.</summary>
    public HepTraceExporter(HepOptions options, TimeProvider timeProvider, ILogger<HepTraceExporter>? logger = null)
        : this(options, timeProvider, logger, HepSocketLink.ConnectAsync)
    {
    }

    /// <summary>As the public constructor, with the connection replaced (tests: a link that fails or records).</summary>
    internal HepTraceExporter(HepOptions options, TimeProvider timeProvider, ILogger? logger,
        Func<HepEndpoint, CancellationToken, ValueTask<IHepLink>> connect)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(connect);
        options.Validate();
        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _connect = connect;
        _authKey = options.Password is { } password ? Encoding.UTF8.GetBytes(password) : [];
        _endpoint = options.Endpoint.ToString();
        _backoff = options.ReconnectDelay;
        _nextAttempt = _time.GetTimestamp();
        _lastWarning = _nextAttempt - (long)(WarningInterval.TotalSeconds * _time.TimestampFrequency); // the first drop warns at once
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with Wait, TryWrite reports a full queue instead of dropping silently
            SingleReader = true,
            SingleWriter = false,
        });
        _logger.HepStarted(_endpoint, options.AgentId);
        _sender = Task.Run(SendLoopAsync);
    }

    /// <summary>Packets handed to the socket.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Messages never queued: the queue was full, the message too large for one HEP packet, or the exporter
    /// stopping while the capture server could not be reached.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Packets lost because a send failed (the connection broke, the server refused, a write timed out).</summary>
    public long SendFailures => Interlocked.Read(ref _sendFailures);

    /// <summary>Connections opened or tried (TCP: one per attempt; UDP: one socket, again only after a failure to open).</summary>
    public long ConnectAttempts => Interlocked.Read(ref _connectAttempts);

    /// <summary>Packets waiting for the sender.</summary>
    public int QueueLength => _queue.Reader.Count;

    /// <summary>Encodes the message and queues it; never blocks. Subscribe it to <see cref="SipMessageTransport.MessageTraced"/>.</summary>
    public void Observe(SipMessageEvent message)
    {
        if (message.Remote.Address is null || message.Local is null || Volatile.Read(ref _disposed) != 0)
        {
            CountDrop();
            return;
        }
        if (_queue.Reader.Count >= _options.QueueCapacity)
        {
            CountDrop(); // full: spare the SIP path the encoding
            return;
        }

        bool outgoing = message.Direction == SipDirection.Out;
        IPEndPoint remote = message.Remote.Address;
        IPEndPoint local = message.Local;
        byte protocol = message.Remote.Protocol == SipProtocol.Udp ? HepFormat.Udp : HepFormat.Tcp;
        byte[] callId = Encoding.UTF8.GetBytes(message.Message?.Headers.Get(HeaderNames.CallId)?.Trim() ?? "");
        Enqueue(outgoing ? local : remote, outgoing ? remote : local, protocol, HepFormat.ProtocolTypeSip, callId, message.Bytes.Span);
    }

    /// <summary>Queues a JSON media report (<see cref="HepRtpCounters"/>) sent as from <paramref name="source"/> to
    /// <paramref name="target"/> over UDP; never blocks, drops and counts like <see cref="Observe"/>.</summary>
    internal void ObserveReport(IPEndPoint source, IPEndPoint target, string? correlationId, ReadOnlySpan<byte> json)
    {
        if (Volatile.Read(ref _disposed) != 0 || _queue.Reader.Count >= _options.QueueCapacity)
        {
            CountDrop();
            return;
        }
        Enqueue(source, target, HepFormat.Udp, HepFormat.ProtocolTypeMediaReport, Encoding.UTF8.GetBytes(correlationId ?? ""), json);
    }

    private void Enqueue(IPEndPoint from, IPEndPoint to, byte ipProtocol, byte protocolType, byte[] correlationId, ReadOnlySpan<byte> payload)
    {
        (IPAddress sourceAddress, IPAddress targetAddress) = PcapFormat.SameFamily(from.Address, to.Address);
        var source = new IPEndPoint(sourceAddress, from.Port);
        var target = new IPEndPoint(targetAddress, to.Port);
        int length = HepFormat.Length(source.AddressFamily, _authKey.Length, correlationId.Length, payload.Length);
        if (length > HepFormat.MaxPacketLength)
        {
            CountDrop();
            return;
        }

        byte[] packet = new byte[length];
        try
        {
            HepFormat.Write(packet, source, target, ipProtocol, protocolType, _time.GetUtcNow(), _options.AgentId, _authKey, correlationId, payload);
        }
        catch (ArgumentException) // an address the chunks cannot carry: the trace loses the message, the SIP path never sees it
        {
            CountDrop();
            return;
        }
        if (!_queue.Writer.TryWrite(packet)) CountDrop();
    }

    /// <summary>Stops taking messages, sends those queued while the server is reachable, and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _sender.ConfigureAwait(false);
            return;
        }
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false); // ends a backoff wait; what is queued still goes while the link is up
        try
        {
            await _sender.ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
        }
    }

    private void CountDrop()
    {
        long dropped = Interlocked.Increment(ref _dropped);
        if (Volatile.Read(ref _disposed) != 0) return;
        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastWarning);
        if (_time.GetElapsedTime(last, now) >= WarningInterval && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            _logger.HepDropping(dropped);
        }
    }

    private async Task SendLoopAsync()
    {
        ChannelReader<byte[]> reader = _queue.Reader;
        try
        {
            // Ends when DisposeAsync completes the queue and every queued packet is taken.
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out byte[]? packet))
                {
                    await SendAsync(packet).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (_link is not null) await _link.DisposeAsync().ConfigureAwait(false);
            _link = null;
        }
    }

    private async Task SendAsync(byte[] packet)
    {
        if (_link is { IsOpen: false }) await DropLinkAsync("the capture server closed the connection").ConfigureAwait(false);
        while (_link is null)
        {
            bool stopping = Volatile.Read(ref _disposed) != 0;
            TimeSpan wait = _time.GetElapsedTime(_time.GetTimestamp(), _nextAttempt);
            if (stopping && (_down || wait > TimeSpan.Zero))
            {
                Interlocked.Increment(ref _dropped); // on the way out, no waiting for a server that failed
                return;
            }
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _dropped); // stopping: no more waiting for the server
                    return;
                }
            }
            try
            {
                using var timeout = new CancellationTokenSource(_options.SendTimeout, _time);
                _link = await _connect(_options.Endpoint, timeout.Token).ConfigureAwait(false);
                _linkSince = _time.GetTimestamp();
                Interlocked.Increment(ref _connectAttempts);
            }
            catch (Exception e) // whatever the failure, the sender task must live on: count, log once, back off
            {
                Failed(e is OperationCanceledException ? "connecting timed out" : e.Message);
                BackOff();
                Interlocked.Increment(ref _connectAttempts); // counted once the next attempt's time is set
            }
            if (_link is { IsOpen: false })
            {
                // Closed by the server while idle (or at once): reconnect before writing, so this packet is not lost.
                await DropLinkAsync("the capture server closed the connection").ConfigureAwait(false);
            }
        }

        try
        {
            using var timeout = new CancellationTokenSource(_options.SendTimeout, _time);
            await _link.SendAsync(packet, timeout.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
            if (_options.Endpoint.Transport == ProtocolType.Udp || Stable()) _backoff = _options.ReconnectDelay;
            if (_down)
            {
                _down = false;
                _logger.HepReachable(_endpoint, _failuresSinceUp);
                _failuresSinceUp = 0;
            }
        }
        catch (Exception e) // a broken link must not end the sender task
        {
            string reason = e is OperationCanceledException ? "sending timed out" : e.Message;
            if (_options.Endpoint.Transport == ProtocolType.Tcp) await DropLinkAsync(reason).ConfigureAwait(false);
            else Failed(reason);
            Interlocked.Increment(ref _sendFailures); // counted once the next attempt's time is set
        }
    }

    /// <summary>TCP: closes a broken connection. One that had been up long enough is made again at the next packet;
    /// one that broke sooner waits the backoff, as a refused connection does.</summary>
    private async ValueTask DropLinkAsync(string reason)
    {
        bool stable = Stable();
        await _link!.DisposeAsync().ConfigureAwait(false);
        _link = null;
        Failed(reason);
        if (stable)
        {
            _backoff = _options.ReconnectDelay;
            _nextAttempt = _time.GetTimestamp();
        }
        else
        {
            BackOff();
        }
    }

    private bool Stable() => _time.GetElapsedTime(_linkSince) >= _options.MaxReconnectDelay;

    private void BackOff()
    {
        _nextAttempt = _time.GetTimestamp() + _backoff.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond;
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _options.MaxReconnectDelay.Ticks));
    }

    private void Failed(string reason)
    {
        _failuresSinceUp++;
        if (_down) return;
        _down = true;
        _logger.HepUnreachable(_endpoint, reason);
    }
}
