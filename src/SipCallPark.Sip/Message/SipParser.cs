using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// The outcome of parsing one datagram or one framed stream message. On failure <see cref="Error"/> says why,
/// <see cref="RejectStatus"/> is what a request deserves (400, 505...), and <see cref="Headers"/> holds whatever
/// header lines were read, so that a response can still be built for a request whose start line was broken.
/// </summary>
public readonly record struct SipParseResult(SipMessage? Message, string? Error, int RejectStatus, bool IsRequest, SipHeaders? Headers)
{
    public bool Success => Error is null;
}

/// <summary>
/// Reads SIP messages from bytes (RFC 3261 §7): start line, header lines (folding, compact names, either line end),
/// body by Content-Length. It never throws on bad input and allocates no per-header strings: header lines stay
/// slices of the buffer until someone reads them. Semantic checks (mandatory headers, CSeq method, URI scheme) live
/// in <see cref="SipMessageValidator"/>.
/// </summary>
public static class SipParser
{
    /// <summary>Parses a copy of <paramref name="data"/>.</summary>
    public static SipParseResult Parse(ReadOnlySpan<byte> data) => Parse(new ReadOnlyMemory<byte>(data.ToArray()));

    /// <summary>Parses <paramref name="data"/> in place; the message keeps referencing it, so it must not change.</summary>
    public static SipParseResult Parse(ReadOnlyMemory<byte> data)
    {
        var d = data.Span;
        var i = 0;
        while (i + 1 < d.Length && d[i] == '\r' && d[i + 1] == '\n') i += 2;   // RFC 3261 §7.5: CRLFs before the start line
        var startEnd = d[i..].IndexOf((byte)'\n');
        if (startEnd < 0) return Fail("no start line", 400, false, null);
        startEnd += i;
        var startLine = TrimCr(d[i..startEnd]);
        var isRequest = !startLine.StartsWith("SIP/"u8);

        // Header lines up to the empty line.
        var headers = new SipHeaders(data, 16);
        var pos = startEnd + 1;
        var bodyStart = -1;
        var contentLengths = 0;
        int lengthStart = -1, lengthEnd = -1;
        int lastLineStart = -1, lastValueStart = -1;
        string? lastName = null;
        while (pos < d.Length)
        {
            var nl = d[pos..].IndexOf((byte)'\n');
            var lineEnd = nl < 0 ? d.Length : pos + nl;
            var line = TrimCr(d[pos..lineEnd]);
            if (line.IsEmpty)
            {
                bodyStart = nl < 0 ? d.Length : lineEnd + 1;
                break;
            }
            if (line[0] is (byte)' ' or (byte)'\t')
            {
                if (lastName is null) return Fail("continuation line before any header", 400, isRequest, headers);
                // Fold: the previous field grows to include this line (written back as it came).
                headers.RemoveLastRaw();
                var valueEnd = TrimTrailingWhitespace(d, pos, pos + line.Length);
                headers.AddRaw(lastName, lastLineStart, pos + line.Length - lastLineStart, lastValueStart, valueEnd - lastValueStart);
                if (ReferenceEquals(lastName, HeaderNames.ContentLength)) lengthEnd = valueEnd;
            }
            else
            {
                var colon = line.IndexOf((byte)':');
                if (colon <= 0) return Fail("header line without a colon", 400, isRequest, headers);
                var nameBytes = line[..colon].TrimEnd(" \t"u8);
                if (!SipText.IsToken(nameBytes)) return Fail("header name is not a token", 400, isRequest, headers);
                var name = HeaderNames.Canonical(nameBytes);
                var valueStart = pos + colon + 1;
                while (valueStart < pos + line.Length && d[valueStart] is (byte)' ' or (byte)'\t') valueStart++;
                var valueEnd = TrimTrailingWhitespace(d, valueStart, pos + line.Length);
                headers.AddRaw(name, pos, line.Length, valueStart, valueEnd - valueStart);
                lastName = name;
                lastLineStart = pos;
                lastValueStart = valueStart;
                if (ReferenceEquals(name, HeaderNames.ContentLength))
                {
                    // Read once the line is complete: its value may be folded onto the next line.
                    contentLengths++;
                    lengthStart = valueStart;
                    lengthEnd = valueEnd;
                }
            }
            if (nl < 0) break;
            pos = lineEnd + 1;
        }
        if (bodyStart < 0) return Fail("no empty line after the headers", 400, isRequest, headers);
        if (contentLengths > 1) return Fail("more than one Content-Length", 400, isRequest, headers);
        long contentLength = -1;
        if (contentLengths == 1 && !TryParseLength(d[lengthStart..lengthEnd].Trim(" \t\r\n"u8), out contentLength))
            return Fail("malformed Content-Length", 400, isRequest, headers);

        var available = d.Length - bodyStart;
        ReadOnlyMemory<byte> body;
        if (contentLength >= 0)
        {
            if (contentLength > available) return Fail("Content-Length larger than the message", 400, isRequest, headers);
            body = data.Slice(bodyStart, (int)contentLength);   // bytes past it are not this message's (RFC 3261 §18.3)
        }
        else
        {
            body = data[bodyStart..];
        }

        return isRequest ? ParseRequestLine(data, i, startLine, headers, body) : ParseStatusLine(startLine, headers, body);
    }

