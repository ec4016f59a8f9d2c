using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SipCallPark.Configuration;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Registrar;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Hosting;

/// <summary>
/// Owns the pool for the life of the process: reads the shared topology and users, starts the
/// <see cref="PoolServer"/> (state, SIP stack, registrar, proxy, admin API) and stops it on shutdown.
/// </summary>
internal sealed partial class SipServerService(IOptions<PoolOptions> options, ILoggerFactory loggers, ILogger<SipServerService> logger)
    : IHostedService
{
    private readonly PoolOptions _pool = options.Value;
    private PoolServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(_pool.Sip.ListenAddress), _pool.Sip.Port);
        LogStarting(_pool.Name, endpoint, string.Join("+", _pool.Sip.Transports));
        var topology = LabFiles.LoadTopology(Path.GetFullPath(_pool.TopologyFile), _pool.Name);
        if (!string.Equals(topology.Domain, _pool.Domain, StringComparison.OrdinalIgnoreCase))
            throw new PoolConfigurationException($"Pool:Domain '{_pool.Domain}' differs from the topology's domain '{topology.Domain}'");
        try
        {
            _pool.Park.ValidateAgainst(topology, "Pool:Park");
        }
        catch (SipCallPark.Pool.OptionsValidationError e)
        {
            throw new PoolConfigurationException(e.Message);
        }
        var users = LabFiles.LoadUsers(Path.GetFullPath(_pool.UsersFile), topology);
        var tls = _pool.Sip.NeedsCertificate ? StartTls() : null;
        var settings = new PoolSettings
        {
            Name = _pool.Name,
            Topology = topology,
            Users = users,
            SipEndPoint = endpoint,
            Transports = _pool.Sip.Transports.Select(t => Enum.Parse<SipProtocol>(t, ignoreCase: true)).ToArray(),
            TlsPort = _pool.Sip.EffectiveTlsPort(),
            WebSocketPort = _pool.Sip.EffectiveWebSocketPort(),
            SecureWebSocketPort = _pool.Sip.EffectiveSecureWebSocketPort(),
            Tls = tls,
            PartnerTls = _pool.Sip.Tls.RequirePartnerCertificate
                ? new Pool.Pairing.PartnerTlsTrust(ReadCertificate(_pool.Sip.Tls.PartnerCertificate, "PartnerCertificate"),
                    ReadCertificate(_pool.Sip.Tls.PartnerAuthority, "PartnerAuthority"))
                : null,
            DatabasePath = Path.Combine(Path.GetFullPath(_pool.DataDirectory), $"{_pool.Name}.db"),
            Digest = new DigestOptions
            {
                Realm = _pool.Domain, Algorithms = _pool.Auth.Algorithms.Select(a => DigestAlgorithm.Normalize(a)!).ToArray(),
                AllowRfc2069 = _pool.Auth.AllowRfc2069,
            },
            ServerHeader = _pool.Sip.ServerHeader,
            Registrar = new RegistrarOptions
            {
                RequireAuthentication = _pool.Auth.RequireRegisterAuthentication, MaxContactsPerAor = _pool.Registrar.MaxContactsPerAor,
                NatTraversal = _pool.Registrar.ParseNatTraversal() ?? NatTraversal.Auto,
            },
            Admin = new AdminOptions { Url = _pool.Admin.Url, Token = _pool.Admin.Token, MaxStreams = _pool.Admin.MaxStreams },
            PcapPath = _pool.PcapFile is { Length: > 0 } pcap ? Path.GetFullPath(pcap) : null,
            PcapIncludeRtp = _pool.PcapIncludeRtp,
            Hep = _pool.Trace.Hep.Endpoint is { Length: > 0 } hep
                ? new HepOptions
                {
                    Endpoint = HepEndpoint.Parse(hep), AgentId = (uint)_pool.Trace.Hep.AgentId, Password = _pool.Trace.Hep.Password,
                    RtpCounters = _pool.Trace.Hep.RtpCounters,
                }
                : null,
            Park = _pool.Park,
            Dr = _pool.Dr,
            Health = _pool.Health,
            Replication = _pool.Replication,
            RateLimit = _pool.RateLimit,
            Overload = _pool.Overload,
            Partner = _pool.Partner,
        };
        if (!_pool.Auth.RequireRegisterAuthentication) LogAuthOff();
        _server = await PoolServer.StartAsync(settings, loggers, TimeProvider.System, cancellationToken);
    }

    /// <summary>
    /// The TLS certificate (configured, or the lab one from the data directory) and, with <c>Pool:Sip:Tls:KeyLogFile</c>,
    /// .NET's key log: the runtime writes SSLKEYLOGFILE-format secrets (OpenSSL, so Linux) only when the
    /// <c>System.Net.EnableSslKeyLogging</c> switch is on and <c>SSLKEYLOGFILE</c> names the file when the first TLS
    /// handshake of the process runs — both are process-wide, so they are set here, before any channel exists.
    /// </summary>
    private TlsOptions StartTls()
    {
        var certificate = LabCertificate.LoadOrCreate(_pool, TimeProvider.System);
        if (certificate.Created) LogCertificateCreated(certificate.CertificateFile, certificate.Sha256Fingerprint);
        else LogCertificate(certificate.CertificateFile, certificate.Sha256Fingerprint);
        if (_pool.Sip.Tls.KeyLogFile is { } keyLog)
        {
            var path = Path.GetFullPath(keyLog);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AppContext.SetSwitch("System.Net.EnableSslKeyLogging", true);
            Environment.SetEnvironmentVariable("SSLKEYLOGFILE", path);
            LogKeyLog(path);
        }
        return new TlsOptions
        {
            Certificate = certificate.Certificate,
            HandshakeTimeout = _pool.Sip.Tls.HandshakeTimeout,
            MaxConcurrentHandshakes = _pool.Sip.Tls.MaxConcurrentHandshakes,
        };
    }

    /// <summary>A PEM certificate (no key: it is the partner's or its authority's) named by <c>Pool:Sip:Tls:{key}</c>,
    /// or null when the key is unset.</summary>
    internal static System.Security.Cryptography.X509Certificates.X509Certificate2? ReadCertificate(string? path, string key)
    {
        if (string.IsNullOrWhiteSpace(path)) return null;
        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.GetFullPath(path)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new PoolConfigurationException($"Pool:Sip:Tls:{key} cannot be read as a PEM certificate: {e.Message} (was '{path}')");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate {File} (made now, self-signed for the lab): SHA-256 {Fingerprint}")]
    private partial void LogCertificateCreated(string file, string fingerprint);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate {File}: SHA-256 {Fingerprint}")]
    private partial void LogCertificate(string file, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS secrets are written to {KeyLogFile} (Pool:Sip:Tls:KeyLogFile): whoever reads it can decrypt the pool's SIP over TLS; lab use only")]
    private partial void LogKeyLog(string keyLogFile);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.DisposeAsync();
        LogStopped(_pool.Name);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool} starting on {Endpoint} over {Transports}")]
    private partial void LogStarting(string pool, IPEndPoint endpoint, string transports);

    [LoggerMessage(Level = LogLevel.Warning, Message = "REGISTER without authentication is accepted (Pool:Auth:RequireRegisterAuthentication=false): lab use only")]
    private partial void LogAuthOff();

    [LoggerMessage(Level = LogLevel.Information, Message = "pool {Pool} stopped")]
    private partial void LogStopped(string pool);
}
