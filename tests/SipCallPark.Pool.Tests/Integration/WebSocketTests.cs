using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using SipCallPark.Sip.Auth;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// SIP over WebSocket through a running pool (RFC 7118): a browser-like client on a real loopback WebSocket registers
/// with a <c>.invalid</c> Contact, and gets its calls on its WebSocket; a WebRTC offer to the park service gets 488.
/// </summary>
[TestFixture]
public sealed class WebSocketTests : IntegrationTest
{
    private const string BrowserHost = "r8kq2v7d4hjx.invalid";

    [Test]
    public async Task A_browser_registered_over_WebSocket_with_an_invalid_host_gets_its_call_on_its_WebSocket()
    {
        var lab = await StartLabAsync(tls: true);
        var ws = lab.A.Stack.Transport.ChannelFor(SipProtocol.Ws, AddressFamily.InterNetwork)!.LocalEndPoint;
        using var browser = new ClientWebSocket();
        browser.Options.AddSubProtocol("sip");
        await browser.ConnectAsync(new Uri($"ws://127.0.0.1:{ws.Port}/"), Bound());
        var digest = new DigestClient("bob", LabPools.Passwords["bob"]);

        var challenge = await ExchangeAsync(browser, Register(1));
        Assert.That(challenge.StatusCode, Is.EqualTo(401));
        var register = Register(2);
        Assert.That(digest.Authorize(register, challenge), Is.True);
        var ok = await ExchangeAsync(browser, register);
        Assert.That(ok.StatusCode, Is.EqualTo(200), ok.FirstLine);
        Assert.That(ok.TopVia!.Received, Is.EqualTo("127.0.0.1"), "the .invalid sent-by gets a received parameter");
        var binding = lab.A.Bindings.Get("sip:bob@callpark.lab", lab.A.Time.GetUtcNow()).Single();
        Assert.That(binding.Source, Does.StartWith("ws:127.0.0.1:"));

        var alice = await lab.PhoneAsync("alice", lab.A);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        _ = alice.CallAsync("bob");
        var invite = (SipRequest)await ReceiveAsync(browser);

        Assert.That(invite.Method, Is.EqualTo(SipMethods.Invite));
        Assert.That(invite.RequestUri.Host, Is.EqualTo(BrowserHost));
        Assert.That(invite.TopVia!.Transport, Is.EqualTo("WS"));
        Assert.That(invite.Headers.GetAll(HeaderNames.RecordRoute), Has.Some.StartsWith($"<sip:127.0.0.1:{ws.Port};transport=ws;lr;cpt="), "our Record-Route over WebSocket, with its dialog token");
    }

    [Test]
    public async Task A_browser_watching_an_orbit_over_WebSocket_gets_its_NOTIFY_on_its_WebSocket()
    {
        var lab = await StartLabAsync(tls: true);
        var ws = lab.A.Stack.Transport.ChannelFor(SipProtocol.Ws, AddressFamily.InterNetwork)!.LocalEndPoint;
        using var browser = new ClientWebSocket();
        browser.Options.AddSubProtocol("sip");
        await browser.ConnectAsync(new Uri($"ws://127.0.0.1:{ws.Port}/"), Bound());
        var digest = new DigestClient("bob", LabPools.Passwords["bob"]);

        var challenge = await ExchangeAsync(browser, Subscribe(1));
        Assert.That(challenge.StatusCode, Is.EqualTo(407));
        var subscribe = Subscribe(2);
        Assert.That(digest.Authorize(subscribe, challenge), Is.True);
        var ok = await ExchangeAsync(browser, subscribe);
        Assert.That(ok.StatusCode, Is.EqualTo(200), ok.FirstLine);

        // The first NOTIFY (RFC 6665 §4.2.1.2) comes on the browser's own connection: its Contact's host resolves to nothing.
        var notify = (SipRequest)await ReceiveAsync(browser);
        Assert.That(notify.Method, Is.EqualTo(SipMethods.Notify));
        Assert.That(notify.RequestUri.Host, Is.EqualTo(BrowserHost));
        Assert.That(notify.TopVia!.Transport, Is.EqualTo("WS"));
        Assert.That(notify.Headers.Get(HeaderNames.Event), Is.EqualTo("dialog"));
        Assert.That(notify.BodyText, Does.Contain("<state>terminated</state>"));
    }

    [Test]
    public async Task A_WebRTC_offer_to_the_park_service_gets_488_with_a_Warning()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);
        Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        const string webRtc = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
                              "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=setup:actpass\r\n" +
                              "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n";

        var attempt = await alice.Agent.CallAsync(SipUri.Parse("sip:park@callpark.lab"), new CallOptions { Sdp = webRtc }).WaitAsync(LabPhone.Bound);

        Assert.That(attempt.StatusCode, Is.EqualTo(488), attempt.ToString());
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.Warning),
            Is.EqualTo("399 pool-a \"parking WebRTC calls needs DTLS-SRTP (not supported yet)\""));
        Assert.That(lab.A.Park.Parked(), Is.Empty);
    }

    private static SipRequest Register(int cseq) => (SipRequest)SipParser.Parse(Encoding.ASCII.GetBytes(
        "REGISTER sip:callpark.lab SIP/2.0\r\n" +
        $"Via: SIP/2.0/WS {BrowserHost};branch=z9hG4bK-ws-{cseq}-{Guid.NewGuid():N}\r\n" +
        "Max-Forwards: 70\r\nFrom: <sip:bob@callpark.lab>;tag=wsb1\r\nTo: <sip:bob@callpark.lab>\r\n" +
        $"Call-ID: ws-register-bob\r\nCSeq: {cseq} REGISTER\r\n" +
        $"Contact: <sip:q7z2@{BrowserHost};transport=ws>;expires=600\r\nContent-Length: 0\r\n\r\n")).Message!;

    private static SipRequest Subscribe(int cseq) => (SipRequest)SipParser.Parse(Encoding.ASCII.GetBytes(
        "SUBSCRIBE sip:7000@callpark.lab SIP/2.0\r\n" +
        $"Via: SIP/2.0/WS {BrowserHost};branch=z9hG4bK-ws-sub-{cseq}-{Guid.NewGuid():N}\r\n" +
        "Max-Forwards: 70\r\nFrom: <sip:bob@callpark.lab>;tag=wss1\r\nTo: <sip:7000@callpark.lab>\r\n" +
        $"Call-ID: ws-subscribe-bob\r\nCSeq: {cseq} SUBSCRIBE\r\nEvent: dialog\r\nAccept: application/dialog-info+xml\r\n" +
        $"Expires: 300\r\nContact: <sip:q7z2@{BrowserHost};transport=ws>\r\nContent-Length: 0\r\n\r\n")).Message!;

    private static async Task<SipResponse> ExchangeAsync(ClientWebSocket browser, SipRequest request)
    {
        await browser.SendAsync(request.ToArray(), WebSocketMessageType.Text, true, Bound());
        while (true)
        {
            if (await ReceiveAsync(browser) is SipResponse { StatusCode: >= 200 } final) return final;
        }
    }

    private static async Task<SipMessage> ReceiveAsync(ClientWebSocket browser)
    {
        var buffer = new byte[65536];
        int filled = 0;
        while (true)
        {
            var result = await browser.ReceiveAsync(buffer.AsMemory(filled), Bound());
            filled += result.Count;
            if (result.EndOfMessage) return SipParser.Parse(buffer.AsMemory(0, filled).ToArray()).Message!;
        }
    }

    private static CancellationToken Bound() => new CancellationTokenSource(LabPhone.Bound).Token;
}
