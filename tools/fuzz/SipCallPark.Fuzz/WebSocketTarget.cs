using System.Net.WebSockets;
using System.Text;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Fuzz;

/// <summary>
/// A connection to the WebSocket port as <c>WebSocketChannel</c> reads it: the input up to its first blank line is the
/// opening request (<see cref="WebSocketUpgrade"/>), the rest the client's frames, read into SIP messages by
/// <see cref="WebSocketMessageReader"/> under a cap (bits 0–1 of the first byte pick it), each message parsed as SIP.
/// The promises checked: the upgrade never throws and accepts only with a 101 naming the sip subprotocol; frame
/// reading fails only with a WebSocketException (a protocol error closes the connection); no message exceeds the cap.
/// </summary>
internal static class WebSocketTarget
{
    private static readonly int[] Caps = [65535, 1024, 64, 16];

    public static void Run(byte[] input)
    {
        if (input.Length == 0) return;
        var cap = Caps[input[0] & 3];
        var rest = input.AsSpan(1);
        var end = rest.IndexOf("\r\n\r\n"u8);
        var head = end < 0 ? rest : rest[..(end + 4)];
        var answer = WebSocketUpgrade.Answer(head);
        FuzzFinding.Check(!answer.Accepted || (answer.Response.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal)
                                               && answer.Response.Contains("Sec-WebSocket-Protocol: sip\r\n", StringComparison.Ordinal)),
            $"an accepted upgrade answered {answer.Response}");
        FuzzFinding.Check(answer.Accepted || answer.Response.StartsWith("HTTP/1.1 4", StringComparison.Ordinal), "a refusal that is not 4xx");
        if (end < 0) return;

        using var stream = new OneWayStream(rest[(end + 4)..].ToArray());
        using var server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, SubProtocol = "sip" });
        var reader = new WebSocketMessageReader(server, cap);
        for (var messages = 0; messages < 1000; messages++)
        {
            WebSocketMessageReader.Outcome outcome;
            byte[] data;
            try
            {
                (outcome, data) = reader.ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
            catch (WebSocketException)
            {
                return; // a protocol error or the end of the input: the connection is closed
            }
            if (outcome != WebSocketMessageReader.Outcome.Message) return;
            FuzzFinding.Check(data.Length <= cap, $"a message of {data.Length} bytes with a cap of {cap}");
            ParserTarget.Run(data);
        }
    }

    /// <summary>Reads the given bytes, then end of stream; swallows what the server writes (pongs, closes).</summary>
    private sealed class OneWayStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) { }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
