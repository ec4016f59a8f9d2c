using System.Globalization;

namespace SipCallPark.Sip.Message;

/// <summary>
/// Why a parsed message cannot be processed: the status a request deserves, a reason for the log, and any header
/// lines the response must carry (<c>Unsupported</c> on a 420, <c>Accept</c> on a 415...).
/// </summary>
public sealed record SipRejection(int StatusCode, string Reason)
{
    public IReadOnlyList<SipHeaderField> Headers { get; init; } = [];

    /// <summary>The response to send: the request's Via, From, To, Call-ID and CSeq, plus <see cref="Headers"/>.</summary>
    public SipResponse ToResponse(SipRequest request, string? toTag = null) => ToResponse(request.Headers, toTag);

    /// <inheritdoc cref="ToResponse(SipRequest, string?)"/>
    public SipResponse ToResponse(SipHeaders requestHeaders, string? toTag = null)
    {
        var response = SipResponse.CreateFor(requestHeaders, StatusCode, null, toTag);
        foreach (var h in Headers) response.Headers.Add(h.Name, h.Value);
        return response;
    }
}

/// <summary>
/// The checks RFC 3261 §8.2 and RFC 4475 ask of a message that parsed: the mandatory headers are present once and
/// well formed, CSeq names the request's method, numbers are in range, the Request-URI scheme is one we serve.
/// After a message passes, its typed views of Via, From, To, Call-ID, CSeq and Contact no longer throw. Validation
/// itself never throws: whatever goes wrong while reading a header becomes a rejection (a 400, or a dropped response).
/// </summary>
public static class SipMessageValidator
{
    private static readonly string[] Mandatory = [HeaderNames.From, HeaderNames.To, HeaderNames.CallId, HeaderNames.CSeq];

    /// <summary>Null when the request may be processed, else the response it deserves.</summary>
    public static SipRejection? Validate(SipRequest request)
    {
        try
        {
            return ValidateRequest(request);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new SipRejection(400, $"malformed request: {e.Message}");
        }
    }

    /// <summary>Null when the response may be processed; otherwise why it is to be dropped.</summary>
    public static string? Validate(SipResponse response)
    {
        try
        {
            return CheckCommon(response);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"malformed response: {e.Message}";
        }
    }

    private static SipRejection? ValidateRequest(SipRequest request)
    {
        if (!TryUri(request, out var rejection)) return rejection;
        if (CheckCommon(request) is { } common) return new SipRejection(400, common);
        if (!string.Equals(request.CSeq.Method, request.Method, StringComparison.Ordinal))
            return new SipRejection(400, $"CSeq method {request.CSeq.Method} does not match {request.Method}");
        if (request.Headers.CountOf(HeaderNames.MaxForwards) > 1) return new SipRejection(400, "more than one Max-Forwards");
        try
        {
            _ = request.MaxForwards;
        }
        catch (SipParseException e)
        {
            return new SipRejection(400, e.Message);
        }
        return null;
    }

    private static bool TryUri(SipRequest request, out SipRejection? rejection)
    {
        rejection = null;
        try
        {
            var uri = request.RequestUri;
            if (!uri.IsSip && uri.Scheme != "tel")
            {
                rejection = new SipRejection(416, $"unsupported Request-URI scheme '{uri.Scheme}'");
                return false;
            }
            if (uri.Headers.Count > 0)
            {
                // RFC 3261 §19.1.1 (table): headers are not allowed in a Request-URI (RFC 4475 §3.1.2.10).
                rejection = new SipRejection(400, "Request-URI carries headers");
                return false;
            }
            return true;
        }
        catch (SipParseException e)
        {
            rejection = new SipRejection(400, e.Message);
            return false;
        }
    }

    private static string? CheckCommon(SipMessage message)
    {
        var headers = message.Headers;
        if (!headers.Contains(HeaderNames.Via)) return "missing Via";
        foreach (var name in Mandatory)
        {
            var count = headers.CountOf(name);
            if (count == 0) return $"missing {name}";
            if (count > 1) return $"more than one {name}";
        }
        foreach (var name in (string[])[HeaderNames.ContentType, HeaderNames.Expires])
        {
            if (headers.CountOf(name) > 1) return $"more than one {name}";
        }
        try
        {
            if (message.Vias.Count == 0) return "empty Via";   // "Via: ," is a line with no via-parm (1#via-parm)
            _ = message.From;
            _ = message.To;
            _ = message.CSeq;
            if (message.CallId.Length == 0) return "empty Call-ID";
            _ = message.Contacts;
            if (headers.Get(HeaderNames.Expires) is { } expires &&
                !uint.TryParse(expires.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                return $"malformed Expires '{expires}'";
        }
        catch (SipParseException e)
        {
            return e.Message;
        }
        return null;
    }
}
