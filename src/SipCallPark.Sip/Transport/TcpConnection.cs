using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// One open stream connection: a read loop that frames messages by Content-Length, serialized writes, and the
/// idle and partial-message (slow-loris) timeouts. Works on a <see cref="Stream"/> so TLS can hand in an SslStream.
/// </summary>
internal sealed class TcpConnection
{
    private const long NoPartialMessage = long.MinValue;

    private static ReadOnlyMemory<byte> Pong { get; } = "\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly TransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _token;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ITimer _timer;
    private readonly Lock _timerGate = new();
    private long _lastActivity;
    private long _partialSince = NoPartialMessage;
    private int _closeReason;

    /// <summary>The certificate the peer presented in its TLS handshake; null on plain TCP or when it sent none.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? PeerCertificate =>
        _stream is System.Net.Security.SslStream ssl ? ssl.RemoteCertificate as System.Security.Cryptography.X509Certificates.X509Certificate2 : null;

    public TcpConnection(long id, Socket socket, Stream stream, SipEndPoint remote, TransportOptions options,
        TimeProvider timeProvider, ILogger logger, CancellationToken channelLifetime)
    {
        Id = id;
        _socket = socket;
        _stream = stream;
        Remote = remote;
        Local = ((IPEndPoint)socket.LocalEndPoint!).Unmapped();
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(channelLifetime);
        _token = _cts.Token;
        _lastActivity = timeProvider.GetTimestamp();
        _timer = timeProvider.CreateTimer(static state => ((TcpConnection)state!).CheckTimeouts(), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public long Id { get; }

    public SipEndPoint Remote { get; }

    public IPEndPoint Local { get; }

    public bool IsOpen => Volatile.Read(ref _closeReason) == (int)TcpCloseReason.None;

    public TcpCloseReason CloseReason => (TcpCloseReason)Volatile.Read(ref _closeReason);

    /// <summary>Completes when the read loop has ended and the socket is closed.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start(Func<ReceivedFrame, ValueTask> onFrame) =>
        Completion = Task.Run(() => ReadLoopAsync(onFrame), CancellationToken.None);

    /// <summary>Writes one whole message; concurrent writers queue so two messages never interleave.</summary>
    public async ValueTask<bool> WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (!IsOpen)
        {
            return false;
        }

        // The caller may give up waiting for its turn, but once bytes flow only the connection's own token may
        // stop them: half a message on the stream would corrupt everything after it.
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!IsOpen)
            {
                return false;
            }

            ValueTask write = _stream.WriteAsync(data, _token);

            // Not done at once: the socket buffers are full. A peer that stopped reading would hold this write, the
            // writers queued behind it and the connection forever, so a deadline closes it, which cancels the write.
            using ITimer? deadline = write.IsCompleted ? null : _timeProvider.CreateTimer(
                static state => ((TcpConnection)state!).WriteTimedOut(), this, _options.TcpWriteTimeout, Timeout.InfiniteTimeSpan);
            await write.ConfigureAwait(false);
            Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (IsOpen)
            {
                _logger.TcpWriteFailed(e, Remote, Id);
            }

            Close(TcpCloseReason.NetworkError);
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteTimedOut()
    {
        if (Close(TcpCloseReason.WriteTimeout))
        {
            _logger.TcpWriteTimedOut(Id, Remote, _options.TcpWriteTimeout);
        }
    }

    /// <summary>Stops the connection; the first reason given is the one reported. True for the call that closed it.</summary>
    public bool Close(TcpCloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, (int)reason, (int)TcpCloseReason.None) != (int)TcpCloseReason.None)
        {
            return false;
        }

        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The read loop already finished and cleaned up.
        }

        return true;
    }

    private async Task ReadLoopAsync(Func<ReceivedFrame, ValueTask> onFrame)
    {
        PipeReader reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            CheckTimeouts();
            while (IsOpen)
            {
                ReadResult result = await reader.ReadAsync(_token).ConfigureAwait(false);
                Volatile.Write(ref _lastActivity, _timeProvider.GetTimestamp());
                ReadOnlySequence<byte> buffer = result.Buffer;
                FrameStatus status;
                bool framed = false;
                while ((status = TcpFramer.TryReadFrame(ref buffer, _options.MaxMessageSize, out var frame))
                       is FrameStatus.Frame or FrameStatus.KeepAlivePing)
                {
                    if (status == FrameStatus.Frame)
                    {
                        framed = true;
                        await DeliverAsync(onFrame, frame.ToArray()).ConfigureAwait(false);
                    }
                    else
                    {
                        // RFC 5626 §4.4.1: a double-CRLF ping is answered with a single CRLF pong.
                        await WriteAsync(Pong, _token).ConfigureAwait(false);
                    }
                }

                if (!CloseOnFramingError(status))
                {
                    break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                bool partial = TcpFramer.HasPartialMessage(buffer);
                if (result.IsCompleted)
                {
                    if (partial)
                    {
                        _logger.TcpPeerClosedMidMessage(Remote);
                    }

                    Close(TcpCloseReason.PeerClosed);
                    break;
                }

                MarkPartialMessage(partial, framed);
                CheckTimeouts();
            }
        }
        catch (OperationCanceledException)
        {
            // Closed by a timeout, a failed write or the channel stopping; the reason is already recorded.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            if (IsOpen)
            {
                _logger.TcpReadFailed(e, Id, Remote);
            }

            Close(TcpCloseReason.NetworkError);
        }
        finally
        {
            Close(TcpCloseReason.ChannelStopped);
            await reader.CompleteAsync().ConfigureAwait(false);
            await CleanUpAsync().ConfigureAwait(false);
            _logger.TcpConnectionEnded(Id, Remote, CloseReason);
        }
    }

    private async ValueTask DeliverAsync(Func<ReceivedFrame, ValueTask> onFrame, byte[] data)
    {
        var received = new ReceivedFrame(Remote, Local, data, Id, _timeProvider.GetUtcNow());
        try
        {
            await onFrame(received).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.FrameHandlerFailed(e, Remote);
        }
    }

    /// <summary>Returns false, having logged and closed, when the stream cannot be framed any further.</summary>
    private bool CloseOnFramingError(FrameStatus status)
    {
        switch (status)
        {
            case FrameStatus.TooLarge:
                _logger.TcpMessageTooLarge(Remote, _options.MaxMessageSize);
                Close(TcpCloseReason.MessageTooLarge);
                return false;
            case FrameStatus.Malformed:
                _logger.TcpMessageMalformed(Remote);
                Close(TcpCloseReason.MalformedMessage);
                return false;
            default:
                return IsOpen;
        }
    }

    // The partial-message clock times one message: it restarts when a message completes, so a busy stream whose
    // reads always end mid-message is not mistaken for a slow-loris peer.
    private void MarkPartialMessage(bool partial, bool completedAMessage)
    {
        if (!partial)
        {
            Volatile.Write(ref _partialSince, NoPartialMessage);
        }
        else if (completedAMessage || Volatile.Read(ref _partialSince) == NoPartialMessage)
        {
            Volatile.Write(ref _partialSince, _timeProvider.GetTimestamp());
        }
    }

    // Runs on the timer and after every read: closes the connection if a deadline has passed, else re-arms the
    // timer for the nearest one. The gate keeps a stale evaluation from re-arming over a fresher one.
    private void CheckTimeouts()
    {
        TcpCloseReason expired = TcpCloseReason.None;
        lock (_timerGate)
        {
            if (!IsOpen)
            {
                return;
            }

            TimeSpan idleLeft = _options.TcpIdleTimeout - _timeProvider.GetElapsedTime(Volatile.Read(ref _lastActivity));
            long partialSince = Volatile.Read(ref _partialSince);
            TimeSpan partialLeft = partialSince == NoPartialMessage
                ? TimeSpan.MaxValue
                : _options.TcpHeaderReadTimeout - _timeProvider.GetElapsedTime(partialSince);

            if (partialLeft <= TimeSpan.Zero)
            {
                expired = TcpCloseReason.PartialMessageTimeout;
            }
            else if (idleLeft <= TimeSpan.Zero)
            {
                expired = TcpCloseReason.IdleTimeout;
            }
            else
            {
                _timer.Change(partialLeft < idleLeft ? partialLeft : idleLeft, Timeout.InfiniteTimeSpan);
            }
        }

        if (expired == TcpCloseReason.PartialMessageTimeout)
        {
            _logger.TcpPartialMessageTimedOut(Remote, _options.TcpHeaderReadTimeout);
            Close(expired);
        }
        else if (expired == TcpCloseReason.IdleTimeout)
        {
            _logger.TcpIdleTimedOut(Remote, _options.TcpIdleTimeout);
            Close(expired);
        }
    }

    // A peer that stopped reading would otherwise keep the unsent bytes, and the socket, alive in the kernel for as
    // long as it keeps the window shut: reset the connection instead of closing it gracefully.
    private void AbortOnClose()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone; nothing left to abort.
        }
    }

    private async Task CleanUpAsync()
    {
        lock (_timerGate)
        {
            _timer.Dispose();
        }

        // Let a write in progress fail on the cancelled token before the stream goes away.
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (CloseReason == TcpCloseReason.WriteTimeout)
            {
                AbortOnClose();
            }

            await _stream.DisposeAsync().ConfigureAwait(false);
            _socket.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }

        _cts.Dispose();
    }
}
