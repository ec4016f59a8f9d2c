namespace SipCallPark.Configuration;

/// <summary>The <c>Pool:Trace</c> section: where else the SIP trace goes (the pcap file keeps its own keys).</summary>
internal sealed class TraceOptions
{
    /// <summary>Mirroring to a Homer capture server as HEP3; off while <see cref="HepTraceOptions.Endpoint"/> is unset.</summary>
    public HepTraceOptions Hep { get; set; } = new();
}

/// <summary>The <c>Pool:Trace:Hep</c> section (<c>--hep ENDPOINT</c> sets the endpoint).</summary>
internal sealed class HepTraceOptions
{
    /// <summary><c>udp:HOST:PORT</c> or <c>tcp:HOST:PORT</c>; none (or empty) sends no HEP.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The capture agent id Homer shows for this pool's packets (0–4294967295).</summary>
    public long AgentId { get; set; }

    /// <summary>The HEP auth key (the capture server's password); none sends no key.</summary>
    public string? Password { get; set; }

    /// <summary>Music-on-hold RTP as per-stream counters (a JSON report of protocol type 0x22 every few seconds), never
    /// as packets. Off by default.</summary>
    public bool RtpCounters { get; set; }
}
