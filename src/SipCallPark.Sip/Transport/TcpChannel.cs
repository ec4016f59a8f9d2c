using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// SIP over TCP (RFC 3261 §18): a listener plus a table of open connections, inbound and outbound, so responses
/// and later requests reuse them (§18.2.2, RFC 5923). Each connection frames messages by Content-Length.
/// The listener is bound by the constructor, so <see cref="LocalEndPoint"/> is known before anything starts.
/// </summary>
public sealed partial class TcpChannel : ISipChannel, IConnectionLookup, IConnectionAliases
{

    private const int ListenBacklog = 512;
    private const int ErrorsBeforeBackOff = 10;
    private static readonly TimeSpan ErrorBackOff = TimeSpan.FromMilliseconds(50);

    private readonly Socket _listener;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<long, TcpConnection> _byId = new();
    private readonly ConcurrentDictionary<IPEndPoint, TcpConnection> _byRemote = new();
    private readonly ConcurrentDictionary<IPEndPoint, Lazy<Task<TcpConnection?>>> _connecting = new();
    private readonly ConcurrentDictionary<long, List<IPEndPoint>> _aliases = new();
    private readonly TlsHandshaker? _tls;
    private CancellationTokenRegistration _stopRegistration;
    private Func<ReceivedFrame, ValueTask>? _onFrame;
    private Task _acceptLoop = Task.CompletedTask;
    private long _lastConnectionId;
    private int _connectionCount;
    private int _started;
    private int _disposed;

