using System.Net.WebSockets;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Reads whole WebSocket messages (RFC 6455 §5.4: fragments joined) up to a size cap, as RFC 7118 §5 needs: one
/// message is one SIP message. Shared by <see cref="WebSocketConnection"/> and the fuzz harness.
/// </summary>
internal sealed class WebSocketMessageReader(WebSocket webSocket, int maxMessageSize)
{
    private readonly byte[] _chunk = new byte[Math.Min(maxMessageSize, 16 * 1024) + 1];
    private readonly MemoryStream _message = new();

    public enum Outcome { Message, Closed, TooLarge }

    /// <summary>The next message (its bytes, possibly empty), the peer's close, or a message over the cap.</summary>
    public async ValueTask<(Outcome Outcome, byte[] Data)> ReadAsync(CancellationToken ct)
    {
        _message.SetLength(0);
        while (true)
        {
            ValueWebSocketReceiveResult result = await webSocket.ReceiveAsync(_chunk.AsMemory(), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return (Outcome.Closed, []);
            if (_message.Length + result.Count > maxMessageSize) return (Outcome.TooLarge, []);
            _message.Write(_chunk, 0, result.Count);
            if (result.EndOfMessage) return (Outcome.Message, _message.ToArray());
        }
    }
}
