using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Admin.WebConsole;

namespace SipCallPark.Pool.Tests.Admin.WebConsole;

/// <summary>The web console's page, tickets and <c>GET /events</c> on an admin server with a token, and the ways an
/// attacker would try them: no token, a forged or reused ticket, a ticket on another endpoint, too many streams.</summary>
public class ConsoleEndpointsTests
{
    private const string Token = "console-s3cret";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private FakeTimeProvider _time = null!;
    private FakeAdminBackend _backend = null!;
    private ConsoleEvents _events = null!;
    private AdminServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task Start()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 9, 30, 0, TimeSpan.Zero));
        _backend = new FakeAdminBackend(time: _time);
        _events = new ConsoleEvents(_time, ["7000-7099"]);
        _server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0", Token = Token, MaxStreams = 2 }, _backend, new SipMetrics(),
            NullLogger.Instance, time: _time, console: _events);
        _http = new HttpClient { BaseAddress = _server.Url, Timeout = Timeout.InfiniteTimeSpan };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<string> TicketAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/tickets") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
        using var response = await _http.SendAsync(request).WaitAsync(Bound);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ticket").GetString()!;
    }

    private async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenEventsAsync(string ticket)
    {
        var response = await _http.GetAsync($"/events?ticket={Uri.EscapeDataString(ticket)}", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return (response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next event's name and its data line, skipping comments and blank lines.</summary>
    private static async Task<(string Name, string Data)> NextEvent(StreamReader reader)
    {
        string? line;
        do line = await reader.ReadLineAsync().WaitAsync(Bound) ?? throw new AssertionException("the stream ended");
        while (line.Length == 0 || line.StartsWith(':'));
        Assert.That(line, Does.StartWith("event: "));
        var data = await reader.ReadLineAsync().WaitAsync(Bound);
        Assert.That(data, Does.StartWith("data: "));
        Assert.That(await reader.ReadLineAsync().WaitAsync(Bound), Is.Empty, "one data line per event");
        return (line["event: ".Length..], data!["data: ".Length..]);
    }

    [Test]
    public async Task The_page_is_served_at_the_root_without_the_token_under_a_policy_that_allows_no_inline_or_foreign_script()
    {
        using var page = await _http.GetAsync("/");
        using var script = await _http.GetAsync("/console/console.js");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(page.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
            Assert.That(page.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("script-src 'self'").And.Contain("frame-ancestors 'none'")
                .And.Not.Contain("unsafe-inline"));
            Assert.That(page.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
            Assert.That(html, Does.Contain("/console/console.js").And.Not.Contain("<script>").And.Not.Contain("http://").And.Not.Contain("https://"),
                "no inline script, nothing from elsewhere");
            Assert.That(script.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(script.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"));
        });
    }

    [Test]
    public async Task Only_the_console_files_are_public_a_guessed_name_or_another_path_still_needs_the_token()
    {
        using var guessed = await _http.GetAsync("/console/secrets.json");
        using var traversal = await _http.GetAsync("/console/..%2F..%2Fstatus");
        using var status = await _http.GetAsync("/status");
        Assert.Multiple(() =>
        {
            Assert.That(guessed.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(traversal.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(status.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task Events_and_tickets_are_refused_without_the_token()
    {
        using var events = await _http.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        using var ticket = await _http.PostAsync("/console/tickets", null).WaitAsync(Bound);
        using var forged = await _http.GetAsync("/events?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.Multiple(() =>
        {
            Assert.That(events.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(ticket.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task A_ticket_opens_one_stream_once_and_nothing_else()
    {
        var ticket = await TicketAsync();
        var other = await TicketAsync();
        using var status = await _http.GetAsync($"/status?ticket={other}");
        using var unpark = await _http.DeleteAsync($"/parked/7000?ticket={other}");
        var (first, _) = await OpenEventsAsync(ticket);
        using var _ = first;
        using var again = await _http.GetAsync($"/events?ticket={ticket}", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.Multiple(() =>
        {
            Assert.That(status.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a ticket is not the token");
            Assert.That(unpark.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a ticket cannot unpark");
            Assert.That(_backend.Calls, Is.Empty);
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a spent ticket");
        });
    }

    [Test]
    public async Task A_ticket_older_than_its_lifetime_is_refused()
    {
        var ticket = await TicketAsync();
        _time.Advance(ConsoleTickets.Lifetime + TimeSpan.FromSeconds(1));
        using var late = await _http.GetAsync($"/events?ticket={ticket}", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        Assert.That(late.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task The_stream_starts_with_a_snapshot_of_orbits_parked_calls_registrations_and_both_pools_phases()
    {
        var (response, reader) = await OpenEventsAsync(await TicketAsync());
        using var _ = response;
        var (name, data) = await NextEvent(reader);
        var json = JsonDocument.Parse(data).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
            Assert.That(name, Is.EqualTo("snapshot"));
            Assert.That(json.GetProperty("orbitRanges")[0].GetString(), Is.EqualTo("7000-7099"));
            Assert.That(json.GetProperty("parked").EnumerateArray().Select(p => p.GetProperty("orbit").GetString()), Is.EqualTo(new[] { "7000", "7001" }));
            Assert.That(json.GetProperty("registrations").GetArrayLength(), Is.EqualTo(2));
            Assert.That(json.GetProperty("status").GetProperty("dr").EnumerateArray().Select(p => p.GetProperty("pool").GetString()),
                Is.EqualTo(new[] { "pool-a", "pool-b" }));
        });
    }

    [Test]
    public async Task A_park_event_arrives_as_json_on_one_data_line_even_when_the_parked_party_carries_markup_and_line_breaks()
    {
        var (response, reader) = await OpenEventsAsync(await TicketAsync());
        using var _ = response;
        await NextEvent(reader);
        const string hostile = "\"<img src=x onerror=alert(1)>\"\r\nevent: dr\r\ndata: {} <sip:bob@callpark.lab>";

        _events.PublishOrbit(new OrbitEventDto("parked", "7002", _time.GetUtcNow(),
            new ParkedCallDto("7002", hostile, "sip:alice@callpark.lab", _time.GetUtcNow(), null, 0, "pool-a") { State = "Parked" }));

        var (name, data) = await NextEvent(reader);
        var json = JsonDocument.Parse(data).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(name, Is.EqualTo("orbit"));
            Assert.That(json.GetProperty("kind").GetString(), Is.EqualTo("parked"));
            Assert.That(json.GetProperty("call").GetProperty("parkedParty").GetString(), Is.EqualTo(hostile), "carried as data, intact");
            Assert.That(data, Does.Not.Contain("<img").And.Not.Contain("\n"), "escaped by the JSON writer");
        });
    }

    [Test]
    public void MaxStreams_of_zero_stops_the_start_naming_the_key()
    {
        var error = Assert.ThrowsAsync<OptionsValidationError>(() =>
            AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0", MaxStreams = 0 }, _backend, new SipMetrics(), NullLogger.Instance));
        Assert.That(error!.Key, Is.EqualTo("Pool:Admin:MaxStreams"));
    }

    [Test]
    public async Task A_stream_beyond_MaxStreams_is_answered_503_and_a_place_frees_when_a_client_leaves()
    {
        var (one, _) = await OpenEventsAsync(await TicketAsync());
        var (two, _) = await OpenEventsAsync(await TicketAsync());
        using (var three = await _http.GetAsync($"/events?ticket={await TicketAsync()}", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound))
        {
            Assert.That(three.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(three.Headers.RetryAfter, Is.Not.Null);
        }
        using (var trace = new HttpRequestMessage(HttpMethod.Get, "/trace") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } })
        using (var traceAnswer = await _http.SendAsync(trace, HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound))
            Assert.That(traceAnswer.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "/trace counts against the same limit");

        one.Dispose();
        var deadline = DateTime.UtcNow + Bound;
        HttpStatusCode status;
        do
        {
            using var next = await _http.GetAsync($"/events?ticket={await TicketAsync()}", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
            status = next.StatusCode;
            if (status == HttpStatusCode.OK || DateTime.UtcNow > deadline) break;
            await Task.Delay(20);
        } while (true);
        two.Dispose();
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
    }
}
