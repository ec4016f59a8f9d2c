using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class SipMessageTransportTests
{
    private const string Branch = "z9hG4bK-test-";
    private static readonly IPEndPoint ParkAddress = new(IPAddress.Parse("10.0.0.1"), 5060);
    private static readonly IPAddress PhoneAddress = IPAddress.Parse("10.0.0.2");

    private readonly List<IAsyncDisposable> _asyncDisposables = [];
    private readonly List<IDisposable> _disposables = [];

    [TearDown]
    public async Task DisposeAll()
    {
        _disposables.ForEach(d => d.Dispose());
        _disposables.Clear();
        foreach (IAsyncDisposable disposable in _asyncDisposables)
        {
            await disposable.DisposeAsync().AsTask().WaitAsync(FrameCollector.Patience);
        }

        _asyncDisposables.Clear();
    }

    // ---- receiving: received and rport (RFC 3261 §18.2.1, RFC 3581 §4) ----

    [TestCase("SIP/2.0/UDP 192.0.2.7:5999;branch=z9hG4bK-a;rport", "127.0.0.1", true, TestName = "Another address and port, with rport: received and rport")]
    [TestCase("SIP/2.0/UDP 192.0.2.7:5999;branch=z9hG4bK-a", "127.0.0.1", false, TestName = "Another address, no rport: received only")]
    [TestCase("SIP/2.0/UDP phone.lab.test:5999;branch=z9hG4bK-a", "127.0.0.1", false, TestName = "A host name: received only")]
    [TestCase("SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-a;rport", "127.0.0.1", true, TestName = "The source address with rport: received anyway and rport")]
    [TestCase("SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-a", null, false, TestName = "The source address, no rport: left alone")]
    public async Task The_handler_sees_the_top_Via_stamped_with_where_the_request_really_came_from(
        string via, string? received, bool rport)
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();

        await phone.SendAsync(Request(via, "stamp-1"), udp.LocalEndPoint);

        IncomingMessage message = (await h.Messages.WaitForAsync(1))[0];
        ViaHeader top = message.Message.TopVia!;
        ViaHeader sent = ViaHeader.Parse(via);
        Assert.Multiple(() =>
        {
            Assert.That(top.Host, Is.EqualTo(sent.Host));
            Assert.That(top.Port, Is.EqualTo(5999));
            Assert.That(top.Branch, Is.EqualTo("z9hG4bK-a"));
            Assert.That(top.Received, Is.EqualTo(received));
            Assert.That(top.RPort, Is.EqualTo(rport ? phone.Port : null));
            Assert.That(message.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Udp, phone.LocalEndPoint)));
            Assert.That(message.Local, Is.EqualTo(udp.LocalEndPoint));
            Assert.That(message.ConnectionId, Is.Zero);
        });
    }

    [Test]
    public async Task Only_the_top_Via_is_stamped_and_the_others_keep_their_order()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();
        string request = Request("SIP/2.0/UDP 192.0.2.7:5999;branch=z9hG4bK-top;rport, SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK-2", "vias")
            .Replace("Max-Forwards: 70\r\n", "Via: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK-3\r\nMax-Forwards: 70\r\n", StringComparison.Ordinal);

        await phone.SendAsync(request, udp.LocalEndPoint);

        IReadOnlyList<ViaHeader> vias = (await h.Messages.WaitForAsync(1))[0].Message.Vias;
        Assert.That(vias.Select(v => v.Branch), Is.EqualTo(new[] { "z9hG4bK-top", "z9hG4bK-2", "z9hG4bK-3" }));
        Assert.That(vias[0].RPort, Is.EqualTo(phone.Port));
        Assert.That(vias.Skip(1).Select(v => v.Received), Is.All.Null);
    }

    // ---- sending responses (RFC 3261 §18.2.2, RFC 3581 §4) ----

    [Test]
    public async Task A_UDP_response_reaches_the_source_port_with_rport_though_the_Via_names_another_port()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        h.Messages.Then = m => Answer(h.Transport, m);
        RawUdpPeer phone = Peer();

        await phone.SendAsync(Request($"SIP/2.0/UDP 192.0.2.7:5999;branch={Branch}r;rport", "rport-1"), udp.LocalEndPoint);

        var (text, from) = await phone.ReceiveAsync();
        SipResponse response = ParseResponse(text);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200));
            Assert.That(response.CallId, Is.EqualTo("rport-1"));
            Assert.That(response.TopVia!.Received, Is.EqualTo("127.0.0.1"));
            Assert.That(response.TopVia!.RPort, Is.EqualTo(phone.Port));
            Assert.That(from, Is.EqualTo(udp.LocalEndPoint), "the response leaves from the socket the request came in on");
        });
    }

    [Test]
    public async Task A_UDP_response_without_rport_goes_to_the_sent_by_port_not_the_source_port()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        h.Messages.Then = m => Answer(h.Transport, m);
        RawUdpPeer sender = Peer();
        RawUdpPeer listener = Peer();

        await sender.SendAsync(Request($"SIP/2.0/UDP 127.0.0.1:{listener.Port};branch={Branch}s", "sent-by-1"), udp.LocalEndPoint);

        var (text, from) = await listener.ReceiveAsync();
        Assert.That(ParseResponse(text).CallId, Is.EqualTo("sent-by-1"));
        Assert.That(from, Is.EqualTo(udp.LocalEndPoint));
        Assert.That(sender.Available, Is.Zero);
    }

    [Test]
    public async Task A_UDP_response_leaves_from_the_socket_the_request_arrived_on_among_several([Values] bool handBuiltRequest)
    {
        var log = new CapturingLogger();
        var options = new TransportOptions { UdpReceiveLoops = 1 };
        var first = new UdpChannel(Loopback.V4Any, options, log);
        var second = new UdpChannel(Loopback.V4Any, options, log);
        Harness h = await StartAsync(log, first, second);
        // A message rebuilt by the layers above no longer knows its channel; its local address still tells.
        h.Messages.Then = m => Answer(h.Transport, handBuiltRequest
            ? new IncomingMessage(m.Message, m.Remote, m.Local, m.ConnectionId, m.ReceivedAt)
            : m);
        RawUdpPeer phone = Peer();

        await phone.SendAsync(Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}two", "two-sockets"), second.LocalEndPoint);

        var (_, from) = await phone.ReceiveAsync();
        Assert.That(from, Is.EqualTo(second.LocalEndPoint));
    }

    [Test]
    public async Task A_TCP_response_goes_back_on_the_connection_the_request_came_in_on_whatever_the_Via_says()
    {
        var (h, _, tcp) = await StartUdpTcpAsync();
        h.Messages.Then = m => Answer(h.Transport, m);
        RawTcpClient phone = await ConnectAsync(tcp.LocalEndPoint);

        await phone.SendAsync(Request($"SIP/2.0/TCP 192.0.2.7:5999;branch={Branch}t;rport", "tcp-1"));

        SipResponse response = ParseResponse(await phone.ReadFrameAsync());
        IncomingMessage request = h.Messages.Messages[0];
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200));
            Assert.That(response.CallId, Is.EqualTo("tcp-1"));
            Assert.That(response.TopVia!.Received, Is.EqualTo("127.0.0.1"));
            Assert.That(response.TopVia!.RPort, Is.EqualTo(phone.LocalEndPoint.Port));
            Assert.That(request.ConnectionId, Is.Not.Zero);
            Assert.That(request.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, phone.LocalEndPoint)));
            Assert.That(h.Events.Single(e => e.Direction == SipDirection.Out).Remote,
                Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, phone.LocalEndPoint)), "traced as reaching the connection's peer");
        });
    }

    [Test]
    public async Task A_TCP_response_whose_connection_has_closed_goes_to_the_received_address_and_the_sent_by_port()
    {
        var (h, _, tcp) = await StartUdpTcpAsync();
        using Socket phoneListener = Listen();
        int listenPort = ((IPEndPoint)phoneListener.LocalEndPoint!).Port;
        RawTcpClient phone = await ConnectAsync(tcp.LocalEndPoint);
        await phone.SendAsync(Request($"SIP/2.0/TCP 192.0.2.7:{listenPort};branch={Branch}gone", "tcp-gone"));
        IncomingMessage request = (await h.Messages.WaitForAsync(1))[0];

        phone.Dispose();
        await h.Log.WaitForAsync(e => e.Template.Contains("ended:", StringComparison.Ordinal));
        bool sent = await h.Transport.SendResponseAsync(SipResponse.CreateFor((SipRequest)request.Message, 200, toTag: "t1"), request);

        Assert.That(sent, Is.True);
        using RawTcpClient reconnected = RawTcpClient.Adopt(await phoneListener.AcceptAsync(Loopback.Timeout()));
        SipResponse response = ParseResponse(await reconnected.ReadFrameAsync());
        Assert.That(response.CallId, Is.EqualTo("tcp-gone"));
        Assert.That(h.Events.Single(e => e.Direction == SipDirection.Out).Remote,
            Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, new IPEndPoint(IPAddress.Loopback, listenPort))));
    }

    [Test]
    public async Task A_request_arriving_on_a_connection_we_opened_is_answered_on_that_connection([Values] bool handBuiltRequest)
    {
        var (h, _, tcp) = await StartUdpTcpAsync();
        h.Messages.Then = m => Answer(h.Transport, handBuiltRequest
            ? new IncomingMessage(m.Message, m.Remote, m.Local, m.ConnectionId, m.ReceivedAt)
            : m);
        using Socket peerListener = Listen();
        var peerAddress = (IPEndPoint)peerListener.LocalEndPoint!;
        var ours = (SipRequest)SipParser.Parse(Encoding.ASCII.GetBytes(
            Request($"SIP/2.0/TCP 127.0.0.1:{tcp.LocalEndPoint.Port};branch={Branch}out", "ours"))).Message!;

        Assert.That(await h.Transport.SendRequestAsync(ours, new SipEndPoint(SipProtocol.Tcp, peerAddress)), Is.True);
        using RawTcpClient peer = RawTcpClient.Adopt(await peerListener.AcceptAsync(Loopback.Timeout()));
        Assert.That(await peer.ReadFrameAsync(), Does.Contain("Call-ID: ours"));
        await peer.SendAsync(Request($"SIP/2.0/TCP 192.0.2.9;branch={Branch}back", "theirs"));

        SipResponse response = ParseResponse(await peer.ReadFrameAsync());
        Assert.That(response.CallId, Is.EqualTo("theirs"));
        Assert.That(h.Messages.Messages[0].Local.Port, Is.Not.EqualTo(tcp.LocalEndPoint.Port), "arrived on our end of an outbound connection");
    }

    // ---- broken requests and responses ----

    private static IEnumerable<TestCaseData> BrokenRequests()
    {
        yield return new TestCaseData("SIP/3.0", "sip:park@127.0.0.1", true, 505).SetName("A bad SIP version gets 505");
        yield return new TestCaseData("SIP/2.0", "xmpp:park@lab.test", true, 416).SetName("An unknown Request-URI scheme gets 416");
        yield return new TestCaseData("SIP/2.0", "sip:park@127.0.0.1", false, 400).SetName("A missing Call-ID gets 400");
    }

    [TestCaseSource(nameof(BrokenRequests))]
    public async Task A_broken_request_is_answered_with_Via_CSeq_and_Call_ID_copied_and_a_Warning(
        string version, string uri, bool withCallId, int status)
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();
        string callId = $"broken-{status}";

        await phone.SendAsync(Request($"SIP/2.0/UDP 192.0.2.7:5999;branch={Branch}b;rport", callId, uri: uri,
            version: version, withCallId: withCallId), udp.LocalEndPoint);

        var (text, from) = await phone.ReceiveAsync();
        SipResponse response = ParseResponse(text);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(status));
            Assert.That(from, Is.EqualTo(udp.LocalEndPoint));
            Assert.That(response.TopVia!.Branch, Is.EqualTo(Branch + "b"));
            Assert.That(response.TopVia!.Received, Is.EqualTo("127.0.0.1"));
            Assert.That(response.TopVia!.RPort, Is.EqualTo(phone.Port), "answered at the source port, as rport asks");
            Assert.That(response.CSeq, Is.EqualTo(new CSeqHeader(1, "OPTIONS")));
            Assert.That(response.Headers.Get(HeaderNames.CallId), Is.EqualTo(withCallId ? callId : null));
            Assert.That(response.Headers.Get(HeaderNames.Warning), Does.Match("^399 \\S+ \".+\"$"));
            Assert.That(response.To.Tag, Is.Not.Null.And.Not.Empty);
        });

        await SendBarrierAsync(h, phone, udp);
        Assert.That(h.Events.Count(e => e.Direction == SipDirection.Out), Is.EqualTo(1));
        Assert.That(h.Log.Entries.Count(e => e.Template.StartsWith("Rejected a request", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public async Task A_broken_request_over_TCP_is_answered_on_its_connection()
    {
        var (h, _, tcp) = await StartUdpTcpAsync();
        RawTcpClient phone = await ConnectAsync(tcp.LocalEndPoint);

        await phone.SendAsync(Request($"SIP/2.0/TCP 192.0.2.7:5999;branch={Branch}v", "tcp-505", version: "SIP/3.0"));

        Assert.That(ParseResponse(await phone.ReadFrameAsync()).StatusCode, Is.EqualTo(505));
        Assert.That(h.Messages.Messages, Is.Empty);
    }

    [Test]
    public async Task A_broken_ACK_is_never_answered()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();

        await phone.SendAsync(Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}ack", "ack-1", method: "ACK", version: "SIP/3.0"), udp.LocalEndPoint);
        await phone.SendAsync(Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}ack2", "ack-2", method: "ACK", uri: "xmpp:park@lab.test"), udp.LocalEndPoint);

        await SendBarrierAsync(h, phone, udp);
        Assert.That(phone.Available, Is.Zero);
        Assert.That(h.Events.Where(e => e.Direction == SipDirection.Out), Is.Empty);
    }

    [Test]
    public async Task A_broken_response_is_dropped_and_nothing_is_sent()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();
        string via = $"Via: SIP/2.0/UDP 127.0.0.1:{udp.LocalEndPoint.Port};branch={Branch}resp\r\n";
        const string Rest = "From: <sip:alice@lab.test>;tag=a\r\nTo: <sip:park@lab.test>;tag=b\r\n";
        string[] responses =
        [
            "SIP/2.0 200 OK\r\n" + via + Rest + "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",                     // no Call-ID
            "SIP/2.0 2000 OK\r\n" + via + Rest + "Call-ID: r2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",     // status code
            "SIP/2.0 200 OK\r\n" + via + Rest + "Call-ID: r3\r\nCSeq: one OPTIONS\r\nContent-Length: 0\r\n\r\n",    // CSeq number
            "SIP/2.0 200 OK\r\n" + Rest + "Call-ID: r4\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",            // no Via
            "SIP/7.0 200 OK\r\n" + via + Rest + "Call-ID: r5\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",      // version
        ];

        foreach (string response in responses)
        {
            await phone.SendAsync(response, udp.LocalEndPoint);
        }

        await SendBarrierAsync(h, phone, udp);
        Assert.That(phone.Available, Is.Zero);
        Assert.That(h.Events.Where(e => e.Direction == SipDirection.Out), Is.Empty);
        Assert.That(h.Log.Entries.Count(e => e.Template.StartsWith("Dropped a message", StringComparison.Ordinal)), Is.EqualTo(responses.Length));
    }

    [Test]
    public async Task No_broken_datagram_stops_the_receive_loop_and_each_gets_exactly_one_verdict()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();
        byte[][] garbage = BrokenDatagrams(phone.Port).ToArray();

        foreach (byte[] datagram in garbage)
        {
            await phone.SendAsync(datagram, udp.LocalEndPoint);
        }

        await SendBarrierAsync(h, phone, udp);
        string[] verdicts = ["Dropped a STUN packet", "Dropped a datagram", "Dropped a message", "Rejected a request"];
        Assert.Multiple(() =>
        {
            Assert.That(h.Log.Entries.Count(e => verdicts.Any(v => e.Template.StartsWith(v, StringComparison.Ordinal))),
                Is.EqualTo(garbage.Length), "one log verdict per datagram");
            Assert.That(h.Log.Entries.Where(e => e.Level >= LogLevel.Error), Is.Empty);
            Assert.That(h.Log.Entries.Where(e => e.Template.Contains("parsing it threw", StringComparison.Ordinal)), Is.Empty);
        });
    }

    // Each is broken in one way of its own; the comment says which. None is taken from RFC 4475.
    private static IEnumerable<byte[]> BrokenDatagrams(int port)
    {
        string via = $"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={Branch}g\r\n";
        const string Dialog = "From: <sip:alice@lab.test>;tag=a\r\nTo: <sip:park@lab.test>\r\nCall-ID: garbage\r\n";
        string Whole(string startLine, string headers, string body = "") =>
            $"{startLine}\r\n{headers}Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
        string Good(string extra = "", string cseq = "CSeq: 7 OPTIONS\r\n") => via + Dialog + cseq + extra;
        const string Line = "OPTIONS sip:park@127.0.0.1 SIP/2.0";

        byte[] A(string text) => Encoding.UTF8.GetBytes(text);

        yield return A(Line);                                                              // no line end at all
        yield return A(Line + "\r\n" + Good());                                            // no empty line after the headers
        yield return A(Whole(Line, Good("Bogus header line\r\n")));                        // header without a colon
        yield return A(Whole(Line, Good("Bad Name: x\r\n")));                              // header name with a space
        yield return A(Whole(Line, Good("Na(me: x\r\n")));                                 // header name not a token
        yield return A(Line + "\r\n" + Good() + "Content-Length: -5\r\n\r\n");             // negative Content-Length
        yield return A(Line + "\r\n" + Good() + "Content-Length: 12abc\r\n\r\n");          // Content-Length not a number
        yield return A(Line + "\r\n" + Good() + "Content-Length: 99999999999999\r\n\r\n"); // Content-Length overflowing
        yield return A(Line + "\r\n" + Good() + "l: 0\r\nContent-Length: 0\r\n\r\n");      // two Content-Lengths (one compact)
        yield return A(Line + "\r\n" + Good() + "Content-Length: 400\r\n\r\nshort body");   // body shorter than declared
        yield return A(Line + "\r\n  folded onto nothing\r\n" + Good() + "Content-Length: 0\r\n\r\n"); // fold before any header
        yield return A(Whole("OPTIONS  sip:park@127.0.0.1 SIP/2.0", Good()));             // two spaces in the request line
        yield return A(Whole("OPTIONS sip:park@127.0.0.1\tSIP/2.0", Good()));              // tab for a space
        yield return A(Whole("OPT(IONS sip:park@127.0.0.1 SIP/2.0", Good()));              // method not a token
        yield return [.. "OPT"u8, 0xFF, 0xFE, .. A($"IONS sip:park@127.0.0.1 SIP/2.0\r\n{Good()}Content-Length: 0\r\n\r\n")]; // bytes that are not UTF-8
        yield return A(Whole("OPTIONS sip:park@127.0.0.1 SIP/2.0.1", Good()));             // version with three numbers
        yield return A(Whole("OPTIONS sip:park@127.0.0.1 HTTP/1.1", Good()));              // HTTP version
        yield return A(Whole("OPTIONS sip:park@127.0.0.1 SIP/", Good()));                  // version cut short
        yield return A(Whole("OPTIONS <sip:park@127.0.0.1> SIP/2.0", Good()));             // Request-URI in angle brackets
        yield return A(Whole("OPTIONS park SIP/2.0", Good()));                             // Request-URI without a scheme
        yield return A(Whole("OPTIONS sip: SIP/2.0", Good()));                             // Request-URI without a host
        yield return A(Whole("OPTIONS sip:park@[::1 SIP/2.0", Good()));                    // unclosed IPv6 reference
        yield return A(Whole("OPTIONS sip:park@127.0.0.1:99999 SIP/2.0", Good()));         // port out of range
        yield return A(Whole("GET / HTTP/1.1", "Host: park\r\n"));                         // HTTP, no Via to answer to
        yield return A(Whole(Line, ""));                                                   // no headers at all
        yield return A(Whole(Line, "Via: SIP/2.0/UDP\r\n" + Dialog + "CSeq: 7 OPTIONS\r\n")); // Via without a host
        yield return A(Whole(Line, $"Via: SIP/2.0/UDP 127.0.0.1:99999;branch={Branch}p\r\n" + Dialog + "CSeq: 7 OPTIONS\r\n")); // Via port out of range
        yield return A(Whole(Line, $"Via: SIP/2.0/UDP [::1;branch={Branch}q\r\n" + Dialog + "CSeq: 7 OPTIONS\r\n")); // Via with an unclosed bracket
        yield return A(Whole(Line, Good(cseq: "CSeq: seven OPTIONS\r\n")));                // CSeq number not a number
        yield return A(Whole(Line, Good(cseq: "CSeq: 7 INVITE\r\n")));                     // CSeq method not the request's
        yield return A(Whole(Line, Good(cseq: "CSeq: 4294967296 OPTIONS\r\n")));           // CSeq number over 2^31 - 1
        yield return A(Whole(Line, Good(cseq: "")));                                       // no CSeq
        yield return A(Whole(Line, Good(cseq: "CSeq: 7 OPTIONS\r\nCSeq: 8 OPTIONS\r\n"))); // two CSeqs
        yield return A(Whole(Line, Good("Max-Forwards: 256\r\n")));                        // Max-Forwards out of range
        yield return A(Whole(Line, Good("Max-Forwards: 70\r\nMax-Forwards: 69\r\n")));     // two Max-Forwards
        yield return A(Whole(Line, Good("Expires: soon\r\n")));                            // Expires not a number
        yield return A(Whole(Line, Good("Call-ID: another\r\n")));                         // two Call-IDs
        yield return A(Whole(Line, via + "From: <sip:alice@lab.test;tag=a\r\nTo: <sip:park@lab.test>\r\nCall-ID: g\r\nCSeq: 7 OPTIONS\r\n")); // unclosed From
        yield return A(Whole(Line, via + "From: <sip:alice@lab.test>;tag=a\r\nCall-ID: g\r\nCSeq: 7 OPTIONS\r\n")); // no To
        yield return A(Whole(Line, Good("Contact: <sip:alice@127.0.0.1\r\n")));            // unclosed Contact
        yield return A(Whole("SIP/2.0 99 Too Early", Good()));                             // status code below 100
        yield return A(Whole("SIP/2.0 2OO OK", Good()));                                   // letters in the status code
        yield return A(Whole("SIP/2.0 200OK", Good()));                                    // no space after the code
        yield return A("SIP/2.0\r\n\r\n");                                                 // a status line with nothing else
        yield return A("\r\n\r\nINVITE");                                                  // CRLFs, then a word
        yield return [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, .. new byte[12]];  // STUN binding request
        yield return [0x16, 0x03, 0x01, 0x00, 0x2A, 0x01, 0x00, 0x00, 0x26, 0x03, 0x03]; // start of a TLS ClientHello
        yield return A("{\"sip\": \"OPTIONS\"}");                                          // JSON
        yield return A(" " + Whole(Line, Good()));                                         // a leading space
        yield return [.. A("OPTIONS sip:park@127.0.0.1"), 0x00, .. A($" SIP/2.0\r\n{Good()}Content-Length: 0\r\n\r\n")]; // NUL in the request line
        yield return A("OPTIONS sip:park@127.0.0.1 SIP/2.0\r\n" + new string('x', 9000) + "\r\n\r\n"); // one long line without a colon
        var random = new Random(4475);
        for (int i = 0; i < 20; i++)
        {
            var noise = new byte[random.Next(1, 600)];
            random.NextBytes(noise);
            yield return noise;                                                            // seeded noise
        }
    }

    // ---- STUN and other non-SIP on UDP ----

    [Test]
    public async Task STUN_and_other_datagrams_not_starting_with_a_token_character_are_dropped_at_Debug_before_parsing()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();
        byte[] stun = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

        await phone.SendAsync(stun, udp.LocalEndPoint);
        await phone.SendAsync([0x16, 0x03, 0x01, 0x02, 0x00], udp.LocalEndPoint);
        await phone.SendAsync("@" + Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}d", "at"), udp.LocalEndPoint);

        await SendBarrierAsync(h, phone, udp);
        Assert.That(phone.Available, Is.Zero);
        CapturingLogger.LogEntry[] dropped = h.Log.Entries.Where(e => e.Template.StartsWith("Dropped a", StringComparison.Ordinal)).ToArray();
        Assert.That(dropped.Select(e => e.Level), Is.All.EqualTo(LogLevel.Debug));
        Assert.That(dropped.Count(e => e.Template.Contains("STUN", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(dropped.Count(e => e.Template.Contains("not SIP", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    [Test]
    public async Task Leading_CRLFs_before_a_request_are_tolerated_on_UDP()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        RawUdpPeer phone = Peer();

        await phone.SendAsync("\r\n\r\n" + Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}crlf", "crlf"), udp.LocalEndPoint);

        Assert.That((await h.Messages.WaitForAsync(1))[0].Message.CallId, Is.EqualTo("crlf"));
    }

    // ---- MessageTraced and faults above ----

    [Test]
    public async Task MessageTraced_fires_once_for_the_request_in_and_once_for_the_response_out()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        h.Messages.Then = m => Answer(h.Transport, m);
        RawUdpPeer phone = Peer();
        string request = Request($"SIP/2.0/UDP 192.0.2.7:5999;branch={Branch}ev;rport", "events");

        await phone.SendAsync(request, udp.LocalEndPoint);
        var (response, _) = await phone.ReceiveAsync();

        SipMessageEvent[] events = h.Events.ToArray();
        Assert.That(events, Has.Length.EqualTo(2));
        Assert.Multiple(() =>
        {
            Assert.That(events[0].Direction, Is.EqualTo(SipDirection.In));
            Assert.That(events[0].Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Udp, phone.LocalEndPoint)));
            Assert.That(events[0].Local, Is.EqualTo(udp.LocalEndPoint));
            Assert.That(events[0].Message, Is.InstanceOf<SipRequest>());
            Assert.That(Encoding.UTF8.GetString(events[0].Bytes.Span), Is.EqualTo(request), "the bytes as they came, before stamping");
            Assert.That(events[1].Direction, Is.EqualTo(SipDirection.Out));
            Assert.That(events[1].Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Udp, phone.LocalEndPoint)), "where rport sent it, not the Via's 5999");
            Assert.That(events[1].Local, Is.EqualTo(udp.LocalEndPoint));
            Assert.That(((SipResponse)events[1].Message).StatusCode, Is.EqualTo(200));
            Assert.That(Encoding.UTF8.GetString(events[1].Bytes.Span), Is.EqualTo(response));
        });
    }

    [Test]
    public async Task A_handler_that_throws_does_not_stop_the_receive_loop([Values(SipProtocol.Udp, SipProtocol.Tcp)] SipProtocol protocol)
    {
        var (h, udp, tcp) = await StartUdpTcpAsync();
        h.Messages.Then = m => m.Message.CallId == "boom" ? throw new InvalidOperationException("handler bug") : ValueTask.CompletedTask;
        string first = Request($"SIP/2.0/{protocol.ToString().ToUpperInvariant()} 127.0.0.1;branch={Branch}1", "boom");
        string second = Request($"SIP/2.0/{protocol.ToString().ToUpperInvariant()} 127.0.0.1;branch={Branch}2", "fine", cseq: 2);

        if (protocol == SipProtocol.Udp)
        {
            RawUdpPeer phone = Peer();
            await phone.SendAsync(first, udp.LocalEndPoint);
            await phone.SendAsync(second, udp.LocalEndPoint);
        }
        else
        {
            RawTcpClient phone = await ConnectAsync(tcp.LocalEndPoint);
            await phone.SendAsync(first);
            await phone.SendAsync(second);
        }

        IReadOnlyList<IncomingMessage> messages = await h.Messages.WaitForAsync(2);
        Assert.That(messages.Select(m => m.Message.CallId), Is.EqualTo(new[] { "boom", "fine" }));
        CapturingLogger.LogEntry error = await h.Log.WaitForAsync(e => e.Template.StartsWith("Handling", StringComparison.Ordinal));
        Assert.That(error.Level, Is.EqualTo(LogLevel.Error));
    }

    [Test]
    public async Task A_MessageTraced_observer_that_throws_loses_no_message()
    {
        var (h, udp, _) = await StartUdpTcpAsync();
        h.Transport.MessageTraced += _ => throw new InvalidOperationException("observer bug");
        h.Messages.Then = m => Answer(h.Transport, m);
        RawUdpPeer phone = Peer();

        await phone.SendAsync(Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}o", "observed"), udp.LocalEndPoint);

        Assert.That(ParseResponse((await phone.ReceiveAsync()).Text).CallId, Is.EqualTo("observed"));
        Assert.That(h.Log.Entries.Count(e => e.Template.Contains("observer failed", StringComparison.Ordinal)), Is.EqualTo(2));
    }

    // ---- the in-memory network ----

    [Test]
    public async Task In_memory_UDP_the_request_is_stamped_and_the_response_follows_rport()
    {
        var network = new InMemoryNetwork();
        var log = new CapturingLogger();
        Harness h = await StartAsync(log, network.Attach(ParkAddress));
        h.Messages.Then = m => Answer(h.Transport, m);
        var (phone, phoneFrames) = await AttachPhoneAsync(network, SipProtocol.Udp, 5062);

        await phone.SendAsync(Encoding.ASCII.GetBytes(Request($"SIP/2.0/UDP 10.0.0.2:5999;branch={Branch}m;rport", "mem-udp")),
            ParkAddress, 0, CancellationToken.None);

        ReceivedFrame frame = (await phoneFrames.WaitForAsync(1))[0];
        SipResponse response = ParseResponse(Encoding.ASCII.GetString(frame.Data.Span));
        ViaHeader stamped = h.Messages.Messages[0].Message.TopVia!;
        Assert.Multiple(() =>
        {
            Assert.That(stamped.Received, Is.EqualTo("10.0.0.2"));
            Assert.That(stamped.RPort, Is.EqualTo(5062));
            Assert.That(response.CallId, Is.EqualTo("mem-udp"));
            Assert.That(frame.Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Udp, ParkAddress)));
        });
    }

    [Test]
    public async Task In_memory_TCP_the_response_returns_on_the_request_s_connection()
    {
        var network = new InMemoryNetwork();
        var log = new CapturingLogger();
        Harness h = await StartAsync(log, network.Attach(ParkAddress, SipProtocol.Tcp));
        h.Messages.Then = m => Answer(h.Transport, m);
        var (phone, phoneFrames) = await AttachPhoneAsync(network, SipProtocol.Tcp, 5062);

        await phone.SendAsync(Encoding.ASCII.GetBytes(Request($"SIP/2.0/TCP 10.0.0.2:5999;branch={Branch}mt", "mem-tcp")),
            ParkAddress, 0, CancellationToken.None);

        ReceivedFrame frame = (await phoneFrames.WaitForAsync(1))[0];
        IncomingMessage request = h.Messages.Messages[0];
        Assert.That(ParseResponse(Encoding.ASCII.GetString(frame.Data.Span)).CallId, Is.EqualTo("mem-tcp"));
        Assert.That(frame.ConnectionId, Is.EqualTo(request.ConnectionId).And.Not.Zero);
        Assert.That(h.Events.Single(e => e.Direction == SipDirection.Out).Remote,
            Is.EqualTo(new SipEndPoint(SipProtocol.Tcp, new IPEndPoint(PhoneAddress, 5062))));
    }

    [Test]
    public async Task In_memory_TCP_with_the_connection_gone_the_response_goes_to_the_sent_by_port()
    {
        var network = new InMemoryNetwork();
        var log = new CapturingLogger();
        Harness h = await StartAsync(log, network.Attach(ParkAddress, SipProtocol.Tcp));
        var (phone, _) = await AttachPhoneAsync(network, SipProtocol.Tcp, 5062);
        var (_, listenerFrames) = await AttachPhoneAsync(network, SipProtocol.Tcp, 5999);

        await phone.SendAsync(Encoding.ASCII.GetBytes(Request($"SIP/2.0/TCP 10.0.0.2:5999;branch={Branch}mg", "mem-gone")),
            ParkAddress, 0, CancellationToken.None);
        IncomingMessage request = (await h.Messages.WaitForAsync(1))[0];
        await phone.DisposeAsync();

        Assert.That(await h.Transport.SendResponseAsync(SipResponse.CreateFor((SipRequest)request.Message, 200, toTag: "t"), request), Is.True);
        ReceivedFrame frame = (await listenerFrames.WaitForAsync(1))[0];
        Assert.That(ParseResponse(Encoding.ASCII.GetString(frame.Data.Span)).CallId, Is.EqualTo("mem-gone"));
    }

    // ---- where responses go, as pure functions ----

    [TestCase("SIP/2.0/UDP 192.0.2.7:5999;branch=z9hG4bK1;received=127.0.0.1;rport=40000", "127.0.0.1:40000")]
    [TestCase("SIP/2.0/UDP 192.0.2.7:5999;branch=z9hG4bK1;received=127.0.0.1", "127.0.0.1:5999")]
    [TestCase("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1", "127.0.0.1:5060")]
    [TestCase("SIP/2.0/UDP 192.0.2.7:5999;branch=z9hG4bK1;maddr=127.0.0.9;received=127.0.0.1;rport=40000", "127.0.0.9:5999")]
    [TestCase("SIP/2.0/UDP [::1]:5999;branch=z9hG4bK1;received=::1;rport=40000", "[::1]:40000")]
    public void The_UDP_response_target_follows_RFC_3261_18_2_2_and_RFC_3581(string via, string expected)
    {
        var (response, request) = ResponseFor(via, SipProtocol.Udp);

        Assert.That(SipMessageTransport.ResponseTarget(response, request).ToString(), Is.EqualTo(expected));
    }

    [TestCase("SIP/2.0/TCP 192.0.2.7:5999;branch=z9hG4bK1;received=127.0.0.1;rport=40000", SipProtocol.Tcp, "127.0.0.1:5999")]
    [TestCase("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1", SipProtocol.Tcp, "127.0.0.1:5060")]
    [TestCase("SIP/2.0/TLS 127.0.0.1;branch=z9hG4bK1", SipProtocol.Tls, "127.0.0.1:5061")]
    public void With_its_connection_gone_a_stream_response_goes_to_received_and_the_sent_by_port(string via, SipProtocol protocol, string expected)
    {
        var (response, request) = ResponseFor(via, protocol);

        Assert.That(SipMessageTransport.ReconnectTarget(response, request).ToString(), Is.EqualTo(expected));
    }

    private static (SipResponse Response, IncomingMessage Request) ResponseFor(string via, SipProtocol protocol)
    {
        var response = new SipResponse(200);
        response.Headers.Add(HeaderNames.Via, via);
        var source = new IPEndPoint(via.Contains("::1", StringComparison.Ordinal) ? IPAddress.IPv6Loopback : IPAddress.Loopback, 40001);
        return (response, new IncomingMessage(response, new SipEndPoint(protocol, source), new IPEndPoint(source.Address, 5060), 0, DateTimeOffset.UnixEpoch));
    }

    // ---- helpers ----

    private sealed class Harness(SipMessageTransport transport, CapturingLogger log)
    {
        private readonly Lock _gate = new();
        private readonly List<SipMessageEvent> _events = [];

        public SipMessageTransport Transport { get; } = transport;

        public CapturingLogger Log { get; } = log;

        public MessageCollector Messages { get; } = new();

        public IReadOnlyList<SipMessageEvent> Events
        {
            get
            {
                lock (_gate)
                {
                    return [.. _events];
                }
            }
        }

        public void OnTraced(SipMessageEvent e)
        {
            lock (_gate)
            {
                _events.Add(e);
            }
        }
    }

    private Task<Harness> StartAsync(CapturingLogger log, params ISipChannel[] channels) => StartAsync(log, null, channels);

    private async Task<Harness> StartAsync(CapturingLogger log, TimeProvider? time, params ISipChannel[] channels)
    {
        var transport = new SipMessageTransport(channels, new TypedLogger<SipMessageTransport>(log), time);
        _asyncDisposables.Add(transport);
        var h = new Harness(transport, log);
        transport.MessageTraced += h.OnTraced;
        await transport.StartAsync(h.Messages.OnMessageAsync, CancellationToken.None);
        return h;
    }

    // One receive loop, so datagrams are handled in the order sent and a later one proves an earlier one done.
    private async Task<(Harness H, UdpChannel Udp, TcpChannel Tcp)> StartUdpTcpAsync()
    {
        var log = new CapturingLogger();
        var options = new TransportOptions { UdpReceiveLoops = 1 };
        var udp = new UdpChannel(Loopback.V4Any, options, log);
        var tcp = new TcpChannel(Loopback.V4Any, options, log);
        Harness h = await StartAsync(log, udp, tcp);
        return (h, udp, tcp);
    }

    /// <summary>A valid OPTIONS after everything else; once the handler has it, all before it were dealt with.</summary>
    private static async Task SendBarrierAsync(Harness h, RawUdpPeer phone, UdpChannel udp)
    {
        int before = h.Messages.Messages.Count;
        await phone.SendAsync(Request($"SIP/2.0/UDP 127.0.0.1:{phone.Port};branch={Branch}barrier", "barrier"), udp.LocalEndPoint);
        IReadOnlyList<IncomingMessage> messages = await h.Messages.WaitForAsync(before + 1);
        Assert.That(messages.Select(m => m.Message.CallId), Is.EqualTo(new[] { "barrier" }), "only the valid OPTIONS reached the handler");
    }

    private static async ValueTask Answer(SipMessageTransport transport, IncomingMessage request) =>
        await transport.SendResponseAsync(SipResponse.CreateFor((SipRequest)request.Message, 200, toTag: "park-1"), request);

    [Test]
    public async Task A_flood_of_broken_requests_is_answered_in_full_but_logged_within_a_budget_that_reports_what_it_left_out()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork();
        var log = new CapturingLogger();
        Harness h = await StartAsync(log, time, network.Attach(ParkAddress));
        var (phone, phoneFrames) = await AttachPhoneAsync(network, SipProtocol.Udp, 5062);
        int flood = SipMessageTransport.RejectionLineBurst + 5;
        int Rejected() => log.Entries.Count(e => e.Template.StartsWith("Rejected a request", StringComparison.Ordinal));
        IEnumerable<string> LeftOut() => log.Entries.Select(e => e.Message).Where(m => m.StartsWith("Left out", StringComparison.Ordinal));

        for (int i = 0; i < flood; i++)
        {
            await phone.SendAsync(Encoding.ASCII.GetBytes(Request($"SIP/2.0/UDP 10.0.0.2:5999;branch={Branch}f{i};rport", $"flood-{i}", version: "SIP/7.0")),
                ParkAddress, 0, CancellationToken.None);
        }
        await phoneFrames.WaitForAsync(flood);

        Assert.That(Rejected(), Is.EqualTo(SipMessageTransport.RejectionLineBurst), "one line each until the budget is spent");
        Assert.That(LeftOut(), Is.Empty);

        time.Advance(TimeSpan.FromSeconds(1));
        await phone.SendAsync(Encoding.ASCII.GetBytes(Request($"SIP/2.0/UDP 10.0.0.2:5999;branch={Branch}late;rport", "late", version: "SIP/7.0")),
            ParkAddress, 0, CancellationToken.None);
        await phoneFrames.WaitForAsync(flood + 1);

        Assert.That(Rejected(), Is.EqualTo(SipMessageTransport.RejectionLineBurst + 1), "the budget refilled");
        Assert.That(LeftOut().Single(), Does.StartWith("Left out 5 lines"));
        Assert.That(phoneFrames.Frames.Select(f => Encoding.ASCII.GetString(f.Data.Span)), Has.All.StartWith("SIP/2.0 505"), "every one was answered");
    }

    private static async Task<(InMemoryChannel Channel, FrameCollector Frames)> AttachPhoneAsync(
        InMemoryNetwork network, SipProtocol protocol, int port)
    {
        InMemoryChannel channel = network.Attach(new IPEndPoint(PhoneAddress, port), protocol);
        var frames = new FrameCollector();
        await channel.StartAsync(frames.OnFrame, CancellationToken.None);
        return (channel, frames);
    }

    private RawUdpPeer Peer()
    {
        var peer = new RawUdpPeer();
        _disposables.Add(peer);
        return peer;
    }

    private async Task<RawTcpClient> ConnectAsync(IPEndPoint server)
    {
        RawTcpClient client = await RawTcpClient.ConnectAsync(server);
        _disposables.Add(client);
        return client;
    }

    private static Socket Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(Loopback.V4Any);
        socket.Listen(4);
        return socket;
    }

    private static SipResponse ParseResponse(string text)
    {
        SipParseResult result = SipParser.Parse(Encoding.UTF8.GetBytes(text));
        Assert.That(result.Error, Is.Null, text);
        return (SipResponse)result.Message!;
    }

    private static string Request(string via, string callId, string method = "OPTIONS", string uri = "sip:park@127.0.0.1",
        string version = "SIP/2.0", bool withCallId = true, int cseq = 1) =>
        $"{method} {uri} {version}\r\n" +
        $"Via: {via}\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:alice@lab.test>;tag=alice-1\r\n" +
        "To: <sip:park@lab.test>\r\n" +
        (withCallId ? $"Call-ID: {callId}\r\n" : "") +
        $"CSeq: {cseq} {method}\r\n" +
        "Content-Length: 0\r\n\r\n";
}
