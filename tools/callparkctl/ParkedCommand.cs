using System.CommandLine;
using SipCallPark.Pool.Admin;
using Spectre.Console;

namespace SipCallPark.CallParkCtl;

/// <summary>
/// <c>parked [--watch [--count N] [--interval S]]</c>: the calls on the pool's orbits, once or refreshed in place until
/// Ctrl+C or the N-th refresh.
/// </summary>
internal static class ParkedCommand
{
    /// <summary>Without --count a watch still ends: after a day of one-second refreshes.</summary>
    public const int MaxRefreshes = 86_400;

    public static Command Create(GlobalOptions global, CliEnvironment env)
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh the table until Ctrl+C" };
        var count = new Option<int?>("--count", "-n") { Description = $"With --watch: stop after N refreshes (default {MaxRefreshes})" };
        var interval = new Option<double>("--interval") { Description = "With --watch: seconds between refreshes", DefaultValueFactory = _ => 1.0 };
        var command = new Command("parked", "Calls parked on the pool's orbits") { watch, count, interval };
        command.SetAction((parse, ct) => CallParkCtlApp.Guard(env, async () =>
        {
            var refreshes = parse.GetValue(count);
            var seconds = parse.GetValue(interval);
            if (!parse.GetValue(watch))
            {
                if (refreshes is not null) throw new UsageException("--count needs --watch");
                using var once = global.Client(parse, env);
                env.Console.Write(Table(await once.ParkedAsync(ct), once.Display, problem: null));
                return CallParkCtlApp.ExitOk;
            }
            if (refreshes is < 1) throw new UsageException("--count must be at least 1");
            if (seconds is <= 0 or > 3600 || double.IsNaN(seconds)) throw new UsageException("--interval must be between 0 and 3600 seconds");

            using var client = global.Client(parse, env);
            return await Watch(env, client, refreshes ?? MaxRefreshes, TimeSpan.FromSeconds(seconds), ct);
        }));
        return command;
    }

    private static async Task<int> Watch(CliEnvironment env, AdminClient client, int refreshes, TimeSpan interval, CancellationToken ct)
    {
        // The first fetch decides whether there is anything to watch: an unreachable pool ends the command at once.
        var calls = await client.ParkedAsync(ct);
        string? problem = null;
        await env.Console.Live(Table(calls, client.Display, null)).AutoClear(false).StartAsync(async live =>
        {
            for (var i = 1; i < refreshes; i++)
            {
                try
                {
                    await Task.Delay(interval, ct);
                }
                catch (OperationCanceledException)
                {
                    return;   // Ctrl+C: leave the last table on screen
                }
                try
                {
                    calls = await client.ParkedAsync(ct);
                    problem = null;
                }
                catch (AdminApiException ex)
                {
                    problem = ex.Message;   // keep the last known calls, say why they may be stale
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                live.UpdateTarget(Table(calls, client.Display, problem));
                live.Refresh();
            }
        });
        if (problem is not null) await env.Error.WriteLineAsync($"callparkctl: {problem}");
        return problem is null ? CallParkCtlApp.ExitOk : CallParkCtlApp.ExitFailed;
    }

    internal static Table Table(IReadOnlyList<ParkedCallDto> calls, string admin, string? problem)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("Orbit", "Parked party", "Parker", "Since", "Timeout due", "Attempts", "Pool");
        foreach (var c in calls.OrderBy(c => c.Orbit, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(c.Orbit), Markup.Escape(c.ParkedParty), Markup.Escape(c.Parker), Format.Time(c.Since),
                Format.Time(c.TimeoutDue), c.Attempts.ToString(), Markup.Escape(c.Pool));
        }
        var summary = calls.Count == 0 ? "no parked calls" : $"{calls.Count} parked call(s)";
        var caption = $"{summary} at {Markup.Escape(admin)}, {Format.Time(DateTimeOffset.UtcNow)}";
        return table.Caption(problem is null ? caption : $"{caption}\n[red]{Markup.Escape(problem)}[/]");
    }
}
