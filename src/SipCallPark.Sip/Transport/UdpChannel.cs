using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// SIP over UDP: one datagram is one message (RFC 3261 §18.1). One socket, a few concurrent asynchronous receive
/// loops; every datagram is copied out so the frame outlives the receive buffer. The socket is bound by the
/// constructor, so <see cref="LocalEndPoint"/> is known (and a taken port fails) before anything starts.
/// </summary>
public sealed class UdpChannel : ISipChannel
{
    // Bigger than any UDP payload (65,507 over IPv4, 65,527 over IPv6), so no datagram is ever truncated and
    // oversize is judged on the real size.
    private const int DatagramBufferSize = 65536;

    // SIO_UDP_CONNRESET: stop Windows from failing receives with ConnectionReset after an ICMP port unreachable.
    private const int SioUdpConnReset = unchecked((int)0x9800000C);

    private const int ErrorsBeforeBackOff = 10;
    private static readonly TimeSpan ErrorBackOff = TimeSpan.FromMilliseconds(50);

    private readonly Socket _socket;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _lifetime = new();
    private CancellationTokenSource? _receiving;
    private Func<ReceivedFrame, ValueTask>? _onFrame;
    private Task _loops = Task.CompletedTask;
    private int _started;
    private int _disposed;

    public UdpChannel(IPEndPoint localEndPoint, TransportOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _options = options ?? new TransportOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;

        _socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                _socket.IOControl(SioUdpConnReset, [0, 0, 0, 0], null);
            }

            _socket.Bind(localEndPoint);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public SipProtocol Protocol => SipProtocol.Udp;

    public bool IsReliable => false;

    public IPEndPoint LocalEndPoint { get; }

    public Task StartAsync(Func<ReceivedFrame, ValueTask> onFrame, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onFrame);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The UDP channel is already started.");
        }

        _onFrame = onFrame;
        _receiving = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, ct);
        CancellationToken token = _receiving.Token;
        var loops = new Task[_options.UdpReceiveLoops];
        for (int i = 0; i < loops.Length; i++)
        {
            loops[i] = Task.Run(() => ReceiveLoopAsync(token), CancellationToken.None);
        }

        _loops = Task.WhenAll(loops);
        return Task.CompletedTask;
    }

    public async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, IPEndPoint remote, long connectionId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (Volatile.Read(ref _started) == 0)
        {
            throw new InvalidOperationException("Start the UDP channel before sending.");
        }

        if (remote.AddressFamily != _socket.AddressFamily && !IsDualMode())
        {
            _logger.AddressFamilyMismatch(LocalEndPoint, remote);
            return false;
        }

        try
        {
            await _socket.SendToAsync(data, SocketFlags.None, remote, ct).ConfigureAwait(false);
            return true;
        }
        catch (SocketException e)
        {
            _logger.UdpSendFailed(remote, e.SocketErrorCode);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _lifetime.Cancel();
        _socket.Dispose();
        await _loops.ConfigureAwait(false);
        _receiving?.Dispose();
        _lifetime.Dispose();
    }

    /// <summary>Closes a channel that was never started, synchronously (used when a bind attempt is given up).</summary>
    internal void CloseUnstarted()
    {
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("The channel was started; dispose it asynchronously.");
        }

        Interlocked.Exchange(ref _disposed, 1);
        _socket.Dispose();
        _lifetime.Dispose();
    }

    private bool IsDualMode() => _socket.AddressFamily == AddressFamily.InterNetworkV6 && _socket.DualMode;

    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(DatagramBufferSize);
        EndPoint any = new IPEndPoint(
            _socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        int consecutiveErrors = 0;

        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
                consecutiveErrors = 0;
            }
            catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or SocketException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                // ICMP errors and the like concern one peer, never the channel: log and keep receiving.
                _logger.UdpReceiveFailed(LocalEndPoint, e.SocketErrorCode);
                if (++consecutiveErrors >= ErrorsBeforeBackOff && !await BackOffAsync(ct).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            await HandleDatagramAsync(buffer.AsMemory(0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint)
                .ConfigureAwait(false);
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

    private async ValueTask HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint source)
    {
        // Empty and CRLF-only datagrams are NAT keepalives (RFC 5626 §3.5.1 style), not messages.
        if (datagram.Span.IndexOfAnyExcept((byte)'\r', (byte)'\n') < 0)
        {
            return;
        }

        var remote = new SipEndPoint(SipProtocol.Udp, source.Unmapped());
        if (datagram.Length > _options.MaxMessageSize)
        {
            _logger.UdpDatagramTooLarge(remote, datagram.Length, _options.MaxMessageSize);
            return;
        }

        var frame = new ReceivedFrame(remote, LocalEndPoint, datagram.ToArray(), 0, _timeProvider.GetUtcNow());
        try
        {
            await _onFrame!(frame).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.FrameHandlerFailed(e, remote);
        }
    }
}
