using System.Net;
using System.Net.Sockets;
using Spectre.Console;

namespace SipCallPark.CallParkCtl.Tests;

/// <summary>One in-process run of callparkctl with captured output, error and environment.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static async Task<CliRun> Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 220;
        var env = new CliEnvironment(console, output, error, name => environment?.GetValueOrDefault(name));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var code = await CallParkCtlApp.RunAsync(args, env, timeout.Token);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public static Task<CliRun> Start(params string[] args) => Start(null, args);

    /// <summary>A loopback URL nobody listens on: a port the OS just handed out and took back.</summary>
    public static string DeadAdminUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }
}
