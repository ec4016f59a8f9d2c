namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>Our own messages for RFC 4475 §3.3 (application-layer semantics).</summary>
internal static class ApplicationVectors
{
    /// <summary>§3.3.1: no To, From or Call-ID.</summary>
    public static readonly byte[] Insuf = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        CSeq: 31 INVITE
        Via: SIP/2.0/UDP 203.0.113.40;branch=z9hG4bKinsuf
        Content-Type: application/sdp
        l: {len}
        """, Wire.Sdp("203.0.113.40"));

    /// <summary>§3.3.2: a Request-URI scheme nobody knows.</summary>
    public static readonly byte[] Unkscm = Wire.Message(
        """
        OPTIONS neverheardofit:completely-opaque-stuff SIP/2.0
        To: sip:park@lab.test
        From: sip:kim@lab.test;tag=us1
        Max-Forwards: 3
        Call-ID: unkscm.y1@lab.test
        CSeq: 32 OPTIONS
        Via: SIP/2.0/TCP h41.lab.test;branch=z9hG4bKunk
        Content-Length: 0
        """);

    /// <summary>§3.3.3: a novel scheme with an authority part in the Request-URI.</summary>
    public static readonly byte[] Novelsc = Wire.Message(
        """
        OPTIONS x-novel.scheme://203.0.113.42:4004 SIP/2.0
        To: sip:park@lab.test
        From: sip:kim@lab.test;tag=ns1
        Max-Forwards: 3
        Call-ID: novelsc.y2@lab.test
        CSeq: 33 OPTIONS
        Via: SIP/2.0/TCP h42.lab.test;branch=z9hG4bKnov
        Content-Length: 0
        """);

    /// <summary>§3.3.4: unknown schemes in To, From and Contact of a REGISTER.</summary>
    public static readonly byte[] Unksm2 = Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        To: isbn:9780000000002
        From: <mailto:kim@lab.test>;tag=u2x
        Call-ID: unksm2.y3@hyphen-ated.lab.test
        CSeq: 34 REGISTER
        Max-Forwards: 70
        Via: SIP/2.0/UDP 203.0.113.43:5060;branch=z9hG4bKunk2
        Contact: <name:Kim_Lee>
        l: 0
        """);

    /// <summary>§3.3.5: Require and Proxy-Require tags nobody supports.</summary>
    public static readonly byte[] Bext01 = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:kim@lab.test;tag=bx1
        Max-Forwards: 6
        Call-ID: bext01.y4@lab.test
        Require: warpDrive, timeTravel
        Proxy-Require: teleportation, noProxyDoesThis
        CSeq: 35 OPTIONS
        Via: SIP/2.0/TLS h44.lab.test;branch=z9hG4bKbext
        Content-Length: 0
        """);

    /// <summary>§3.3.6: a body of a type the UAS does not understand.</summary>
    public static readonly byte[] Invut = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        Contact: <sip:kim@h45.lab.test>
        To: sip:park@lab.test
        From: sip:kim@lab.test;tag=iu1
        Max-Forwards: 70
        Call-ID: invut.y5@lab.test
        CSeq: 36 INVITE
        Via: SIP/2.0/UDP h45.lab.test;branch=z9hG4bKinvut
        Content-Type: application/x-mystery-format
        Content-Length: {len}
        """, "<call>\n <codec name=\"opus\"/>\n</call>\n");

    /// <summary>§3.3.7: credentials in a scheme nobody knows.</summary>
    public static readonly byte[] Regaut01 = Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        To: sip:lou@lab.test
        From: sip:lou@lab.test;tag=ra1
        Max-Forwards: 8
        Call-ID: regaut01.y6@lab.test
        CSeq: 37 REGISTER
        Via: SIP/2.0/TCP 203.0.113.46;branch=z9hG4bKraut
        Authorization: MysteryScheme secret-stuff=inside
        Content-Length:0
        """);

    /// <summary>§3.3.8: two of each single-valued header.</summary>
    public static readonly byte[] Multi01 = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        Contact: <sip:lou@h47.lab.test>
        Via: SIP/2.0/UDP 203.0.113.47;branch=z9hG4bKmulti
        Max-Forwards: 70
        CSeq: 38 INVITE
        Call-ID: multi01.first@lab.test
        CSeq: 39 INVITE
        Call-ID: multi01.second@lab.test
        From: sip:lou@lab.test;tag=mu1
        To: sip:park@lab.test
        To: sip:other@lab.test
        From: sip:lou@other.lab.test;tag=mu2
        Content-Type: application/sdp
        l: {len}
        Contact: <sip:lou@h48.lab.test>
        Max-Forwards: 4
        """, Wire.Sdp("203.0.113.47"));

    /// <summary>§3.3.9: two Content-Length values.</summary>
    public static readonly byte[] Mcl01 = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        Via: SIP/2.0/UDP h49.lab.test;branch=z9hG4bKmcl
        To: sip:park@lab.test
        From: sip:lou@lab.test;tag=mc1
        Call-ID: mcl01.y7@lab.test
        CSeq: 40 OPTIONS
        Content-Length: 11
        Max-Forwards: 60
        Content-Length: 4
        Content-Type: text/plain
        """, "Which of the two lengths is right? Neither can be trusted.\n");

    /// <summary>§3.3.10: a response whose next Via is the broadcast address.</summary>
    public static readonly byte[] Bcast = Wire.Message(
        """
        SIP/2.0 200 OK
        Via: SIP/2.0/UDP 198.51.100.50;branch=z9hG4bKbc1
        Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKbc2
        Call-ID: bcast.y8@lab.test
        CSeq: 41 INVITE
        From: sip:lou@lab.test;tag=bc3
        To: sip:park@lab.test;tag=bc4
        Content-Length: {len}
        Content-Type: application/sdp
        Contact: <sip:park@198.51.100.1>
        """, Wire.Sdp("198.51.100.1"));

    /// <summary>§3.3.11: Max-Forwards 0.</summary>
    public static readonly byte[] Zeromf = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:lou@lab.test;tag=zm1
        Call-ID: zeromf.y9@lab.test
        CSeq: 42 OPTIONS
        Via: SIP/2.0/UDP h51.lab.test;branch=z9hG4bKzmf
        Max-Forwards: 0
        Content-Length: 0
        """);

    /// <summary>§3.3.12: a Contact addr-spec whose parameter belongs to the header, not the URI.</summary>
    public static readonly byte[] Cparam01 = ContactVariant("sip:+15550001111@gw.lab.test;oddparam", "cparam01");

    /// <summary>§3.3.13: the same parameter inside angle brackets belongs to the URI.</summary>
    public static readonly byte[] Cparam02 = ContactVariant("<sip:+15550001111@gw.lab.test;oddparam>", "cparam02");

    /// <summary>§3.3.14: an escaped Route header inside a bracketed Contact URI: legal, kept for the binding.</summary>
    public static readonly byte[] Regescrt = Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        To: sip:mia@lab.test
        From: sip:mia@lab.test;tag=re1
        Max-Forwards: 70
        Call-ID: regescrt.y10@lab.test
        CSeq: 43 REGISTER
        Via: SIP/2.0/UDP h52.lab.test;branch=z9hG4bKresc
        M: <sip:mia@lab.test?Route=%3Csip:proxy.lab.test;lr%3E>
        L:0
        """);

    /// <summary>§3.3.15: an INVITE whose Accept leaves out application/sdp.</summary>
    public static readonly byte[] Sdp01 = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        Contact: <sip:mia@h53.lab.test>
        From: sip:mia@lab.test;tag=sd1
        Max-Forwards: 5
        Call-ID: sdp01.y11@lab.test
        Accept: text/x-nothing-known
        CSeq: 44 INVITE
        Via: SIP/2.0/UDP 203.0.113.53;branch=z9hG4bKsdp
        Content-Length: {len}
        Content-Type: application/sdp
        """, Wire.Sdp("203.0.113.53"));

    /// <summary>§3.3.16: an RFC 2543 INVITE: no branch, no Max-Forwards, no From tag.</summary>
    public static readonly byte[] Inv2543 = Wire.Message(
        """
        INVITE sip:Park@lab.test SIP/2.0
        Via: SIP/2.0/UDP oldgw.lab.test
        From: <sip:+15550002222@oldgw.lab.test;user=phone>
        Record-Route: <sip:Park@lab.test;maddr=ss9.lab.test>
        To: sip:+15550003333@ss9.lab.test;user=phone
        Call-ID: inv2543.y12@oldgw.lab.test
        CSeq: 45 INVITE
        Content-Type: application/sdp
        """, Wire.Sdp("203.0.113.54"));

    private static byte[] ContactVariant(string contact, string name) => Wire.Message(
        $"""
        REGISTER sip:lab.test SIP/2.0
        Via: SIP/2.0/UDP h55.lab.test:5060;branch=z9hG4bK{name}
        Max-Forwards: 70
        From: sip:ned@lab.test;tag={name}
        To: sip:ned@lab.test
        Call-ID: {name}.y13@h55.lab.test
        CSeq: 46 REGISTER
        Contact: {contact}
        l: 0
        """);

    public static IEnumerable<(string Name, byte[] Bytes)> All =>
    [
        ("insuf", Insuf), ("unkscm", Unkscm), ("novelsc", Novelsc), ("unksm2", Unksm2), ("bext01", Bext01),
        ("invut", Invut), ("regaut01", Regaut01), ("multi01", Multi01), ("mcl01", Mcl01), ("bcast", Bcast),
        ("zeromf", Zeromf), ("cparam01", Cparam01), ("cparam02", Cparam02), ("regescrt", Regescrt), ("sdp01", Sdp01),
        ("inv2543", Inv2543),
    ];
}
