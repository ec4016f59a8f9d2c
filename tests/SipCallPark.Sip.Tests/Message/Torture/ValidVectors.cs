using System.Text;

namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>
/// Our own messages for RFC 4475 §3.1.1 (valid messages), each setting the same trap as the RFC's message of that
/// name with our own hosts, users and tags.
/// </summary>
internal static class ValidVectors
{
    /// <summary>§3.1.1.1: folding everywhere, LWS around every separator, escapes in quotes, odd case, leading zeros.</summary>
    public static readonly byte[] Wsinv = Wire.Message(
        """
        INVITE sip:orbit7001@park.lab.test;oddparam SIP/2.0
        TO :
         sip:orbit7001@park.lab.test ;   tag    = 7731a
        from   : "Carol \"Q\" Ruiz \\"       <sip:carol@lab.test>
          ;
          tag = k33x9
        MaX-fOrWaRdS: 0042
        Call-ID: wsinv.carol.5512@198.51.100.7
        Content-Length   : {len}
        cseq: 00031
          INVITE
        Via  : SIP  /   2.0
         /UDP
            198.51.100.7;branch=oldstyle77
        s :
        Weird-Extension:   first part
         second part
        OddPunctuation: ,;;,;,,;
        Content-Type: application/sdp
        Route:
         <sip:edge.lab.test;lr;flavour=mint;bare-flag>
        v:  SIP  / 2.0  / TCP     relay.lab.test   ;
          branch  =   z9hG4bKfold2  ,
         SIP  /    2.0   / UDP  198.51.100.99   ; branch=
         z9hG4bKfold3
        m:"Nick \"\" Name" <sip:carol@lab.test> ; extra =
              thing ;
          noval ; q = 0.7
        """, Wire.Sdp("198.51.100.7"));

    /// <summary>§3.1.1.2: every legal character in a method, user, password, token, word and quoted-pair.</summary>
    public const string IntmethUser = "2_strange.URI~(maybe!so)&wasn't+it$/odd?,/;;*";
    public const string IntmethMethod = "!odd-Method0123456789_*+`.%yes'~";
    public const string IntmethCallId = "odd.word%QZ-!.*_+'@wo`~)(><:\\/\"][?}{rd";

    public static readonly byte[] Intmeth = Wire.Message(
        IntmethMethod + " sip:" + IntmethUser + ":&pw+is=2,odd!*pa$$wo~rd_ok.(isn't-it)@lab.test SIP/2.0\n" +
        "Via: SIP/2.0/TCP h1.lab.test;branch=z9hG4bK-.!%77*_+`'~\n" +
        "To: \"ctl \\\u0000\\\u0007\\\u007F end\" <sip:" + IntmethUser + "@lab.test>\n" +
        "From: tok1~` tok2'+_ tok3*%!.- <sip:plain@lab.test>;odd''~+*_!.-%Param=\"καλημέρα κόσμε\";tag=_tg~2'+`*%!-.\n" +
        "Call-ID: " + IntmethCallId + "\n" +
        "CSeq: 42 " + IntmethMethod + "\n" +
        "Max-Forwards: 255\n" +
        "x-Header-!.%*+_`'~:日本語の値\n" +
        "Content-Length: 0");

    /// <summary>§3.1.1.3: % escapes in the Request-URI user, To, From and Contact (parameter names and values too).</summary>
    public static readonly byte[] Esc01 = Wire.Message(
        """
        INVITE sip:sips%3Aroot%40lab.test@park.lab.test SIP/2.0
        To: sip:%62o%62@lab.test
        From: <sip:has%20some%20spaces@lab.test>;tag=e1x
        Max-Forwards: 61
        i: esc01.77aa@lab.test
        CSeq: 4455 INVITE
        Via: SIP/2.0/UDP h5.lab.test;branch=z9hG4bKesc01
        C: application/sdp
        Contact:
          <sip:d%61ve@h5.lab.test;%6C%72;k%65y=v%61l%25%34%32>
        Content-Length: {len}
        """, Wire.Sdp("203.0.113.5"));

