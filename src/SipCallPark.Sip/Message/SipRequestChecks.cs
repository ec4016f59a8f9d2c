namespace SipCallPark.Sip.Message;

/// <summary>
/// The application-level checks of RFC 3261 §8.2 (a UAS) and §16.3 (a proxy) for a request that already passed
/// <see cref="SipMessageValidator"/>: extensions it requires, hops left, the body type it carries and the body type it
/// accepts back. Each check returns null when the request may go on, else the rejection to send, with the header
/// lines that response needs. None of them throws; a malformed list becomes a 400.
/// </summary>
public static class SipRequestChecks
{
    /// <summary>
    /// RFC 3261 §8.2.2.3: a Require option tag the element does not support earns a 420 listing them in
    /// <c>Unsupported</c> (RFC 4475 §3.3.5). Not applied to ACK and CANCEL, which cannot be rejected that way.
    /// </summary>
    public static SipRejection? CheckRequire(SipRequest request, IEnumerable<string> supportedOptionTags) =>
        request.Method is SipMethods.Ack or SipMethods.Cancel ? null : Check420(request, HeaderNames.Require, supportedOptionTags);

    /// <summary>RFC 3261 §16.3 item 4: the same for <c>Proxy-Require</c>, checked by a proxy.</summary>
    public static SipRejection? CheckProxyRequire(SipRequest request, IEnumerable<string> supportedOptionTags) =>
        request.Method is SipMethods.Ack or SipMethods.Cancel ? null : Check420(request, HeaderNames.ProxyRequire, supportedOptionTags);

    /// <summary>
    /// RFC 3261 §8.2.1 and §21.5.2: a method the element does not allow is a 405 with <c>Allow</c> when it is a method
    /// the element knows, and a 501 when it is not a SIP method it recognises at all (RFC 4475 §3.1.1.2, §3.1.1.5).
    /// </summary>
    public static SipRejection? CheckMethod(SipRequest request, IReadOnlyCollection<string> allowedMethods)
    {
        if (allowedMethods.Contains(request.Method, StringComparer.Ordinal)) return null;
        if (!SipMethods.IsKnown(request.Method)) return new SipRejection(501, $"method {request.Method} is not implemented");
        return new SipRejection(405, $"method {request.Method} is not allowed")
        {
            Headers = [new SipHeaderField(HeaderNames.Allow, string.Join(", ", allowedMethods))],
        };
    }

