namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>Our own messages for RFC 4475 §3.1.2 (invalid messages) and §3.2 (transaction layer).</summary>
internal static class InvalidVectors
{
    /// <summary>§3.1.2.1: empty elements between separators in Via and Contact.</summary>
    public static readonly byte[] Badinv01 = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag=bi1
        Max-Forwards: 7
        Call-ID: badinv01.x1@lab.test
        CSeq: 9 INVITE
        Via: SIP/2.0/UDP 203.0.113.15;;,;,,
        Contact: "Gina" <sip:gina@h15.lab.test>;;;;
        Content-Length: {len}
        Content-Type: application/sdp
        """, Wire.Sdp("203.0.113.15"));

    /// <summary>§3.1.2.2: Content-Length larger than the datagram.</summary>
    public static readonly byte[] Clerr = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        Max-Forwards: 70
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag=cl1
        Contact: <sip:gina@h16.lab.test>
        Call-ID: clerr.x2@lab.test
        CSeq: 10 INVITE
        Via: SIP/2.0/UDP h16.lab.test;branch=z9hG4bKclerr
        Content-Type: application/sdp
        Content-Length: 7777
        """, Wire.Sdp("203.0.113.16"));

    /// <summary>§3.1.2.3: scalars past their range: CSeq, Max-Forwards, Expires, a Contact expires.</summary>
    public static readonly byte[] Scalar02 = Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        Via: SIP/2.0/TCP h17.lab.test;branch=z9hG4bKsc02
        To: <sip:hank@lab.test>
        From: <sip:hank@lab.test>;tag=sc2
        CSeq: 98765432109876543210 REGISTER
        Call-ID: scalar02.x3@lab.test
        Max-Forwards: 999
        Expires: 77777777777777777777777777777777777777777777777777
        Contact: <sip:hank@h17.lab.test>
          ;expires=98765432109876
        Content-Length: 0
        """);

    /// <summary>§3.1.2.4: a response with overlarge CSeq and Retry-After, and a four-digit warning code.</summary>
    public static readonly byte[] Scalarlg = Wire.Message(
        """
        SIP/2.0 503 Service Unavailable
        Via: SIP/2.0/TCP h17.lab.test;branch=z9hG4bKsclg;received=203.0.113.17
        To: <sip:hank@lab.test>
        From: <sip:ivy@lab.test>;tag=slg
        CSeq: 55555555555555555555555 OPTIONS
        Call-ID: scalarlg.x4@lab.test
        Retry-After: 66666666666666666666666666
        Warning: 3999 park.lab.test "Not really"
        Content-Length: 0
        """);

    /// <summary>§3.1.2.5: a display name whose quote never closes.</summary>
    public static readonly byte[] Quotbal = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        To: "Ms. Never Closed <sip:ms@lab.test>
        From: sip:gina@lab.test;tag=qb1
        Max-Forwards: 10
        Call-ID: quotbal.x5@lab.test
        Contact: <sip:gina@h18.lab.test>
        CSeq: 11 INVITE
        Via: SIP/2.0/UDP 203.0.113.18:5070;branch=z9hG4bKquot
        Content-Type: application/sdp
        Content-Length: {len}
        """, Wire.Sdp("203.0.113.18"));

    /// <summary>§3.1.2.6: a Request-URI in angle brackets.</summary>
    public static readonly byte[] Ltgtruri = StartLineVariant("INVITE <sip:park@lab.test> SIP/2.0", "ltgtruri");

    /// <summary>§3.1.2.7: LWS inside the Request-URI.</summary>
    public static readonly byte[] Lwsruri = StartLineVariant("INVITE sip:park@lab.test; maddr=203.0.113.1 SIP/2.0", "lwsruri");

    /// <summary>§3.1.2.8: several SP between the request line's elements.</summary>
    public static readonly byte[] Lwsstart = StartLineVariant("INVITE   sip:park@lab.test  SIP/2.0", "lwsstart");

    /// <summary>§3.1.2.9: SP and HTAB after the SIP-Version.</summary>
    public static readonly byte[] Trws = Wire.Message(
        "OPTIONS sip:park@lab.test SIP/2.0 \t \n" +
        """
        Via: SIP/2.0/TCP h19.lab.test;branch=z9hG4bKtrws
        To: <sip:park@lab.test>
        From: <sip:ivy@lab.test>;tag=tw1
        Call-ID: trws.x6@lab.test
        Accept: application/sdp
        CSeq: 12 OPTIONS
        Max-Forwards: 70
        Content-Length: 0
        """);

    /// <summary>§3.1.2.10: an escaped header in the Request-URI.</summary>
    public static readonly byte[] Escruri = StartLineVariant("INVITE sip:park@lab.test?Route=%3Csip:sneaky.lab.test%3E SIP/2.0", "escruri");

    /// <summary>§3.1.2.11: a Date that is not in GMT.</summary>
    public const string NonGmtDate = "Tue, 09 Mar 2027 10:15:00 PST";

    public static readonly byte[] Baddate = Wire.Message(
        $"""
        INVITE sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag=bd1
        Max-Forwards: 70
        Call-ID: baddate.x7@lab.test
        CSeq: 13 INVITE
        Via: SIP/2.0/UDP h20.lab.test;branch=z9hG4bKbdate
        Date: {NonGmtDate}
        Contact: <sip:gina@h20.lab.test>
        Content-Type: application/sdp
        Content-Length: {"{len}"}
        """, Wire.Sdp("203.0.113.20"));

    /// <summary>§3.1.2.12: a Contact URI with an escaped header, not in angle brackets.</summary>
    public static readonly byte[] Regbadct = Wire.Message(
        """
        REGISTER sip:lab.test SIP/2.0
        To: sip:jack@lab.test
        From: sip:jack@lab.test;tag=rb1
        Max-Forwards: 70
        Call-ID: regbadct.x8@lab.test
        CSeq: 14 REGISTER
        Via: SIP/2.0/UDP 203.0.113.21:5060;branch=z9hG4bKrbct
        Contact: sip:jack@h21.lab.test?Route=%3Csip:proxy.lab.test%3E
        l: 0
        """);

    /// <summary>§3.1.2.13: whitespace inside the angle brackets of an addr-spec.</summary>
    public static readonly byte[] Badaspec = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        Via: SIP/2.0/UDP h22.lab.test:5060;branch=z9hG4bKbasp
        Max-Forwards: 70
        From: "Doe, Jane" <sip:jane@lab.test>;tag=ba1
        To: "Roe, Rick" < sip:rick@lab.test >
        Call-ID: badaspec.x9@lab.test
        Accept: application/sdp
        CSeq: 15 OPTIONS
        l: 0
        """);

    /// <summary>§3.1.2.14: an unquoted display name with a non-token character (a comma).</summary>
    public static readonly byte[] Baddn = Wire.Message(
        """
        OPTIONS sip:rick@lab.test SIP/2.0
        Via:     SIP/2.0/UDP h23.lab.test:5060;branch=z9hG4bKbdn
        Max-Forwards:      70
        From:    Doe, Jane <sip:jane@lab.test>;tag=bn1
        To:      Roe, Rick <sip:rick@lab.test>
        Call-ID: baddn.x10@lab.test
        Accept: application/sdp
        CSeq:    16 OPTIONS
        l: 0
        """);

    /// <summary>§3.1.2.15: a SIP version we do not speak.</summary>
    public static readonly byte[] Badvers = Wire.Message(
        """
        OPTIONS sip:rick@lab.test SIP/9.1
        Via:     SIP/9.1/UDP h24.lab.test;branch=z9hG4bKbver
        Max-Forwards:     70
        From:    J. Doe <sip:jane@lab.test>;tag=bv1
        To:      R. Roe <sip:rick@lab.test>
        Call-ID: badvers.x11@lab.test
        CSeq:    1 OPTIONS
        l: 0
        """);

    /// <summary>§3.1.2.16: a CSeq method that is not the request's.</summary>
    public static readonly byte[] Mismatch01 = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag=mm1
        Max-Forwards: 6
        Call-ID: mismatch01.x12@lab.test
        CSeq: 17 BYE
        Via: SIP/2.0/UDP h25.lab.test;branch=z9hG4bKmm1
        l: 0
        """);

    /// <summary>§3.1.2.17: an unknown method whose CSeq names another method.</summary>
    public static readonly byte[] Mismatch02 = Wire.Message(
        """
        FROBNICATE sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag=mm2
        Max-Forwards: 6
        Call-ID: mismatch02.x13@lab.test
        CSeq: 18 INVITE
        Contact: <sip:gina@h26.lab.test>
        Via: SIP/2.0/UDP h26.lab.test;branch=z9hG4bKmm2
        Content-Type: application/sdp
        l: {len}
        """, Wire.Sdp("203.0.113.26"));

    /// <summary>§3.1.2.18: a status code far beyond three digits.</summary>
    public static readonly byte[] Bigcode = Wire.Message(
        """
        SIP/2.0 9876543210 this should not hurt
        Via: SIP/2.0/UDP 198.51.100.27;branch=z9hG4bKbig
        Call-ID: bigcode.x14@lab.test
        CSeq: 19 INVITE
        From: <sip:gina@lab.test>;tag=bc1
        To: <sip:park@lab.test>;tag=bc2
        Content-Length: 0
        Contact: <sip:park@198.51.100.1>
        """);

    /// <summary>§3.1.2 (negative Content-Length).</summary>
    public static readonly byte[] Ncl = Wire.Message(
        """
        INVITE sip:park@lab.test SIP/2.0
        Max-Forwards: 254
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag=nc1
        Call-ID: ncl.x15@lab.test
        CSeq: 0 INVITE
        Via: SIP/2.0/UDP 203.0.113.28;branch=z9hG4bKncl
        Contact: <sip:gina@h28.lab.test>
        Content-Type: application/sdp
        Content-Length: -321
        """, Wire.Sdp("203.0.113.28"));

    /// <summary>§3.2.1: a branch that is the magic cookie and nothing more.</summary>
    public static readonly byte[] Badbranch = Wire.Message(
        """
        OPTIONS sip:park@lab.test SIP/2.0
        To: sip:park@lab.test
        From: sip:ivy@lab.test;tag=bb1
        Max-Forwards: 3
        Via: SIP/2.0/UDP 203.0.113.29;branch=z9hG4bK
        Accept: application/sdp
        Call-ID: badbranch.x16@lab.test
        CSeq: 20 OPTIONS
        l: 0
        """);

    private static byte[] StartLineVariant(string startLine, string name) => Wire.Message(
        $"""
        {startLine}
        To: sip:park@lab.test
        From: sip:gina@lab.test;tag={name}
        Max-Forwards: 23
        Call-ID: {name}.x17@lab.test
        CSeq: 21 INVITE
        Via: SIP/2.0/UDP 203.0.113.30;branch=z9hG4bK{name}
        Contact: <sip:gina@h30.lab.test>
        Content-Type: application/sdp
        Content-Length: {"{len}"}
        """, Wire.Sdp("203.0.113.30"));

    public static IEnumerable<(string Name, byte[] Bytes)> All =>
    [
        ("badinv01", Badinv01), ("clerr", Clerr), ("scalar02", Scalar02), ("scalarlg", Scalarlg), ("quotbal", Quotbal),
        ("ltgtruri", Ltgtruri), ("lwsruri", Lwsruri), ("lwsstart", Lwsstart), ("trws", Trws), ("escruri", Escruri),
        ("baddate", Baddate), ("regbadct", Regbadct), ("badaspec", Badaspec), ("baddn", Baddn), ("badvers", Badvers),
        ("mismatch01", Mismatch01), ("mismatch02", Mismatch02), ("bigcode", Bigcode), ("ncl", Ncl), ("badbranch", Badbranch),
    ];
}
