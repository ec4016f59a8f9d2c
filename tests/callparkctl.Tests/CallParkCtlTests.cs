using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Tests.Admin;

namespace SipCallPark.CallParkCtl.Tests;

public class CallParkCtlTests
{
    private FakeAdminBackend _poolA = null!;
    private AdminServer _serverA = null!;
    private FakeAdminBackend _poolB = null!;
    private AdminServer _serverB = null!;

    private string AdminA => _serverA.Url.GetLeftPart(UriPartial.Authority);

    private string AdminB => _serverB.Url.GetLeftPart(UriPartial.Authority);

    [SetUp]
    public async Task StartPools()
    {
        _poolA = new FakeAdminBackend("pool-a");
        _serverA = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, _poolA, new SipMetrics(), NullLogger.Instance);
        _poolB = new FakeAdminBackend("pool-b");
        _serverB = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, _poolB, new SipMetrics(), NullLogger.Instance);
    }

    [TearDown]
    public async Task StopPools()
    {
        await _serverA.DisposeAsync();
        await _serverB.DisposeAsync();
    }

    private static void Succeeded(CliRun run)
    {
        Assert.That(run.Error, Is.Empty);
        Assert.That(run.ExitCode, Is.EqualTo(0));
    }

    [Test]
    public async Task Status_shows_the_pool_its_counts_and_dr_phases_in_a_table()
    {
        var run = await CliRun.Start("--admin", AdminA, "status");
        Succeeded(run);
        Assert.That(run.Output, Does.Contain("pool-a").And.Contain(AdminA).And.Contain("callpark.lab")
            .And.Contain("udp:127.0.0.1:5060").And.Contain("2025-03-01 09:00:00Z").And.Contain("01:00:00"));
        Assert.That(Row(run.Output, "Transactions"), Does.Contain("4"));
        Assert.That(Row(run.Output, "Parked calls"), Does.Contain("2"));
        Assert.That(Row(run.Output, "DR pool-b"), Does.Contain("Normal (healthy, backup pool-a)"));
        Assert.That(Row(run.Output, "DR pool-a"), Does.Contain("Normal (self, backup pool-b)"));
    }

    [Test]
    public async Task Status_with_two_admin_urls_shows_both_pools_side_by_side()
    {
        var run = await CliRun.Start("status", "--admin", AdminA, "--admin", AdminB);
        Succeeded(run);
        var header = run.Output.Split('\n').First(l => l.Contains("pool-a"));
        Assert.That(header, Does.Contain("pool-b"), "one header line names both pools");
        Assert.That(Row(run.Output, "Domain"), Does.Match("callpark.lab.*callpark.lab"));
    }

    [Test]
    public async Task Status_of_two_pools_where_one_is_down_shows_the_other_and_exits_1()
    {
        var dead = CliRun.DeadAdminUrl();
        var run = await CliRun.Start("status", "--admin", AdminA, "--admin", dead);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Output, Does.Contain("pool-a").And.Contain("unreachable").And.Contain(dead));
        Assert.That(run.Error, Does.Contain($"cannot reach pool admin API at {dead}: connection refused"));
    }

    [Test]
    public async Task Status_json_prints_the_admin_api_document()
    {
        var run = await CliRun.Start("status", "--json", "--admin", AdminA);
        Succeeded(run);
        var json = JsonDocument.Parse(run.Output).RootElement;
        Assert.That(json.GetProperty("pool").GetString(), Is.EqualTo("pool-a"));
        Assert.That(json.GetProperty("counts").GetProperty("dialogs").GetInt32(), Is.EqualTo(3));
    }

    [Test]
    public async Task Status_json_of_two_pools_is_an_array()
    {
        var run = await CliRun.Start("status", "--json", "--admin", AdminA, "--admin", AdminB);
        Succeeded(run);
        var json = JsonDocument.Parse(run.Output).RootElement;
        Assert.That(json.EnumerateArray().Select(p => p.GetProperty("pool").GetString()), Is.EqualTo(new[] { "pool-a", "pool-b" }));
    }

    [Test]
    public async Task Status_all_together_with_admin_is_a_usage_error()
    {
        var run = await CliRun.Start("status", "--all", "--admin", AdminA);
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("either --all or --admin"));
    }

    [Test]
    public async Task The_admin_url_comes_from_CALLPARK_ADMIN_when_no_option_names_one()
    {
        var run = await CliRun.Start(new Dictionary<string, string> { ["CALLPARK_ADMIN"] = AdminB }, "status");
        Succeeded(run);
        Assert.That(run.Output, Does.Contain("pool-b").And.Not.Contain("│ pool-a"));
    }

    [Test]
    public async Task Registrations_are_listed_with_mode_and_expiry()
    {
        var run = await CliRun.Start("registrations", "--admin", AdminA);
        Succeeded(run);
        var erin = Row(run.Output, "sip:erin@callpark.lab");
        Assert.That(erin, Does.Contain("<sip:erin@127.0.0.1:5072>").And.Contain("120").And.Contain("0.5")
            .And.Contain("resiliency").And.Contain("tcp:127.0.0.1:40002"));
        Assert.That(Row(run.Output, "sip:alice@callpark.lab"), Does.Contain("normal").And.Contain("3599"));
        Assert.That(run.Output, Does.Contain("2 binding(s)"));
    }

    [Test]
    public async Task Registrations_show_where_calls_go_and_why()
    {
        var run = await CliRun.Start("registrations", "--admin", AdminA);
        Succeeded(run);
        Assert.That(Row(run.Output, "sip:alice@callpark.lab"), Does.Contain("contact udp:127.0.0.1:5070").And.Contain("no NAT sign"));
        Assert.That(Row(run.Output, "sip:erin@callpark.lab"), Does.Contain("source tcp:127.0.0.1:40002").And.Contain("registered over a connection"));
    }

    [Test]
    public async Task Parked_calls_are_listed_by_orbit()
    {
        var run = await CliRun.Start("parked", "--admin", AdminA);
        Succeeded(run);
        Assert.That(Row(run.Output, "7000"), Does.Contain("sip:bob@callpark.lab").And.Contain("sip:alice@callpark.lab")
            .And.Contain("2025-03-01 09:05:00Z").And.Contain("2025-03-01 09:06:00Z").And.Contain("pool-a"));
        Assert.That(Row(run.Output, "7001"), Does.Contain("sip:erin@callpark.lab"));
        Assert.That(run.Output, Does.Contain("2 parked call(s)"));
    }

    [Test]
    public async Task Parked_watch_refreshes_count_times_and_ends_by_itself()
    {
        var run = await CliRun.Start("parked", "--watch", "--count", "3", "--interval", "0.05", "--admin", AdminA);
        Succeeded(run);
        Assert.That(_poolA.ParkedReads, Is.EqualTo(3));
        Assert.That(run.Output, Does.Contain("7000").And.Contain("sip:bob@callpark.lab"));
    }

    [Test]
    public async Task Parked_watch_ends_when_cancelled()
    {
        var output = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(output) });
        using var cancel = new CancellationTokenSource();
        var run = CallParkCtlApp.RunAsync(["parked", "--watch", "--interval", "0.05", "--admin", AdminA],
            new CliEnvironment(console, output, new StringWriter(), _ => null), cancel.Token);
        // Cancelled once the watch is under way (its first fetch done and one refresh served), as a user's Ctrl+C is;
        // a fixed delay raced the first fetch on a loaded machine. Bounded: 10 s.
        for (var i = 0; i < 200 && _poolA.ParkedReads < 2 && !run.IsCompleted; i++) await Task.Delay(50);
        Assert.That(_poolA.ParkedReads, Is.GreaterThanOrEqualTo(2), "the watch refreshed before it was cancelled");
        await cancel.CancelAsync();
        var code = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(code, Is.EqualTo(0));
        Assert.That(_poolA.ParkedReads, Is.GreaterThanOrEqualTo(1).And.LessThan(ParkedCommand.MaxRefreshes));
    }

    [Test]
    public async Task Count_without_watch_is_a_usage_error()
    {
        var run = await CliRun.Start("parked", "--count", "2", "--admin", AdminA);
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("--count needs --watch"));
    }

    [Test]
    public async Task Unpark_ends_the_call_on_the_orbit()
    {
        var run = await CliRun.Start("unpark", "7000", "--admin", AdminA);
        Succeeded(run);
        Assert.That(run.Output, Does.Contain("ended the call of sip:bob@callpark.lab parked on orbit 7000"));
        Assert.That(_poolA.Calls, Is.EqualTo(new[] { "unpark 7000" }));
    }

    [Test]
    public async Task Unpark_of_an_empty_orbit_exits_1_with_the_pools_reason()
    {
        var run = await CliRun.Start("unpark", "7050", "--admin", AdminA);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("answered 404: orbit 7050 is empty"));
    }

    [Test]
    public async Task Failover_asks_the_pool_to_fail_over()
    {
        var run = await CliRun.Start("failover", "pool-a", "--admin", AdminA);
        Succeeded(run);
        Assert.That(run.Output, Does.Contain("pool-a is failing over to pool-b"));
        Assert.That(_poolA.Calls, Is.EqualTo(new[] { "failover pool-a" }));
    }

    [Test]
    public async Task A_failback_the_pool_refuses_exits_1_with_the_reason()
    {
        var run = await CliRun.Start("failback", "pool-a", "--admin", AdminA);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("answered 409: pool-a is Normal; failback needs FailedOver"));
    }

    [Test]
    public async Task An_unreachable_pool_exits_1_saying_so()
    {
        var dead = CliRun.DeadAdminUrl();
        var run = await CliRun.Start("registrations", "--admin", dead);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error.Trim(), Is.EqualTo($"callparkctl: cannot reach pool admin API at {dead}: connection refused — is the pool running?"));
    }

    [Test]
    public async Task A_pool_with_a_token_needs_it_from_the_option_or_CALLPARK_TOKEN()
    {
        var backend = new FakeAdminBackend();
        await using var server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0", Token = "lab-token" }, backend, new SipMetrics(), NullLogger.Instance);
        var admin = server.Url.GetLeftPart(UriPartial.Authority);

        var without = await CliRun.Start("parked", "--admin", admin);
        var withOption = await CliRun.Start("parked", "--admin", admin, "--token", "lab-token");
        var withVariable = await CliRun.Start(new Dictionary<string, string> { ["CALLPARK_TOKEN"] = "lab-token" }, "parked", "--admin", admin);

        Assert.That(without.ExitCode, Is.EqualTo(1));
        Assert.That(without.Error, Does.Contain("(401)").And.Contain("--token"));
        Succeeded(withOption);
        Succeeded(withVariable);
    }

    [TestCase("bogus")]
    [TestCase("parked", "--bogus")]
    [TestCase("unpark")]
    [TestCase("status", "--admin", "ftp://127.0.0.1:8060")]
    [TestCase("registrations", "--admin", "http://127.0.0.1:8060", "--admin", "http://127.0.0.1:8062")]
    public async Task A_wrong_command_line_exits_2(params string[] args)
    {
        var run = await CliRun.Start(args);
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith("callparkctl: ").And.Contain("--help"));
    }

    /// <summary>The table line that contains <paramref name="label"/>.</summary>
    private static string Row(string output, string label) =>
        output.Split('\n').FirstOrDefault(l => l.Contains(label, StringComparison.Ordinal)) ?? $"<no row with {label}>";
}
