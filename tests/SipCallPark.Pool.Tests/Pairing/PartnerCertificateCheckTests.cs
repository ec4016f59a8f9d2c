using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.Tests.Integration;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Pairing;

/// <summary>
/// Mutual TLS for the partner pool (Pool:Sip:Tls:RequirePartnerCertificate): a real TLS channel of pool-a asks for client
/// certificates; clients connect from chosen loopback addresses with chosen certificates and send one OPTIONS each.
/// pool-b lives at 127.0.0.2 in this topology, so 127.0.0.3 is an address that belongs to no partner.
/// </summary>
public class PartnerCertificateCheckTests
{
    private static readonly IPAddress PartnerAddress = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress StrangerAddress = IPAddress.Parse("127.0.0.3");

    private readonly List<IDisposable> _clients = [];
    private FakeTimeProvider _time = null!;
    private PoolTopology _topology = null!;
    private TlsChannel _channel = null!;
    private X509Certificate2 _poolA = null!;
    private X509Certificate2 _poolB = null!;
    private readonly Dictionary<IPEndPoint, TaskCompletionSource<ReceivedFrame>> _arrivals = [];
    private readonly Lock _lock = new();

    [SetUp]
    public async Task StartPoolATlsPort()
    {
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _topology = LabPools.CreateTopology(new IPEndPoint(IPAddress.Loopback, 5060), new IPEndPoint(PartnerAddress, 5062));
        _poolA = SelfSigned("CN=pool-a.callpark.lab");
        _poolB = SelfSigned("CN=pool-b.callpark.lab");
        _channel = new TlsChannel(new IPEndPoint(IPAddress.Loopback, 0), new TlsOptions { Certificate = _poolA, RequestClientCertificate = true },
            timeProvider: _time);
        await _channel.StartAsync(frame =>
        {
            lock (_lock) Arrival(frame.Remote.Address).TrySetResult(frame);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
    }

    [TearDown]
    public async Task Stop()
    {
        _clients.ForEach(c => c.Dispose());
        _clients.Clear();
        await _channel.DisposeAsync();
        _poolA.Dispose();
        _poolB.Dispose();
    }

    private TaskCompletionSource<ReceivedFrame> Arrival(IPEndPoint remote)
    {
        if (!_arrivals.TryGetValue(remote, out var arrival))
            _arrivals[remote] = arrival = new TaskCompletionSource<ReceivedFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        return arrival;
    }

    private PartnerCertificateCheck Check(X509Certificate2? pinned = null, X509Certificate2? authority = null) =>
        new("pool-a", _topology, pinned, authority, _channel, _time, NullLogger<PartnerCertificateCheck>.Instance);

    /// <summary>Connects from <paramref name="from"/> presenting <paramref name="certificate"/> (or none), sends an OPTIONS
    /// and returns the source pool-a saw once the message arrived (the connection is then adopted).</summary>
    private async Task<SipEndPoint> ConnectAsync(IPAddress from, X509Certificate2? certificate)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(_channel.LocalEndPoint, patience.Token);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        _clients.Add(ssl);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
        }, patience.Token);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        TaskCompletionSource<ReceivedFrame> arrival;
        lock (_lock) arrival = Arrival(local);
        await ssl.WriteAsync(Encoding.ASCII.GetBytes(
            $"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/TLS {local};branch=z9hG4bK-m{local.Port}\r\nFrom: <sip:pool-b@callpark.lab>;tag=1\r\n" +
            $"To: <sip:127.0.0.1:5060>\r\nCall-ID: mtls-{local.Port}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"), patience.Token);
        return (await arrival.Task.WaitAsync(patience.Token)).Remote;
    }

    [Test]
    public async Task The_pinned_partner_certificate_from_the_partners_address_is_the_partner()
    {
        var source = await ConnectAsync(PartnerAddress, _poolB);

        Assert.That(Check(pinned: _poolB).IsPartner(source), Is.True);
    }

    [Test]
    public async Task A_tls_client_without_a_certificate_is_not_the_partner()
    {
        var source = await ConnectAsync(PartnerAddress, null);

        Assert.That(_channel.PeerCertificate(source.Address), Is.Null, "the channel served it without a certificate");
        Assert.That(Check(pinned: _poolB).IsPartner(source), Is.False);
    }

    [Test]
    public async Task A_different_self_signed_certificate_with_the_partners_name_is_not_the_partner()
    {
        using var impostor = SelfSigned("CN=pool-b.callpark.lab");
        var source = await ConnectAsync(PartnerAddress, impostor);

        Assert.That(Check(pinned: _poolB).IsPartner(source), Is.False);
    }

    [Test]
    public async Task The_partners_own_certificate_from_an_address_that_is_no_partners_is_not_the_partner()
    {
        var source = await ConnectAsync(StrangerAddress, _poolB);

        Assert.That(Check(pinned: _poolB).IsPartner(source), Is.False);
    }

    [Test]
    public async Task The_pinned_certificate_once_expired_is_not_the_partner()
    {
        var source = await ConnectAsync(PartnerAddress, _poolB);
        _time.Advance(TimeSpan.FromDays(3));

        Assert.That(Check(pinned: _poolB).IsPartner(source), Is.False);
    }

    [Test]
    public async Task A_certificate_issued_by_the_partner_authority_is_the_partner_and_a_self_signed_copy_of_its_name_is_not()
    {
        using var authority = Authority(out var issue);
        using var issued = issue("CN=pool-b.callpark.lab");
        using var copy = SelfSigned("CN=pool-b.callpark.lab");

        var good = await ConnectAsync(PartnerAddress, issued);
        var forged = await ConnectAsync(PartnerAddress, copy);
        var authorityItself = await ConnectAsync(PartnerAddress, authority);

        var check = Check(authority: WithoutKey(authority));
        Assert.That(check.IsPartner(good), Is.True);
        Assert.That(check.IsPartner(forged), Is.False);
        Assert.That(check.IsPartner(authorityItself), Is.False, "the authority's own certificate is not one it issued for client authentication");
    }

    [Test]
    public async Task Over_tls_a_valid_partner_signature_without_the_certificate_is_not_the_partner_while_over_udp_the_signature_still_decides()
    {
        var source = await ConnectAsync(PartnerAddress, null);
        var routing = new PartnerRouting("pool-a", PartnerKeys.Topology, _ => DrPhase.Normal, PartnerKeys.For("pool-a", _time), Check(pinned: _poolB));
        SipRequest Signed(string callId)
        {
            var request = new SipRequest(SipMethods.Invite, SipUri.Parse("sip:erin@callpark.lab"));
            request.Headers.Add(HeaderNames.Via, "SIP/2.0/TLS 127.0.0.2:5062;branch=z9hG4bK-s" + callId);
            request.Headers.Add(HeaderNames.From, "<sip:alice@callpark.lab>;tag=a1");
            request.Headers.Add(HeaderNames.To, "<sip:erin@callpark.lab>");
            request.Headers.Add(HeaderNames.CallId, callId);
            request.Headers.Add(HeaderNames.CSeq, "1 INVITE");
            PartnerKeys.For("pool-b", _time).Sign(request);
            return (SipRequest)SipParser.Parse(request.ToArray()).Message!;
        }

        Assert.That(routing.IsFromPartner(Signed("over-tls"), source), Is.False, "on TLS the certificate replaces the signature");
        Assert.That(routing.IsFromPartner(Signed("over-udp"), new SipEndPoint(SipProtocol.Udp, new IPEndPoint(PartnerAddress, 5062))), Is.True);
    }

    private X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = _time.GetUtcNow();
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
    }

    /// <summary>A CA certificate (with its key) and a function that issues client-and-server certificates under it.</summary>
    private X509Certificate2 Authority(out Func<string, X509Certificate2> issue)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=SipCallPark lab pools CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = _time.GetUtcNow();
        var authority = request.CreateSelfSigned(now.AddHours(-2), now.AddDays(10));
        issue = subject =>
        {
            using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var leaf = new CertificateRequest(subject, leafKey, HashAlgorithmName.SHA256);
            leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var issued = leaf.Create(authority, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
            return issued.CopyWithPrivateKey(leafKey);
        };
        return authority;
    }

    /// <summary>The authority as a pool reads it from its PEM file: the certificate alone.</summary>
    private static X509Certificate2 WithoutKey(X509Certificate2 certificate) => X509CertificateLoader.LoadCertificate(certificate.RawData);
}
