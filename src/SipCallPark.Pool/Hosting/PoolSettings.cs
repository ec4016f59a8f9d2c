using System.Net;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Resiliency;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Hosting;

/// <summary>Everything a pool needs to start, already read from configuration and validated.</summary>
public sealed class PoolSettings
{
    public required string Name { get; init; }

    public required PoolTopology Topology { get; init; }

    public required IReadOnlyList<LabUser> Users { get; init; }

    /// <summary>Where SIP listens; port 0 picks a free port (tests).</summary>
    public required IPEndPoint SipEndPoint { get; init; }

    public IReadOnlyList<SipProtocol> Transports { get; init; } = [SipProtocol.Udp, SipProtocol.Tcp];

    /// <summary>The <c>Server</c> header of the pool's own answers: null for <c>SipCallPark &lt;pool&gt;</c>, empty for none.</summary>
    public string? ServerHeader { get; init; }

    /// <summary>The SIP over TLS port when <see cref="Transports"/> holds TLS (0 = any free port); same address as <see cref="SipEndPoint"/>.</summary>
    public int TlsPort { get; init; }

    /// <summary>The certificate and handshake limits of the TLS channel; required when <see cref="Transports"/> holds TLS.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>Mutual TLS for the partner pool (<c>Pool:Sip:Tls:RequirePartnerCertificate</c>): the TLS channel asks clients
    /// for a certificate and, over TLS, only the partner's certificate makes a request the partner's. Null: off.</summary>
    public Pairing.PartnerTlsTrust? PartnerTls { get; init; }

    /// <summary>The SIP over WebSocket port when <see cref="Transports"/> holds WS (0 = any free port).</summary>
    public int WebSocketPort { get; init; }

    /// <summary>The SIP over secure WebSocket port when <see cref="Transports"/> holds WSS (0 = any free port); uses <see cref="Tls"/>.</summary>
    public int SecureWebSocketPort { get; init; }

    /// <summary>The SQLite file; null keeps state in memory only (tests).</summary>
    public string? DatabasePath { get; init; }

    public RegistrarOptions Registrar { get; init; } = new();

    public DigestOptions? Digest { get; init; }

    public TransactionOptions Transactions { get; init; } = new();

    public TransportOptions Transport { get; init; } = new();

    /// <summary>Per-source request rate limit (503 with Retry-After beyond it).</summary>
    public RateLimiting.RateLimitOptions RateLimit { get; init; } = new();

    /// <summary>Pool-wide load shedding (503 with Retry-After for new requests while the pool is behind).</summary>
    public RateLimiting.OverloadOptions Overload { get; init; } = new();

    /// <summary>The admin API; null runs without it (tests).</summary>
    public AdminOptions? Admin { get; init; }

    public ParkOptions Park { get; init; } = new();

    public DrOptions Dr { get; init; } = new();

    public HealthMonitorOptions Health { get; init; } = new();

    /// <summary>Streaming this pool's bindings and park dialogs to its backup (docs/design.md §7 "Replication").</summary>
    public ReplicationOptions Replication { get; init; } = new();

    /// <summary>The secret the paired pools sign their requests, probe answers and replication with
    /// (docs/design.md §11 "Trust"); required unless every pool of the topology is on loopback.</summary>
    public Pairing.PartnerOptions Partner { get; init; } = new();

    /// <summary>When set, the SIP trace is written to this pcap file too.</summary>
    public string? PcapPath { get; init; }

    /// <summary>With <see cref="PcapPath"/>: the music-on-hold RTP goes into the pcap too.</summary>
    public bool PcapIncludeRtp { get; init; }

    /// <summary>When set, the SIP trace is mirrored to this Homer capture server as HEP3.</summary>
    public SipCallPark.Sip.Tracing.HepOptions? Hep { get; init; }

    /// <summary>Messages a live-trace subscriber may fall behind before the oldest are dropped.</summary>
    public int TraceCapacity { get; init; } = Tracing.LiveTrace.DefaultCapacity;

    public string Domain => Topology.Domain;
}
