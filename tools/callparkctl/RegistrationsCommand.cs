using System.CommandLine;
using Spectre.Console;

namespace SipCallPark.CallParkCtl;

/// <summary>
/// <c>registrations</c>: every binding the pool holds, with its mode (normal or resiliency) and where calls for it go:
/// its Contact or its REGISTER's source, and why (Pool:Registrar:NatTraversal).
/// </summary>
internal static class RegistrationsCommand
{
    public static Command Create(GlobalOptions global, CliEnvironment env)
    {
        var command = new Command("registrations", "Registered contacts (bindings) of the pool");
        command.SetAction((parse, ct) => CallParkCtlApp.Guard(env, async () =>
        {
            using var client = global.Client(parse, env);
            var bindings = await client.RegistrationsAsync(ct);
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumns("AOR", "Contact", "Expires (s)", "q", "Mode", "Source", "Calls go to", "Why", "Instance", "Pool")
                .Caption($"{bindings.Length} binding(s) at {Markup.Escape(client.Display)}");
            foreach (var b in bindings.OrderBy(b => b.Aor, StringComparer.Ordinal))
            {
                table.AddRow(
                    Markup.Escape(b.Aor), Markup.Escape(b.Contact), b.ExpiresInSeconds.ToString(), Format.Number(b.Q),
                    b.Mode == Pool.Registrar.RegistrationMode.Resiliency ? "[yellow]resiliency[/]" : "normal",
                    Markup.Escape(b.Source ?? "-"), Markup.Escape(Target(b)), Markup.Escape(b.TargetReason ?? "-"),
                    Markup.Escape(b.Instance ?? "-"), Markup.Escape(b.Pool));
            }
            env.Console.Write(table);
            return CallParkCtlApp.ExitOk;
        }));
        return command;
    }

    /// <summary>"contact udp:127.0.0.1:5080"; "-" from a pool too old to say.</summary>
    private static string Target(Pool.Admin.RegistrationDto b) => b.TargetKind switch
    {
        null => "-",
        "none" => "unreachable",
        _ => $"{b.TargetKind} {b.Target}",
    };
}
