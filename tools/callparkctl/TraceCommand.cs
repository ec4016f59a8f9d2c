using System.CommandLine;
using System.Globalization;
using System.Text;
using SipCallPark.Pool.Admin;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.CallParkCtl;

/// <summary>
/// <c>trace [--call-id X] [--user U] [--full] [--count N] [--no-color]</c>: the pool's SIP messages as they pass
/// (<c>GET /trace</c>), one line each — <c>→</c> sent by the pool, <c>←</c> received — until Ctrl+C or the N-th
/// message. The sngrep view without root or a capture.
/// </summary>
internal static class TraceCommand
{
    /// <summary>ANSI colours: what the pool receives in cyan, what it sends in yellow, drops in red.</summary>
    private const string Incoming = "\e[36m", Outgoing = "\e[33m", Warning = "\e[31m", Reset = "\e[0m";

    public static Command Create(GlobalOptions global, CliEnvironment env)
    {
        var callId = new Option<string?>("--call-id") { Description = "Only this Call-ID (exact)" };
        var user = new Option<string?>("--user", "-u") { Description = "Only messages whose From, To or Request-URI user is U (any case)" };
        var full = new Option<bool>("--full") { Description = "Print each whole message, indented, under its line" };
        var count = new Option<int?>("--count", "-n") { Description = "Stop after N messages (default: until Ctrl+C)" };
        var noColor = new Option<bool>("--no-color") { Description = "No ANSI colours (also off when output is redirected or $NO_COLOR is set)" };
        var command = new Command("trace", "Stream the pool's SIP messages as they pass") { callId, user, full, count, noColor };
        command.SetAction((parse, ct) => CallParkCtlApp.Guard(env, async () =>
        {
            var limit = parse.GetValue(count);
            if (limit is < 1) throw new UsageException("--count must be at least 1");
            var colour = !parse.GetValue(noColor) && env.OutputIsTerminal && string.IsNullOrEmpty(env.GetVariable("NO_COLOR"));
            var withText = parse.GetValue(full);

            using var client = global.Client(parse, env);
            var filter = Describe(parse.GetValue(callId), parse.GetValue(user));
            var shown = 0;
            try
            {
                await foreach (var item in client.TraceAsync(Blank(parse.GetValue(callId)), Blank(parse.GetValue(user)), withText, ct))
                {
                    if (item.Dropped > 0)
                    {
                        await env.Output.WriteLineAsync(Paint(colour, Warning,
                            $"… {item.Dropped} message(s) dropped: this client read too slowly and the pool skipped them"));
                    }
                    if (item.Message is not { } message) continue;
                    await env.Output.WriteAsync(Line(message, colour, withText));
                    await env.Output.FlushAsync(CancellationToken.None);
                    if (++shown == limit) return CallParkCtlApp.ExitOk;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return CallParkCtlApp.ExitOk;   // Ctrl+C
            }
            if (ct.IsCancellationRequested) return CallParkCtlApp.ExitOk;
            await env.Error.WriteLineAsync($"callparkctl: pool admin API at {client.Display} ended the trace{filter} after {shown} message(s)");
            return CallParkCtlApp.ExitFailed;
        }));
        return command;
    }

    /// <summary>
    /// <c>09:30:00.125  → udp 127.0.0.1:5070  INVITE sip:bob@callpark.lab  (Call-ID a84b4c76e66710, CSeq 1 INVITE)</c>
    /// in the local time of this machine (as the pool's console log), then with <paramref name="withText"/> the whole
    /// message indented by four spaces. Ends with a newline.
    /// </summary>
    internal static string Line(TraceMessageDto m, bool colour, bool withText)
    {
        var arrow = m.Direction == SipDirection.Out ? "→" : "←";
        var firstLine = m.FirstLine.StartsWith(SipMessage.Version + " ", StringComparison.Ordinal)
            ? m.FirstLine[(SipMessage.Version.Length + 1)..]
            : m.FirstLine.EndsWith(" " + SipMessage.Version, StringComparison.Ordinal)
                ? m.FirstLine[..^(SipMessage.Version.Length + 1)]
                : m.FirstLine;
        var time = m.Time.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var text = new StringBuilder()
            .Append(time).Append("  ")
            .Append(Paint(colour, m.Direction == SipDirection.Out ? Outgoing : Incoming, $"{arrow} {m.Transport} {m.Remote}  {firstLine}"))
            .Append("  (Call-ID ").Append(m.CallId ?? "-").Append(", CSeq ").Append(m.CSeq ?? "-").Append(')').Append('\n');
        if (withText && m.Text is { } whole)
        {
            foreach (var line in whole.TrimEnd('\r', '\n').Split('\n')) text.Append("    ").Append(line.TrimEnd('\r')).Append('\n');
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string Paint(bool colour, string ansi, string text) => colour ? ansi + text + Reset : text;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Describe(string? callId, string? user) =>
        (Blank(callId) is { } c ? $" of call {c}" : "") + (Blank(user) is { } u ? $" of user {u}" : "");
}
