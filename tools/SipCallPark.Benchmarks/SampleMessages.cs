using System.Text;

namespace SipCallPark.Benchmarks;

/// <summary>Realistic messages as a softphone and a registrar send them.</summary>
internal static class SampleMessages
{
    private const string Sdp =
        "v=0\r\n" +
        "o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n" +
        "s=Talk\r\n" +
        "c=IN IP4 192.0.2.10\r\n" +
        "t=0 0\r\n" +
        "m=audio 49170 RTP/AVP 0 8 9 101\r\n" +
        "a=rtpmap:0 PCMU/8000\r\n" +
        "a=rtpmap:8 PCMA/8000\r\n" +
        "a=rtpmap:9 G722/8000\r\n" +
        "a=rtpmap:101 telephone-event/8000\r\n" +
        "a=fmtp:101 0-16\r\n" +
        "a=ptime:20\r\n" +
        "a=sendrecv\r\n";

    public static readonly byte[] Invite = Encoding.ASCII.GetBytes(
        "INVITE sip:7001@callpark.lab SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bK.8fA2kq0Lx\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: \"Alice\" <sip:alice@callpark.lab>;tag=9fxced76sl\r\n" +
        "To: <sip:7001@callpark.lab>\r\n" +
        "Call-ID: 3848276298220188511@192.0.2.10\r\n" +
        "CSeq: 21 INVITE\r\n" +
        "Contact: <sip:alice@192.0.2.10:5060;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-00FD45A1B2C3>\"\r\n" +
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n" +
        "Supported: replaces, outbound, gruu, timer\r\n" +
        "User-Agent: Linphone-Desktop/5.2.6 (alice-laptop) ubuntu/22.04 Qt/5.15.2 LinphoneSDK/5.3.30\r\n" +
        "Session-Expires: 1800\r\n" +
        "Content-Type: application/sdp\r\n" +
        $"Content-Length: {Sdp.Length}\r\n" +
        "\r\n" + Sdp);

    public static readonly byte[] Ok200 = Encoding.ASCII.GetBytes(
        "SIP/2.0 200 OK\r\n" +
        "Via: SIP/2.0/UDP 192.0.2.10:5060;rport=5060;received=192.0.2.10;branch=z9hG4bK.8fA2kq0Lx\r\n" +
        "From: \"Alice\" <sip:alice@callpark.lab>;tag=9fxced76sl\r\n" +
        "To: <sip:7001@callpark.lab>;tag=park-5a1c09\r\n" +
        "Call-ID: 3848276298220188511@192.0.2.10\r\n" +
        "CSeq: 21 INVITE\r\n" +
        "Contact: <sip:park@127.0.0.1:5060;transport=udp>\r\n" +
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY\r\n" +
        "Supported: replaces, timer\r\n" +
        "Server: SipCallPark/1.0\r\n" +
        "Content-Type: application/sdp\r\n" +
        $"Content-Length: {Sdp.Length}\r\n" +
        "\r\n" + Sdp);

    public static readonly byte[] Register = Encoding.ASCII.GetBytes(
        "REGISTER sip:callpark.lab SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bK.r3gQ91m\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:alice@callpark.lab>;tag=reg7Yk2\r\n" +
        "To: <sip:alice@callpark.lab>\r\n" +
        "Call-ID: reg-77a01f3c@192.0.2.10\r\n" +
        "CSeq: 5 REGISTER\r\n" +
        "Contact: <sip:alice@192.0.2.10:5060;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-00FD45A1B2C3>\"\r\n" +
        "Authorization: Digest username=\"alice\", realm=\"callpark.lab\", nonce=\"5f3a1c9e0b\", uri=\"sip:callpark.lab\", response=\"0f6d2a44b1c3e5f7a9b1c3d5e7f9a1b3\", algorithm=MD5, cnonce=\"a1b2c3\", qop=auth, nc=00000001\r\n" +
        "Expires: 3600\r\n" +
        "Supported: outbound, path, gruu\r\n" +
        "User-Agent: Linphone-Desktop/5.2.6\r\n" +
        "Content-Length: 0\r\n" +
        "\r\n");
}
