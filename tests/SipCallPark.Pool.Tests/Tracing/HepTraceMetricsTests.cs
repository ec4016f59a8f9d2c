using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Tracing;
using SipCallPark.Sip.Tracing;
using SipCallPark.Sip.Transport;
using static SipCallPark.Pool.Tests.Tracing.TraceSamples;

namespace SipCallPark.Pool.Tests.Tracing;

public class HepTraceMetricsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Test]
    public async Task While_a_TCP_capture_server_refuses_SIP_goes_on_and_metrics_show_the_queue_the_drops_and_the_attempts()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 22, 0, 0, TimeSpan.Zero));
        var options = new HepOptions { Endpoint = HepEndpoint.Parse("tcp:127.0.0.1:9"), QueueCapacity = 2 };
        await using var exporter = new HepTraceExporter(options, time, null,
            (_, _) => throw new SocketException((int)SocketError.ConnectionRefused));
        var metrics = new SipMetrics();
        List<IDisposable> gauges = HepTraceMetrics.Register(metrics, exporter).ToList();
        var message = Event(SipDirection.In, Request("OPTIONS"));

        exporter.Observe(message);
        var deadline = DateTime.UtcNow + Bound;
        while (exporter.ConnectAttempts == 0 && DateTime.UtcNow < deadline) await Task.Delay(5);
        // The sender holds that message through the backoff (fake time stands still); the SIP side keeps handing over.
        for (int i = 0; i < 5; i++) exporter.Observe(message);

        string text = metrics.Render();
        Assert.That(text, Does.Contain("sipcallpark_hep_connect_attempts 1\n"));
        Assert.That(text, Does.Contain("sipcallpark_hep_queue_length 2\n"));
        Assert.That(text, Does.Contain("sipcallpark_hep_packets_dropped 3\n"), "two fit the queue, three are dropped and counted");
        Assert.That(text, Does.Contain("sipcallpark_hep_packets_sent 0\n"));
        foreach (IDisposable gauge in gauges) gauge.Dispose();
    }
}
