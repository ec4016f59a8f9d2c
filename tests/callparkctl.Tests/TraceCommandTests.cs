using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Tests.Admin;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.CallParkCtl.Tests;

/// <summary><c>trace</c> against the fake backend (messages fed to its live trace) and the line it prints.</summary>
public class TraceCommandTests
{
    private const string Invite =
        "INVITE sip:bob@callpark.lab SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
        "Max-Forwards: 70\r\n" +
        "To: <sip:bob@callpark.lab>\r\n" +
        "From: <sip:alice@callpark.lab>;tag=a1\r\n" +
        "Call-ID: cli-1@127.0.0.1\r\n" +
        "CSeq: 1 INVITE\r\n" +
        "Content-Length: 0\r\n\r\n";

    private static readonly TraceMessageDto Sent = new(new DateTimeOffset(2025, 3, 1, 9, 30, 0, 125, TimeSpan.Zero), SipDirection.Out, "udp",
        "127.0.0.1:5060", "127.0.0.1:5070", "INVITE sip:bob@callpark.lab SIP/2.0", "cli-1@127.0.0.1", "1 INVITE", "alice", "bob", Invite);

    private FakeAdminBackend _pool = null!;
    private AdminServer _server = null!;

    private string Admin => _server.Url.GetLeftPart(UriPartial.Authority);

    [SetUp]
    public async Task StartPool()
    {
        _pool = new FakeAdminBackend();
        _server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, _pool, new SipMetrics(), NullLogger.Instance);
    }

    [TearDown]
    public async Task StopPool() => await _server.DisposeAsync();

    private static SipMessageEvent Event(SipDirection direction, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        var parsed = SipParser.Parse(bytes.AsSpan());
        Assert.That(parsed.Error, Is.Null, "test message must parse");
        return new SipMessageEvent(direction, parsed.Message!, new SipEndPoint(SipProtocol.Udp, new IPEndPoint(IPAddress.Loopback, 5070)),
            new IPEndPoint(IPAddress.Loopback, 5060), bytes);
    }

    /// <summary>Waits (bounded) until the command has subscribed, then feeds the fake pool's trace.</summary>
    private async Task FeedWhenSubscribedAsync(Task<CliRun> run, params SipMessageEvent[] events)
    {
        var deadline = Stopwatch.StartNew();
        while (_pool.Trace.SubscriberCount == 0 && !run.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);
        Assert.That(_pool.Trace.SubscriberCount, Is.EqualTo(1), "the command subscribed");
        foreach (var e in events) _pool.Trace.Observe(e);
    }

    [Test]
    public void A_sent_message_reads_time_arrow_transport_remote_first_line_and_call_id()
    {
        var line = TraceCommand.Line(Sent with { Text = null }, colour: false, withText: false);

        var time = Sent.Time.ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(line, Is.EqualTo($"{time}  → udp 127.0.0.1:5070  INVITE sip:bob@callpark.lab  (Call-ID cli-1@127.0.0.1, CSeq 1 INVITE)\n"));
    }

    [Test]
    public void A_received_response_has_the_other_arrow_and_no_protocol_version()
    {
        var line = TraceCommand.Line(Sent with { Direction = SipDirection.In, FirstLine = "SIP/2.0 200 OK" }, colour: false, withText: false);

        Assert.That(line, Does.Contain("  ← udp 127.0.0.1:5070  200 OK  (Call-ID"));
    }

    [Test]
    public void Colour_paints_incoming_and_outgoing_differently()
    {
        var sent = TraceCommand.Line(Sent, colour: true, withText: false);
        var received = TraceCommand.Line(Sent with { Direction = SipDirection.In }, colour: true, withText: false);

        Assert.That(sent, Does.Contain("\e[33m→ udp").And.Contain("\e[0m"));
        Assert.That(received, Does.Contain("\e[36m← udp").And.Contain("\e[0m"));
    }

    [Test]
    public void Full_prints_the_whole_message_indented_under_its_line()
    {
        var lines = TraceCommand.Line(Sent, colour: false, withText: true).Split('\n');

        Assert.That(lines[0], Does.Contain("→ udp"));
        Assert.That(lines[1], Is.EqualTo("    INVITE sip:bob@callpark.lab SIP/2.0"));
        Assert.That(lines, Does.Contain("    Call-ID: cli-1@127.0.0.1"));
        Assert.That(lines.Skip(1).Where(l => l.Length > 0), Has.All.StartWith("    "));
    }

    [Test]
    public async Task Trace_count_1_prints_the_first_message_without_colour_when_redirected_and_exits_0()
    {
        var run = CliRun.Start("trace", "--count", "1", "--full", "--admin", Admin);
        await FeedWhenSubscribedAsync(run, Event(SipDirection.In, Invite));

        var result = await run;

        Assert.That(result.Error, Is.Empty);
        Assert.That(result.ExitCode, Is.EqualTo(0));
        Assert.That(result.Output, Does.Contain("← udp 127.0.0.1:5070  INVITE sip:bob@callpark.lab  (Call-ID cli-1@127.0.0.1, CSeq 1 INVITE)\n"));
        Assert.That(result.Output, Does.Contain("\n    From: <sip:alice@callpark.lab>;tag=a1\n"));
        Assert.That(result.Output, Does.Not.Contain("\e["), "CliRun's output is not a terminal");
    }

    [Test]
    public async Task Trace_passes_its_filters_to_the_pool()
    {
        var run = CliRun.Start("trace", "--count", "1", "--user", "carol", "--call-id", "cli-1@127.0.0.1", "--admin", Admin);
        await FeedWhenSubscribedAsync(run,
            Event(SipDirection.In, Invite),   // alice and bob: filtered out by the pool
            Event(SipDirection.In, Invite.Replace("sip:alice@", "sip:carol@")));

        var result = await run;

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Error);
        Assert.That(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task Trace_of_a_pool_that_is_not_running_exits_1_saying_so()
    {
        var run = await CliRun.Start("trace", "--admin", CliRun.DeadAdminUrl());

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("cannot reach pool admin API").And.Contain("connection refused"));
    }

    [Test]
    public async Task Trace_count_0_is_a_usage_error()
    {
        var run = await CliRun.Start("trace", "--count", "0", "--admin", Admin);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("--count must be at least 1"));
    }

    [Test]
    public async Task Ctrl_c_ends_the_trace_with_exit_0()
    {
        using var ctrlC = new CancellationTokenSource();
        var output = new StringWriter();
        var error = new StringWriter();
        var env = new CliEnvironment(Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(output) }),
            output, error, _ => null);
        var run = CallParkCtlApp.RunAsync(["trace", "--admin", Admin], env, ctrlC.Token);
        var deadline = Stopwatch.StartNew();
        while (_pool.Trace.SubscriberCount == 0 && !run.IsCompleted && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10);

        await ctrlC.CancelAsync();

        Assert.That(await run.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(0), error.ToString());
        Assert.That(error.ToString(), Is.Empty);
    }
}
