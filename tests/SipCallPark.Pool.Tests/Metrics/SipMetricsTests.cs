using System.Net;
using System.Text;
using SipCallPark.Pool.Metrics;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Metrics;

public class SipMetricsTests
{
    private static readonly SipEndPoint Phone = new(SipProtocol.Udp, new IPEndPoint(IPAddress.Loopback, 5070));
    private static readonly IPEndPoint Local = new(IPAddress.Loopback, 5060);

    private static string Request(string method, int cseq = 1) =>
        $"{method} sip:bob@callpark.lab SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
        "Max-Forwards: 70\r\n" +
        "To: <sip:bob@callpark.lab>\r\n" +
        "From: <sip:alice@callpark.lab>;tag=a1\r\n" +
        "Call-ID: metrics-1@127.0.0.1\r\n" +
        $"CSeq: {cseq} {method}\r\n" +
        "Content-Length: 0\r\n\r\n";

    private static string Response(int code, string reason, string cseqMethod) =>
        $"SIP/2.0 {code} {reason}\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
        "To: <sip:bob@callpark.lab>;tag=b1\r\n" +
        "From: <sip:alice@callpark.lab>;tag=a1\r\n" +
        "Call-ID: metrics-1@127.0.0.1\r\n" +
        $"CSeq: 1 {cseqMethod}\r\n" +
        "Content-Length: 0\r\n\r\n";

    private static SipMessageEvent Event(SipDirection direction, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        var parsed = SipParser.Parse(bytes.AsSpan());
        Assert.That(parsed.Error, Is.Null, "test message must parse");
        return new SipMessageEvent(direction, parsed.Message!, Phone, Local, bytes);
    }

    private static string[] Lines(SipMetrics metrics) => metrics.Render().Split('\n');

