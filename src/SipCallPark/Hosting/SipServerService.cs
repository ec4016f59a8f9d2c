using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SipCallPark.Configuration;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Registrar;
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
        var users = LabFiles.LoadUsers(Path.GetFullPath(_pool.UsersFile), topology);
        var settings = new PoolSettings
        {
            Name = _pool.Name,
            Topology = topology,
            Users = users,
            SipEndPoint = endpoint,
            Transports = _pool.Sip.Transports.Select(t => Enum.Parse<SipProtocol>(t, ignoreCase: true)).ToArray(),
            DatabasePath = Path.Combine(Path.GetFullPath(_pool.DataDirectory), $"{_pool.Name}.db"),
            Digest = new DigestOptions { Realm = _pool.Domain, Algorithms = _pool.Auth.Algorithms.Select(a => DigestAlgorithm.Normalize(a)!).ToArray() },
            Registrar = new RegistrarOptions { RequireAuthentication = _pool.Auth.RequireRegisterAuthentication },
            Admin = new AdminOptions { Url = _pool.Admin.Url, Token = _pool.Admin.Token },
            PcapPath = _pool.PcapFile is { Length: > 0 } pcap ? Path.GetFullPath(pcap) : null,
            PcapIncludeRtp = _pool.PcapIncludeRtp,
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
