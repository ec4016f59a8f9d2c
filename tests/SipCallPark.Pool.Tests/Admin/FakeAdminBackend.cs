using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Pairing;
using SipCallPark.Pool.Topology;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Tracing;

namespace SipCallPark.Pool.Tests.Admin;

/// <summary>A pool as the admin API sees it: a fixed status, two bindings, parked calls that can be unparked, and
/// DR commands that succeed for pool-a only when it is Normal (failover) or FailedOver (failback).</summary>
internal sealed class FakeAdminBackend : IAdminBackend
{
    public static readonly DateTimeOffset Started = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly ConcurrentDictionary<string, ParkedCallDto> _parked = new();
    private string _phaseA = "Normal";

    public FakeAdminBackend(string pool = "pool-a", string domain = "callpark.lab", TimeProvider? time = null, int traceCapacity = LiveTrace.DefaultCapacity)
    {
        Trace = new LiveTrace(time ?? TimeProvider.System, traceCapacity);
        Pool = pool;
        Domain = domain;
        _parked["7000"] = new ParkedCallDto("7000", "sip:bob@callpark.lab", "sip:alice@callpark.lab", Started.AddMinutes(5), Started.AddMinutes(6), 0, pool);
        _parked["7001"] = new ParkedCallDto("7001", "sip:erin@callpark.lab", "sip:carol@callpark.lab", Started.AddMinutes(7), null, 1, pool);
    }

    public string Pool { get; }

    public string Domain { get; }

    public List<string> Calls { get; } = [];

    private int _parkedReads;

    public int ParkedReads => Volatile.Read(ref _parkedReads);

    public PoolStatusDto Status() => new(
        Pool, Domain, ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"], Started, 3600,
        new StatusCountsDto(Registrations: 2, Dialogs: 3, Transactions: 4, Parked: _parked.Count),
        [
            new DrPhaseDto("pool-a", _phaseA, "pool-b", null, Started),
            new DrPhaseDto("pool-b", "Normal", "pool-a", true, Started),
        ]);

    public IReadOnlyList<RegistrationDto> Registrations() =>
    [
        new("sip:alice@callpark.lab", "<sip:alice@127.0.0.1:5070>", 3599, 1.0, RegistrationMode.Normal, "udp:127.0.0.1:5070", "<urn:uuid:00000000-0000-0000-0000-00000000a11c>", Pool,
            "udp:127.0.0.1:5070", "contact", "no NAT sign"),
        new("sip:erin@callpark.lab", "<sip:erin@127.0.0.1:5072>", 120, 0.5, RegistrationMode.Resiliency, "tcp:127.0.0.1:40002", null, Pool,
            "tcp:127.0.0.1:40002", "source", "registered over a connection, reused"),
    ];

    public IReadOnlyList<ParkedCallDto> Parked()
    {
        Interlocked.Increment(ref _parkedReads);
        return _parked.Values.OrderBy(p => p.Orbit, StringComparer.Ordinal).ToArray();
    }

    public Task<CommandResult> UnparkAsync(string orbit, CancellationToken cancellationToken)
    {
        Calls.Add($"unpark {orbit}");
        return Task.FromResult(_parked.TryRemove(orbit, out var call)
            ? CommandResult.Done($"ended the call of {call.ParkedParty} parked on orbit {orbit}")
            : CommandResult.NotFound($"orbit {orbit} is empty"));
    }

    public Task<CommandResult> FailoverAsync(string pool, CancellationToken cancellationToken)
    {
        Calls.Add($"failover {pool}");
        if (pool != "pool-a") return Task.FromResult(CommandResult.NotFound($"unknown pool {pool}"));
        if (_phaseA != "Normal") return Task.FromResult(CommandResult.Refused($"pool-a is {_phaseA}; failover needs Normal or Outage"));
        _phaseA = "FailingOver";
        return Task.FromResult(CommandResult.Done("pool-a is failing over to pool-b"));
    }

    public Task<CommandResult> FailbackAsync(string pool, CancellationToken cancellationToken)
    {
        Calls.Add($"failback {pool}");
        if (pool != "pool-a") return Task.FromResult(CommandResult.NotFound($"unknown pool {pool}"));
        if (_phaseA != "FailedOver") return Task.FromResult(CommandResult.Refused($"pool-a is {_phaseA}; failback needs FailedOver"));
        _phaseA = "FailingBack";
        return Task.FromResult(CommandResult.Done("pool-a is failing back"));
    }

    /// <summary>The secret the fake checks replication signatures with.</summary>
    public const string PartnerSecret = "test-partner-secret-0123456789";

    /// <summary>The lab pair on loopback, plus a pool-c that backs up nobody and nobody backs up.</summary>
    public static readonly PoolTopology PartnerTopology = new()
    {
        Domain = "callpark.lab",
        Pools =
        [
            new PoolDefinition { Name = "pool-a", Sip = "127.0.0.1:5060", Admin = "http://127.0.0.1:8060", Backup = "pool-b", Orbits = ["7000-7099"] },
            new PoolDefinition { Name = "pool-b", Sip = "127.0.0.1:5062", Admin = "http://127.0.0.1:8062", Backup = "pool-a", Orbits = ["7100-7199"] },
            new PoolDefinition { Name = "pool-c", Sip = "127.0.0.1:5064", Admin = "http://127.0.0.1:8064", Orbits = ["7200-7299"] },
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

    /// <summary>Checks replication signatures as pool-a of <see cref="PartnerTopology"/> with <see cref="PartnerSecret"/>.</summary>
    public PartnerAuthenticator Partner { get; init; } = new("pool-a", PartnerTopology, new PartnerOptions { Secret = PartnerSecret },
        TimeProvider.System, NullLogger<PartnerAuthenticator>.Instance);

    public PartnerCredentials AuthenticatePartner(string pool, string method, string path, string? signature, ReadOnlySpan<byte> body)
    {
        if (signature is null) return PartnerCredentials.Missing;
        return Partner.VerifyHttp(signature, method, path, body, out var signer) == PartnerVerdict.Valid && signer == pool
            ? PartnerCredentials.Valid
            : PartnerCredentials.Invalid;
    }

    /// <summary>The replication requests taken, as (pool, body).</summary>
    public ConcurrentQueue<(string Pool, object Body)> Replicated { get; } = new();

    /// <summary>Replication is taken from pool-b only (this fake is pool-a, pool-b's backup).</summary>
    public Task<CommandResult> ReplicateChangesAsync(string pool, ReplicationBatch changes, CancellationToken cancellationToken) =>
        Task.FromResult(Replicate(pool, changes));

    public Task<CommandResult> ReplaceReplicaAsync(string pool, ReplicationSnapshot snapshot, CancellationToken cancellationToken) =>
        Task.FromResult(Replicate(pool, snapshot));

    private CommandResult Replicate(string pool, object body)
    {
        if (pool != "pool-b") return CommandResult.Refused($"{Pool} is not {pool}'s backup");
        Replicated.Enqueue((pool, body));
        return CommandResult.Done("stored");
    }

    public void SetPhaseA(string phase) => _phaseA = phase;

    /// <summary>The trace <c>GET /trace</c> subscribes to; tests feed it messages with <see cref="LiveTrace.Observe"/>.</summary>
    public LiveTrace Trace { get; }

    public TraceSubscription SubscribeTrace(TraceFilter filter, bool withText) => Trace.Subscribe(filter, withText);
}