    /// <summary>§3.1.1.4: %00 in users; a NUL is data, not the end of a string.</summary>
    public static readonly byte[] Escnull = Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        To: sip:zero-%00-zero@lab.test
        From: sip:zero-%00-zero@lab.test;tag=n0ll
        Max-Forwards: 70
        Call-ID: escnull.5m1k3@lab.test
        CSeq: 900 REGISTER
        Via: SIP/2.0/UDP h6.lab.test;branch=z9hG4bKnul
        Contact: <sip:%00@h6.lab.test>
        Contact: <sip:%00%00@h6.lab.test>
        L:0
        """);

    /// <summary>§3.1.1.5: % where it is no escape: a method, a quoted string, a branch, a header name.</summary>
    public static readonly byte[] Esc02 = Wire.Message(
        """
        OPT%49ONS sip:registrar.lab.test SIP/2.0
        To: "%Q%41" <sip:thing@lab.test>
        From: "%Q%41" <sip:thing@lab.test>;tag=esc2f
        Call-ID: esc02.qq17@lab.test
        Via: SIP/2.0/TCP h7.lab.test;branch=z9hG4bK31%qx99
        CSeq: 17 OPT%49ONS
        Max-Forwards: 70
        Contact: <sip:first@h1.lab.test>
        Cont%61ct: <sip:second@h2.lab.test>
        Contact: <sip:third@h3.lab.test>
        l: 0
        """);

    /// <summary>§3.1.1.6: no LWS between an unquoted display name and the '&lt;'.</summary>
    public static readonly byte[] Lwsdisp = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: dave<sip:dave@lab.test>;tag=lw5
        Max-Forwards: 70
        Call-ID: lwsdisp.9911@lab.test
        CSeq: 12 OPTIONS
        Via: SIP/2.0/UDP h8.lab.test;branch=z9hG4bKlws
        l: 0
        """);

    /// <summary>§3.1.1.7: very long values and 34 Via lines under every spelling of the name.</summary>
    public static readonly string LongDisplay = "A caller whose name goes on " + string.Concat(Enumerable.Repeat("and on ", 40)) + "forever";
    public static readonly string LongUser = string.Concat(Enumerable.Repeat("verylongcaller", 12));
    public static readonly string LongToken = string.Concat(Enumerable.Repeat("4242", 30));
    public static readonly string LongHeaderName = "X-" + string.Concat(Enumerable.Repeat("Long", 25)) + "-Name";
    public static readonly string[] ViaSpellings = ["Via", "v", "V", "VIA", "via", "vIa", "ViA", "vIA", "V ", "v  ", "Via ", "Via  "];

    public static readonly byte[] Longreq = BuildLongreq();

    private static byte[] BuildLongreq()
    {
        var sb = new StringBuilder();
        sb.Append("INVITE sip:park@lab.test SIP/2.0\n");
        sb.Append($"To: \"{LongDisplay}\"<sip:park@lab.test:6060;longparam={LongToken}>\n");
        sb.Append($"F: sip:{LongUser}@far.lab.test;tag={LongToken}\n");
        sb.Append($"Call-ID: longreq.{LongToken}\n");
        sb.Append("CSeq: 1234567 INVITE\n");
        sb.Append($"{LongHeaderName}: {LongToken}; {LongToken}={LongToken}\n");
        for (var i = 33; i >= 1; i--) sb.Append($"{ViaSpellings[i % ViaSpellings.Length]}: SIP/2.0/TCP hop{i}.lab.test\n");
        sb.Append($"Via: SIP/2.0/TCP origin.lab.test;received=198.51.100.33;branch=z9hG4bK{LongToken}\n");
        sb.Append("Max-Forwards: 70\n");
        sb.Append($"Contact: <sip:{LongUser}@h9.lab.test>\n");
        sb.Append("Content-Type: application/sdp\n");
        sb.Append("l: {len}");
        return Wire.Message(sb.ToString(), Wire.Sdp("198.51.100.33"));
    }

    /// <summary>§3.1.1.8: two requests in one datagram; Content-Length 0 ends the first, the rest is not ours.</summary>
    public static readonly byte[] Dblreq = [.. Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        To: sip:first@lab.test
        From: sip:first@lab.test;tag=dbl1
        Max-Forwards: 9
        I: dblreq.first@lab.test
        Contact: sip:first@h10.lab.test
        CSeq: 77 REGISTER
        Via: SIP/2.0/UDP 203.0.113.10;branch=z9hG4bKdbl1
        Content-Length: 0
        """), .. Encoding.ASCII.GetBytes("\r\n"), .. Wire.Message(
        """
        INVITE sip:second@lab.test SIP/2.0
        t: sip:second@lab.test
        From: sip:first@lab.test;tag=dbl2
        Max-Forwards: 9
        Call-ID: dblreq.second@lab.test
        CSeq: 78 INVITE
        Via: SIP/2.0/UDP 203.0.113.10;branch=z9hG4bKdbl2
        Content-Type: application/sdp
        Content-Length: {len}
        """, Wire.Sdp("203.0.113.10"))];

    /// <summary>§3.1.1.9: a ';' in the user part is user, not a URI parameter.</summary>
    public static readonly byte[] Semiuri = Wire.Message(
        """
        OPTIONS sip:eve;pp=x%40alt.lab.test@park.lab.test SIP/2.0
        To: sip:eve@park.lab.test
        From: sip:mallory@lab.test;tag=semi1
        Max-Forwards: 5
        Call-ID: semiuri.41@lab.test
        CSeq: 3 OPTIONS
        Accept: application/sdp, text/plain,
                multipart/mixed, multipart/alternative,
                message/sipfrag, application/dialog-info+xml
        Via: SIP/2.0/UDP 203.0.113.4;branch=z9hG4bKsemi
        l: 0
        """);

    /// <summary>§3.1.1.10: known and unknown transports in Via.</summary>
    public static readonly byte[] Transports = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: <sip:dave@lab.test>;tag=tr4
        Max-Forwards: 70
        Call-ID:  transports.5r5@lab.test
        Accept: application/sdp
        CSeq: 61 OPTIONS
        Via: SIP/2.0/UDP a1.lab.test;branch=z9hG4bKt1
        Via: SIP/2.0/SCTP a2.lab.test;branch=z9hG4bKt2
        Via: SIP/2.0/TLS a3.lab.test;branch=z9hG4bKt3
        Via: SIP/2.0/ZZTP a4.lab.test;branch=z9hG4bKt4
        Via: SIP/2.0/TCP a5.lab.test;branch=z9hG4bKt5
        l: 0
        """);

    /// <summary>§3.1.1.11: a multipart body with a binary part (CR, LF and NUL bytes inside).</summary>
    public const string Boundary = "b0undary-7f3e";

    public static readonly byte[] MpartBody = BuildMultipart();

    public static readonly byte[] Mpart01 = Wire.Message(
        $"""
        MESSAGE sip:frank@lab.test SIP/2.0
        Via: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-mp-1;rport
        Max-Forwards: 70
        Route: <sip:127.0.0.1:5062;lr>
        Contact: <sip:erin@127.0.0.1:5072>
        To: <sip:frank@lab.test>
        From: <sip:erin@lab.test>;tag=mp01
        Call-ID: mpart01.erin@lab.test
        CSeq: 5 MESSAGE
        Content-Transfer-Encoding: binary
        Content-Type: multipart/mixed;boundary={Boundary}
        Content-Length: {"{len}"}
        """, MpartBody);

    private static byte[] BuildMultipart()
    {
        var binary = new byte[300];
        for (var i = 0; i < binary.Length; i++) binary[i] = (byte)(i * 37 + 11);
        var first = Wire.Crlf($"--{Boundary}\nContent-Type: text/plain\n\nhello frank\n--{Boundary}\nContent-Type: application/octet-stream\n\n");
        var last = Wire.Crlf($"\n--{Boundary}--\n");
        return [.. Encoding.ASCII.GetBytes(first), .. binary, .. Encoding.ASCII.GetBytes(last)];
    }

    /// <summary>§3.1.1.12: a reason phrase of symbols and UTF-8.</summary>
    public const string UnusualReason = "= 6 * 7 ≠ 41 — Привет, мир: всё хорошо";

    public static readonly byte[] Unreason = Wire.Message(
        $"""
        SIP/2.0 200 {UnusualReason}
        Via: SIP/2.0/UDP 198.51.100.8;branch=z9hG4bKunr
        Call-ID: unreason.8ff@lab.test
        CSeq: 36 INVITE
        From: sip:dave@lab.test;tag=u1
        To: sip:park@lab.test;tag=u2
        Content-Length: {"{len}"}
        Content-Type: application/sdp
        Contact: <sip:park@198.51.100.1>
        """, Wire.Sdp("198.51.100.1"));

    /// <summary>§3.1.1.13: an empty reason phrase (the SP before it is still there).</summary>
    public static readonly byte[] Noreason = Wire.Message(
        "SIP/2.0 183 \n" +
        """
        Via: SIP/2.0/UDP 198.51.100.9;branch=z9hG4bKnor
        Call-ID: noreason.3a@lab.test
        CSeq: 37 INVITE
        From: <sip:dave@lab.test>;tag=n1
        To: <sip:park@lab.test>;tag=n2
        Content-Length: 0
        Contact: <sip:park@198.51.100.1>
        """);

    public static IEnumerable<(string Name, byte[] Bytes)> All =>
    [
        ("wsinv", Wsinv), ("intmeth", Intmeth), ("esc01", Esc01), ("escnull", Escnull), ("esc02", Esc02),
        ("lwsdisp", Lwsdisp), ("longreq", Longreq), ("dblreq", Dblreq), ("semiuri", Semiuri),
        ("transports", Transports), ("mpart01", Mpart01), ("unreason", Unreason), ("noreason", Noreason),
    ];
}
