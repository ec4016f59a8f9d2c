using SipCallPark.Pool.Metrics;
using SipCallPark.Sip.Tracing;

namespace SipCallPark.Pool.Tracing;

/// <summary>The HEP export's counters in <c>/metrics</c>, read at each scrape (docs/design.md §8).</summary>
internal static class HepTraceMetrics
{
    /// <summary>Registers the gauges; dispose the results to remove them.</summary>
    public static IEnumerable<IDisposable> Register(SipMetrics metrics, HepTraceExporter exporter) =>
    [
        metrics.RegisterGauge("hep_packets_sent", "SIP messages sent to the HEP capture server, since start", () => exporter.Sent),
        metrics.RegisterGauge("hep_packets_dropped",
            "SIP messages (and music counter reports) not sent to the HEP capture server: its queue was full or the message too large for HEP, since start",
            () => exporter.Dropped),
        metrics.RegisterGauge("hep_send_failures", "HEP packets lost to a failed send (connection broken, refused, timed out), since start",
            () => exporter.SendFailures),
        metrics.RegisterGauge("hep_connect_attempts", "Connections to the HEP capture server opened or tried, since start", () => exporter.ConnectAttempts),
        metrics.RegisterGauge("hep_queue_length", "SIP messages waiting to be sent to the HEP capture server", () => exporter.QueueLength),
    ];
}
