using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class TlsChannelTests
{
    private X509Certificate2 Certificate = null!;
    private readonly List<IAsyncDisposable> _channels = [];
    private readonly List<IDisposable> _clients = [];

    [OneTimeSetUp]
    public void MakeCertificate() => Certificate = TlsTestPeer.Certificate();

    [OneTimeTearDown]
    public void DisposeCertificate() => Certificate.Dispose();

    [TearDown]
    public async Task DisposeAll()
    {
        _clients.ForEach(c => c.Dispose());
        _clients.Clear();
        foreach (IAsyncDisposable channel in _channels)
        {
            await channel.DisposeAsync().AsTask().WaitAsync(FrameCollector.Patience);
        }

        _channels.Clear();
    }

    private static string Request(string method, string body = "", int cseq = 1) =>
        TcpChannelTests.Request(method, body, cseq).Replace("SIP/2.0/TCP", "SIP/2.0/TLS", StringComparison.Ordinal);

    private async Task<(TlsChannel Channel, FrameCollector Frames)> StartServerAsync(TransportOptions? options = null,
        CapturingLogger? logger = null, TimeProvider? time = null, TlsOptions? tls = null)
    {
        var channel = new TlsChannel(Loopback.V4Any, tls ?? new TlsOptions { Certificate = Certificate }, options, logger, time);
        _channels.Add(channel);
        var frames = new FrameCollector();
        await channel.StartAsync(frames.OnFrame, CancellationToken.None);
        return (channel, frames);
    }

    private async Task<TlsTestPeer> ConnectAsync(TlsChannel server)
    {
        TlsTestPeer client = await TlsTestPeer.ConnectAsync(server.LocalEndPoint);
        _clients.Add(client);
        return client;
    }

    private async Task<RawTcpClient> ConnectRawAsync(TlsChannel server)
    {
        RawTcpClient client = await RawTcpClient.ConnectAsync(server.LocalEndPoint);
        _clients.Add(client);
        return client;
    }

    [Test]
    public async Task Two_messages_in_one_TLS_record_arrive_as_two_TLS_frames_in_order()
    {
        var (server, frames) = await StartServerAsync();
        TlsTestPeer client = await ConnectAsync(server);
        string first = Request("INVITE", "v=0\r\n", 1);
        string second = Request("ACK", "", 2);

        await client.SendAsync(first + second);

        await frames.WaitForAsync(2);
        Assert.That(frames.Texts, Is.EqualTo(new[] { first, second }));
        Assert.That(frames.Frames[0].Remote, Is.EqualTo(new SipEndPoint(SipProtocol.Tls, client.LocalEndPoint)));
        Assert.That(frames.Frames[0].ConnectionId, Is.Not.Zero);
    }

    [Test]
    public async Task A_message_split_over_several_TLS_records_arrives_intact()
    {
        var (server, frames) = await StartServerAsync();
        TlsTestPeer client = await ConnectAsync(server);
        string message = Request("INVITE", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", 1);
        int[] cuts = [7, 30, 31, message.Length - 3, message.Length];

        int from = 0;
        foreach (int cut in cuts)
        {
            await client.SendAsync(message[from..cut]); // each write is its own TLS record
            from = cut;
        }

        await frames.WaitForAsync(1);
        Assert.That(frames.Texts, Is.EqualTo(new[] { message }));
    }

    [Test]
    public async Task A_response_goes_back_on_the_TLS_connection_its_request_came_on()
    {
        var (server, frames) = await StartServerAsync();
        TlsTestPeer client = await ConnectAsync(server);
        await client.SendAsync(Request("OPTIONS"));
        await frames.WaitForAsync(1);
        string response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 127.0.0.1:5070;branch=z9hG4bK-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

        bool sent = await server.SendAsync(System.Text.Encoding.ASCII.GetBytes(response), new IPEndPoint(IPAddress.Loopback, 5070),
            frames.Frames[0].ConnectionId, CancellationToken.None);

        Assert.That(sent, Is.True);
        Assert.That(await client.ReadFrameAsync(), Is.EqualTo(response));
    }

    [Test]
    public async Task Plain_SIP_sent_to_the_TLS_port_fails_the_handshake_with_one_log_line_and_reaches_nobody()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(logger: logger);
        RawTcpClient plain = await ConnectRawAsync(server);

        await plain.SendAsync(Request("OPTIONS"));

        Assert.That(await plain.WaitForCloseAsync(), Is.True, "the connection should be closed");
        var entry = await logger.WaitForAsync(e => e.Template == "TLS handshake with {Remote} ({Direction}) failed: {Reason}");
        Assert.That(entry.Properties["Remote"], Is.EqualTo(plain.LocalEndPoint));
        Assert.That(entry.Properties["Direction"], Is.EqualTo("inbound"));
        Assert.That(logger.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error), Is.Empty, "no exception trace");
        Assert.That(frames.Frames, Is.Empty);
        Assert.That(server.ConnectionCount, Is.Zero);
    }

    [Test]
    public async Task A_client_that_never_starts_its_handshake_is_dropped_when_the_handshake_timeout_passes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logger = new CapturingLogger();
        var tls = new TlsOptions { Certificate = Certificate, HandshakeTimeout = TimeSpan.FromSeconds(5) };
        var (server, _) = await StartServerAsync(logger: logger, time: time, tls: tls);
        RawTcpClient silent = await ConnectRawAsync(server);
        await WaitUntilAsync(() => server.HandshakesInProgress == 1);

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.That(server.HandshakesInProgress, Is.EqualTo(1), "still within its deadline");
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(await silent.WaitForCloseAsync(), Is.True, "the silent client should be dropped");
        var entry = await logger.WaitForAsync(e => e.Template == "TLS handshake with {Remote} ({Direction}) failed: {Reason}");
        Assert.That(entry.Properties["Reason"], Is.EqualTo("no handshake within 00:00:05"));
        await WaitUntilAsync(() => server.HandshakesInProgress == 0);
    }

    [Test]
    public async Task Handshakes_beyond_the_limit_are_refused_at_once_while_the_first_still_waits()
    {
        var logger = new CapturingLogger();
        var tls = new TlsOptions { Certificate = Certificate, MaxConcurrentHandshakes = 1 };
        var (server, frames) = await StartServerAsync(logger: logger, tls: tls);
        RawTcpClient first = await ConnectRawAsync(server);
        await WaitUntilAsync(() => server.HandshakesInProgress == 1);

        RawTcpClient second = await ConnectRawAsync(server);

        Assert.That(await second.WaitForCloseAsync(), Is.True, "the second handshake should be refused");
        await logger.WaitForAsync(e => e.Template == "Refused TLS connection with {Remote}: {Max} handshakes already in progress");
        first.Dispose();
        await WaitUntilAsync(() => server.HandshakesInProgress == 0);
        TlsTestPeer polite = await ConnectAsync(server);
        await polite.SendAsync(Request("OPTIONS"));
        await frames.WaitForAsync(1);
    }

    [Test]
    public async Task A_message_over_the_cap_closes_the_TLS_connection_with_a_log_line()
    {
        var logger = new CapturingLogger();
        var (server, frames) = await StartServerAsync(new TransportOptions { MaxMessageSize = 1000 }, logger);
        TlsTestPeer greedy = await ConnectAsync(server);

        await greedy.SendAsync(Request("INVITE", new string('x', 1500)));

        Assert.That(await greedy.WaitForCloseAsync(), Is.True);
        var entry = await logger.WaitForAsync(e => e.Template == "Closed TCP connection {Remote}: message over {Cap} bytes");
        Assert.That(entry.Properties["Remote"], Is.EqualTo(new SipEndPoint(SipProtocol.Tls, greedy.LocalEndPoint)));
        Assert.That(frames.Frames, Is.Empty);
    }

    [Test]
    public async Task An_alias_lets_requests_to_the_peers_listening_port_reuse_its_connection_but_never_for_another_host()
    {
        var (server, frames) = await StartServerAsync();
        TlsTestPeer phone = await ConnectAsync(server);
        await phone.SendAsync(Request("REGISTER"));
        await frames.WaitForAsync(1);
        long id = frames.Frames[0].ConnectionId;
        var listening = Loopback.UnusedTcpPort();
        var elsewhere = new IPEndPoint(IPAddress.Parse("127.0.0.2"), listening.Port);
        var aliases = (IConnectionAliases)server;

        aliases.AddAlias(id, listening);
        aliases.AddAlias(id, elsewhere);
        string invite = Request("INVITE", "", 7);
        bool toAlias = await server.SendAsync(System.Text.Encoding.ASCII.GetBytes(invite), listening, 0, CancellationToken.None);
        bool toOtherHost = await server.SendAsync(System.Text.Encoding.ASCII.GetBytes(invite), elsewhere, 0, CancellationToken.None);

        Assert.That(toAlias, Is.True);
        Assert.That(await phone.ReadFrameAsync(), Is.EqualTo(invite), "the request to the alias went on the phone's connection");
        Assert.That(toOtherHost, Is.False, "nothing listens on 127.0.0.2: the alias for another host was ignored and a connect failed");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(FrameCollector.Patience);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
