using System.Text;

namespace SipCallPark.Sip.Message;

/// <summary>One Via value (RFC 3261 §20.42, §18.2.1; RFC 3581 rport). Immutable.</summary>
public sealed class ViaHeader
{
    /// <summary>RFC 3261 §8.1.1.7: a branch starting with this cookie was made by an RFC 3261 element.</summary>
    public const string MagicCookie = "z9hG4bK";

    private string? _text;

    public ViaHeader(string transport, string host, int? port, SipParameters? parameters = null, string protocol = "SIP/2.0")
    {
        Transport = transport.ToUpperInvariant();
        Host = host;
        Port = port;
        Parameters = parameters ?? SipParameters.Empty;
        Protocol = protocol;
    }

    /// <summary><c>SIP/2.0</c>.</summary>
    public string Protocol { get; }

    /// <summary>Upper-case transport: UDP, TCP, TLS, WS, WSS, SCTP.</summary>
    public string Transport { get; }

    public string Host { get; }

    public int? Port { get; }

    public SipParameters Parameters { get; }

    public string? Branch => Parameters.Get("branch");

    public string? Received => Parameters.Get("received");

    /// <summary>True when the client asked for rport (RFC 3581) with or without a value.</summary>
    public bool HasRPort => Parameters.Contains("rport");

    public int? RPort => int.TryParse(Parameters.Get("rport"), out var p) ? p : null;

    public bool HasMagicCookie => Branch is { } b && b.StartsWith(MagicCookie, StringComparison.Ordinal);

    /// <summary>
    /// True when the branch is an RFC 3261 transaction id: the magic cookie followed by at least one character. A
    /// bare cookie (RFC 4475 §3.2.1) identifies nothing, so matching falls back to the RFC 2543 rules.
    /// </summary>
    public bool HasTransactionId => HasMagicCookie && Branch!.Length > MagicCookie.Length;

    /// <summary>
    /// True when sent-by is the limited broadcast address: a response must never be sent there, or one bad Via
    /// makes every host on a segment answer (RFC 4475 §3.3.10).
    /// </summary>
    public bool IsBroadcastSentBy => Host == "255.255.255.255";

    public string? MAddr => Parameters.Get("maddr");

    public string SentBy => Port is { } p ? $"{Host}:{p}" : Host;

    public ViaHeader WithParameter(string name, string? value) => new(Transport, Host, Port, Parameters.With(name, value), Protocol);

    public static ViaHeader Parse(string text) =>
        TryParse(text, out var v) ? v : throw new SipParseException($"Malformed Via '{text}'");

    /// <summary>Parses one via-parm; LWS around the slashes is legal (RFC 4475 §3.1.1.1).</summary>
    public static bool TryParse(string text, out ViaHeader via)
    {
        via = null!;
        var s = text.AsSpan().Trim();
        if (!TryReadToken(s, 0, out var name, out var i) || !Expect(s, ref i, '/')) return false;
        if (!TryReadToken(s, i, out var version, out i) || !Expect(s, ref i, '/')) return false;
        if (!TryReadToken(s, i, out var transport, out i)) return false;
        i = SipText.SkipWhitespace(s, i);
        var hostStart = i;
        if (i < s.Length && s[i] == '[')
        {
            var close = s[i..].IndexOf(']');
            if (close < 0) return false;
            i += close + 1;
        }
        while (i < s.Length && s[i] != ':' && s[i] != ';' && !SipText.IsWhitespace(s[i])) i++;
        var host = s[hostStart..i].ToString();
        if (host.Length == 0) return false;
        i = SipText.SkipWhitespace(s, i);
        int? port = null;
        if (i < s.Length && s[i] == ':')
        {
            i = SipText.SkipWhitespace(s, i + 1);
            var portStart = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (i == portStart || i - portStart > 5 || !int.TryParse(s[portStart..i], out var p) || p > 65535) return false;
            port = p;
            i = SipText.SkipWhitespace(s, i);
        }
        var parameters = SipParameters.Empty;
        if (i < s.Length)
        {
            if (s[i] != ';' || !SipParameters.TryParse(s[i..], ';', out parameters)) return false;
        }
        via = new ViaHeader(transport, host, port, parameters, $"{name.ToUpperInvariant()}/{version}") { _text = text.Trim() };
        return true;
    }

    private static bool TryReadToken(ReadOnlySpan<char> s, int start, out string token, out int end)
    {
        var i = SipText.SkipWhitespace(s, start);
        var begin = i;
        while (i < s.Length && SipText.IsTokenChar(s[i])) i++;
        token = s[begin..i].ToString();
        end = i;
        return token.Length > 0;
    }

    private static bool Expect(ReadOnlySpan<char> s, ref int i, char c)
    {
        i = SipText.SkipWhitespace(s, i);
        if (i >= s.Length || s[i] != c) return false;
        i++;
        return true;
    }

    public override string ToString() => _text ??= Build();

    private string Build()
    {
        var sb = TextBuilder.Take().Append(Protocol).Append('/').Append(Transport).Append(' ').Append(Host);
        if (Port is { } p) sb.Append(':').Append(p);
        Parameters.AppendTo(sb);
        return TextBuilder.Finish(sb);
    }
}
