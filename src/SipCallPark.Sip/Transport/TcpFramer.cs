using System.Buffers;
using System.Text;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Cuts SIP messages out of a byte stream by their Content-Length (RFC 3261 §18.3). Pure and allocation-free
/// except for one pooled copy when a header section spans several buffer segments. It reads nothing but
/// Content-Length; the message parser sees each frame whole.
/// </summary>
internal static class TcpFramer
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;
    private static ReadOnlySpan<byte> CrLfCrLf => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> ContentLength => "Content-Length"u8;
    private static ReadOnlySpan<byte> ContentLengthCompact => "l"u8;

    /// <summary>
    /// Looks at the front of <paramref name="buffer"/>. On <see cref="FrameStatus.Frame"/> the message is in
    /// <paramref name="frame"/> and <paramref name="buffer"/> starts after it; keepalives in front are consumed in
    /// every case. On <see cref="FrameStatus.TooLarge"/> and <see cref="FrameStatus.Malformed"/> the buffer is left
    /// at the offending message: the stream cannot be resynchronised and should be closed.
    /// </summary>
    public static FrameStatus TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxSize, out ReadOnlySequence<byte> frame)
    {
        frame = default;

        FrameStatus? keepAlive = SkipKeepAlives(ref buffer);
        if (keepAlive is { } status)
        {
            return status;
        }

        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headers, CrLfCrLf, advancePastDelimiter: true))
        {
            // Without the blank line the message is already longer than what we hold.
            return buffer.Length >= maxSize ? FrameStatus.TooLarge : FrameStatus.NeedMore;
        }

        long headerLength = reader.Consumed;
        if (headerLength > maxSize)
        {
            return FrameStatus.TooLarge;
        }

        long bodyLength = ReadContentLength(headers);
        if (bodyLength < 0)
        {
            return FrameStatus.Malformed;
        }

        long total = headerLength + bodyLength;
        if (total > maxSize)
        {
            return FrameStatus.TooLarge;
        }

        if (buffer.Length < total)
        {
            return FrameStatus.NeedMore;
        }

        frame = buffer.Slice(0, total);
        buffer = buffer.Slice(total);
        return FrameStatus.Frame;
    }

    /// <summary>
    /// True when <paramref name="remaining"/> (what is left after framing) holds part of a message, as opposed to
    /// nothing or the beginning of a CRLF keepalive. Drives the slow-loris timeout.
    /// </summary>
    public static bool HasPartialMessage(in ReadOnlySequence<byte> remaining) =>
        !remaining.IsEmpty && !IsKeepAlivePrefix(remaining);

    // RFC 5626 §3.5.1: CRLFCRLF is a ping, a lone CRLF a pong; RFC 3261 §7.5 also lets CRLFs precede a message.
    private static FrameStatus? SkipKeepAlives(ref ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[4];
        while (!buffer.IsEmpty)
        {
            int count = (int)Math.Min(head.Length, buffer.Length);
            buffer.Slice(0, count).CopyTo(head);
            ReadOnlySpan<byte> start = head[..count];

            if (start.SequenceEqual(CrLfCrLf))
            {
                buffer = buffer.Slice(4);
                return FrameStatus.KeepAlivePing;
            }

            if (count < 4 && CrLfCrLf.StartsWith(start))
            {
                return FrameStatus.NeedMore; // may still become a ping
            }

            if (!start.StartsWith(CrLf))
            {
                return null; // a message starts here
            }

            buffer = buffer.Slice(2);
        }

        return FrameStatus.NeedMore;
    }

    private static bool IsKeepAlivePrefix(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length >= 4)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[4];
        buffer.CopyTo(head);
        return CrLfCrLf.StartsWith(head[..(int)buffer.Length]);
    }

    /// <summary>Returns the declared body length, or -1 when Content-Length is missing, invalid or ambiguous.</summary>
    private static long ReadContentLength(in ReadOnlySequence<byte> headers)
    {
        if (headers.IsSingleSegment)
        {
            return ReadContentLength(headers.FirstSpan);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent((int)headers.Length);
        try
        {
            headers.CopyTo(rented);
            return ReadContentLength(rented.AsSpan(0, (int)headers.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static long ReadContentLength(ReadOnlySpan<byte> headers)
    {
        // Skip the start line; each header then runs to the next CRLF not followed by whitespace (folding, §7.3.1).
        int lineEnd = headers.IndexOf(CrLf);
        if (lineEnd < 0)
        {
            return -1; // a start line and nothing else: no Content-Length
        }

        ReadOnlySpan<byte> rest = headers[(lineEnd + 2)..];
        long found = -1;
        while (!rest.IsEmpty)
        {
            int length = LogicalHeaderLength(rest);
            long value = ContentLengthValue(rest[..length]);
            if (value == Invalid || (value >= 0 && found >= 0 && value != found))
            {
                return -1;
            }

            if (value >= 0)
            {
                found = value;
            }

            rest = length + 2 <= rest.Length ? rest[(length + 2)..] : [];
        }

        return found;
    }

    private static int LogicalHeaderLength(ReadOnlySpan<byte> text)
    {
        int offset = 0;
        while (true)
        {
            int end = text[offset..].IndexOf(CrLf);
            if (end < 0)
            {
                return text.Length;
            }

            int next = offset + end + 2;
            if (next >= text.Length || (text[next] != (byte)' ' && text[next] != (byte)'\t'))
            {
                return offset + end;
            }

            offset = next;
        }
    }

    private const long NotContentLength = -1;
    private const long Invalid = -2;

    // Longer than any int; still parsed so a huge value is reported as too large rather than malformed.
    private const long Saturated = long.MaxValue / 4;

    private static long ContentLengthValue(ReadOnlySpan<byte> header)
    {
        int colon = header.IndexOf((byte)':');
        if (colon < 0)
        {
            return NotContentLength; // not a header line; the message parser will complain
        }

        ReadOnlySpan<byte> name = header[..colon].TrimEnd(" \t"u8);
        if (!Ascii.EqualsIgnoreCase(name, ContentLength) && !Ascii.EqualsIgnoreCase(name, ContentLengthCompact))
        {
            return NotContentLength;
        }

        ReadOnlySpan<byte> value = header[(colon + 1)..].Trim(" \t\r\n"u8);
        if (value.IsEmpty)
        {
            return Invalid;
        }

        long result = 0;
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return Invalid;
            }

            result = Math.Min(result * 10 + (b - '0'), Saturated);
        }

        return result;
    }
}