    private static SipParseResult ParseRequestLine(ReadOnlyMemory<byte> data, int lineStart, ReadOnlySpan<byte> line, SipHeaders headers, ReadOnlyMemory<byte> body)
    {
        // Method SP Request-URI SP SIP-Version, single spaces only (RFC 4475 §3.1.2.7, §3.1.2.8). Whitespace after the
        // version is forgiven, as RFC 4475 §3.1.2.9 allows a robust element to do; it is not written back.
        line = line.TrimEnd(" \t"u8);
        var sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0) return Fail("malformed request line", 400, true, headers);
        var method = line[..sp1];
        if (!SipText.IsToken(method)) return Fail("method is not a token", 400, true, headers);
        var rest = line[(sp1 + 1)..];
        var sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0) return Fail("malformed request line", 400, true, headers);
        var uri = rest[..sp2];
        var version = rest[(sp2 + 1)..];
        if (version.IndexOfAny(" \t"u8) >= 0 || uri.IndexOfAny("\t<>"u8) >= 0) return Fail("malformed request line", 400, true, headers);
        if (!IsSipVersion(version)) return Fail("malformed SIP version", 400, true, headers);
        if (!Ascii.EqualsIgnoreCase(version, "SIP/2.0"u8)) return Fail("unsupported SIP version", 505, true, headers);
        if (uri.IndexOf((byte)':') <= 0) return Fail("malformed Request-URI", 400, true, headers);
        var uriStart = lineStart + sp1 + 1;
        var request = new SipRequest(SipMethods.FromBytes(method), data.Slice(uriStart, uri.Length), headers, body);
        return new SipParseResult(request, null, 0, true, headers);
    }

    private static SipParseResult ParseStatusLine(ReadOnlySpan<byte> line, SipHeaders headers, ReadOnlyMemory<byte> body)
    {
        // SIP-Version SP Status-Code SP Reason-Phrase; the reason may be empty (RFC 4475 §3.1.1.13).
        var sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || !IsSipVersion(line[..sp1])) return Fail("malformed status line", 0, false, headers);
        if (!Ascii.EqualsIgnoreCase(line[..sp1], "SIP/2.0"u8)) return Fail("unsupported SIP version", 0, false, headers);
        var rest = line[(sp1 + 1)..];
        if (rest.Length < 3 || (rest.Length > 3 && rest[3] != ' ')) return Fail("malformed status code", 0, false, headers);
        var code = 0;
        for (var k = 0; k < 3; k++)
        {
            if (!char.IsAsciiDigit((char)rest[k])) return Fail("malformed status code", 0, false, headers);
            code = code * 10 + (rest[k] - '0');
        }
        if (code is < 100 or > 699) return Fail("status code out of range", 0, false, headers);
        var reason = rest.Length > 4 ? Encoding.UTF8.GetString(rest[4..]) : "";
        return new SipParseResult(new SipResponse(code, reason, headers, body), null, 0, false, headers);
    }

    private static bool IsSipVersion(ReadOnlySpan<byte> v)
    {
        // "SIP" "/" 1*DIGIT "." 1*DIGIT, the name case-insensitive.
        if (v.Length < 7 || !Ascii.EqualsIgnoreCase(v[..4], "SIP/"u8)) return false;
        var dot = v.IndexOf((byte)'.');
        if (dot <= 4 || dot == v.Length - 1) return false;
        foreach (var b in v[4..dot]) if (!char.IsAsciiDigit((char)b)) return false;
        foreach (var b in v[(dot + 1)..]) if (!char.IsAsciiDigit((char)b)) return false;
        return true;
    }

    private static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 9) return false;
        foreach (var b in value)
        {
            if (!char.IsAsciiDigit((char)b)) return false;
            length = length * 10 + (b - '0');
        }
        return true;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

    private static int TrimTrailingWhitespace(ReadOnlySpan<byte> d, int start, int end)
    {
        while (end > start && d[end - 1] is (byte)' ' or (byte)'\t') end--;
        return end;
    }

    private static SipParseResult Fail(string error, int status, bool isRequest, SipHeaders? headers) =>
        new(null, error, status, isRequest, headers);
}
