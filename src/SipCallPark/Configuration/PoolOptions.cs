namespace SipCallPark.Configuration;

/// <summary>
/// The pool's own settings, bound from the <c>Pool</c> section of the pool's JSON file and validated by
/// <see cref="PoolOptionsValidator"/> before anything starts. Bound once at start; nothing writes them afterwards.
/// The defaults are pool-a's (docs/design.md §9).
/// </summary>
internal sealed class PoolOptions
{
    public const string SectionName = "Pool";

    /// <summary>The pool's name in logs, file names and (later) the DR pairing; letters, digits, '.', '_', '-'.</summary>
    public string Name { get; set; } = "pool-a";

    /// <summary>The SIP domain the pool is authoritative for (<c>sip:alice@callpark.lab</c>).</summary>
    public string Domain { get; set; } = "callpark.lab";

    public SipListenerOptions Sip { get; set; } = new();

    public AdminApiOptions Admin { get; set; } = new();

    /// <summary>Where the pool keeps its state (SQLite); relative paths start at the current directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The shared topology (pools, orbits, users' home pools), the same file for both pools.</summary>
    public string TopologyFile { get; set; } = "config/topology.json";

    /// <summary>Digest credentials of the users (lab passwords, or HA1 values).</summary>
    public string UsersFile { get; set; } = "config/users.json";

    public AuthOptions Auth { get; set; } = new();

    /// <summary>The registrar: where calls for a registered contact go (NatTraversal) and how many contacts an address may hold.</summary>
    public PoolRegistrarOptions Registrar { get; set; } = new();

    /// <summary>When set, every SIP message in and out is also written to this pcap file (Wireshark, tshark, sngrep -I).</summary>
    public string? PcapFile { get; set; }

    /// <summary>With <see cref="PcapFile"/>: the music-on-hold RTP the pool sends goes into the pcap too, as UDP
    /// datagrams from the pool's media port to the parked phone (off by default: 50 packets a second per parked call).</summary>
    public bool PcapIncludeRtp { get; set; }

    /// <summary>Where else the SIP trace goes: <c>Trace:Hep</c> mirrors it to a Homer capture server as HEP3.</summary>
    public TraceOptions Trace { get; set; } = new();

    /// <summary>The call park application (Lync's Set-CsCpsConfiguration names): timeouts, ringbacks, music, orbit choice.</summary>
    public SipCallPark.Pool.Park.ParkOptions Park { get; set; } = new() { Aliases = [] };

    /// <summary>Failover and failback durations (Lync needs 15–30 min; a lab seconds) and the optional automatic failover.</summary>
    public SipCallPark.Pool.Resiliency.DrOptions Dr { get; set; } = new();

    /// <summary>How this pool probes the pool it backs up (SIP OPTIONS): interval, timeout, down and up thresholds.</summary>
    public SipCallPark.Pool.Resiliency.HealthMonitorOptions Health { get; set; } = new();

    /// <summary>Streaming this pool's bindings and park dialogs to its backup pool (docs/design.md §7 "Replication").</summary>
    public SipCallPark.Pool.Replication.ReplicationOptions Replication { get; set; } = new();

    /// <summary>The paired pools' shared secret (<c>Pool:Partner:Secret</c>): signs pool-to-pool requests, probe answers
    /// and replication. Required unless every pool of the topology is on loopback.</summary>
    public SipCallPark.Pool.Pairing.PartnerOptions Partner { get; set; } = new();

    /// <summary>Per-source request rate limit: a token bucket per IP address, 503 with Retry-After beyond it.</summary>
    public SipCallPark.Pool.RateLimiting.RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Pool-wide load shedding: new requests get 503 with Retry-After while the pool is behind.</summary>
    public SipCallPark.Pool.RateLimiting.OverloadOptions Overload { get; set; } = new();

    /// <summary>Fills in defaults that the configuration binder cannot hold (it appends to, not replaces, lists).</summary>
    internal void ApplyDefaults()
    {
        if (Auth.Algorithms.Count == 0)
        {
            Auth.Algorithms = ["SHA-256", "MD5"];
        }
        if (Sip.Transports.Count == 0)
        {
            Sip.Transports = SipListenerOptions.DefaultTransports;
        }
        if (Park.Aliases.Count == 0)
        {
            Park.Aliases.Add("*70");
        }
    }
}
