using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class WebSocketChannelTests
{
    private X509Certificate2 _certificate = null!;
    private readonly List<IAsyncDisposable> _channels = [];
    private readonly List<IDisposable> _clients = [];

    [OneTimeSetUp]
    public void MakeCertificate() => _certificate = TlsTestPeer.Certificate();

    [OneTimeTearDown]
    public void DisposeCertificate() => _certificate.Dispose();

    [TearDown]
    public async Task DisposeAll()
    {
        _clients.ForEach(c => c.Dispose());
        _clients.Clear();
        foreach (var channel in _channels) await channel.DisposeAsync().AsTask().WaitAsync(FrameCollector.Patience);
        _channels.Clear();
    }

    private static string Request(string method, int cseq = 1) =>
        TcpChannelTests.Request(method, "", cseq).Replace("SIP/2.0/TCP 127.0.0.1:5070", "SIP/2.0/WS df7jal23ls0d.invalid", StringComparison.Ordinal);

    private async Task<(WebSocketChannel Channel, FrameCollector Frames)> StartServerAsync(TransportOptions? options = null,
        CapturingLogger? logger = null, TimeProvider? time = null, bool secure = false)
    {
        var channel = new WebSocketChannel(Loopback.V4Any, secure ? new TlsOptions { Certificate = _certificate } : null, options, logger, time);
        _channels.Add(channel);
        var frames = new FrameCollector();
        await channel.StartAsync(frames.OnFrame, CancellationToken.None);
        return (channel, frames);
    }

    private async Task<ClientWebSocket> ConnectAsync(WebSocketChannel server, string? subProtocol = "sip", bool secure = false)
    {
        var client = new ClientWebSocket();
        _clients.Add(client);
        if (subProtocol is not null) client.Options.AddSubProtocol(subProtocol);
        if (secure) client.Options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        await client.ConnectAsync(new Uri($"{(secure ? "wss" : "ws")}://127.0.0.1:{server.LocalEndPoint.Port}/"), Loopback.Timeout());
        return client;
    }

    private static Task SendTextAsync(ClientWebSocket client, string text, bool end = true) =>
        client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, end, Loopback.Timeout());

    private static async Task<(WebSocketMessageType Type, string Text, WebSocketCloseStatus? Close)> ReceiveAsync(ClientWebSocket client)
    {
        var buffer = new byte[70000];
        int filled = 0;
        while (true)
        {
            var result = await client.ReceiveAsync(buffer.AsMemory(filled), Loopback.Timeout());
            filled += result.Count;
            if (result.MessageType == WebSocketMessageType.Close) return (result.MessageType, "", client.CloseStatus);
            if (result.EndOfMessage) return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, filled), null);
        }
    }

    [Test]
    public async Task Each_WebSocket_message_is_one_SIP_frame_and_the_answer_goes_back_as_a_text_message_on_the_same_connection()
    {
        var (server, frames) = await StartServerAsync();
        var browser = await ConnectAsync(server);
        Assert.That(browser.SubProtocol, Is.EqualTo("sip"));
        string first = Request("REGISTER", 1), second = Request("OPTIONS", 2);

        await SendTextAsync(browser, first);
        await SendTextAsync(browser, second[..20], end: false); // one message in two frames
        await SendTextAsync(browser, second[20..]);
        await frames.WaitForAsync(2);

        Assert.That(frames.Texts, Is.EqualTo(new[] { first, second }));
        Assert.That(frames.Frames[0].Protocol, Is.EqualTo(SipProtocol.Ws));
        string answer = "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
        Assert.That(await server.SendAsync(Encoding.ASCII.GetBytes(answer), new IPEndPoint(IPAddress.Loopback, 9), frames.Frames[0].ConnectionId,
            CancellationToken.None), Is.True);
        Assert.That(await ReceiveAsync(browser), Is.EqualTo((WebSocketMessageType.Text, answer, (WebSocketCloseStatus?)null)));
        var remote = frames.Frames[0].Remote.Address;
        Assert.That(await server.SendAsync(Encoding.ASCII.GetBytes(answer), remote, 0, CancellationToken.None), Is.True,
            "a request to the browser's address (its binding's source) finds its connection");
        Assert.That((await ReceiveAsync(browser)).Text, Is.EqualTo(answer));
    }

    [Test]
    public async Task An_upgrade_without_the_sip_subprotocol_is_refused_with_400_and_a_log_line()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(logger: logger);

        var refused = Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(server, subProtocol: null));
        Assert.That(refused!.Message, Does.Contain("400"));
        Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync(server, subProtocol: "chat"));
        var entry = await logger.WaitForAsync(e => e.Template == "Refused WebSocket upgrade from {Remote}: {Reason}");
        Assert.That(entry.Properties["Reason"], Is.EqualTo("the sip subprotocol was not offered (RFC 7118)"));
        Assert.That(server.ConnectionCount, Is.Zero);
        Assert.That(frames.Frames, Is.Empty);
    }

    [Test]
    public async Task A_message_over_the_cap_closes_the_WebSocket_with_1009_and_others_are_still_served()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(new TransportOptions { MaxMessageSize = 1000 }, logger);
        var greedy = await ConnectAsync(server);

        await SendTextAsync(greedy, Request("INVITE") + new string('x', 5000));

        var (type, _, status) = await ReceiveAsync(greedy);
        Assert.That((type, status), Is.EqualTo((WebSocketMessageType.Close, (WebSocketCloseStatus?)WebSocketCloseStatus.MessageTooBig)));
        await logger.WaitForAsync(e => e.Template == "Closed WebSocket connection {Remote}: message over {Cap} bytes");
        var polite = await ConnectAsync(server);
        await SendTextAsync(polite, Request("OPTIONS"));
        await frames.WaitForAsync(1);
        Assert.That(frames.Texts, Is.EqualTo(new[] { Request("OPTIONS") }));
    }

    [Test]
    public async Task Binary_garbage_is_handed_up_as_one_frame_for_the_parser_to_reject_and_the_connection_keeps_working()
    {
        var (server, frames) = await StartServerAsync();
        var browser = await ConnectAsync(server);
        byte[] garbage = [0x00, 0xFF, 0x16, 0x03, 0x01, 0x80, 0x0D, 0x0A, 0x0D, 0x0A];

        await browser.SendAsync(garbage, WebSocketMessageType.Binary, true, Loopback.Timeout());
        await SendTextAsync(browser, Request("OPTIONS"));
        await frames.WaitForAsync(2);

        Assert.That(frames.Frames[0].Data.ToArray(), Is.EqualTo(garbage));
        Assert.That(frames.Texts[1], Is.EqualTo(Request("OPTIONS")));
        Assert.That(browser.State, Is.EqualTo(WebSocketState.Open));
    }

    [Test]
    public async Task A_client_that_never_finishes_its_upgrade_request_is_dropped_after_the_header_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = new CapturingLogger();
        var (server, _) = await StartServerAsync(new TransportOptions { TcpHeaderReadTimeout = TimeSpan.FromSeconds(5) }, logger, time);
        var slow = await RawTcpClient.ConnectAsync(server.LocalEndPoint);
        _clients.Add(slow);
        await slow.SendAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");

        // The deadline timer exists once the connection is accepted; advance until it has fired (bounded).
        var closed = slow.WaitForCloseAsync();
        for (int i = 0; i < 100 && !closed.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(closed, Task.Delay(20));
        }

        Assert.That(await closed, Is.True);
        var entry = await logger.WaitForAsync(e => e.Template == "Refused WebSocket upgrade from {Remote}: {Reason}");
        Assert.That(entry.Properties["Reason"], Is.EqualTo("no complete upgrade request within 00:00:05"));
    }

    [Test]
    public async Task Plain_HTTP_and_SIP_sent_to_the_WebSocket_port_get_an_HTTP_error_and_reach_nobody()
    {
        var (server, frames) = await StartServerAsync();
        var sip = await RawTcpClient.ConnectAsync(server.LocalEndPoint);
        _clients.Add(sip);

        await sip.SendAsync(Request("OPTIONS"));

        Assert.That(await sip.ReadRawAsync(12), Is.EqualTo("HTTP/1.1 400"));
        Assert.That(await sip.WaitForCloseAsync(), Is.True);
        Assert.That(frames.Frames, Is.Empty);
    }

    [Test]
    public async Task Secure_WebSocket_runs_the_TLS_handshake_first_and_carries_SIP_as_wss()
    {
        var (server, frames) = await StartServerAsync(secure: true);
        var browser = await ConnectAsync(server, secure: true);

        await SendTextAsync(browser, Request("REGISTER"));
        await frames.WaitForAsync(1);

        Assert.That(server.Protocol, Is.EqualTo(SipProtocol.Wss));
        Assert.That(frames.Frames[0].Protocol, Is.EqualTo(SipProtocol.Wss));
        Assert.That(frames.Texts[0], Is.EqualTo(Request("REGISTER")));
    }
}