    [Test]
    public void Requests_are_counted_per_direction_and_method()
    {
        var metrics = new SipMetrics();
        metrics.Observe(Event(SipDirection.In, Request("INVITE")));
        metrics.Observe(Event(SipDirection.In, Request("INVITE")));
        metrics.Observe(Event(SipDirection.In, Request("REGISTER")));
        metrics.Observe(Event(SipDirection.Out, Request("BYE")));

        var lines = Lines(metrics);
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain("sipcallpark_sip_requests_total{direction=\"in\",method=\"INVITE\"} 2"));
            Assert.That(lines, Does.Contain("sipcallpark_sip_requests_total{direction=\"in\",method=\"REGISTER\"} 1"));
            Assert.That(lines, Does.Contain("sipcallpark_sip_requests_total{direction=\"out\",method=\"BYE\"} 1"));
            Assert.That(lines, Does.Contain("sipcallpark_sip_requests_total{direction=\"out\",method=\"INVITE\"} 0"));
            Assert.That(metrics.Requests(SipDirection.In, "INVITE"), Is.EqualTo(2));
        });
    }

    [Test]
    public void Responses_are_counted_per_status_code_and_cseq_method()
    {
        var metrics = new SipMetrics();
        metrics.Observe(Event(SipDirection.Out, Response(200, "OK", "REGISTER")));
        metrics.Observe(Event(SipDirection.Out, Response(401, "Unauthorized", "REGISTER")));
        metrics.Observe(Event(SipDirection.Out, Response(200, "OK", "REGISTER")));
        metrics.Observe(Event(SipDirection.In, Response(180, "Ringing", "INVITE")));

        var lines = Lines(metrics);
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain("sipcallpark_sip_responses_total{direction=\"out\",code=\"200\",method=\"REGISTER\"} 2"));
            Assert.That(lines, Does.Contain("sipcallpark_sip_responses_total{direction=\"out\",code=\"401\",method=\"REGISTER\"} 1"));
            Assert.That(lines, Does.Contain("sipcallpark_sip_responses_total{direction=\"in\",code=\"180\",method=\"INVITE\"} 1"));
            Assert.That(metrics.Responses(SipDirection.Out, 200, "REGISTER"), Is.EqualTo(2));
        });
    }

    [Test]
    public void Unknown_methods_are_counted_as_other_so_peers_cannot_grow_the_label_set()
    {
        var metrics = new SipMetrics();
        metrics.Observe(Event(SipDirection.In, Request("FOO")));
        metrics.Observe(Event(SipDirection.In, Request("BAR")));

        var text = metrics.Render();
        Assert.That(text, Does.Contain("sipcallpark_sip_requests_total{direction=\"in\",method=\"OTHER\"} 2\n"));
        Assert.That(text, Does.Not.Contain("FOO"));
    }

    [Test]
    public void Every_family_has_help_and_type_lines_before_its_samples()
    {
        var metrics = new SipMetrics();
        metrics.Observe(Event(SipDirection.In, Request("OPTIONS")));
        metrics.RegisterGauge("registrations", "Current bindings.", () => 3);
        metrics.Increment("parks_total", "Calls parked.");

        var lines = Lines(metrics);
        foreach (var (name, type) in new[]
                 {
                     ("sipcallpark_sip_requests_total", "counter"), ("sipcallpark_sip_responses_total", "counter"),
                     ("sipcallpark_registrations", "gauge"), ("sipcallpark_parks_total", "counter"),
                 })
        {
            var help = Array.FindIndex(lines, l => l.StartsWith($"# HELP {name} ", StringComparison.Ordinal));
            Assert.That(help, Is.GreaterThanOrEqualTo(0), $"HELP for {name}");
            Assert.That(lines[help + 1], Is.EqualTo($"# TYPE {name} {type}"));
        }
        Assert.That(metrics.Render(), Does.EndWith("\n"));
    }

    [Test]
    public void Gauges_are_read_at_each_scrape()
    {
        var metrics = new SipMetrics();
        var parked = 2.0;
        metrics.RegisterGauge("parked_calls", "Calls parked on this pool's orbits.", () => parked);
        Assert.That(Lines(metrics), Does.Contain("sipcallpark_parked_calls 2"));

        parked = 5;
        Assert.That(Lines(metrics), Does.Contain("sipcallpark_parked_calls 5"));
    }

    [Test]
    public void A_disposed_gauge_registration_removes_the_gauge()
    {
        var metrics = new SipMetrics();
        var registration = metrics.RegisterGauge("active_dialogs", "Dialogs.", () => 1);
        registration.Dispose();

        Assert.That(metrics.Render(), Does.Not.Contain("sipcallpark_active_dialogs"));
        Assert.DoesNotThrow(() => metrics.RegisterGauge("active_dialogs", "Dialogs.", () => 1));
    }

    [Test]
    public void A_gauge_registered_twice_is_refused()
    {
        var metrics = new SipMetrics();
        metrics.RegisterGauge("orbits_in_use", "Orbits.", () => 1);
        Assert.Throws<InvalidOperationException>(() => metrics.RegisterGauge("orbits_in_use", "Orbits.", () => 2));
    }

    [Test]
    public void A_gauge_that_throws_leaves_out_its_sample_but_not_the_rest_of_the_scrape()
    {
        var metrics = new SipMetrics();
        metrics.RegisterGauge("active_transactions", "Transactions.", () => throw new InvalidOperationException("gone"));
        metrics.RegisterGauge("registrations", "Bindings.", () => 4);

        var lines = Lines(metrics);
        Assert.That(lines, Does.Contain("# TYPE sipcallpark_active_transactions gauge"));
        Assert.That(lines.Where(l => l.StartsWith("sipcallpark_active_transactions", StringComparison.Ordinal)), Is.Empty);
        Assert.That(lines, Does.Contain("sipcallpark_registrations 4"));
    }

    [Test]
    public void Named_counters_keep_one_series_per_label_set_whatever_the_label_order()
    {
        var metrics = new SipMetrics();
        metrics.Increment("dr_transitions_total", "DR phase transitions.", ("pool", "pool-a"), ("phase", "FailedOver"));
        metrics.Increment("dr_transitions_total", "DR phase transitions.", ("phase", "FailedOver"), ("pool", "pool-a"));
        metrics.Increment("dr_transitions_total", "DR phase transitions.", ("pool", "pool-b"), ("phase", "Outage"));

        var lines = Lines(metrics);
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain("sipcallpark_dr_transitions_total{phase=\"FailedOver\",pool=\"pool-a\"} 2"));
            Assert.That(lines, Does.Contain("sipcallpark_dr_transitions_total{phase=\"Outage\",pool=\"pool-b\"} 1"));
            Assert.That(metrics.Count("dr_transitions_total", ("pool", "pool-a"), ("phase", "FailedOver")), Is.EqualTo(2));
        });
    }

    [Test]
    public void Adding_zero_declares_a_counter_before_its_first_event()
    {
        var metrics = new SipMetrics();
        metrics.Add("timeouts_total", "Parked calls that rang back after the timeout.", 0);
        Assert.That(Lines(metrics), Does.Contain("sipcallpark_timeouts_total 0"));
    }

    [Test]
    public void Label_values_are_escaped()
    {
        var metrics = new SipMetrics();
        metrics.Increment("parks_total", "Calls parked.", ("parker", "a\"b\\c\nd"));
        Assert.That(metrics.Render(), Does.Contain("sipcallpark_parks_total{parker=\"a\\\"b\\\\c\\nd\"} 1\n"));
    }

    [Test]
    public void Invalid_names_and_clashes_are_refused()
    {
        var metrics = new SipMetrics();
        metrics.RegisterGauge("registrations", "Bindings.", () => 1);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => metrics.Increment("parks-total", "bad name"));
            Assert.Throws<ArgumentException>(() => metrics.Increment("parks_total", "bad label", ("__reserved", "x")));
            Assert.Throws<ArgumentException>(() => metrics.Increment("sip_requests_total", "owned by Observe"));
            Assert.Throws<InvalidOperationException>(() => metrics.Increment("registrations", "is a gauge"));
        });
    }

    [Test]
    public void Observing_a_message_whose_series_exists_allocates_nothing()
    {
        var metrics = new SipMetrics();
        var invite = Event(SipDirection.In, Request("INVITE"));
        var ok = Event(SipDirection.Out, Response(200, "OK", "INVITE"));
        metrics.Observe(invite);
        metrics.Observe(ok);   // creates the response series and caches the CSeq view

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            metrics.Observe(invite);
            metrics.Observe(ok);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void Counting_from_many_threads_loses_no_message()
    {
        var metrics = new SipMetrics();
        var invite = Event(SipDirection.In, Request("INVITE"));
        var ok = Event(SipDirection.Out, Response(200, "OK", "INVITE"));
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 1000; i++)
            {
                metrics.Observe(invite);
                metrics.Observe(ok);
                metrics.Increment("parks_total", "Calls parked.");
            }
        });

        Assert.Multiple(() =>
        {
            Assert.That(metrics.Requests(SipDirection.In, "INVITE"), Is.EqualTo(8000));
            Assert.That(metrics.Responses(SipDirection.Out, 200, "INVITE"), Is.EqualTo(8000));
            Assert.That(metrics.Count("parks_total"), Is.EqualTo(8000));
        });
    }
}
