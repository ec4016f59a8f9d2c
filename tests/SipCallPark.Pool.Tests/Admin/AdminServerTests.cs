using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Registrar;
using SipCallPark.Pool.Replication;
using SipCallPark.Pool.Tests.Pairing;

namespace SipCallPark.Pool.Tests.Admin;

public class AdminServerTests
{
    private FakeAdminBackend _backend = null!;
    private SipMetrics _metrics = null!;
    private AdminServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task Start()
    {
        _backend = new FakeAdminBackend();
        _metrics = new SipMetrics();
        _metrics.RegisterGauge("parked_calls", "Calls parked on this pool's orbits.", () => 2);
        _server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, _backend, _metrics, NullLogger.Instance);
        _http = new HttpClient { BaseAddress = _server.Url, Timeout = TimeSpan.FromSeconds(10) };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<JsonElement> Json(HttpResponseMessage response)
    {
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Test]
    public async Task The_server_listens_on_the_loopback_port_it_was_given()
    {
        Assert.That(_server.Url.Host, Is.EqualTo("127.0.0.1"));
        Assert.That(_server.Url.Port, Is.GreaterThan(0));
        var response = await _http.GetAsync("/healthz");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("ok"));
    }

    [Test]
    public async Task Status_reports_pool_counts_and_dr_phases_in_camel_case()
    {
        var response = await _http.GetAsync("/status");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var json = await Json(response);
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("pool").GetString(), Is.EqualTo("pool-a"));
            Assert.That(json.GetProperty("domain").GetString(), Is.EqualTo("callpark.lab"));
            Assert.That(json.GetProperty("sipEndpoints")[0].GetString(), Is.EqualTo("udp:127.0.0.1:5060"));
            Assert.That(json.GetProperty("uptimeSeconds").GetDouble(), Is.EqualTo(3600));
            Assert.That(json.GetProperty("startedAt").GetDateTimeOffset(), Is.EqualTo(FakeAdminBackend.Started));
            var counts = json.GetProperty("counts");
            Assert.That(counts.GetProperty("registrations").GetInt32(), Is.EqualTo(2));
            Assert.That(counts.GetProperty("dialogs").GetInt32(), Is.EqualTo(3));
            Assert.That(counts.GetProperty("transactions").GetInt32(), Is.EqualTo(4));
            Assert.That(counts.GetProperty("parked").GetInt32(), Is.EqualTo(2));
            var dr = json.GetProperty("dr");
            Assert.That(dr.GetArrayLength(), Is.EqualTo(2));
            Assert.That(dr[1].GetProperty("pool").GetString(), Is.EqualTo("pool-b"));
            Assert.That(dr[1].GetProperty("phase").GetString(), Is.EqualTo("Normal"));
            Assert.That(dr[1].GetProperty("backupPool").GetString(), Is.EqualTo("pool-a"));
            Assert.That(dr[1].GetProperty("healthy").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task Registrations_list_every_binding_with_its_mode_as_a_string()
    {
        var json = await Json(await _http.GetAsync("/registrations"));
        Assert.That(json.GetArrayLength(), Is.EqualTo(2));
        var erin = json[1];
        Assert.Multiple(() =>
        {
            Assert.That(erin.GetProperty("aor").GetString(), Is.EqualTo("sip:erin@callpark.lab"));
            Assert.That(erin.GetProperty("contact").GetString(), Is.EqualTo("<sip:erin@127.0.0.1:5072>"));
            Assert.That(erin.GetProperty("expiresInSeconds").GetInt32(), Is.EqualTo(120));
            Assert.That(erin.GetProperty("q").GetDouble(), Is.EqualTo(0.5));
            Assert.That(erin.GetProperty("mode").GetString(), Is.EqualTo("resiliency"));
            Assert.That(erin.GetProperty("source").GetString(), Is.EqualTo("tcp:127.0.0.1:40002"));
            Assert.That(erin.GetProperty("instance").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(erin.GetProperty("pool").GetString(), Is.EqualTo("pool-a"));
        });
    }

    [Test]
    public async Task Parked_lists_orbit_parties_and_timeout()
    {
        var json = await Json(await _http.GetAsync("/parked"));
        Assert.That(json.GetArrayLength(), Is.EqualTo(2));
        var first = json[0];
        Assert.Multiple(() =>
        {
            Assert.That(first.GetProperty("orbit").GetString(), Is.EqualTo("7000"));
            Assert.That(first.GetProperty("parkedParty").GetString(), Is.EqualTo("sip:bob@callpark.lab"));
            Assert.That(first.GetProperty("parker").GetString(), Is.EqualTo("sip:alice@callpark.lab"));
            Assert.That(first.GetProperty("since").GetDateTimeOffset(), Is.EqualTo(FakeAdminBackend.Started.AddMinutes(5)));
            Assert.That(first.GetProperty("timeoutDue").GetDateTimeOffset(), Is.EqualTo(FakeAdminBackend.Started.AddMinutes(6)));
            Assert.That(first.GetProperty("attempts").GetInt32(), Is.EqualTo(0));
            Assert.That(first.GetProperty("pool").GetString(), Is.EqualTo("pool-a"));
        });
    }

    [Test]
    public async Task Deleting_a_parked_call_ends_it()
    {
        var response = await _http.DeleteAsync("/parked/7000");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var json = await Json(response);
        Assert.That(json.GetProperty("outcome").GetString(), Is.EqualTo("done"));
        Assert.That(json.GetProperty("message").GetString(), Does.Contain("7000"));
        Assert.That(_backend.Calls, Is.EqualTo(new[] { "unpark 7000" }));
        Assert.That((await Json(await _http.GetAsync("/parked"))).GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task Deleting_an_empty_orbit_answers_404_with_a_json_error()
    {
        var response = await _http.DeleteAsync("/parked/7050");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await Json(response)).GetProperty("error").GetString(), Is.EqualTo("orbit 7050 is empty"));
    }

    [Test]
    public async Task Failover_names_the_pool_in_its_body()
    {
        var response = await _http.PostAsJsonAsync("/dr/failover", new { pool = "pool-a" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await Json(response)).GetProperty("message").GetString(), Is.EqualTo("pool-a is failing over to pool-b"));
        Assert.That(_backend.Calls, Is.EqualTo(new[] { "failover pool-a" }));
    }

    [Test]
    public async Task A_failback_the_backend_refuses_answers_409_with_its_reason()
    {
        var response = await _http.PostAsJsonAsync("/dr/failback", new { pool = "pool-a" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
        Assert.That((await Json(response)).GetProperty("error").GetString(), Is.EqualTo("pool-a is Normal; failback needs FailedOver"));
    }

    [Test]
    public async Task Failback_of_a_failed_over_pool_is_accepted()
    {
        _backend.SetPhaseA("FailedOver");
        var response = await _http.PostAsJsonAsync("/dr/failback", new { pool = "pool-a" });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task A_dr_command_without_a_pool_or_with_bad_json_answers_400()
    {
        var empty = await _http.PostAsJsonAsync("/dr/failover", new { });
        var broken = await _http.PostAsync("/dr/failover", new StringContent("{pool:", Encoding.UTF8, "application/json"));
        Assert.Multiple(async () =>
        {
            Assert.That(empty.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That((await Json(empty)).GetProperty("error").GetString(), Does.Contain("\"pool\""));
            Assert.That(broken.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        });
        Assert.That(_backend.Calls, Is.Empty);
    }

    [Test]
    public async Task Metrics_are_served_as_prometheus_text()
    {
        var response = await _http.GetAsync("/metrics");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.ToString(), Does.StartWith("text/plain; version=0.0.4"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(text, Does.Contain("# TYPE sipcallpark_parked_calls gauge\nsipcallpark_parked_calls 2\n"));
        Assert.That(text, Does.Contain("# TYPE sipcallpark_sip_requests_total counter"));
    }

    [Test]
    public async Task A_replication_batch_is_handed_to_the_backend_with_the_sending_pool_and_enums_as_strings()
    {
        var binding = new Binding("sip:erin@callpark.lab", "<sip:erin@127.0.0.1:5072>", FakeAdminBackend.Started.AddHours(1), 1.0, "reg-1", 7,
            null, null, "udp:127.0.0.1:5072", RegistrationMode.Normal, "pool-b");
        var body = new ReplicationBatch([new AorBindings(binding.Aor, [binding])], [], ["7101"]);

        var response = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Post, "/replication/pool-b/changes", body, PartnerKeys.For("pool-b")));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(_backend.Replicated.TryDequeue(out var taken), Is.True);
        var batch = (ReplicationBatch)taken.Body;
        Assert.Multiple(() =>
        {
            Assert.That(taken.Pool, Is.EqualTo("pool-b"));
            Assert.That(batch.Bindings.Single().Bindings.Single(), Is.EqualTo(binding));
            Assert.That(batch.RemovedOrbits, Is.EqualTo(new[] { "7101" }));
        });
    }

    [Test]
    public async Task A_replication_snapshot_larger_than_an_operator_command_may_be_is_taken()
    {
        var bindings = Enumerable.Range(0, 2000).Select(i => new Binding($"sip:user{i}@callpark.lab", $"<sip:user{i}@127.0.0.1:{10000 + i}>",
            FakeAdminBackend.Started.AddHours(1), 1.0, $"reg-{i}", 1, null, null, null, RegistrationMode.Normal, "pool-b")).ToArray();
        using var request = PartnerKeys.Replication(HttpMethod.Put, "/replication/pool-b/snapshot", new ReplicationSnapshot(bindings, []), PartnerKeys.For("pool-b"));
        Assert.That(request.Content!.Headers.ContentLength, Is.GreaterThan(64 * 1024), "bigger than the operator-command limit");

        var response = await _http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(((ReplicationSnapshot)_backend.Replicated.Single().Body).Bindings, Has.Count.EqualTo(2000));
    }

    [Test]
    public async Task Replication_from_a_pool_this_one_does_not_back_up_is_refused_with_409_and_bad_json_with_400()
    {
        var refused = await _http.SendAsync(PartnerKeys.Replication(HttpMethod.Put, "/replication/pool-c/snapshot", new ReplicationSnapshot([], []),
            PartnerKeys.For("pool-c")));
        using var garbledRequest = new HttpRequestMessage(HttpMethod.Post, "/replication/pool-b/changes")
        {
            Content = new StringContent("{\"bindings\": 5}", Encoding.UTF8, "application/json"),
        };
        garbledRequest.Headers.TryAddWithoutValidation("X-Pool-Auth",
            PartnerKeys.For("pool-b").SignHttp("POST", "/replication/pool-b/changes", Encoding.UTF8.GetBytes("{\"bindings\": 5}")));
        var garbled = await _http.SendAsync(garbledRequest);

        Assert.Multiple(async () =>
        {
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That((await Json(refused)).GetProperty("error").GetString(), Does.Contain("not pool-c's backup"));
            Assert.That(garbled.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(_backend.Replicated, Is.Empty);
        });
    }

    [Test]
    public async Task An_unknown_path_answers_404_as_json()
    {
        var response = await _http.GetAsync("/nope");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await Json(response)).GetProperty("error").GetString(), Is.EqualTo("no such endpoint: GET /nope"));
    }

    [Test]
    public async Task A_backend_that_throws_answers_500_as_json_with_a_correlation_id_never_the_exception_text_which_only_the_log_keeps()
    {
        var log = new SipCallPark.Pool.Tests.Proxy.ListLogger();
        await using var server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, new ThrowingBackend(), _metrics, log);
        using var http = new HttpClient { BaseAddress = server.Url };
        var response = await http.GetAsync("/status");
        var error = (await Json(response)).GetProperty("error").GetString()!;
        var logged = log.With("Admin request {Method} {Path} failed").Single();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(error, Does.Not.Contain("store is closed"));
            Assert.That(error, Does.StartWith("internal error (correlation id ").And.Contain((string)logged["CorrelationId"]!));
        });
    }

    [Test]
    public async Task A_malformed_json_body_is_answered_with_where_it_broke_not_the_parsers_message()
    {
        var response = await _http.PostAsync("/dr/failover", new StringContent("{\"pool\": [1,", System.Text.Encoding.UTF8, "application/json"));
        var error = (await Json(response)).GetProperty("error").GetString()!;

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(error, Does.Contain("invalid at line 1"));
            Assert.That(error, Does.Not.Contain("System.").And.Not.Contain("LineNumber:"), "no parser internals");
        });
    }

    [Test]
    public async Task With_a_token_configured_every_request_needs_it()
    {
        await using var server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0", Token = "s3cret" }, _backend, _metrics, NullLogger.Instance);
        using var http = new HttpClient { BaseAddress = server.Url };

        var without = await http.GetAsync("/status");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } };
        var wrongAnswer = await http.SendAsync(wrong);
        using var right = new HttpRequestMessage(HttpMethod.Get, "/status") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cret") } };
        var rightAnswer = await http.SendAsync(right);

        Assert.Multiple(async () =>
        {
            Assert.That(without.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(without.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
            Assert.That((await Json(without)).GetProperty("error").GetString(), Does.Contain("bearer token"));
            Assert.That(wrongAnswer.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(rightAnswer.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [TestCase("http://0.0.0.0:0")]
    [TestCase("http://*:0")]
    [TestCase("http://192.0.2.10:8060")]
    public void A_non_loopback_url_without_a_token_is_refused_at_start_naming_the_key(string url)
    {
        var error = Assert.ThrowsAsync<OptionsValidationError>(() =>
            AdminServer.StartAsync(new AdminOptions { Url = url }, _backend, _metrics, NullLogger.Instance));
        Assert.That(error!.Key, Is.EqualTo("Pool:Admin:Token"));
        Assert.That(error.Message, Does.Contain("Pool:Admin:Token").And.Contain(url));
    }

    [TestCase("not a url")]
    [TestCase("ftp://127.0.0.1:8060")]
    [TestCase("http://127.0.0.1:8060/admin")]
    public void A_malformed_url_is_refused_at_start_naming_the_key(string url)
    {
        var error = Assert.ThrowsAsync<OptionsValidationError>(() =>
            AdminServer.StartAsync(new AdminOptions { Url = url }, _backend, _metrics, NullLogger.Instance));
        Assert.That(error!.Key, Is.EqualTo("Pool:Admin:Url"));
    }

    [Test]
    public void A_port_already_in_use_is_refused_at_start_naming_the_url_key()
    {
        var error = Assert.ThrowsAsync<OptionsValidationError>(() =>
            AdminServer.StartAsync(new AdminOptions { Url = $"http://127.0.0.1:{_server.Url.Port}" }, _backend, _metrics, NullLogger.Instance));
        Assert.That(error!.Key, Is.EqualTo("Pool:Admin:Url"));
    }

    private sealed class ThrowingBackend : IAdminBackend
    {
        public PoolStatusDto Status() => throw new InvalidOperationException("store is closed");

        public IReadOnlyList<RegistrationDto> Registrations() => [];

        public IReadOnlyList<ParkedCallDto> Parked() => [];

        public Task<CommandResult> UnparkAsync(string orbit, CancellationToken cancellationToken) => Task.FromResult(CommandResult.Done(""));

        public Task<CommandResult> FailoverAsync(string pool, CancellationToken cancellationToken) => Task.FromResult(CommandResult.Done(""));

        public Task<CommandResult> FailbackAsync(string pool, CancellationToken cancellationToken) => Task.FromResult(CommandResult.Done(""));

        public PartnerCredentials AuthenticatePartner(string pool, string method, string path, string? signature, ReadOnlySpan<byte> body) =>
            PartnerCredentials.Missing;

        public Task<CommandResult> ReplicateChangesAsync(string pool, ReplicationBatch changes, CancellationToken cancellationToken) =>
            Task.FromResult(CommandResult.Done(""));

        public Task<CommandResult> ReplaceReplicaAsync(string pool, ReplicationSnapshot snapshot, CancellationToken cancellationToken) =>
            Task.FromResult(CommandResult.Done(""));

        public SipCallPark.Pool.Tracing.TraceSubscription SubscribeTrace(SipCallPark.Pool.Tracing.TraceFilter filter, bool withText) =>
            throw new InvalidOperationException("trace is closed");
    }
}
