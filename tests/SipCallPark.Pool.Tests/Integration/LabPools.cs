using SipCallPark.Pool.Park;
using SipCallPark.Pool.Resiliency;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// The lab of config/topology.json and config/users.json (pool-a: alice, bob, carol, dave; pool-b: erin, frank) on
/// loopback ports picked for the test, and the pools and phones of one test, disposed together (phones first).
/// </summary>
internal sealed class LabPools : IAsyncDisposable
{
    public const string Domain = "callpark.lab";
    private const int StartAttempts = 5;

    /// <summary>The published lab passwords of config/users.json.</summary>
    public static readonly IReadOnlyDictionary<string, string> Passwords = new Dictionary<string, string>
    {
        ["alice"] = "alice-lab-pw",
        ["bob"] = "bob-lab-pw",
        ["carol"] = "carol-lab-pw",
        ["dave"] = "dave-lab-pw",
        ["erin"] = "erin-lab-pw",
        ["frank"] = "frank-lab-pw",
    };

    private readonly List<LabPhone> _phones = [];
    private readonly List<string> _files = [];

    private LabPools(TestLog log, PoolTopology topology, TimeProvider time, ParkOptions? park, bool replication, int traceCapacity)
    {
        TraceCapacity = traceCapacity;
        Log = log;
        Topology = topology;
        Time = time;
        Park = park ?? new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest };
        Replicating = replication;
    }

    /// <summary>Both pools run their admin API at the topology's addresses and replicate to each other; otherwise
    /// neither does (no admin API, no replication).</summary>
    public bool Replicating { get; }

    /// <summary>How far a live-trace subscriber may fall behind before the pools drop its oldest messages.</summary>
    public int TraceCapacity { get; }

    /// <summary>pool-b's temporary SQLite file when the lab replicates (so a restarted pool-b keeps its replicas).</summary>
    private string? _databaseB;

    /// <summary>The park settings both pools run with (lowest orbit first, so tests know which orbit a call gets).</summary>
    public ParkOptions Park { get; }

    public TestLog Log { get; }

    public PoolTopology Topology { get; }

    public TimeProvider Time { get; }

    /// <summary>The admin APIs' bearer token (<c>Pool:Admin:Token</c>) when the lab replicates; none when null.</summary>
    public string? AdminToken { get; private init; }

    /// <summary>
    /// Fast probes, so an outage is seen in well under a second. A test that moves a fake clock by minutes in one step
    /// passes a slower cadence instead: the fake timer replays every missed tick at once, and hundreds of probes from
    /// each pool flood the loopback sockets until a datagram the test waits for is lost — and with the clock standing
    /// still, its transaction never retransmits it.
    /// </summary>
    public static readonly HealthMonitorOptions FastHealth = new() { Interval = TimeSpan.FromMilliseconds(100), DownAfter = TimeSpan.FromMilliseconds(500) };

    /// <summary>How both pools probe each other (<see cref="FastHealth"/> unless a test sets it).</summary>
    public HealthMonitorOptions Health { get; private init; } = FastHealth;

    /// <summary>The per-source request limit of both pools (the pool's defaults unless a test sets one).</summary>
    public Pool.RateLimiting.RateLimitOptions RateLimit { get; private init; } = new();

    /// <summary>
    /// The lab's load shedding unless a test sets its own: the pool's defaults but for the queue delay, which is the
    /// longest allowed. A loaded CI machine stalls a test host for more than the default 300 ms now and then, and a
    /// phone's REGISTER or INVITE answered 503 fails a test about something else.
    /// </summary>
    public static readonly Pool.RateLimiting.OverloadOptions PatientOverload = new() { MaxQueueDelay = TimeSpan.FromSeconds(30) };

    /// <summary>The load shedding of both pools (<see cref="PatientOverload"/> unless a test sets it).</summary>
    public Pool.RateLimiting.OverloadOptions Overload { get; private init; } = new();

    /// <summary>Both pools also serve SIP over TLS, WS and WSS (on free ports, with <see cref="LabTls.Certificate"/>).</summary>
    public bool ServesTls { get; private init; }

    public PoolServer A { get; private set; } = null!;

    /// <summary>pool-b when the test started both pools; null otherwise (its address in the topology is then unused).</summary>
    public PoolServer? B { get; private set; }

    /// <summary>
    /// Starts pool-a, and pool-b when <paramref name="bothPools"/>, on ports reserved first so that the shared
    /// topology names the real addresses. A reserved port is free when checked but released before the pool binds
    /// it; another process taking it in between makes the start fail, and it is retried on new ports.
    /// </summary>
    /// <param name="persistent">pool-a keeps its bindings in a temporary SQLite file (deleted with the lab).</param>
    /// <param name="replication">Admin APIs on reserved loopback ports and replication between the pools; pool-b
    /// keeps its state in a temporary SQLite file too.</param>
    /// <param name="traceCapacity">See <see cref="TraceCapacity"/>.</param>
    public static async Task<LabPools> StartAsync(bool bothPools = false, TimeProvider? time = null, bool persistent = false, ParkOptions? park = null,
        string orbitsA = "7000-7099", bool replication = false, int traceCapacity = Pool.Tracing.LiveTrace.DefaultCapacity,
        Pool.RateLimiting.RateLimitOptions? rateLimit = null, Pool.RateLimiting.OverloadOptions? overload = null, bool tls = false,
        string? adminToken = null, HealthMonitorOptions? health = null)
    {
        var log = new TestLog();
        var databasePath = persistent ? Path.Combine(Path.GetTempPath(), $"callpark-it-{Guid.NewGuid():N}.db") : null;
        var databaseB = replication ? Path.Combine(Path.GetTempPath(), $"callpark-it-{Guid.NewGuid():N}.db") : null;
        for (var attempt = 1; ; attempt++)
        {
            var topology = replication
                ? CreateTopology(ReservePort(), ReservePort(), orbitsA, $"http://127.0.0.1:{ReservePort().Port}", $"http://127.0.0.1:{ReservePort().Port}")
                : CreateTopology(ReservePort(), ReservePort(), orbitsA);
            var lab = new LabPools(log, topology, time ?? TimeProvider.System, park, replication, traceCapacity)
            {
                _databaseB = databaseB,
                RateLimit = rateLimit ?? new Pool.RateLimiting.RateLimitOptions(),
                Overload = overload ?? PatientOverload,
                ServesTls = tls,
                AdminToken = adminToken,
                Health = health ?? FastHealth,
            };
            // The pool keeps its Record-Route key next to its database.
            if (databasePath is not null) lab._files.AddRange([databasePath, Path.ChangeExtension(databasePath, ".route-key")]);
            if (databaseB is not null) lab._files.AddRange([databaseB, Path.ChangeExtension(databaseB, ".route-key")]);
            try
            {
                lab.A = await lab.StartPoolAsync("pool-a", databasePath);
                if (bothPools) lab.B = await lab.StartPoolAsync("pool-b", databaseB);
                return lab;
            }
            catch (Exception e) when (IsPortTaken(e) && attempt < StartAttempts)
            {
                await lab.DisposeAsync();
            }
        }
    }

    private static bool IsPortTaken(Exception e) =>
        e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }
        || e is OptionsValidationError { Key: AdminOptions.Section + ":Url" };

    public static PoolTopology CreateTopology(IPEndPoint a, IPEndPoint b, string orbitsA = "7000-7099", string adminA = "http://127.0.0.1:8060",
        string adminB = "http://127.0.0.1:8062") => new()
    {
        Domain = Domain,
        Pools =
        [
            new PoolDefinition { Name = "pool-a", Sip = a.ToString(), Admin = adminA, Backup = "pool-b", Orbits = [orbitsA] },
            new PoolDefinition { Name = "pool-b", Sip = b.ToString(), Admin = adminB, Backup = "pool-a", Orbits = ["7100-7199"] },
        ],
        Users =
        [
            new UserDefinition { User = "alice", HomePool = "pool-a" },
            new UserDefinition { User = "bob", HomePool = "pool-a" },
            new UserDefinition { User = "carol", HomePool = "pool-a" },
            new UserDefinition { User = "dave", HomePool = "pool-a" },
            new UserDefinition { User = "erin", HomePool = "pool-b" },
            new UserDefinition { User = "frank", HomePool = "pool-b" },
        ],
    };

    /// <summary>A loopback port free for both UDP and TCP at the time of the call.</summary>
    public static IPEndPoint ReservePort()
    {
        while (true)
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            var endPoint = (IPEndPoint)udp.Client.LocalEndPoint!;
            var tcp = new TcpListener(endPoint);
            try
            {
                tcp.Start();
                return endPoint;
            }
            catch (SocketException)
            {
                // Taken for TCP: try another.
            }
            finally
            {
                tcp.Stop();
            }
        }
    }

    public IPEndPoint AddressOf(string pool) => IPEndPoint.Parse(Topology.FindPool(pool)!.Sip);

    public PoolSettings SettingsFor(string pool, string? databasePath) => new()
    {
        Name = pool,
        Topology = Topology,
        Users = Topology.Users.Select(u => new LabUser(u.User, u.HomePool, Passwords[u.User])).ToList(),
        SipEndPoint = AddressOf(pool),
        DatabasePath = databasePath,
        Admin = Replicating ? new AdminOptions { Url = Topology.FindPool(pool)!.Admin, Token = AdminToken } : null,
        // Fast batches and short backoff, so a change or a reconnect reaches the partner in well under a second.
        Replication = Replicating
            ? new ReplicationOptions { BatchInterval = TimeSpan.FromMilliseconds(20), RetryDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(300) }
            : new ReplicationOptions { Enabled = false },
        Digest = new DigestOptions { Realm = Domain, Algorithms = [DigestAlgorithm.Md5] },
        Health = Health,
        // Short DR phases, so a failover or failback completes in well under a second.
        Dr = new DrOptions { FailoverDuration = TimeSpan.FromMilliseconds(500), FailbackDuration = TimeSpan.FromMilliseconds(500) },
        Park = Park,
        TraceCapacity = TraceCapacity,
        RateLimit = RateLimit,
        Overload = Overload,
        Transports = ServesTls
            ? [SipProtocol.Udp, SipProtocol.Tcp, SipProtocol.Tls, SipProtocol.Ws, SipProtocol.Wss]
            : [SipProtocol.Udp, SipProtocol.Tcp],
        Tls = ServesTls ? new TlsOptions { Certificate = LabTls.Certificate } : null,
        Partner = new PartnerOptions { Secret = PartnerSecret },
    };

    /// <summary>The secret both lab pools share (docs/design.md §11 "Trust").</summary>
    public const string PartnerSecret = "lab-pools-partner-secret-for-tests";

    public Task<PoolServer> StartPoolAsync(string pool, string? databasePath) =>
        PoolServer.StartAsync(SettingsFor(pool, databasePath), Log, Time);

    /// <summary>Stops pool-a and starts it again at the same address on the same database (a restart).</summary>
    public async Task RestartAAsync()
    {
        var databasePath = A.Settings.DatabasePath;
        await A.DisposeAsync();
        A = await StartPoolAsync("pool-a", databasePath);
    }

    /// <summary>Stops pool-b (it can be started again with <see cref="StartBAsync"/>, on the same database).</summary>
    public async Task StopBAsync()
    {
        if (B is not null) await B.DisposeAsync();
        B = null;
    }

    /// <summary>Starts pool-b at its address in the topology, on its database when the lab replicates.</summary>
    public async Task StartBAsync() => B = await StartPoolAsync("pool-b", _databaseB);

    /// <summary>A phone of <paramref name="user"/> with its lab password (or <paramref name="password"/>) sending to <paramref name="pool"/>.</summary>
    public async Task<LabPhone> PhoneAsync(string user, PoolServer pool, SipProtocol transport = SipProtocol.Udp, string? password = null,
        bool withoutPassword = false, bool supportsReplaces = true, Func<ISipChannel, ISipChannel>? udpDecorator = null)
    {
        var phone = await LabPhone.StartAsync(user, withoutPassword ? null : password ?? Passwords[user],
            new SipEndPoint(transport, LabTls.EndPointOf(pool, transport)), Log, supportsReplaces, udpDecorator);
        lock (_phones) _phones.Add(phone);
        return phone;
    }

    public async ValueTask DisposeAsync()
    {
        LabPhone[] phones;
        lock (_phones) phones = [.. _phones];
        foreach (var phone in phones) await phone.DisposeAsync();
        if (B is not null) await B.DisposeAsync();
        if (A is not null) await A.DisposeAsync();
        foreach (var file in _files)
        {
            foreach (var suffix in (string[])["", "-wal", "-shm", "-journal"])
            {
                try
                {
                    File.Delete(file + suffix);
                }
                catch (IOException)
                {
                    // Best effort: a temp file left behind is harmless.
                }
            }
        }
    }
}
