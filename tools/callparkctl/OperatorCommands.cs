using System.CommandLine;
using SipCallPark.Pool.Admin;
using Spectre.Console;

namespace SipCallPark.CallParkCtl;

/// <summary><c>unpark</c>, <c>failover</c>, <c>failback</c>: one request each; the pool's answer is printed as is.</summary>
internal static class OperatorCommands
{
    public static Command Unpark(GlobalOptions global, CliEnvironment env)
    {
        var orbit = new Argument<string>("orbit") { Description = "Orbit number of the parked call to end, e.g. 7000" };
        var command = new Command("unpark", "End the call parked on an orbit") { orbit };
        command.SetAction((parse, ct) => Run(global, env, parse, client => client.UnparkAsync(parse.GetRequiredValue(orbit), ct)));
        return command;
    }

    public static Command Failover(GlobalOptions global, CliEnvironment env)
    {
        var pool = new Argument<string>("pool") { Description = "Pool to fail over to its backup, e.g. pool-a" };
        var command = new Command("failover", "Fail a pool over to its backup pool (Invoke-CsPoolFailOver)") { pool };
        command.SetAction((parse, ct) => Run(global, env, parse, client => client.FailoverAsync(parse.GetRequiredValue(pool), ct)));
        return command;
    }

    public static Command Failback(GlobalOptions global, CliEnvironment env)
    {
        var pool = new Argument<string>("pool") { Description = "Pool to move its users back home, e.g. pool-a" };
        var command = new Command("failback", "Fail a pool back from its backup pool (Invoke-CsPoolFailBack)") { pool };
        command.SetAction((parse, ct) => Run(global, env, parse, client => client.FailbackAsync(parse.GetRequiredValue(pool), ct)));
        return command;
    }

    private static Task<int> Run(GlobalOptions global, CliEnvironment env, ParseResult parse, Func<AdminClient, Task<CommandResult>> send) =>
        CallParkCtlApp.Guard(env, async () =>
        {
            using var client = global.Client(parse, env);
            var result = await send(client);
            env.Console.MarkupLineInterpolated($"[green]{result.Message}[/]");
            return CallParkCtlApp.ExitOk;
        });
}
