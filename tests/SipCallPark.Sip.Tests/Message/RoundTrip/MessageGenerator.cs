using System.Text;

namespace SipCallPark.Sip.Tests.Message.RoundTrip;

/// <summary>What a generated message must parse to.</summary>
internal sealed record GeneratedMessage(
    byte[] Bytes,
    string Method,
    string RequestUser,
    string RequestHost,
    int? RequestPort,
    string? FromDisplay,
    string FromUser,
    string FromTag,
    string CallId,
    long CSeq,
    int MaxForwards,
    IReadOnlyList<(string Transport, string Host, int? Port, string Branch)> Vias,
    IReadOnlyList<string> ContactHosts,
    int BodyLength);

/// <summary>
/// A seeded builder of valid requests that vary what a parser must not care about: header order, compact and
/// odd-case names, LWS around separators, folded lines, extra parameters, IPv6 references, escaped users and
/// quoted display names with escapes.
/// </summary>
internal sealed class MessageGenerator(int seed)
{
    private static readonly string[] Methods = ["INVITE", "OPTIONS", "REGISTER", "REFER", "SUBSCRIBE", "NOTIFY", "BYE", "INFO"];
    private static readonly string[] Transports = ["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"];
    private static readonly string[] Hosts = ["park.lab.test", "pool-b.lab.test", "198.51.100.23", "[::1]", "[2001:db8::5060]", "[fe80::1:2]", "h1"];
    private const string UserChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/";

    private readonly Random _random = new(seed);

    public GeneratedMessage Next()
    {
        var method = Pick(Methods);
        var (requestUser, requestUserText) = User();
        var requestHost = Pick(Hosts);
        int? requestPort = Chance(2) ? _random.Next(1, 65536) : null;
        var (fromUser, fromUserText) = User();
        var fromDisplay = Chance(2) ? DisplayName(out var fromDisplayText) : fromDisplayText = null;
        var fromTag = Token(4, 12);
        var callId = $"{Token(6, 20)}@{Pick(Hosts)}";
        var cseq = (long)_random.Next(0, int.MaxValue);
        var maxForwards = _random.Next(0, 256);
        var vias = Enumerable.Range(0, 1 + _random.Next(4))
            .Select(_ => (Pick(Transports), Pick(Hosts), Chance(2) ? _random.Next(1, 65536) : (int?)null, "z9hG4bK" + Token(4, 16)))
            .ToList();
        var contactHosts = Enumerable.Range(0, _random.Next(3)).Select(_ => Pick(Hosts)).ToList();
        var body = Chance(2) ? Torture.Wire.Crlf(Torture.Wire.Sdp("203.0.113." + _random.Next(1, 255))) : "";

        var lines = new List<string>
        {
            Header("From", "f") + $"{fromDisplay}<sip:{fromUserText}@{Pick(Hosts)}>{Params()}{Semi()}tag{Eq()}{fromTag}{Params()}",
            Header("To", "t") + $"<sip:{requestUserText}@{requestHost}>{Params()}",
            Header("Call-ID", "i") + callId,
            Header("CSeq", null) + $"{cseq} {method}",
            Header("Max-Forwards", null) + maxForwards,
            Header("User-Agent", null) + "gen/1.0 (" + Token(1, 8) + ")",
            Header("X-Generated-" + Token(1, 5), null) + Token(1, 30),
        };
        if (contactHosts.Count > 0)
            lines.Add(Header("Contact", "m") + string.Join(Comma(), contactHosts.Select(h => $"<sip:{fromUserText}@{h}{UriParams()}>{Params()}")));
        if (body.Length > 0) lines.Add(Header("Content-Type", "c") + "application/sdp");
        lines.Add(Header("Content-Length", "l") + Encoding.UTF8.GetByteCount(body));
        Shuffle(lines);
        // Via lines go in at random places, but in their own order: the order of Via values is meaning.
        var at = 0;
        foreach (var via in ViaLines(vias).ToList())
        {
            at = _random.Next(at, lines.Count + 1);
            lines.Insert(at++, via);
        }

        var text = $"{method} sip:{requestUserText}@{requestHost}{(requestPort is { } p ? $":{p}" : "")}{UriParams()} SIP/2.0\r\n" +
                   string.Join("\r\n", lines) + "\r\n\r\n" + body;
        return new GeneratedMessage(Encoding.UTF8.GetBytes(text), method, requestUser, requestHost, requestPort, fromDisplayText,
            fromUser, fromTag, callId, cseq, maxForwards, vias, contactHosts, Encoding.UTF8.GetByteCount(body));
    }

