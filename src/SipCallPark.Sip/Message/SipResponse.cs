using System.Buffers;

namespace SipCallPark.Sip.Message;

/// <summary>A SIP response (RFC 3261 §7.2).</summary>
public sealed class SipResponse : SipMessage
{
    public SipResponse(int statusCode, string? reasonPhrase = null, SipHeaders? headers = null, ReadOnlyMemory<byte> body = default)
        : base(headers ?? new SipHeaders(), body)
    {
        if (statusCode is < 100 or > 699) throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "SIP status codes are 100–699");
        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase ?? SipStatus.ReasonPhrase(statusCode);
    }

    public int StatusCode { get; }

    public string ReasonPhrase { get; }

    public bool IsProvisional => StatusCode < 200;

    public bool IsSuccess => StatusCode is >= 200 and < 300;

    public bool IsFinal => StatusCode >= 200;

    public override string FirstLine => $"{Version} {StatusCode} {ReasonPhrase}";

    /// <summary>
    /// A response to <paramref name="request"/> per RFC 3261 §8.2.6.2: Via lines, From, To, Call-ID and CSeq copied;
    /// a To tag added when given and the request's To has none (never on 100 Trying).
    /// </summary>
    public static SipResponse CreateFor(SipRequest request, int statusCode, string? reasonPhrase = null, string? toTag = null) =>
        CreateFor(request.Headers, statusCode, reasonPhrase, toTag);

    /// <summary>The same, from headers alone: answers a request whose start line or body could not be parsed.</summary>
    public static SipResponse CreateFor(SipHeaders requestHeaders, int statusCode, string? reasonPhrase = null, string? toTag = null)
    {
        var headers = new SipHeaders();
        foreach (var via in requestHeaders.GetAll(HeaderNames.Via)) headers.Add(HeaderNames.Via, via);
        Copy(requestHeaders, headers, HeaderNames.From);
        if (requestHeaders.Get(HeaderNames.To) is { } to)
        {
            if (toTag is not null && statusCode != 100 && NameAddress.TryParse(to, out var parsed) && parsed.Tag is null)
                to = parsed.WithTag(toTag).ToString();
            headers.Add(HeaderNames.To, to);
        }
        Copy(requestHeaders, headers, HeaderNames.CallId);
        Copy(requestHeaders, headers, HeaderNames.CSeq);
        if (statusCode == 100) Copy(requestHeaders, headers, HeaderNames.Timestamp);
        return new SipResponse(statusCode, reasonPhrase, headers);
    }

    private static void Copy(SipHeaders from, SipHeaders to, string name)
    {
        if (from.Get(name) is { } value) to.Add(name, value);
    }

    protected override void WriteStartLine(IBufferWriter<byte> writer)
    {
        writer.Write("SIP/2.0 "u8);
        SipWriter.WriteInt(writer, StatusCode);
        writer.Write(" "u8);
        SipWriter.WriteUtf8(writer, ReasonPhrase);
    }
}
