using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// One SIP-over-WebSocket connection after its opening handshake (RFC 7118 §5): every WebSocket message, text or
/// binary, is one SIP message; writes are serialized; a message over the size cap closes the connection with 1009
/// (RFC 6455 §7.4.1); no SIP traffic either way for the idle timeout closes it too.
/// </summary>
internal sealed class WebSocketConnection
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly WebSocket _webSocket;
    private readonly TransportOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _cts;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ITimer _idle;
    private int _closed;

    public WebSocketConnection(long id, Socket socket, Stream stream, SipEndPoint remote, TransportOptions options, TimeProvider time,
        ILogger logger, CancellationToken lifetime)
    {
        Id = id;
        _socket = socket;
        _stream = stream;
        Remote = remote;
        Local = ((IPEndPoint)socket.LocalEndPoint!).Unmapped();
        _options = options;
        _time = time;
        _logger = logger;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        // Server pings keep NATs and proxies on the path open; the idle timer below counts SIP messages only.
        _webSocket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = "sip",
            KeepAliveInterval = TimeSpan.FromSeconds(30),
        });
        _idle = time.CreateTimer(static state => ((WebSocketConnection)state!).IdleTimedOut(), this, options.TcpIdleTimeout,
            Timeout.InfiniteTimeSpan);
    }

    public long Id { get; }

    public SipEndPoint Remote { get; }

    public IPEndPoint Local { get; }

    public bool IsOpen => Volatile.Read(ref _closed) == 0;

    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start(Func<ReceivedFrame, ValueTask> onFrame) => Completion = Task.Run(() => ReadLoopAsync(onFrame), CancellationToken.None);

    /// <summary>Sends one SIP message as one text message (RFC 7118 §5.1: UTF-8 text is what browsers expect).</summary>
    public async ValueTask<bool> WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (!IsOpen) return false;
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!IsOpen) return false;
            using ITimer deadline = _time.CreateTimer(static state => ((WebSocketConnection)state!).Close("a write did not complete in time"),
                this, _options.TcpWriteTimeout, Timeout.InfiniteTimeSpan);
            await _webSocket.SendAsync(data, WebSocketMessageType.Text, endOfMessage: true, _cts.Token).ConfigureAwait(false);
            _idle.Change(_options.TcpIdleTimeout, Timeout.InfiniteTimeSpan);
            return true;
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Close($"write failed: {e.Message}");
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Ends the connection; the first reason is the one logged.</summary>
    public void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _logger.WebSocketClosed(Id, Remote, reason);
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The read loop already cleaned up.
        }
    }

    private void IdleTimedOut() => Close($"idle for {_options.TcpIdleTimeout}");

    private async Task ReadLoopAsync(Func<ReceivedFrame, ValueTask> onFrame)
    {
        var reader = new WebSocketMessageReader(_webSocket, _options.MaxMessageSize);
        try
        {
            while (IsOpen)
            {
                var (outcome, data) = await reader.ReadAsync(_cts.Token).ConfigureAwait(false);
                if (outcome == WebSocketMessageReader.Outcome.Closed)
                {
                    Close("the peer closed the WebSocket");
                    await CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "").ConfigureAwait(false);
                    break;
                }

                if (outcome == WebSocketMessageReader.Outcome.TooLarge)
                {
                    _logger.WebSocketMessageTooLarge(Remote, _options.MaxMessageSize);
                    Close($"message over {_options.MaxMessageSize} bytes");
                    await CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "SIP message too large").ConfigureAwait(false);
                    break;
                }

                _idle.Change(_options.TcpIdleTimeout, Timeout.InfiniteTimeSpan);
                if (data.Length == 0) continue; // an empty message carries no SIP
                try
                {
                    await onFrame(new ReceivedFrame(Remote, Local, data, Id, _time.GetUtcNow())).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _logger.FrameHandlerFailed(e, Remote);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Close(e is OperationCanceledException ? "stopped" : $"read failed: {e.Message}");
        }
        finally
        {
            Close("stopped");
            await _idle.DisposeAsync().ConfigureAwait(false);
            await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            _webSocket.Dispose();
            await _stream.DisposeAsync().ConfigureAwait(false);
            _socket.Dispose();
            _writeLock.Release();
            _cts.Dispose();
        }
    }

    /// <summary>A close frame with a status, best effort and bounded: the peer may already be gone.</summary>
    private async Task CloseOutputAsync(WebSocketCloseStatus status, string description)
    {
        try
        {
            using var bound = new CancellationTokenSource();
            using ITimer deadline = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), bound, TimeSpan.FromSeconds(1),
                Timeout.InfiniteTimeSpan);
            await _webSocket.CloseOutputAsync(status, description, bound.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Closing anyway.
        }
    }
}
