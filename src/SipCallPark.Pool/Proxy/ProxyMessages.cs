using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// The message edits of a forwarding proxy (RFC 3261 §16.6, §16.7): copying a request for a target, Max-Forwards,
/// Record-Route, the loop-detecting branch, and removing our Via from a response. Pure functions of their arguments.
/// </summary>
internal static class ProxyMessages
{
    /// <summary>Separates the unique part of our branch from the loop-detection hash (§16.6 step 8).</summary>
    private const char LoopHashSeparator = '.';
    private const int LoopHashLength = 16;

    /// <summary>
    /// §16.6 steps 1–3: a copy of <paramref name="original"/> with its own headers (the original is left alone), the
    /// new Request-URI, and Max-Forwards one lower — or 70 when the request had none.
    /// </summary>
    public static SipRequest CopyFor(SipRequest original, SipUri requestUri)
    {
        var copy = new SipRequest(original.Method, requestUri, original.Headers.Clone(), original.Body);
        copy.MaxForwards = original.MaxForwards is { } hops ? hops - 1 : 70;
        return copy;
    }

    /// <summary>
    /// A Record-Route value naming us on one interface: <c>&lt;sip:ip:port;transport=tcp;lr;cpt=token&gt;</c>, the
    /// transport only when it is not UDP, so that in-dialog requests come back over the transport the dialog was set
    /// up on, and the dialog's <see cref="RecordRouteToken"/> (when given) that lets them through.
    /// </summary>
    public static string RecordRoute(SipProtocol protocol, IPEndPoint local, string? token = null, bool secure = false)
    {
        // RFC 5630 §3.1.3: sips: means TLS on every hop, so it needs no transport parameter (TLS is TCP underneath);
        // a sip: dialog set up over TLS keeps transport=tls so in-dialog requests come back over TLS.
        var sips = secure && protocol == SipProtocol.Tls;
        var uri = SipUri.Create(sips ? "sips" : "sip", null, HostText(local.Address), local.Port);
        if (!sips && protocol != SipProtocol.Udp) uri = uri.WithParameter("transport", ProtocolName(protocol));
        uri = uri.WithParameter("lr", null);
        if (token is not null) uri = uri.WithParameter(RecordRouteToken.Parameter, token);
        return new NameAddress(uri).ToString();
    }

    /// <summary>Transports that protect a sips: request (RFC 3261 §26.2.2; WSS per RFC 7118 §5).</summary>
    public static bool IsSecure(SipProtocol protocol) => protocol is SipProtocol.Tls or SipProtocol.Wss;

    /// <summary>
    /// The loop-detection part of our branch (§16.6 step 8): a hash of what decides where the request goes — the
    /// Request-URI as received, To and From tags, Call-ID, CSeq number, the Route values that are not ours (ours are
    /// consumed on arrival, so the hash is the same before and after), Proxy-Require and Proxy-Authorization.
    /// The topmost Via is left out on purpose: a request coming back round a loop has another hop's Via on top,
    /// and including it would make every loop look like a spiral.
    /// </summary>
    public static string LoopHash(SipRequest request, Func<SipUri, bool> isOurs)
    {
        var text = new StringBuilder();
        Append(text, request.RequestUri.ToString());
        Append(text, request.To.Tag);
        Append(text, request.From.Tag);
        Append(text, request.CallId);
        Append(text, request.CSeq.Number.ToString(CultureInfo.InvariantCulture));
        foreach (var route in request.Routes)
        {
            if (!isOurs(route.Uri)) Append(text, route.ToString());
        }
        foreach (var option in request.OptionTags(HeaderNames.ProxyRequire)) Append(text, option.Trim());
        foreach (var credentials in request.Headers.GetAll(HeaderNames.ProxyAuthorization)) Append(text, credentials.Trim());
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToHexStringLower(digest)[..LoopHashLength];
    }

    /// <summary>Our branch: a fresh magic-cookie branch, the separator, then the loop hash.</summary>
    public static string BranchWithLoopHash(string uniqueBranch, string loopHash) => uniqueBranch + LoopHashSeparator + loopHash;

    /// <summary>The loop hash carried in one of our branches, or null when the branch has none.</summary>
    public static string? LoopHashOf(string? branch)
    {
        if (branch is null || !branch.StartsWith(ViaHeader.MagicCookie, StringComparison.Ordinal)) return null;
        var at = branch.LastIndexOf(LoopHashSeparator);
        if (at < 0 || branch.Length - at - 1 != LoopHashLength) return null;
        var hash = branch[(at + 1)..];
        return hash.All(char.IsAsciiHexDigitLower) ? hash : null;
    }

    /// <summary>§16.7 step 3: a copy of the response without its topmost Via; null when no Via would remain.</summary>
    public static SipResponse? WithoutTopVia(SipResponse response)
    {
        if (response.Vias.Count < 2) return null;
        var copy = Clone(response);
        copy.Headers.RemoveFirstValue(HeaderNames.Via);
        return copy;
    }

    /// <summary>A response with its own copy of the headers.</summary>
    public static SipResponse Clone(SipResponse response) =>
        new(response.StatusCode, response.ReasonPhrase, response.Headers.Clone(), response.Body);

    /// <summary>The transport a Via names (UDP, TCP, TLS, WS, WSS), or null for one we do not speak.</summary>
    public static SipProtocol? ProtocolOf(ViaHeader via) =>
        Enum.TryParse<SipProtocol>(via.Transport, ignoreCase: true, out var protocol) && Enum.IsDefined(protocol) ? protocol : null;

    /// <summary>
    /// Where a response goes when it is relayed without a server transaction (§18.2.2 with RFC 3581): maddr if
    /// present, else <c>received</c> (or the Via host) and <c>rport</c> (or the Via port). Numeric hosts only.
    /// </summary>
    public static SipEndPoint? ResponseDestination(ViaHeader via)
    {
        if (ProtocolOf(via) is not { } protocol) return null;
        var defaultPort = protocol is SipProtocol.Tls or SipProtocol.Wss ? 5061 : 5060;
        if (via.MAddr is { } maddr && IPAddress.TryParse(maddr.Trim('[', ']'), out var group))
            return new SipEndPoint(protocol, new IPEndPoint(group, via.Port ?? defaultPort));
        var host = via.Received ?? via.Host;
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address)) return null;
        return new SipEndPoint(protocol, new IPEndPoint(address, via.RPort ?? via.Port ?? defaultPort));
    }

    public static string HostText(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static string ProtocolName(SipProtocol protocol) => protocol.ToString().ToLowerInvariant();

    private static void Append(StringBuilder text, string? part) => text.Append(part ?? "").Append('\n');
}