    /// <summary>The option tags of <paramref name="headerName"/> that are not in <paramref name="supportedOptionTags"/>.</summary>
    public static IReadOnlyList<string> UnsupportedOptionTags(SipRequest request, string headerName, IEnumerable<string> supportedOptionTags)
    {
        var supported = new HashSet<string>(supportedOptionTags, StringComparer.OrdinalIgnoreCase);
        return request.OptionTags(headerName).Where(t => !supported.Contains(t)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }

    /// <summary>True when Max-Forwards is present and 0: the request may not be forwarded (RFC 4475 §3.3.11).</summary>
    public static bool HasNoHopsLeft(SipRequest request)
    {
        try
        {
            return request.MaxForwards == 0;
        }
        catch (SipParseException)
        {
            return false;
        }
    }

    /// <summary>
    /// RFC 3261 §16.3 item 2: a proxy answers a request with no hops left with 483, unless it is an OPTIONS the proxy
    /// may answer itself. Elements that are not forwarding ignore Max-Forwards.
    /// </summary>
    public static SipRejection? CheckMaxForwards(SipRequest request) =>
        HasNoHopsLeft(request) ? new SipRejection(483, "Max-Forwards is 0") : null;

    /// <summary>
    /// RFC 3261 §8.2.3: a body whose Content-Type (or Content-Encoding) the element does not understand earns a 415
    /// with <c>Accept</c> (or <c>Accept-Encoding</c>) listing what it does understand (RFC 4475 §3.3.6).
    /// </summary>
    public static SipRejection? CheckContentType(SipRequest request, IReadOnlyCollection<string> acceptedTypes)
    {
        if (request.Body.IsEmpty) return null;
        var type = request.ContentType is { } ct ? MediaType(ct) : "";
        if (type.Length == 0 || !acceptedTypes.Any(a => string.Equals(MediaType(a), type, StringComparison.OrdinalIgnoreCase)))
        {
            return new SipRejection(415, $"unsupported Content-Type '{type}'")
            {
                Headers = [new SipHeaderField(HeaderNames.Accept, string.Join(", ", acceptedTypes))],
            };
        }
        var encoding = request.Headers.Get(HeaderNames.ContentEncoding)?.Trim();
        if (!string.IsNullOrEmpty(encoding) && !string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            return new SipRejection(415, $"unsupported Content-Encoding '{encoding}'")
            {
                Headers = [new SipHeaderField("Accept-Encoding", "identity")],
            };
        }
        return null;
    }

    /// <summary>
    /// Whether the request's <c>Accept</c> allows a body of <paramref name="mediaType"/> in the answer: an absent
    /// Accept means <c>application/sdp</c> (RFC 3261 §20.1); ranges such as <c>application/*</c> count, q=0 does not.
    /// </summary>
    public static bool Accepts(SipRequest request, string mediaType)
    {
        if (!request.Headers.Contains(HeaderNames.Accept)) return string.Equals(MediaType(mediaType), "application/sdp", StringComparison.OrdinalIgnoreCase);
        var wanted = MediaType(mediaType);
        var slash = wanted.IndexOf('/');
        var anySubtype = slash < 0 ? wanted + "/*" : wanted[..(slash + 1)] + "*";
        foreach (var range in SafeValues(request, HeaderNames.Accept) ?? [])
        {
            var type = MediaType(range);
            if (type != "*/*" && !string.Equals(type, wanted, StringComparison.OrdinalIgnoreCase) &&
                !string.Equals(type, anySubtype, StringComparison.OrdinalIgnoreCase)) continue;
            var semi = range.IndexOf(';');
            if (semi >= 0 && SipParameters.TryParse(range.AsSpan(semi), ';', out var p) && p.Get("q") is { } q &&
                double.TryParse(q, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var qv) && qv <= 0) continue;
            return true;
        }
        return false;
    }

    /// <summary>
    /// RFC 3261 §21.4.7: when the request does not accept the body type the answer would carry, 406 (RFC 4475
    /// §3.3.15: an INVITE whose Accept leaves out application/sdp).
    /// </summary>
    public static SipRejection? CheckAccept(SipRequest request, string answerMediaType) =>
        Accepts(request, answerMediaType) ? null : new SipRejection(406, $"Accept does not allow {answerMediaType}");

    /// <summary><c>type/subtype</c> without parameters, trimmed and lower-case.</summary>
    public static string MediaType(string contentType)
    {
        var semi = contentType.IndexOf(';');
        var type = (semi < 0 ? contentType : contentType[..semi]).Trim();
        var slash = type.IndexOf('/');
        return slash < 0 ? type.ToLowerInvariant() : $"{type[..slash].Trim()}/{type[(slash + 1)..].Trim()}".ToLowerInvariant();
    }

    private static SipRejection? Check420(SipRequest request, string headerName, IEnumerable<string> supportedOptionTags)
    {
        if (!request.Headers.Contains(headerName)) return null;
        if (SafeValues(request, headerName) is null) return new SipRejection(400, $"malformed {headerName}");
        var unsupported = UnsupportedOptionTags(request, headerName, supportedOptionTags);
        if (unsupported.Count == 0) return null;
        return new SipRejection(420, $"unsupported {headerName} {string.Join(", ", unsupported)}")
        {
            Headers = [new SipHeaderField(HeaderNames.Unsupported, string.Join(", ", unsupported))],
        };
    }

    private static List<string>? SafeValues(SipRequest request, string headerName)
    {
        try
        {
            return request.Headers.GetValues(headerName);
        }
        catch (SipParseException)
        {
            return null;
        }
    }
}
