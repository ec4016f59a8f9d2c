namespace SipCallPark.Sip.Message;

/// <summary>
/// Canonical header names, with the compact forms of RFC 3261 §7.3.3 and its extensions
/// (RFC 3515 <c>r</c>, RFC 3892 <c>b</c>, RFC 3265 <c>o</c>, RFC 3841 <c>k</c>... ).
/// Lookups of known names from bytes return the interned constant, so parsing allocates no name strings.
/// </summary>
public static class HeaderNames
{
    public const string Via = "Via";
    public const string From = "From";
    public const string To = "To";
    public const string CallId = "Call-ID";
    public const string CSeq = "CSeq";
    public const string Contact = "Contact";
    public const string MaxForwards = "Max-Forwards";
    public const string ContentLength = "Content-Length";
    public const string ContentType = "Content-Type";
    public const string ContentEncoding = "Content-Encoding";
    public const string Route = "Route";
    public const string RecordRoute = "Record-Route";
    public const string Expires = "Expires";
    public const string MinExpires = "Min-Expires";
    public const string ReferTo = "Refer-To";
    public const string ReferredBy = "Referred-By";
    public const string Replaces = "Replaces";
    public const string Event = "Event";
    public const string SubscriptionState = "Subscription-State";
    public const string Authorization = "Authorization";
    public const string ProxyAuthorization = "Proxy-Authorization";
    public const string WwwAuthenticate = "WWW-Authenticate";
    public const string ProxyAuthenticate = "Proxy-Authenticate";
    public const string AuthenticationInfo = "Authentication-Info";
    public const string Supported = "Supported";
    public const string Require = "Require";
    public const string ProxyRequire = "Proxy-Require";
    public const string Unsupported = "Unsupported";
    public const string Allow = "Allow";
    public const string AllowEvents = "Allow-Events";
    public const string Accept = "Accept";
    public const string SessionExpires = "Session-Expires";
    public const string MinSE = "Min-SE";
    public const string Subject = "Subject";
    public const string UserAgent = "User-Agent";
    public const string Server = "Server";
    public const string Warning = "Warning";
    public const string RetryAfter = "Retry-After";
    public const string Date = "Date";
    public const string Timestamp = "Timestamp";
    public const string Path = "Path";

    private static readonly string[] Known =
    [
        Via, From, To, CallId, CSeq, Contact, MaxForwards, ContentLength, ContentType, ContentEncoding, Route,
        RecordRoute, Expires, MinExpires, ReferTo, ReferredBy, Replaces, Event, SubscriptionState, Authorization,
        ProxyAuthorization, WwwAuthenticate, ProxyAuthenticate, AuthenticationInfo, Supported, Require, ProxyRequire,
        Unsupported, Allow, AllowEvents, Accept, SessionExpires, MinSE, Subject, UserAgent, Server, Warning,
        RetryAfter, Date, Timestamp, Path,
    ];

    /// <summary>Headers whose values may be comma-separated lists (RFC 3261 §7.3.1).</summary>
    private static readonly HashSet<string> ListHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        Via, Contact, Route, RecordRoute, Supported, Require, ProxyRequire, Unsupported, Allow, AllowEvents,
        Accept, Path, "Accept-Encoding", "Accept-Language", "In-Reply-To", Warning, ContentEncoding,
    };

    /// <summary>Headers that may appear at most once; a second one makes the request malformed (RFC 4475 §3.3.8).</summary>
    private static readonly HashSet<string> SingleHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        From, To, CallId, CSeq, MaxForwards, ContentLength, ContentType, Expires,
    };

    public static bool IsList(string canonicalName) => ListHeaders.Contains(canonicalName);

    public static bool IsSingle(string canonicalName) => SingleHeaders.Contains(canonicalName);

    /// <summary>Known names grouped by length, so a lookup compares against two or three names, not forty.</summary>
    private static readonly string[][] KnownByLength = BuildBuckets();

    private static string[][] BuildBuckets()
    {
        var buckets = new string[Known.Max(k => k.Length) + 1][];
        for (var length = 0; length < buckets.Length; length++) buckets[length] = Known.Where(k => k.Length == length).ToArray();
        return buckets;
    }

    /// <summary>The long form for a compact letter, or the canonical spelling of a known name; otherwise the name itself.</summary>
    public static string Canonical(string name)
    {
        if (name.Length == 1)
        {
            var compact = FromCompact((byte)char.ToLowerInvariant(name[0]));
            if (compact is not null) return compact;
        }
        if (name.Length < KnownByLength.Length)
        {
            foreach (var known in KnownByLength[name.Length])
            {
                if (ReferenceEquals(known, name) || string.Equals(known, name, StringComparison.OrdinalIgnoreCase)) return known;
            }
        }
        return name;
    }

    /// <summary>Canonical name for raw header-name bytes, without allocating for known names.</summary>
    public static string Canonical(ReadOnlySpan<byte> name)
    {
        if (name.Length == 1)
        {
            var compact = FromCompact((byte)(name[0] | 0x20));
            if (compact is not null) return compact;
        }
        if (name.Length < KnownByLength.Length)
        {
            foreach (var known in KnownByLength[name.Length])
            {
                if (EqualsIgnoreCase(name, known)) return known;
            }
        }
        return System.Text.Encoding.UTF8.GetString(name);
    }

    private static string? FromCompact(byte c) => c switch
    {
        (byte)'v' => Via,
        (byte)'f' => From,
        (byte)'t' => To,
        (byte)'i' => CallId,
        (byte)'m' => Contact,
        (byte)'l' => ContentLength,
        (byte)'c' => ContentType,
        (byte)'e' => ContentEncoding,
        (byte)'r' => ReferTo,
        (byte)'b' => ReferredBy,
        (byte)'o' => Event,
        (byte)'k' => Supported,
        (byte)'x' => SessionExpires,
        (byte)'s' => Subject,
        (byte)'u' => AllowEvents,
        _ => null,
    };

    internal static bool EqualsIgnoreCase(ReadOnlySpan<byte> bytes, string ascii)
    {
        if (bytes.Length != ascii.Length) return false;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            var c = ascii[i];
            if (b == c) continue;
            if ((b | 0x20) != (c | 0x20) || !char.IsAsciiLetter(c)) return false;
        }
        return true;
    }
}
