using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// SIP over TLS on the real executable: the lab certificate made on first start and reused on the next, its
/// fingerprint in <c>/status</c>, an OPTIONS answered on the TLS connection, the key log written when
/// <c>Pool:Sip:Tls:KeyLogFile</c> is set, and the pcap holding the decrypted messages as TCP with the real ports.
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class TlsProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Bound = LabPhone.Bound;

    [Test]
    public async Task A_pool_with_tls_makes_a_lab_certificate_once_shows_its_fingerprint_answers_over_TLS_and_logs_keys_and_pcap()
    {
        using var setup = new ParkPoolSetup();
        int tlsPort = SipCallPark.Lab.LoopbackPorts.FreeTcp();
        string keyLog = Path.Combine(setup.Folder, "keys", "sslkeys.log");
        string pcap = Path.Combine(setup.Folder, "trace.pcap");
        string[] tlsArgs = ["--Pool:Sip:Transports:2=tls", $"--Pool:Sip:TlsPort={tlsPort}"];

        string fingerprint;
        using (var pool = setup.Start([.. tlsArgs, $"--Pool:Sip:Tls:KeyLogFile={keyLog}", "--pcap", pcap]))
        {
            Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
            var status = await StatusAsync(setup);
            fingerprint = status.GetProperty("tlsCertificateSha256").GetString()!;
            Assert.That(fingerprint, Does.Match("^([0-9A-F]{2}:){31}[0-9A-F]{2}$"));
            Assert.That(status.GetProperty("sipEndpoints").EnumerateArray().Select(e => e.GetString()), Does.Contain($"tls:127.0.0.1:{tlsPort}"));
            string certificateFile = Path.Combine(setup.DataDirectory, "pool-a-tls.crt");
            Assert.That(File.Exists(certificateFile) && File.Exists(Path.Combine(setup.DataDirectory, "pool-a-tls.key")), Is.True);
            Assert.That(pool.Output, Does.Contain("made now, self-signed for the lab").And.Contain(fingerprint));

            var (presented, answer) = await OptionsOverTlsAsync(tlsPort);

            Assert.That(Fingerprint(presented), Is.EqualTo(fingerprint), "the pool presents the certificate /status names");
            using (var stored = X509Certificate2.CreateFromPem(File.ReadAllText(certificateFile)))
                Assert.That(Fingerprint(stored), Is.EqualTo(fingerprint));
            Assert.That(answer, Does.StartWith("SIP/2.0 200 ").And.Contain("Via: SIP/2.0/TLS"));
            Assert.That(File.ReadAllLines(keyLog), Has.Some.Match("^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_TRAFFIC_SECRET_0) [0-9a-f]{64} [0-9a-f]+$"),
                "SSLKEYLOGFILE lines for the handshake");

            pool.Send(PosixSignalNumber.Terminate);
            Assert.That(await pool.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, pool.Output + pool.Error);
        }

        var frames = PcapTraceWriter.ReadAll(pcap);
        Assert.That(frames.Where(f => f.Destination.Port == tlsPort).Select(f => Encoding.ASCII.GetString(f.Payload)),
            Has.Some.StartWith("OPTIONS sip:ping@127.0.0.1:"), "the request in clear, to the TLS port");
        Assert.That(frames.Where(f => f.Source.Port == tlsPort).Select(f => Encoding.ASCII.GetString(f.Payload)),
            Has.Some.StartWith("SIP/2.0 200 "), "the answer in clear, from the TLS port");
        Assert.That(frames.Where(f => f.Source.Port == tlsPort || f.Destination.Port == tlsPort).All(f => f.Protocol == SipProtocol.Tcp), Is.True);

        using (var again = setup.Start(tlsArgs))
        {
            Assert.That(await again.WaitUntilStartedAsync(StartTimeout), Is.True, again.Output + again.Error);
            Assert.That((await StatusAsync(setup)).GetProperty("tlsCertificateSha256").GetString(), Is.EqualTo(fingerprint),
                "a restart keeps the certificate phones already trust");
            Assert.That(again.Output, Does.Not.Contain("made now"));
            await again.StopAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task<JsonElement> StatusAsync(ParkPoolSetup setup)
    {
        using var http = new HttpClient { BaseAddress = setup.AdminUrl, Timeout = Bound };
        return JsonDocument.Parse(await http.GetStringAsync("/status")).RootElement.Clone();
    }

    private static string Fingerprint(X509Certificate certificate) =>
        string.Join(':', new X509Certificate2(certificate).GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256).Select(b => b.ToString("X2")));

    /// <summary>Connects over TLS (trusting any certificate), sends an OPTIONS and reads the answer from the same stream.</summary>
    private static async Task<(X509Certificate Presented, string Answer)> OptionsOverTlsAsync(int port)
    {
        using var timeout = new CancellationTokenSource(Bound);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        }, timeout.Token);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        string request = $"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n" +
                         $"Via: SIP/2.0/TLS 127.0.0.1:{local.Port};branch=z9hG4bK-tls-{Guid.NewGuid():N};rport\r\n" +
                         "Max-Forwards: 70\r\nFrom: <sip:probe@callpark.lab>;tag=t1\r\nTo: <sip:ping@127.0.0.1>\r\n" +
                         $"Call-ID: tls-{Guid.NewGuid():N}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        await ssl.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int read = await ssl.ReadAsync(buffer, timeout.Token);
            if (read == 0) break;
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return (ssl.RemoteCertificate!, received.ToString());
    }
}
