using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Sip.Transport;
using static SipCallPark.Pool.Tests.Tracing.TraceSamples;

namespace SipCallPark.Pool.Tests.Admin;

/// <summary><c>GET /trace</c> against the fake backend: the SSE framing, filters, heartbeats and the end of a stream.</summary>
public class TraceEventStreamTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private FakeTimeProvider _time = null!;
    private FakeAdminBackend _backend = null!;
    private AdminServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task Start()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 9, 30, 0, TimeSpan.Zero));
        _backend = new FakeAdminBackend(time: _time);
        _server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, _backend, new SipMetrics(), NullLogger.Instance, time: _time);
        _http = new HttpClient { BaseAddress = _server.Url, Timeout = Timeout.InfiniteTimeSpan };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>Opens the stream and reads its first line (the comment that says it is subscribed).</summary>
    private async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenAsync(string query = "")
    {
        var response = await _http.GetAsync("/trace" + query, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.That(await Line(reader), Does.StartWith(": trace"));
        Assert.That(await Line(reader), Is.Empty);
        return (response, reader);
    }

    private static async Task<string> Line(StreamReader reader) =>
        await reader.ReadLineAsync().WaitAsync(Bound) ?? throw new AssertionException("the stream ended");

    /// <summary>The next event's name and JSON data, skipping blank lines and comments.</summary>
    private static async Task<(string Name, JsonElement Data)> NextEvent(StreamReader reader)
    {
        string line;
        do line = await Line(reader); while (line.Length == 0 || line.StartsWith(':'));
        Assert.That(line, Does.StartWith("event: "));
        var data = await Line(reader);
        Assert.That(data, Does.StartWith("data: "));
        Assert.That(await Line(reader), Is.Empty, "an event ends with a blank line");
        return (line["event: ".Length..], JsonDocument.Parse(data["data: ".Length..]).RootElement);
    }

    [Test]
    public async Task Each_message_arrives_as_a_sip_event_with_its_summary_in_json()
    {
        var (response, reader) = await OpenAsync();
        using var _ = response;
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        Assert.That(response.Headers.CacheControl?.NoCache, Is.True);

        _backend.Trace.Observe(Event(SipDirection.In, Request("INVITE")));

        var (name, json) = await NextEvent(reader);
        Assert.Multiple(() =>
        {
            Assert.That(name, Is.EqualTo("sip"));
            Assert.That(json.GetProperty("time").GetString(), Is.EqualTo("2025-03-01T09:30:00+00:00"));
            Assert.That(json.GetProperty("direction").GetString(), Is.EqualTo("in"));
            Assert.That(json.GetProperty("transport").GetString(), Is.EqualTo("udp"));
            Assert.That(json.GetProperty("local").GetString(), Is.EqualTo("127.0.0.1:5060"));
            Assert.That(json.GetProperty("remote").GetString(), Is.EqualTo("127.0.0.1:5070"));
            Assert.That(json.GetProperty("firstLine").GetString(), Is.EqualTo("INVITE sip:bob@callpark.lab SIP/2.0"));
            Assert.That(json.GetProperty("callId").GetString(), Is.EqualTo("trace-1@127.0.0.1"));
            Assert.That(json.GetProperty("cSeq").GetString(), Is.EqualTo("1 INVITE"));
            Assert.That(json.GetProperty("fromUser").GetString(), Is.EqualTo("alice"));
            Assert.That(json.GetProperty("toUser").GetString(), Is.EqualTo("bob"));
            Assert.That(json.GetProperty("text").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task Body_true_adds_the_whole_message_and_the_filters_come_from_the_query()
    {
        var (response, reader) = await OpenAsync("?callId=trace-2&user=Carol&body=true");
        using var _ = response;

        _backend.Trace.Observe(Event(SipDirection.Out, Request("BYE", from: "carol", callId: "other")));   // another call
        _backend.Trace.Observe(Event(SipDirection.Out, Request("BYE", from: "erin", callId: "trace-2")));   // another user
        _backend.Trace.Observe(Event(SipDirection.Out, Request("BYE", from: "carol", callId: "trace-2")));

        var (_, json) = await NextEvent(reader);
        Assert.That(json.GetProperty("callId").GetString(), Is.EqualTo("trace-2"));
        Assert.That(json.GetProperty("fromUser").GetString(), Is.EqualTo("carol"));
        Assert.That(json.GetProperty("direction").GetString(), Is.EqualTo("out"));
        Assert.That(json.GetProperty("text").GetString(), Is.EqualTo(Request("BYE", from: "carol", callId: "trace-2")));
    }

    [Test]
    public async Task A_quiet_stream_gets_a_heartbeat_comment_after_15_seconds()
    {
        var (response, reader) = await OpenAsync();
        using var _ = response;
        var reading = reader.ReadLineAsync();

        // The server arms its heartbeat timer just after the first line: move the clock on until that timer fires.
        var deadline = Stopwatch.StartNew();
        while (!reading.IsCompleted && deadline.Elapsed < Bound)
        {
            _time.Advance(TraceEventStream.Heartbeat);
            await Task.WhenAny(reading, Task.Delay(20));
        }

        Assert.That(await reading.WaitAsync(Bound), Is.EqualTo(": heartbeat"));
    }

    [Test]
    public async Task A_body_flag_that_is_not_a_boolean_is_refused_with_400()
    {
        using var response = await _http.GetAsync("/trace?body=maybe").WaitAsync(Bound);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("body must be true or false"));
        Assert.That(_backend.Trace.SubscriberCount, Is.EqualTo(0));
    }

    [Test]
    public async Task A_client_that_goes_away_is_unsubscribed()
    {
        var (response, reader) = await OpenAsync();
        Assert.That(_backend.Trace.SubscriberCount, Is.EqualTo(1));

        reader.Dispose();
        response.Dispose();

        var deadline = Stopwatch.StartNew();
        while (_backend.Trace.SubscriberCount > 0 && deadline.Elapsed < Bound) await Task.Delay(10);
        Assert.That(_backend.Trace.SubscriberCount, Is.EqualTo(0));
    }

    [Test]
    public async Task Stopping_the_server_ends_an_open_stream_at_once()
    {
        var (response, reader) = await OpenAsync();
        using var _ = response;

        var stopping = Stopwatch.StartNew();
        await _server.StopAsync().WaitAsync(Bound);

        Assert.That(stopping.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "an open trace must not hold up the shutdown");
        Assert.That(await reader.ReadToEndAsync().WaitAsync(Bound), Is.Empty, "the stream ends with nothing more");
        Assert.That(_backend.Trace.SubscriberCount, Is.EqualTo(0));
    }
}
