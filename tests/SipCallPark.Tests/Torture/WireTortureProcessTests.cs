using System.Text;
using SipCallPark.Sip.Tests.Message.Torture;
using SipCallPark.Tests.Hosting;

namespace SipCallPark.Tests.Torture;

/// <summary>
/// RFC 4475 on the wire: every vector of the parser's torture tests (our own messages setting the RFC's traps) is
/// sent to the real pool executable over UDP, TCP, TLS, WebSocket and secure WebSocket, each from its own socket. The pool must answer each as
/// <see cref="Table"/> says, drop the broken responses, answer an OPTIONS ping after every vector, and log exactly
/// one line naming the sender's transport address for every message it rejects as broken.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class WireTortureProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What the pool does with each vector. A number is the final status; <c>drop</c> is no answer with one log line
    /// (a broken response, or a request whose Via gives nowhere to answer); <c>ignore</c> is no answer and no line
    /// (a well-formed stray response, discarded as RFC 3261 §18.1.2 says); <c>close</c> is the TCP connection closed
    /// with one line (a stream without a usable Content-Length cannot be resynchronised, §18.3); <c>wait</c> is a TCP
    /// message still waiting for the rest of its body. 400, 416 and 505 come from the transport and are logged once;
    /// 407 (every new request is authenticated before any routing, docs/design.md §11), 403 (an in-dialog request
    /// that did not come along the pool's own Record-Route), 420 (Proxy-Require) and 483 are the proxy's ordinary
    /// answers, seen in the SIP trace rather than the log.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string Udp, string Tcp)> Table = new Dictionary<string, (string, string)>
    {
        // §3.1.1 valid messages: parsed, then challenged (no credentials) or, in a dialog, refused (not the pool's dialog).
        ["wsinv"] = ("403", "403"), ["intmeth"] = ("407", "407"), ["esc01"] = ("407", "407"), ["escnull"] = ("407", "407"),
        ["esc02"] = ("407", "407"), ["lwsdisp"] = ("407", "407"), ["longreq"] = ("407", "407"),
        ["dblreq"] = ("407", "407+407"),   // a datagram is one message (the rest is ignored); a stream carries both
        ["semiuri"] = ("407", "407"), ["transports"] = ("407", "407"), ["mpart01"] = ("407", "407"),
        ["unreason"] = ("ignore", "ignore"), ["noreason"] = ("ignore", "ignore"),
        // §3.1.2 invalid messages and §3.2 transaction-layer traps.
        ["badinv01"] = ("drop", "drop"),   // RFC: 400; its Via is unusable, so there is no address to answer
        ["clerr"] = ("400", "wait"),
        ["scalar02"] = ("400", "400"), ["scalarlg"] = ("drop", "drop"), ["quotbal"] = ("400", "400"),
        ["ltgtruri"] = ("400", "400"), ["lwsruri"] = ("400", "400"), ["lwsstart"] = ("400", "400"),
        ["trws"] = ("407", "407"),         // §3.1.2.9 allows accepting it: parsed, then challenged
        ["escruri"] = ("400", "400"), ["baddate"] = ("407", "407"), ["regbadct"] = ("400", "400"),
        ["badaspec"] = ("400", "400"), ["baddn"] = ("400", "400"), ["badvers"] = ("505", "505"),
        ["mismatch01"] = ("400", "400"), ["mismatch02"] = ("400", "400"), ["bigcode"] = ("drop", "drop"),
        ["ncl"] = ("400", "close"), ["badbranch"] = ("407", "407"),
        // §3.3 application-layer semantics.
        ["insuf"] = ("400", "400"), ["unkscm"] = ("416", "416"), ["novelsc"] = ("416", "416"),
        ["unksm2"] = ("407", "407"), ["bext01"] = ("420", "420"), ["invut"] = ("407", "407"),
        ["regaut01"] = ("407", "407"), ["multi01"] = ("400", "400"), ["mcl01"] = ("400", "close"),
        ["bcast"] = ("ignore", "ignore"), ["zeromf"] = ("483", "483"), ["cparam01"] = ("407", "407"),
        ["cparam02"] = ("407", "407"), ["regescrt"] = ("407", "407"), ["sdp01"] = ("407", "407"),
        ["inv2543"] = ("407", "close"),
    };

    private static IEnumerable<(string Name, byte[] Bytes)> AllVectors =>
        ValidVectors.All.Concat(InvalidVectors.All).Concat(ApplicationVectors.All);

    [Test]
    public void The_table_names_every_vector_once()
    {
        Assert.That(Table.Keys, Is.EquivalentTo(AllVectors.Select(v => v.Name)));
    }

    [TestCase("udp", TestName = "Every_RFC_4475_vector_over_UDP_is_answered_as_the_table_says_the_pool_keeps_serving_and_logs_one_line_per_rejection")]
    [TestCase("tcp", TestName = "Every_RFC_4475_vector_over_TCP_is_answered_as_the_table_says_the_pool_keeps_serving_and_logs_one_line_per_rejection")]
    [TestCase("tls", TestName = "Every_RFC_4475_vector_over_TLS_is_answered_as_over_TCP_the_pool_keeps_serving_and_logs_one_line_per_rejection")]
    [TestCase("ws", TestName = "Every_RFC_4475_vector_over_WebSocket_is_answered_as_over_UDP_the_pool_keeps_serving_and_logs_one_line_per_rejection")]
    [TestCase("wss", TestName = "Every_RFC_4475_vector_over_secure_WebSocket_is_answered_as_over_UDP_the_pool_keeps_serving_and_logs_one_line_per_rejection")]
    public async Task Vectors(string transport)
    {
        using var setup = new ParkPoolSetup();
        // TLS frames exactly as TCP does, so the table's TCP column holds for it too. A WebSocket message is one whole
        // SIP message (RFC 7118 §5), as a datagram is: no Content-Length framing, so the UDP column holds for WS and WSS.
        // Where the columns differ that is by design: clerr (Content-Length beyond the body) and ncl, mcl01 (no usable
        // Content-Length) are answered 400 rather than waited on or closed, inv2543 (none at all) is simply parsed,
        // and dblreq's second message is ignored rather than read as a message of its own.
        var byMessage = transport is "udp" or "ws" or "wss";
        var connected = transport != "udp";
        var port = SipCallPark.Lab.LoopbackPorts.FreeTcp();
        using var pool = transport switch
        {
            "tls" => setup.Start("--Pool:Sip:Transports:2=tls", $"--Pool:Sip:TlsPort={port}"),
            "ws" => setup.Start("--Pool:Sip:Transports:2=ws", $"--Pool:Sip:WebSocketPort={port}"),
            "wss" => setup.Start("--Pool:Sip:Transports:2=wss", $"--Pool:Sip:SecureWebSocketPort={port}"),
            _ => setup.Start(),
        };
        Assert.That(await pool.WaitUntilStartedAsync(TimeSpan.FromSeconds(60)), Is.True, pool.Output + pool.Error);
        var target = transport is "udp" or "tcp" ? setup.SipEndPoint : new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port);
        var outcomes = new List<(string Name, string Expected, string Seen, string Endpoint)>();
        var pings = 0;

        // Every socket stays open until the end: the log is matched to a vector by its client's port, and a closed
        // socket's ephemeral port may be handed to a later vector's client, which would then own two vectors' lines.
        var sockets = new List<WireClient>();
        async Task<WireClient> OpenAsync()
        {
            var socket = await WireClient.ConnectAsync(transport, target);
            sockets.Add(socket);
            return socket;
        }

        try
        {
            foreach (var (name, bytes) in AllVectors)
            {
                var expected = byMessage ? Table[name].Udp : Table[name].Tcp;
                var client = await OpenAsync();
                var toSend = bytes;
                // Over UDP the answer goes to the Via's sent-by port (§18.2.2): point it here. A connection gets its answers on itself.
                if (!connected) Assert.That(client.TryAimVia(bytes, out toSend), Is.True, $"{name} has a Via to point at the test");
                await client.SendAsync(toSend);

                // The pool must still serve: a ping on the same socket, or on a new connection when the vector's is closed
                // or still holds an incomplete message.
                var other = expected is "close" or "wait" ? await OpenAsync() : null;
                var pinger = other ?? client;
                var pingId = $"ping-{++pings}-{name}";
                await pinger.SendAsync(pinger.Ping(pingId));
                Assert.That((await pinger.WaitForAsync(r => r.CallId == pingId, Bound))?.Status, Is.EqualTo(200), $"ping after {name}");

                var wanted = expected.Split('+').Where(s => int.TryParse(s, out _)).Select(int.Parse).ToArray();
                if (wanted.Length > 0) await client.WaitForAsync(r => r.CallId != pingId && client.Responses.Count(x => x.CallId != pingId && x.Status >= 200) >= wanted.Length, Bound);
                if (expected == "close") await client.Closed.WaitAsync(Bound);
                var finals = client.Responses.Where(r => r.CallId != pingId && r.Status >= 200).Select(r => r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                var seen = finals.Length > 0 ? string.Join("+", finals)
                    : client.IsConnection && client.Closed.IsCompleted ? "close"
                    : expected is "drop" or "ignore" or "wait" ? expected   // no answer: which kind is told by the log below
                    : "nothing";
                outcomes.Add((name, expected, seen, $"{transport}:127.0.0.1:{client.Local.Port}"));
            }

            // Log lines are written before the answer is sent; one more broken request whose line we wait for proves
            // every earlier line has reached the pool's output.
            {
                var last = await OpenAsync();
                var marker = $"{transport}:127.0.0.1:{last.Local.Port}";
                var broken = Encoding.ASCII.GetBytes($"OPTIONS sip:{target} SIP/2.0\r\nVia: SIP/2.0/{transport.ToUpperInvariant()} 127.0.0.1:{last.Local.Port};branch=z9hG4bKend\r\n" +
                                                     "Max-Forwards: 70\r\nTo: <sip:x@callpark.lab>\r\nCall-ID: end\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");
                await last.SendAsync(broken);
                Assert.That((await last.WaitForAsync(r => r.CallId == "end", Bound))?.Status, Is.EqualTo(400), "a request without From");
                var deadline = DateTime.UtcNow + Bound;
                while (!pool.Output.Contains(marker, StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(20);
                Assert.That(pool.Output, Does.Contain(marker), "the last rejection was logged");
            }

            var log = pool.Output.Split('\n');
            var report = new StringBuilder();
            if (outcomes.Any(o => o.Seen != o.Expected)) TestContext.Out.WriteLine(pool.Output);
            Assert.Multiple(() =>
            {
                foreach (var (name, expected, seen, endpoint) in outcomes)
                {
                    var lines = log.Where(l => l.Contains(endpoint, StringComparison.Ordinal)).ToArray();
                    var rejected = expected is "drop" or "close" || expected.Split('+').Any(s => s is "400" or "416" or "505");
                    report.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{name,-11} expected {expected,-8} seen {seen,-8} log lines {lines.Length}");
                    Assert.That(seen, Is.EqualTo(expected), $"{name} over {transport}");
                    Assert.That(lines, Has.Length.EqualTo(rejected ? 1 : 0), $"{name} over {transport}: log lines naming {endpoint}");
                    if (rejected && lines.Length == 1)
                        Assert.That(lines[0], Does.Contain("Rejected a request").Or.Contain("Dropped a message").Or.Contain("Closed TCP connection"), name);
                }
            });
            TestContext.Out.WriteLine(report.ToString());
            TestContext.Out.WriteLine($"{outcomes.Count(o => o.Seen == o.Expected)} of {outcomes.Count} vectors as expected over {transport}");
        }
        finally
        {
            foreach (var socket in sockets) await socket.DisposeAsync();
        }
    }
}
