using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Metrics;
using SipCallPark.Pool.Tests.Admin;

namespace SipCallPark.CallParkCtl.Tests;

/// <summary>
/// callparkctl run as its own process with standard output going to a pipe, as in <c>callparkctl registrations | grep</c>:
/// the console it builds for itself, not the one the in-process tests hand it.
/// </summary>
public class RedirectedOutputTests
{
    private AdminServer _server = null!;

    private string Admin => _server.Url.GetLeftPart(UriPartial.Authority);

    [SetUp]
    public async Task StartPool() =>
        _server = await AdminServer.StartAsync(new AdminOptions { Url = "http://127.0.0.1:0" }, new FakeAdminBackend("pool-a"), new SipMetrics(), NullLogger.Instance);

    [TearDown]
    public async Task StopPool() => await _server.DisposeAsync();

    [Test]
    public async Task Registrations_piped_keep_each_binding_on_one_line()
    {
        var output = await RunPiped("registrations", "--admin", Admin);
        var erin = output.Split('\n').Single(l => l.Contains("sip:erin@callpark.lab"));
        Assert.That(erin, Does.Contain("<sip:erin@127.0.0.1:5072>").And.Contain("resiliency").And.Contain("source tcp:127.0.0.1:40002")
            .And.Contain("registered over a connection, reused").And.Contain("pool-a"));
        Assert.That(output, Does.Not.Contain("\u001b["), "no colour codes into a pipe");
    }

    [Test]
    public async Task Parked_calls_piped_keep_each_call_on_one_line()
    {
        var output = await RunPiped("parked", "--admin", Admin);
        var row = output.Split('\n').Single(l => l.Contains("7000"));
        Assert.That(row, Does.Contain("sip:bob@callpark.lab").And.Contain("sip:alice@callpark.lab").And.Contain("2025-03-01 09:05:00Z")
            .And.Contain("2025-03-01 09:06:00Z").And.Contain("pool-a"));
    }

    /// <summary>Runs the built callparkctl with its standard output and error redirected; bounded to 60 s.</summary>
    private static async Task<string> RunPiped(params string[] args)
    {
        var dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "callparkctl.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        // Spectre reads these to guess a width; a CI runner or a developer's shell may set them.
        start.Environment.Remove("COLUMNS");
        start.Environment.Remove("LINES");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        Assert.That(process.ExitCode, Is.EqualTo(0), await stderr);
        return await stdout;
    }
}
