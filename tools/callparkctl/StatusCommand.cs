using System.CommandLine;
using System.Text.Json;
using SipCallPark.Pool.Admin;
using Spectre.Console;

namespace SipCallPark.CallParkCtl;

/// <summary><c>status</c>: one column per pool, so <c>--all</c> (or several <c>--admin</c>) shows a lab side by side.</summary>
internal static class StatusCommand
{
    public static readonly string[] LabAdmins = ["http://127.0.0.1:8060", "http://127.0.0.1:8062"];

    public static Command Create(GlobalOptions global, CliEnvironment env)
    {
        var json = new Option<bool>("--json") { Description = "Print the admin API's JSON instead of a table" };
        var all = new Option<bool>("--all") { Description = $"Both lab pools: {string.Join(" and ", LabAdmins)}" };
        var command = new Command("status", "Pool, uptime, counts and disaster-recovery phases") { json, all };
        command.SetAction((parse, ct) => CallParkCtlApp.Guard(env, async () =>
        {
            if (parse.GetValue(all) && parse.GetValue(global.Admin) is { Length: > 0 })
                throw new UsageException("use either --all or --admin, not both");
            var admins = parse.GetValue(all)
                ? LabAdmins.Select(GlobalOptions.ParseAdmin).ToArray()
                : global.Admins(parse, env, allowSeveral: true);
            var token = global.TokenValue(parse, env);

            var results = await Task.WhenAll(admins.Select(admin => Fetch(admin, token, ct)));
            if (parse.GetValue(json)) await WriteJson(env, results);
            else if (results.Any(r => r.Status is not null)) env.Console.Write(Table(results));

            foreach (var failure in results.Where(r => r.Error is not null))
                await env.Error.WriteLineAsync($"callparkctl: {failure.Error}");
            return results.Any(r => r.Error is not null) ? CallParkCtlApp.ExitFailed : CallParkCtlApp.ExitOk;
        }));
        return command;
    }

    private sealed record PoolAnswer(string Admin, PoolStatusDto? Status, string? Error);

    private static async Task<PoolAnswer> Fetch(Uri admin, string? token, CancellationToken ct)
    {
        using var client = new AdminClient(admin, token);
        try
        {
            return new PoolAnswer(client.Display, await client.StatusAsync(ct), null);
        }
        catch (AdminApiException ex)
        {
            return new PoolAnswer(client.Display, null, ex.Message);
        }
    }

    private static async Task WriteJson(CliEnvironment env, PoolAnswer[] results)
    {
        var options = new JsonSerializerOptions(AdminJson.Options) { WriteIndented = true };
        var statuses = results.Where(r => r.Status is not null).Select(r => r.Status!).ToArray();
        if (statuses.Length == 0) return;
        var text = results.Length == 1 ? JsonSerializer.Serialize(statuses[0], options) : JsonSerializer.Serialize(statuses, options);
        await env.Output.WriteLineAsync(text);
    }

    private static Table Table(IReadOnlyList<PoolAnswer> pools)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn(new TableColumn("").NoWrap());
        foreach (var pool in pools)
            table.AddColumn(new TableColumn($"[bold]{Markup.Escape(pool.Status?.Pool ?? "-")}[/]\n[dim]{Markup.Escape(pool.Admin)}[/]"));

        var first = true;
        void Row(string label, Func<PoolStatusDto, string> value)
        {
            var cells = pools.Select(p => p.Status is { } s ? Markup.Escape(value(s)) : first ? "[red]unreachable[/]" : "");
            table.AddRow(new[] { $"[bold]{Markup.Escape(label)}[/]" }.Concat(cells).ToArray());
            first = false;
        }

        Row("Domain", s => s.Domain);
        Row("SIP", s => string.Join("\n", s.SipEndpoints));
        if (pools.Any(p => p.Status?.TlsCertificateSha256 is not null))
            Row("TLS SHA-256", s => s.TlsCertificateSha256 ?? "-");
        Row("Started", s => Format.Time(s.StartedAt));
        Row("Uptime", s => Format.Duration(s.UptimeSeconds));
        Row("Registrations", s => s.Counts.Registrations.ToString());
        Row("Dialogs", s => s.Counts.Dialogs.ToString());
        Row("Transactions", s => s.Counts.Transactions.ToString());
        Row("Parked calls", s => s.Counts.Parked.ToString());

        // One row per pool any instance reports a DR phase for: each instance tracks itself and its partner.
        var drPools = pools.Where(p => p.Status is not null).SelectMany(p => p.Status!.Dr).Select(d => d.Pool).Distinct().Order(StringComparer.Ordinal);
        foreach (var drPool in drPools)
        {
            Row($"DR {drPool}", s => s.Dr.FirstOrDefault(d => d.Pool == drPool) is { } d
                ? $"{d.Phase} ({(d.Pool == s.Pool ? "self" : Format.Health(d.Healthy))}{(d.BackupPool is null ? "" : $", backup {d.BackupPool}")})"
                : "-");
        }
        return table;
    }
}
