using System.Net;
using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>
/// A SIP, SIPS or tel URI (RFC 3261 §19.1, RFC 3966), immutable. Components keep their escaped spelling so a
/// parsed URI writes back exactly as it came; <see cref="UnescapedUser"/> and <see cref="GetHeader"/> decode.
/// Any other scheme is kept as an opaque absolute URI (<see cref="IsSip"/> false), as RFC 3261 §19.1 asks of
/// elements that meet one in To/From (RFC 4475 §3.3.2).
/// </summary>
public sealed class SipUri : IEquatable<SipUri>
{
    private string? _text;

    private SipUri(string scheme, string? user, string? password, string host, int? port, SipParameters parameters,
        IReadOnlyList<SipParameter> headers, string? opaque)
    {
        Scheme = scheme;
        User = user;
        Password = password;
        Host = host;
        Port = port;
        Parameters = parameters;
        Headers = headers;
        Opaque = opaque;
    }

    /// <summary>Lower-case scheme: <c>sip</c>, <c>sips</c>, <c>tel</c> or another.</summary>
    public string Scheme { get; }

    /// <summary>The user part as written (escaped); for tel URIs the number.</summary>
    public string? User { get; }

    public string? Password { get; }

    /// <summary>Host as written; an IPv6 reference keeps its brackets (<c>[::1]</c>).</summary>
    public string Host { get; }

    public int? Port { get; }

    public SipParameters Parameters { get; }

    /// <summary>URI headers (<c>?name=value&amp;...</c>) as written (escaped).</summary>
    public IReadOnlyList<SipParameter> Headers { get; }

    /// <summary>For a scheme we do not interpret, everything after the colon.</summary>
    public string? Opaque { get; }

    public bool IsSip => Scheme is "sip" or "sips";

    public bool IsSecure => Scheme == "sips";

    public string? UnescapedUser => User is null ? null : SipText.Unescape(User);

    /// <summary>Host without IPv6 brackets, ready for <see cref="IPAddress.TryParse(string, out IPAddress)"/>.</summary>
    public string HostWithoutBrackets => Host.StartsWith('[') && Host.EndsWith(']') ? Host[1..^1] : Host;

    public string? Transport => GetParameter("transport");

    public bool IsLooseRouter => HasParameter("lr");

    /// <summary>
    /// Whether a URI parameter with that name is present, comparing names after unescaping, so that
    /// <c>;%6C%72</c> is <c>;lr</c> (RFC 3261 §19.1.4, RFC 4475 §3.1.1.3).
    /// </summary>
    public bool HasParameter(string name) => IndexOfParameter(name) >= 0;

    /// <summary>The unescaped value of the URI parameter with that (unescaped) name; null when absent or a flag.</summary>
    public string? GetParameter(string name)
    {
        var i = IndexOfParameter(name);
        return i < 0 || Parameters[i].Value is not { } v ? null : SipText.Unescape(v);
    }