    private IEnumerable<string> ViaLines(List<(string Transport, string Host, int? Port, string Branch)> vias)
    {
        var values = vias.Select(v => $"SIP{Slash()}2.0{Slash()}{v.Transport} {v.Host}{(v.Port is { } p ? $":{p}" : "")}" +
                                      $"{Params()}{Semi()}branch{Eq()}{v.Branch}{(Chance(3) ? ";rport" : "")}").ToList();
        // Either one line per value, or several values on one (possibly folded) line; order must survive.
        if (Chance(2))
        {
            foreach (var v in values) yield return Header("Via", "v") + v;
        }
        else
        {
            yield return Header("Via", "v") + string.Join(Comma(), values);
        }
    }

    private (string Unescaped, string Escaped) User()
    {
        var sb = new StringBuilder();
        var plain = new StringBuilder();
        for (var i = 0; i < 1 + _random.Next(10); i++)
        {
            if (Chance(5))
            {
                var c = Pick([" ", "@", ":", "%", "<", "é", "\"", "#"]);
                plain.Append(c);
                foreach (var b in Encoding.UTF8.GetBytes(c)) sb.Append('%').Append(b.ToString(Chance(2) ? "X2" : "x2"));
            }
            else
            {
                var c = UserChars[_random.Next(UserChars.Length)];
                plain.Append(c);
                sb.Append(c);
            }
        }
        return (plain.ToString(), sb.ToString());
    }

    private string DisplayName(out string? text)
    {
        if (Chance(2))
        {
            text = string.Join(" ", Enumerable.Range(0, 1 + _random.Next(3)).Select(_ => Token(1, 8)));
            return text + Pick([" ", "", "  "]);
        }
        var raw = new StringBuilder();
        var quoted = new StringBuilder("\"");
        for (var i = 0; i < 1 + _random.Next(12); i++)
        {
            var c = Pick(["a", "Z", " ", "\"", "\\", ",", ";", "<", "ü", "日", "'"]);
            raw.Append(c);
            quoted.Append(c is "\"" or "\\" ? "\\" + c : c);
        }
        text = raw.ToString();
        return quoted.Append('"').Append(Pick([" ", "", "\r\n "])).ToString();
    }

    private string Header(string name, string? compact)
    {
        var spelled = compact is not null && Chance(3) ? compact : Chance(4) ? RandomCase(name) : name;
        return spelled + Pick([": ", ":", " : ", ":\t", ":\r\n "]);
    }

    private string Params()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < _random.Next(3); i++)
        {
            sb.Append(Semi()).Append("x").Append(Token(1, 6));
            if (Chance(2)) sb.Append(Eq()).Append(Token(1, 8));
        }
        return sb.ToString();
    }

    /// <summary>URI parameters: no whitespace is allowed inside a URI.</summary>
    private string UriParams()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < _random.Next(3); i++)
        {
            sb.Append(";u").Append(Token(1, 6));
            if (Chance(2)) sb.Append('=').Append(Token(1, 8));
        }
        return sb.ToString();
    }

    private string Semi() => Pick([";", ";", " ; ", ";\r\n  "]);

    private string Eq() => Pick(["=", "=", " = "]);

    private string Comma() => Pick([",", ", ", " ,\r\n ", ",\r\n\t"]);

    private string Slash() => Pick(["/", "/", " / "]);

    private string Token(int min, int max)
    {
        const string chars = "abcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~";
        var length = _random.Next(min, max + 1);
        return string.Create(length, _random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = chars[r.Next(i == 0 ? 36 : chars.Length)];
        });
    }

    private string RandomCase(string s) => string.Concat(s.Select(c => Chance(2) ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c)));

    private bool Chance(int oneIn) => _random.Next(oneIn) == 0;

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

    private void Shuffle(List<string> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = _random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
