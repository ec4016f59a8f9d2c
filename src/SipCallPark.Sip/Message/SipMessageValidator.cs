using System.Globalization;

namespace SipCallPark.Sip.Message;

/// <summary>Why a parsed message cannot be processed: the status a request deserves and a reason for the log.</summary>
public sealed record SipRejection(int StatusCode, string Reason);

/// <summary>
/// The checks RFC 3261 §8.2 and RFC 4475 ask of a message that parsed: the mandatory headers are present once and
/// well formed, CSeq names the request's method, numbers are in range, the Request-URI scheme is one we serve.
/// After a message passes, its typed views of Via, From, To, Call-ID, CSeq and Contact no longer throw.
/// </summary>
public static class SipMessageValidator
{
    private static readonly string[] Mandatory = [HeaderNames.From, HeaderNames.To, HeaderNames.CallId, HeaderNames.CSeq];

    /// <summary>Null when the request may be processed, else the response it deserves.</summary>
    public static SipRejection? Validate(SipRequest request)
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

    /// <summary>Null when the response may be processed; otherwise why it is to be dropped.</summary>
    public static string? Validate(SipResponse response) => CheckCommon(response);

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
            _ = message.Vias;
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
