using System.Security.Cryptography;
using System.Text;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// The server side of the WebSocket opening handshake (RFC 6455 §4.2) as RFC 7118 §4 wants it for SIP: a GET with
/// <c>Upgrade: websocket</c>, <c>Connection: Upgrade</c>, version 13, a 16-byte key, and <c>sip</c> among the offered
/// subprotocols. Pure: it reads the request head and says what to answer.
/// </summary>
internal static class WebSocketUpgrade
{
    /// <summary>Largest request head accepted; browsers send well under 2 KB.</summary>
    public const int MaxRequestHead = 8192;

    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>The outcome: <see cref="Response"/> to write, and whether it opened the WebSocket (101).</summary>
    public readonly record struct Result(bool Accepted, string Response, string Reason);

    public static Result Answer(ReadOnlySpan<byte> head)
    {
        string text = Encoding.ASCII.GetString(head);
        string[] lines = text.Split("\r\n");
        string[] start = lines[0].Split(' ');
        if (start.Length != 3 || start[0] != "GET" || !start[2].StartsWith("HTTP/1.1", StringComparison.Ordinal))
            return Refuse(400, "Bad Request", $"not an HTTP/1.1 GET: {Printable(lines[0])}");

        var headers = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1))
        {
            if (line.Length == 0) continue;
            int colon = line.IndexOf(':');
            if (colon <= 0) return Refuse(400, "Bad Request", "a header line without a name");
            string name = line[..colon].Trim();
            if (!headers.TryGetValue(name, out var values)) headers[name] = values = [];
            values.AddRange(line[(colon + 1)..].Split(',').Select(v => v.Trim()).Where(v => v.Length > 0));
        }

        if (!Has(headers, "Upgrade", "websocket") || !Has(headers, "Connection", "upgrade"))
            return Refuse(426, "Upgrade Required", "no Upgrade: websocket", "Upgrade: websocket\r\nConnection: Upgrade\r\n");
        if (!Has(headers, "Sec-WebSocket-Version", "13"))
            return Refuse(426, "Upgrade Required", "WebSocket version is not 13", "Sec-WebSocket-Version: 13\r\n");
        if (!headers.TryGetValue("Sec-WebSocket-Key", out var keys) || keys.Count != 1 || !IsKey(keys[0]))
            return Refuse(400, "Bad Request", "no valid Sec-WebSocket-Key");
        // RFC 7118 §4.1: the client offers "sip"; a server that does not get it does not speak SIP on this connection.
        if (!Has(headers, "Sec-WebSocket-Protocol", "sip"))
            return Refuse(400, "Bad Request", "the sip subprotocol was not offered (RFC 7118)");

        string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(keys[0] + Guid)));
        return new Result(true,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: sip\r\n\r\n", "");
    }

    private static bool Has(Dictionary<string, List<string>> headers, string name, string token) =>
        headers.TryGetValue(name, out var values) && values.Any(v => string.Equals(v, token, StringComparison.OrdinalIgnoreCase));

    private static bool IsKey(string value)
    {
        Span<byte> decoded = stackalloc byte[24];
        return Convert.TryFromBase64String(value, decoded, out int written) && written == 16;
    }

    private static Result Refuse(int status, string phrase, string reason, string extra = "") =>
        new(false, $"HTTP/1.1 {status} {phrase}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n", reason);

    private static string Printable(string text) =>
        new(text.Take(80).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}
