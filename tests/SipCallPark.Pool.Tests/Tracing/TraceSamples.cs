using System.Net;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Tracing;

/// <summary>Parsed SIP messages wrapped as the transport reports them, for the trace tests.</summary>
internal static class TraceSamples
{
    public static readonly SipEndPoint Phone = new(SipProtocol.Udp, new IPEndPoint(IPAddress.Loopback, 5070));
    public static readonly IPEndPoint Local = new(IPAddress.Loopback, 5060);

    public static string Request(string method, string target = "sip:bob@callpark.lab", string from = "alice", string to = "bob",
        string callId = "trace-1@127.0.0.1") =>
        $"{method} {target} SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
        "Max-Forwards: 70\r\n" +
        $"To: <sip:{to}@callpark.lab>\r\n" +
        $"From: \"{from}\" <sip:{from}@callpark.lab>;tag=a1\r\n" +
        $"Call-ID: {callId}\r\n" +
        $"CSeq: 1 {method}\r\n" +
        "Content-Length: 0\r\n\r\n";

    public static SipMessageEvent Event(SipDirection direction, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        var parsed = SipParser.Parse(bytes.AsSpan());
        Assert.That(parsed.Error, Is.Null, "test message must parse");
        return new SipMessageEvent(direction, parsed.Message!, Phone, Local, bytes);
    }
}
