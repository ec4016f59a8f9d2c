using System.CommandLine;

namespace SipCallPark.CallParkCtl;

/// <summary>
/// callparkctl: the operator commands of docs/design.md §7 over a pool's admin API. Exit codes: 0 done, 1 the pool was not
/// reachable or refused, 2 the command line was wrong.
/// </summary>
internal static class CallParkCtlApp
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;

    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken cancellationToken = default)
    {
        var root = Build(env);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await env.Error.WriteLineAsync($"callparkctl: {error.Message}");
            await env.Error.WriteLineAsync("Run 'callparkctl --help' for usage.");
            return ExitUsage;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = env.Output, Error = env.Error }, cancellationToken);
    }

    internal static RootCommand Build(CliEnvironment env)
    {
        var global = new GlobalOptions();
        var root = new RootCommand("Operate a SipCallPark pool through its admin API: status, registrations, parked calls, unpark, failover, failback, live SIP trace.");
        root.Options.Add(global.Admin);
        root.Options.Add(global.Token);
        root.Subcommands.Add(StatusCommand.Create(global, env));
        root.Subcommands.Add(RegistrationsCommand.Create(global, env));
        root.Subcommands.Add(ParkedCommand.Create(global, env));
        root.Subcommands.Add(OperatorCommands.Unpark(global, env));
        root.Subcommands.Add(OperatorCommands.Failover(global, env));
        root.Subcommands.Add(OperatorCommands.Failback(global, env));
        root.Subcommands.Add(TraceCommand.Create(global, env));
        return root;
    }

    /// <summary>Runs a command body, turning the two kinds of failure into their message and exit code.</summary>
    public static async Task<int> Guard(CliEnvironment env, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (UsageException ex)
        {
            await env.Error.WriteLineAsync($"callparkctl: {ex.Message}");
            await env.Error.WriteLineAsync("Run 'callparkctl --help' for usage.");
            return ExitUsage;
        }
        catch (AdminApiException ex)
        {
            await env.Error.WriteLineAsync($"callparkctl: {ex.Message}");
            return ExitFailed;
        }
    }
}

/// <summary>A command line that parsed but makes no sense (several --admin for one pool, --count without --watch).</summary>
internal sealed class UsageException(string message) : Exception(message);
