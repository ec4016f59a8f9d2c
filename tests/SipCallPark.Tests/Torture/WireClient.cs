using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;

namespace SipCallPark.Tests.Torture;

/// <summary>
/// One raw socket to the pool (a UDP socket, or one TCP, TLS, WebSocket or secure WebSocket connection) that sends bytes as they are
/// and collects every
/// response that comes back, by its status and CSeq. A fresh client per vector gives each vector its own source
/// port, so the pool's log lines about it can be told apart.
/// </summary>
internal sealed partial class WireClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _pool;
    private readonly List<(int Status, string CallId, string CSeq)> _responses = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly SslStream? _tls;
    private readonly ClientWebSocket? _webSocket;
    private readonly SocketsHttpHandler? _upgrader;
    private readonly string _transport;

    private WireClient(Socket socket, IPEndPoint pool, string transport, SslStream? tls = null, ClientWebSocket? webSocket = null,
        SocketsHttpHandler? upgrader = null)
    {
        _upgrader = upgrader;
        _socket = socket;
        _tls = tls;
        _webSocket = webSocket;
        _pool = pool;
        _transport = transport;
        IsConnection = transport != "udp";
        _receiving = webSocket is not null ? ReceiveWebSocketAsync(webSocket) : IsConnection ? ReceiveStreamAsync() : ReceiveDatagramsAsync();
    }

    /// <summary>True for every transport but UDP: the pool may close the connection.</summary>
    public bool IsConnection { get; }

    public IPEndPoint Local => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Completes when the pool closes the connection (never for UDP).</summary>
    public Task Closed => _closed.Task;

    /// <param name="transport">udp, tcp, tls, ws or wss (TLS and WSS trust any certificate: the pool's lab one).</param>
    public static async Task<WireClient> ConnectAsync(string transport, IPEndPoint pool)
    {
        if (transport == "udp")
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return new WireClient(udp, pool, transport);
        }
        if (transport is "ws" or "wss") return await ConnectWebSocketAsync(transport, pool);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(pool);
        if (transport != "tls") return new WireClient(socket, pool, transport);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        });
        return new WireClient(socket, pool, transport, tls);
    }

    /// <summary>A WebSocket offering the <c>sip</c> subprotocol (RFC 7118 §4.1). The handler's connect callback opens the
    /// socket itself, so the client knows its source port, which the pool's log lines name.</summary>
    private static async Task<WireClient> ConnectWebSocketAsync(string transport, IPEndPoint pool)
    {
        Socket? socket = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(pool, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
        };
        var webSocket = new ClientWebSocket();
        webSocket.Options.AddSubProtocol("sip");
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            // The invoker is only used for the upgrade; the connection it returns lives on in the WebSocket.
            await webSocket.ConnectAsync(new Uri($"{transport}://{pool}/"), new HttpMessageInvoker(handler, disposeHandler: false), bound.Token);
        }
        catch
        {
            webSocket.Dispose();
            handler.Dispose();
            throw;
        }
        Assert.That(webSocket.SubProtocol, Is.EqualTo("sip"), "the pool agreed to the sip subprotocol");
        return new WireClient(socket!, pool, transport, webSocket: webSocket, upgrader: handler);
    }

    public async Task SendAsync(byte[] bytes)
    {
        if (_webSocket is not null)
        {
            // RFC 7118 §5: one SIP message per WebSocket message, text when it is UTF-8 (as browsers send it); a vector
            // with bytes that are not UTF-8 goes in a binary message, since a text one would break RFC 6455 §8.1.
            var type = IsUtf8(bytes) ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
            await _webSocket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);
        }
        else if (_tls is not null) await _tls.WriteAsync(bytes);
        else if (IsConnection) await _socket.SendAsync(bytes, SocketFlags.None);
        else await _socket.SendToAsync(bytes, SocketFlags.None, _pool);
    }

    /// <summary>Points the top Via's sent-by at this socket, so that the pool's UDP answer (RFC 3261 §18.2.2: received
    /// address, sent-by port) comes back here and not to port 5060. Only the host and port change; false when the
    /// message has no Via to point.</summary>
    public bool TryAimVia(byte[] message, out byte[] aimed)
    {
        var text = Encoding.Latin1.GetString(message);
        var match = TopViaSentBy().Match(text);
        if (!match.Success)
        {
            aimed = message;
            return false;
        }
        var host = match.Groups["host"];
        aimed = Encoding.Latin1.GetBytes(string.Concat(text.AsSpan(0, host.Index), $"127.0.0.1:{Local.Port}", text.AsSpan(host.Index + host.Length)));
        return true;
    }

    /// <summary>An OPTIONS to the pool's own address: answered 200 by a pool that still serves.</summary>
    public byte[] Ping(string callId)
    {
        var transport = _transport.ToUpperInvariant();
        var text = $"OPTIONS sip:{_pool} SIP/2.0\r\nVia: SIP/2.0/{transport} 127.0.0.1:{Local.Port};branch=z9hG4bK{callId};rport\r\n" +
                   $"Max-Forwards: 70\r\nFrom: <sip:torture@callpark.lab>;tag=tt\r\nTo: <sip:{_pool}>\r\nCall-ID: {callId}\r\n" +
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        return Encoding.ASCII.GetBytes(text);
    }

    /// <summary>Waits, up to <paramref name="bound"/>, for a final response matching <paramref name="match"/>.</summary>
    public async Task<(int Status, string CallId, string CSeq)?> WaitForAsync(Func<(int Status, string CallId, string CSeq), bool> match, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            lock (_responses)
            {
                foreach (var r in _responses) if (r.Status >= 200 && match(r)) return r;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left)) return null;
        }
    }

    public IReadOnlyList<(int Status, string CallId, string CSeq)> Responses
    {
        get
        {
            lock (_responses) return _responses.ToArray();
        }
    }

    private async Task ReceiveDatagramsAsync()
    {
        var buffer = new byte[65536];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var got = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                Collect(Encoding.Latin1.GetString(buffer, 0, got.ReceivedBytes));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task ReceiveStreamAsync()
    {
        var buffer = new byte[65536];
        var pending = new StringBuilder();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var read = _tls is not null
                    ? await _tls.ReadAsync(buffer, _stop.Token)
                    : await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) break;
                pending.Append(Encoding.Latin1.GetString(buffer, 0, read));
                // The pool's responses here carry no body: each ends at its blank line.
                while (pending.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0)
                {
                    Collect(pending.ToString(0, end));
                    pending.Remove(0, end + 4);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // Reset by the pool, or disposed.
        }
        _closed.TrySetResult();
        _arrived.Release();
    }

    private async Task ReceiveWebSocketAsync(ClientWebSocket webSocket)
    {
        var buffer = new byte[65536];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // Each WebSocket message is one whole SIP message (RFC 7118 §5): no framing by blank line or Content-Length.
                using var message = new MemoryStream();
                ValueWebSocketReceiveResult got;
                do
                {
                    got = await webSocket.ReceiveAsync(buffer.AsMemory(), _stop.Token);
                    if (got.MessageType == WebSocketMessageType.Close) break;
                    message.Write(buffer, 0, got.Count);
                } while (!got.EndOfMessage && message.Length <= 1 << 20);
                if (got.MessageType == WebSocketMessageType.Close) break;
                Collect(Encoding.Latin1.GetString(message.GetBuffer(), 0, (int)message.Length));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // Closed by the pool, or disposed.
        }
        _closed.TrySetResult();
        _arrived.Release();
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private void Collect(string message)
    {
        var status = StatusLine().Match(message);
        if (!status.Success) return;
        var callId = HeaderValue().Matches(message).FirstOrDefault(m => m.Groups["name"].Value.Equals("Call-ID", StringComparison.OrdinalIgnoreCase) || m.Groups["name"].Value == "i");
        var cseq = HeaderValue().Matches(message).FirstOrDefault(m => m.Groups["name"].Value.Equals("CSeq", StringComparison.OrdinalIgnoreCase));
        lock (_responses)
        {
            _responses.Add((int.Parse(status.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                callId?.Groups["value"].Value.Trim() ?? "", cseq?.Groups["value"].Value.Trim() ?? ""));
        }
        _arrived.Release();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_tls is not null) await _tls.DisposeAsync();
        _webSocket?.Abort();
        _webSocket?.Dispose();
        _upgrader?.Dispose();
        _socket.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Ended by the dispose.
        }
        _stop.Dispose();
    }

    [GeneratedRegex(@"(?im)^(?:via|v)[ \t]*:\s*SIP\s*/\s*[0-9.]+\s*/\s*[A-Za-z]+\s+(?<host>[^\s;,]+)")]
    private static partial Regex TopViaSentBy();

    [GeneratedRegex(@"^SIP/2\.0 (\d{3}) ")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"(?m)^(?<name>[A-Za-z-]+)[ \t]*:[ \t]*(?<value>[^\r\n]*)")]
    private static partial Regex HeaderValue();
}