    public TcpChannel(IPEndPoint localEndPoint, TransportOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this(localEndPoint, options, logger, timeProvider, tls: null)
    {
    }

    /// <summary>With <paramref name="tls"/>, every connection runs a TLS handshake before it carries SIP (see <see cref="TlsChannel"/>).</summary>
    internal TcpChannel(IPEndPoint localEndPoint, TransportOptions? options, ILogger? logger, TimeProvider? timeProvider, TlsOptions? tls)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _options = options ?? new TransportOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _tls = tls is null ? null : new TlsHandshaker(tls, _timeProvider, _logger);

        _listener = new Socket(localEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(localEndPoint);
            _listener.Listen(ListenBacklog);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public SipProtocol Protocol => _tls is null ? SipProtocol.Tcp : SipProtocol.Tls;

    public bool IsReliable => true;

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections currently open, inbound and outbound.</summary>
    internal int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>The certificate the peer at <paramref name="remote"/> presented in its TLS handshake, while that connection
    /// is open; null for none, for a closed connection and on plain TCP.</summary>
    internal System.Security.Cryptography.X509Certificates.X509Certificate2? PeerCertificate(IPEndPoint remote) =>
        _byRemote.TryGetValue(remote.Unmapped(), out TcpConnection? connection) && connection.IsOpen ? connection.PeerCertificate : null;

    /// <summary>TLS handshakes running now (0 for plain TCP).</summary>
    internal int HandshakesInProgress => _tls?.InProgress ?? 0;

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onFrame);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"The {Protocol} channel is already started.");
        }

        _onFrame = onFrame;
        _stopRegistration = ct.Register(static state => ((TcpChannel)state!).Stop(), this);
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (Volatile.Read(ref _started) == 0)
        {
            throw new InvalidOperationException("Start the TCP channel before sending.");
        }

        if (_lifetime.IsCancellationRequested)
        {
            return false;
        }

        remote = remote.Unmapped();
        TcpConnection? tried = null;
        if (connectionId != 0 && _byId.TryGetValue(connectionId, out tried) && tried.IsOpen
            && await tried.WriteAsync(data, ct).ConfigureAwait(false))
        {
            return true;
        }

        if (_byRemote.TryGetValue(remote, out TcpConnection? existing) && existing != tried && existing.IsOpen
            && await existing.WriteAsync(data, ct).ConfigureAwait(false))
        {
            return true;
        }

        TcpConnection? connection = await ConnectOnceAsync(remote, ct).ConfigureAwait(false);
        return connection is not null && await connection.WriteAsync(data, ct).ConfigureAwait(false);
    }

    IPEndPoint? IConnectionLookup.OpenConnectionRemote(long connectionId) =>
        connectionId != 0 && _byId.TryGetValue(connectionId, out TcpConnection? connection) && connection.IsOpen
            ? connection.Remote.Address
            : null;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stop();
        await _stopRegistration.DisposeAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);

        // Connections adopted concurrently with Stop see the cancelled lifetime and close themselves.
        TcpConnection[] open = [.. _byId.Values];
        foreach (TcpConnection connection in open)
        {
            connection.Close(TcpCloseReason.ChannelStopped);
        }

        await Task.WhenAll(open.Select(c => c.Completion)).ConfigureAwait(false);

        // _lifetime stays undisposed: a connect finishing right now may still link to its (cancelled) token.
    }

    /// <summary>Closes a channel that was never started, synchronously (used when a bind attempt is given up).</summary>
    internal void CloseUnstarted()
    {
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("The channel was started; dispose it asynchronously.");
        }

        Interlocked.Exchange(ref _disposed, 1);
        _listener.Dispose();
        _lifetime.Dispose();
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
        CancellationToken ct = _lifetime.Token;
        int consecutiveErrors = 0;
        while (!ct.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptAsync(ct).ConfigureAwait(false);
                consecutiveErrors = 0;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException
                                      || (e is SocketException && ct.IsCancellationRequested))
            {
                break;
            }
            catch (SocketException e)
            {
                // Out of descriptors, a peer that reset before accept...: the listener itself is fine.
                _logger.TcpAcceptFailed(LocalEndPoint, e.SocketErrorCode);
                if (++consecutiveErrors >= ErrorsBeforeBackOff && !await BackOffAsync(ct).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            if (_tls is null)
            {
                Adopt(accepted, new NetworkStream(accepted, ownsSocket: false), "inbound");
            }
            else
            {
                // Handshakes run beside the accept loop, each under its own deadline, so a silent client delays nobody.
                _ = SecureAndAdoptAsync(accepted, "inbound");
            }
        }
    }

    private async Task<bool> BackOffAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(ErrorBackOff, _timeProvider, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Connects to <paramref name="remote"/>, sharing one attempt among concurrent senders.</summary>
    private Task<TcpConnection?> ConnectOnceAsync(IPEndPoint remote, CancellationToken ct)
    {
        Lazy<Task<TcpConnection?>>? attempt = null;
        attempt = new Lazy<Task<TcpConnection?>>(async () =>
        {
            try
            {
                return await ConnectAsync(remote).ConfigureAwait(false);
            }
            finally
            {
                _connecting.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<TcpConnection?>>>(remote, attempt!));
            }
        });

        // A sender that stops waiting does not cancel the attempt the others share.
        return _connecting.GetOrAdd(remote, attempt).Value.WaitAsync(ct);
    }

    private async Task<TcpConnection?> ConnectAsync(IPEndPoint remote)
    {
        if (remote.AddressFamily != LocalEndPoint.AddressFamily)
        {
            _logger.AddressFamilyMismatch(LocalEndPoint, remote);
            return null;
        }

        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        using ITimer deadline = _timeProvider.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(),
            attempt, _options.TcpConnectTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            // Leave from the listening address so the peer sees the same host as in our Via and Contact.
            if (!LocalEndPoint.Address.Equals(IPAddress.Any) && !LocalEndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.Bind(new IPEndPoint(LocalEndPoint.Address, 0));
            }

            await socket.ConnectAsync(remote, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            if (!_lifetime.IsCancellationRequested)
            {
                _logger.TcpConnectTimedOut(remote, _options.TcpConnectTimeout);
            }

            return null;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            _logger.TcpConnectFailed(remote, e.SocketErrorCode);
            return null;
        }
        catch (ObjectDisposedException)
        {
            socket.Dispose();
            return null;
        }

        return _tls is null
            ? Adopt(socket, new NetworkStream(socket, ownsSocket: false), "outbound")
            : await SecureAndAdoptAsync(socket, "outbound").ConfigureAwait(false);
    }

    private async Task<TcpConnection?> SecureAndAdoptAsync(Socket socket, string direction)
    {
        IPEndPoint remote;
        try
        {
            remote = ((IPEndPoint)socket.RemoteEndPoint!).Unmapped();
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }

        var ssl = await _tls!.AuthenticateAsync(socket, remote, direction == "inbound", _lifetime.Token).ConfigureAwait(false);
        return ssl is null ? null : Adopt(socket, ssl, direction);
    }

    private TcpConnection? Adopt(Socket socket, Stream stream, string direction)
    {
        IPEndPoint remote;
        try
        {
            remote = ((IPEndPoint)socket.RemoteEndPoint!).Unmapped();
        }
        catch (SocketException)
        {
            stream.Dispose();
            socket.Dispose(); // reset before we got to it
            return null;
        }

        if (_lifetime.IsCancellationRequested)
        {
            stream.Dispose();
            socket.Dispose();
            return null;
        }

        if (Interlocked.Increment(ref _connectionCount) > _options.MaxTcpConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            _logger.TcpConnectionLimitReached(remote, _options.MaxTcpConnections);
            stream.Dispose();
            socket.Dispose();
            return null;
        }

        socket.NoDelay = true;
        long id = Interlocked.Increment(ref _lastConnectionId);
        var connection = new TcpConnection(id, socket, stream, new SipEndPoint(Protocol, remote), _options, _timeProvider, _logger,
            _lifetime.Token);
        _byId[id] = connection;
        _byRemote[remote] = connection;
        _logger.TcpConnectionOpened(id, connection.Remote, direction);

        connection.Start(_onFrame!);
        _ = ForgetWhenClosedAsync(connection);
        return connection;
    }

    private async Task ForgetWhenClosedAsync(TcpConnection connection)
    {
        try
        {
            await connection.Completion.ConfigureAwait(false);
        }
        finally
        {
            Forget(connection);
        }
    }

    private void Forget(TcpConnection connection)
    {
        if (_byId.TryRemove(connection.Id, out _))
        {
            Interlocked.Decrement(ref _connectionCount);
        }

        _byRemote.TryRemove(new KeyValuePair<IPEndPoint, TcpConnection>(connection.Remote.Address, connection));
        if (_aliases.TryRemove(connection.Id, out List<IPEndPoint>? aliases))
        {
            lock (aliases)
            {
                foreach (IPEndPoint alias in aliases)
                {
                    _byRemote.TryRemove(new KeyValuePair<IPEndPoint, TcpConnection>(alias, connection));
                }
            }
        }
    }
}
