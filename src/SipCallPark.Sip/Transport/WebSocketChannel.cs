using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// SIP over WebSocket, <c>ws</c> or (with <see cref="TlsOptions"/>) <c>wss</c> (RFC 7118): a listener whose connections
/// run the opening handshake (RFC 6455 §4.2, subprotocol <c>sip</c> required, else 400), then carry one SIP message per
/// WebSocket message. Only browsers connect, never the pool to them, so a send needs the peer's open connection (by
/// id, or by its address: what the registrar records as the binding's source). Its own small listener rather than
/// Kestrel: the SIP stack stays free of ASP.NET, and the upgrade, TLS and limits are the transport's own, as for TCP.
/// </summary>
public sealed class WebSocketChannel : ISipChannel, IConnectionLookup
{
    private readonly Socket _listener;
    private readonly TransportOptions _options;
    private readonly TlsHandshaker? _tls;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<long, WebSocketConnection> _byId = new();
    private readonly ConcurrentDictionary<IPEndPoint, WebSocketConnection> _byRemote = new();
    private readonly LogBudget _refusals;
    private Func<ReceivedFrame, ValueTask>? _onFrame;
    private Task _acceptLoop = Task.CompletedTask;
    private long _lastId;
    private int _count;
    private int _started;
    private int _disposed;

    /// <param name="tls">The certificate for <c>wss</c>; null serves plain <c>ws</c>.</param>
    public WebSocketChannel(IPEndPoint localEndPoint, TlsOptions? tls = null, TransportOptions? options = null, ILogger? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _options = options ?? new TransportOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _tls = tls is null ? null : new TlsHandshaker(tls, _time, _logger);
        _refusals = new LogBudget(20, 200, _time);
        _listener = new Socket(localEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(localEndPoint);
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public SipProtocol Protocol => _tls is null ? SipProtocol.Ws : SipProtocol.Wss;

    public bool IsReliable => true;

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Open WebSocket connections (after their opening handshake).</summary>
    internal int ConnectionCount => _byId.Count;

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onFrame);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("The WebSocket channel is already started.");
        _onFrame = onFrame;
        ct.Register(static s => ((WebSocketChannel)s!).Stop(), this);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (connectionId != 0 && _byId.TryGetValue(connectionId, out var byId) && byId.IsOpen && await byId.WriteAsync(data, ct).ConfigureAwait(false))
            return true;
        if (_byRemote.TryGetValue(remote.Unmapped(), out var byRemote) && byRemote.IsOpen)
            return await byRemote.WriteAsync(data, ct).ConfigureAwait(false);
        _logger.WebSocketNoConnection(new SipEndPoint(Protocol, remote));
        return false;
    }

    IPEndPoint? IConnectionLookup.OpenConnectionRemote(long connectionId) =>
        _byId.TryGetValue(connectionId, out var connection) && connection.IsOpen ? connection.Remote.Address : null;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Stop();
        await _acceptLoop.ConfigureAwait(false);
        WebSocketConnection[] open = [.. _byId.Values];
        foreach (var connection in open) connection.Close("the channel stopped");
        await Task.WhenAll(open.Select(c => c.Completion)).ConfigureAwait(false);
    }

    private void Stop()
    {
        try
        {
            _lifetime.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        _listener.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var ct = _lifetime.Token;
        while (!ct.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && ct.IsCancellationRequested))
            {
                break;
            }
            catch (SocketException e)
            {
                _logger.TcpAcceptFailed(LocalEndPoint, e.SocketErrorCode);
                continue;
            }

            _ = OpenAsync(accepted);
        }
    }

    /// <summary>TLS (for wss), then the HTTP upgrade, each under a deadline; then the connection joins the table.</summary>
    private async Task OpenAsync(Socket socket)
    {
        IPEndPoint remote;
        try
        {
            remote = ((IPEndPoint)socket.RemoteEndPoint!).Unmapped();
            socket.NoDelay = true;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return;
        }

        if (Interlocked.Increment(ref _count) > _options.MaxTcpConnections)
        {
            Interlocked.Decrement(ref _count);
            _logger.TcpConnectionLimitReached(remote, _options.MaxTcpConnections);
            socket.Dispose();
            return;
        }

        WebSocketConnection? connection = null;
        try
        {
            Stream? stream = _tls is null
                ? new NetworkStream(socket, ownsSocket: true)
                : await _tls.AuthenticateAsync(socket, remote, inbound: true, _lifetime.Token).ConfigureAwait(false);
            if (stream is null) return;
            if (!await UpgradeAsync(stream, remote).ConfigureAwait(false))
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
                return;
            }

            long id = Interlocked.Increment(ref _lastId);
            connection = new WebSocketConnection(id, socket, stream, new SipEndPoint(Protocol, remote), _options, _time, _logger, _lifetime.Token);
            _byId[id] = connection;
            _byRemote[remote] = connection;
            _logger.TcpConnectionOpened(id, connection.Remote, "inbound");
            connection.Start(_onFrame!);
            await connection.Completion.ConfigureAwait(false);
        }
        finally
        {
            if (connection is not null)
            {
                _byId.TryRemove(connection.Id, out _);
                _byRemote.TryRemove(new KeyValuePair<IPEndPoint, WebSocketConnection>(remote, connection));
            }

            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Reads the request head (bounded in size and by <see cref="TransportOptions.TcpHeaderReadTimeout"/>) and answers it.</summary>
    private async Task<bool> UpgradeAsync(Stream stream, IPEndPoint remote)
    {
        var head = new byte[WebSocketUpgrade.MaxRequestHead];
        int filled = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        using ITimer timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), deadline, _options.TcpHeaderReadTimeout,
            Timeout.InfiniteTimeSpan);
        try
        {
            // Byte by byte past what is read: nothing after the head may be swallowed (the client may send right after 101).
            while (filled < 4 || !head.AsSpan(filled - 4, 4).SequenceEqual("\r\n\r\n"u8))
            {
                if (filled == head.Length) return Refuse(remote, "request head over 8192 bytes");
                int read = await stream.ReadAsync(head.AsMemory(filled, 1), deadline.Token).ConfigureAwait(false);
                if (read == 0) return false;
                filled += read;
            }

            var answer = WebSocketUpgrade.Answer(head.AsSpan(0, filled));
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(answer.Response), deadline.Token).ConfigureAwait(false);
            return answer.Accepted || Refuse(remote, answer.Reason);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!_lifetime.IsCancellationRequested)
            {
                Refuse(remote, deadline.IsCancellationRequested ? $"no complete upgrade request within {_options.TcpHeaderReadTimeout}" : e.Message);
            }

            return false;
        }
    }

    private bool Refuse(IPEndPoint remote, string reason)
    {
        if (_refusals.TryTake(out _)) _logger.WebSocketUpgradeRefused(new SipEndPoint(Protocol, remote), reason);
        return false;
    }
}