    private int IndexOfParameter(string name)
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            var n = Parameters[i].Name;
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase) ||
                (n.Contains('%') && string.Equals(SipText.Unescape(n), name, StringComparison.OrdinalIgnoreCase))) return i;
        }
        return -1;
    }

    /// <summary>The URI header value with that name, unescaped (e.g. <c>Replaces</c> in a Refer-To).</summary>
    public string? GetHeader(string name)
    {
        foreach (var h in Headers)
        {
            if (string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)) return h.Value is null ? "" : SipText.Unescape(h.Value);
        }
        return null;
    }

    public static SipUri Create(string scheme, string? user, string host, int? port = null) =>
        new(scheme.ToLowerInvariant(), user, null, host, port, SipParameters.Empty, [], null);

    public static SipUri Parse(string text) =>
        TryParse(text, out var uri) ? uri : throw new SipParseException($"Malformed URI '{text}'");

    public static bool TryParse(string text, out SipUri uri)
    {
        uri = null!;
        if (string.IsNullOrEmpty(text)) return false;
        foreach (var c in text)
        {
            // RFC 4475 §3.1.2.8 and §3.1.2.14: no whitespace, no brackets inside a URI.
            if (c <= ' ' || c is '<' or '>' or '"' || c == 127) return false;
        }
        var colon = text.IndexOf(':');
        if (colon <= 0 || !IsScheme(text.AsSpan(0, colon))) return false;
        var scheme = text[..colon].ToLowerInvariant();
        var rest = text.AsSpan(colon + 1);
        if (scheme == "tel") return TryParseTel(text, rest, out uri);
        if (scheme is not ("sip" or "sips"))
        {
            if (rest.IsEmpty) return false;
            uri = new SipUri(scheme, null, null, "", null, SipParameters.Empty, [], rest.ToString()) { _text = text };
            return true;
        }

        // userinfo ends at the first '@': '@' is legal nowhere else in a SIP URI, while the user part may hold
        // ';', '?' and '/' (RFC 3261 §25.1 user-unreserved; RFC 4475 §3.1.1.2 and §3.1.1.9).
        string? user = null, password = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            var userInfo = rest[..at];
            if (userInfo.IsEmpty) return false;
            var pwColon = userInfo.IndexOf(':');
            user = (pwColon < 0 ? userInfo : userInfo[..pwColon]).ToString();
            if (pwColon >= 0) password = userInfo[(pwColon + 1)..].ToString();
            if (user.Length == 0) return false;
            rest = rest[(at + 1)..];
        }

        // After the host, parameters follow the first ';' and headers the first '?'.
        var question = rest.IndexOf('?');
        var hostPart = question < 0 ? rest : rest[..question];
        var semi = hostPart.IndexOf(';');
        var hostPort = semi < 0 ? hostPart : hostPart[..semi];
        if (!TryParseHostPort(hostPort, out var host, out var port)) return false;
        var parameters = SipParameters.Empty;
        if (semi >= 0 && !SipParameters.TryParse(hostPart[semi..], ';', out parameters)) return false;

        var headers = new List<SipParameter>();
        if (question >= 0)
        {
            foreach (var pair in rest[(question + 1)..].ToString().Split('&'))
            {
                if (pair.Length == 0) continue;
                var eq = pair.IndexOf('=');
                headers.Add(eq < 0 ? new SipParameter(pair, null) : new SipParameter(pair[..eq], pair[(eq + 1)..]));
            }
        }
        uri = new SipUri(scheme, user, password, host, port, parameters, headers, null) { _text = text };
        return true;
    }

    private static bool TryParseTel(string text, ReadOnlySpan<char> rest, out SipUri uri)
    {
        uri = null!;
        var semi = rest.IndexOf(';');
        var number = semi < 0 ? rest : rest[..semi];
        if (number.IsEmpty) return false;
        var parameters = SipParameters.Empty;
        if (semi >= 0 && !SipParameters.TryParse(rest[semi..], ';', out parameters)) return false;
        uri = new SipUri("tel", number.ToString(), null, "", null, parameters, [], null) { _text = text };
        return true;
    }

    private static bool TryParseHostPort(ReadOnlySpan<char> s, out string host, out int? port)
    {
        host = "";
        port = null;
        if (s.IsEmpty) return false;
        ReadOnlySpan<char> portText = default;
        if (s[0] == '[')
        {
            var close = s.IndexOf(']');
            if (close < 0) return false;
            if (!IPAddress.TryParse(s[1..close], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
            host = s[..(close + 1)].ToString();
            if (close + 1 < s.Length)
            {
                if (s[close + 1] != ':') return false;
                portText = s[(close + 2)..];
                if (portText.IsEmpty) return false;
            }
        }
        else
        {
            var colon = s.IndexOf(':');
            var h = colon < 0 ? s : s[..colon];
            if (h.IsEmpty) return false;
            foreach (var c in h)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '.') return false;
            }
            host = h.ToString();
            if (colon >= 0)
            {
                portText = s[(colon + 1)..];
                if (portText.IsEmpty) return false;
            }
        }
        if (!portText.IsEmpty)
        {
            if (portText.Length > 5 || !int.TryParse(portText, System.Globalization.NumberStyles.None, null, out var p) || p > 65535) return false;
            port = p;
        }
        return true;
    }

    private static bool IsScheme(ReadOnlySpan<char> s)
    {
        if (!char.IsAsciiLetter(s[0])) return false;
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '+' and not '-' and not '.') return false;
        }
        return true;
    }

    public SipUri WithUser(string? user) => new(Scheme, user, Password, Host, Port, Parameters, Headers, Opaque);

    public SipUri WithHost(string host, int? port) => new(Scheme, User, Password, host, port, Parameters, Headers, Opaque);

    public SipUri WithParameter(string name, string? value) => new(Scheme, User, Password, Host, Port, Parameters.With(name, value), Headers, Opaque);

    public SipUri WithoutParameter(string name) => new(Scheme, User, Password, Host, Port, Parameters.Without(name), Headers, Opaque);

    /// <summary>Sets a URI header, escaping the value (e.g. <c>Replaces</c> for a Refer-To, RFC 3891 §6.1).</summary>
    public SipUri WithHeader(string name, string unescapedValue)
    {
        var escaped = SipText.Escape(unescapedValue, c => SipText.IsUnreserved(c) || c is '[' or ']' or '/' or '?' or ':' or '+' or '$');
        var list = Headers.Where(h => !string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        list.Add(new SipParameter(name, escaped));
        return new SipUri(Scheme, User, Password, Host, Port, Parameters, list, Opaque);
    }

    public SipUri WithoutHeaders() => Headers.Count == 0 ? this : new SipUri(Scheme, User, Password, Host, Port, Parameters, [], Opaque);

    /// <summary>The address of record form: scheme, user and host only.</summary>
    public string AddressOfRecord => IsSip ? $"{Scheme}:{(User is null ? "" : UnescapedUser + "@")}{Host.ToLowerInvariant()}" : ToString();

    public override string ToString() => _text ??= Build();

    private string Build()
    {
        var sb = TextBuilder.Take().Append(Scheme).Append(':');
        if (Opaque is not null) return TextBuilder.Finish(sb.Append(Opaque));
        if (User is not null)
        {
            sb.Append(User);
            if (Scheme == "tel")
            {
                Parameters.AppendTo(sb);
                return TextBuilder.Finish(sb);
            }
            if (Password is not null) sb.Append(':').Append(Password);
            sb.Append('@');
        }
        sb.Append(Host);
        if (Port is { } port) sb.Append(':').Append(port);
        Parameters.AppendTo(sb);
        for (var i = 0; i < Headers.Count; i++)
        {
            sb.Append(i == 0 ? '?' : '&').Append(Headers[i].Name);
            if (Headers[i].Value is not null) sb.Append('=').Append(Headers[i].Value);
        }
        return TextBuilder.Finish(sb);
    }

    /// <summary>
    /// URI comparison per RFC 3261 §19.1.4: scheme, user and password (escapes decoded, case-sensitive), host
    /// (case-insensitive) and port must match; transport, user, method, ttl and maddr must match when either has
    /// them; other parameters only when both have them; every header must be in both, with equal values. Parameter
    /// names and values compare case-insensitively after unescaping.
    /// </summary>
    public bool Equals(SipUri? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (Scheme != other.Scheme) return false;
        if (!IsSip) return string.Equals(ToString(), other.ToString(), StringComparison.OrdinalIgnoreCase);
        if (UnescapedUser != other.UnescapedUser) return false;
        if ((Password is null ? null : SipText.Unescape(Password)) != (other.Password is null ? null : SipText.Unescape(other.Password))) return false;
        if (!string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase) || Port != other.Port) return false;
        foreach (var name in (ReadOnlySpan<string>)["transport", "user", "method", "ttl", "maddr"])
        {
            if (HasParameter(name) != other.HasParameter(name)) return false;
            if (!string.Equals(GetParameter(name), other.GetParameter(name), StringComparison.OrdinalIgnoreCase)) return false;
        }
        foreach (var p in Parameters)
        {
            var name = SipText.Unescape(p.Name);
            if (other.HasParameter(name) && !string.Equals(GetParameter(name), other.GetParameter(name), StringComparison.OrdinalIgnoreCase)) return false;
        }
        return SameHeaders(this, other) && SameHeaders(other, this);
    }

    private static bool SameHeaders(SipUri a, SipUri b)
    {
        foreach (var h in a.Headers)
        {
            var mine = a.GetHeader(h.Name);
            var theirs = b.GetHeader(h.Name);
            if (theirs is null || !string.Equals(mine, theirs, StringComparison.Ordinal)) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is SipUri u && Equals(u);

    public override int GetHashCode() => HashCode.Combine(Scheme, UnescapedUser, Host.ToLowerInvariant(), Port);
}
