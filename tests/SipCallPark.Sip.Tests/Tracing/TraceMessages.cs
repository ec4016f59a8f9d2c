using System.Net;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Tracing;

/// <summary>Small SIP texts parsed by the real parser, wrapped as the events the transport raises.</summary>
internal static class TraceMessages
{
    public static readonly IPEndPoint PoolV4 = new(IPAddress.Loopback, 5060);
    public static readonly IPEndPoint PhoneV4 = new(IPAddress.Loopback, 40100);
    public static readonly IPEndPoint PoolV6 = new(IPAddress.IPv6Loopback, 5060);
    public static readonly IPEndPoint PhoneV6 = new(IPAddress.IPv6Loopback, 40200);

    public static string Request(string method, int cseq, string callId = "pcap-call-1", string body = "") =>
        $"{method} sip:701@127.0.0.1 SIP/2.0\r\n" +
        $"Via: SIP/2.0/UDP 127.0.0.1:40100;branch=z9hG4bK-{method.ToLowerInvariant()}-{cseq}\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n" +
        "To: <sip:701@127.0.0.1>\r\n" +
        $"Call-ID: {callId}\r\n" +
        $"CSeq: {cseq} {method}\r\n" +
        "Contact: <sip:alice@127.0.0.1:40100>\r\n" +
        $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n" +
        "\r\n" + body;

    public static string Response(int status, string reason, string method, int cseq, string callId = "pcap-call-1") =>
        $"SIP/2.0 {status} {reason}\r\n" +
        $"Via: SIP/2.0/UDP 127.0.0.1:40100;branch=z9hG4bK-{method.ToLowerInvariant()}-{cseq}\r\n" +
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n" +
        "To: <sip:701@127.0.0.1>;tag=p1\r\n" +
        $"Call-ID: {callId}\r\n" +
        $"CSeq: {cseq} {method}\r\n" +
        "Content-Length: 0\r\n" +
        "\r\n";

    public static SipMessageEvent Event(SipDirection direction, SipProtocol protocol, IPEndPoint remote, IPEndPoint local, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        SipParseResult parsed = SipParser.Parse(bytes);
        Assert.That(parsed.Message, Is.Not.Null, parsed.Error);
        return new SipMessageEvent(direction, parsed.Message!, new SipEndPoint(protocol, remote), local, bytes);
    }

    public static SipMessageEvent In(SipProtocol protocol, IPEndPoint remote, IPEndPoint local, string text) =>
        Event(SipDirection.In, protocol, remote, local, text);

    public static SipMessageEvent Out(SipProtocol protocol, IPEndPoint remote, IPEndPoint local, string text) =>
        Event(SipDirection.Out, protocol, remote, local, text);

    /// <summary>A call's worth of traffic over UDP and TCP on IPv4 and IPv6, in and out.</summary>
    public static IReadOnlyList<SipMessageEvent> Mixed() =>
    [
        In(SipProtocol.Udp, PhoneV4, PoolV4, Request("REGISTER", 1)),
        Out(SipProtocol.Udp, PhoneV4, PoolV4, Response(200, "OK", "REGISTER", 1)),
        In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("INVITE", 2, "pcap-call-2")),
        Out(SipProtocol.Tcp, PhoneV4, PoolV4, Response(100, "Trying", "INVITE", 2, "pcap-call-2")),
        Out(SipProtocol.Tcp, PhoneV4, PoolV4, Response(200, "OK", "INVITE", 2, "pcap-call-2")),
        In(SipProtocol.Tcp, PhoneV4, PoolV4, Request("ACK", 2, "pcap-call-2")),
        In(SipProtocol.Udp, PhoneV6, PoolV6, Request("OPTIONS", 3, "pcap-call-3")),
        Out(SipProtocol.Udp, PhoneV6, PoolV6, Response(200, "OK", "OPTIONS", 3, "pcap-call-3")),
        In(SipProtocol.Tcp, PhoneV6, PoolV6, Request("BYE", 4, "pcap-call-4")),
        Out(SipProtocol.Tcp, PhoneV6, PoolV6, Response(200, "OK", "BYE", 4, "pcap-call-4")),
    ];
}
