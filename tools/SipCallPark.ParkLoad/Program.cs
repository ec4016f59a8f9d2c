using System.CommandLine;
using System.Globalization;
using System.Net;
using SipCallPark.ParkLoad;
using SipCallPark.Sip.Transport;

// SipCallPark.ParkLoad: park+retrieve cycles per second, and the pool's memory and CPU with many calls parked.
// Exit codes: 0 the run finished without a failed cycle or park (failover: and every figure was seen), 1 some failed, 2 the command line was wrong,
// 3 the phones could not register.
var pool = new Option<string>("--pool") { Description = "The pool's SIP address (UDP)", DefaultValueFactory = _ => "127.0.0.1:5060" };
var admin = new Option<string>("--admin") { Description = "The pool's admin API", DefaultValueFactory = _ => "http://127.0.0.1:8060" };
var mode = new Option<string>("--mode")
{
    Description = "cycles: park, retrieve, hang up; hold: park --calls calls and measure the pool; " +
                  "failover: park --calls calls, wait for --kill-file, then time the backup's Outage, the orphan BYEs and a registration there",
    DefaultValueFactory = _ => "cycles",
};
mode.AcceptOnlyFromAmong("cycles", "hold", "failover");
var rate = new Option<double>("--rate") { Description = "Cycles started per second (open loop); 0 = closed loop at --concurrency" };
var seconds = new Option<double>("--seconds") { Description = "How long to start cycles for (failover: how long to watch after the kill)", DefaultValueFactory = _ => 20 };
var calls = new Option<int>("--calls") { Description = "Calls to park and hold (hold mode)", DefaultValueFactory = _ => 1000 };
var concurrency = new Option<int>("--concurrency") { Description = "Closed loop: cycles at once; open loop and hold: the most in flight", DefaultValueFactory = _ => 50 };
var poolPid = new Option<int?>("--pool-pid") { Description = "The pool's process id (RSS and CPU from /proc)" };
var phones = new Option<int>("--phones") { Description = "SIP stacks per role (parked parties, retrievers)", DefaultValueFactory = _ => 2 };
var timeout = new Option<double>("--timeout") { Description = "Seconds each step may take before it counts as failed", DefaultValueFactory = _ => 10 };
var parkedMs = new Option<int>("--parked-ms") { Description = "Milliseconds a call stays parked before it is retrieved (cycles)" };
var measure = new Option<double>("--measure-seconds") { Description = "How long CPU is sampled in hold mode", DefaultValueFactory = _ => 10 };
var backup = new Option<string?>("--backup") { Description = "Failover: the backup pool's SIP address (UDP)" };
var backupAdmin = new Option<string?>("--backup-admin") { Description = "Failover: the backup pool's admin API" };
var primaryName = new Option<string>("--primary-name") { Description = "Failover: the primary's pool name", DefaultValueFactory = _ => "pool-a" };
var killFile = new Option<string?>("--kill-file") { Description = "Failover: the file the kill's Unix time in ms (and a newline) is written to" };
var registerUser = new Option<string>("--register-user") { Description = "Failover: the primary's user who registers at the backup", DefaultValueFactory = _ => "dave" };

var root = new RootCommand("Load for a SipCallPark pool: park+retrieve cycles per second (way 2, bridge), or many parked calls held while the pool's RSS and CPU are read.")
{
    pool, admin, mode, rate, seconds, calls, concurrency, poolPid, phones, timeout, parkedMs, measure,
    backup, backupAdmin, primaryName, killFile, registerUser,
};
root.SetAction(async (parse, cancellationToken) =>
{
    LoadSettings settings;
    try
    {
        settings = new LoadSettings
        {
            Pool = new SipEndPoint(SipProtocol.Udp, IPEndPoint.Parse(parse.GetValue(pool)!)),
            Admin = new Uri(parse.GetValue(admin)!),
            Mode = parse.GetValue(mode) switch { "hold" => LoadMode.Hold, "failover" => LoadMode.Failover, _ => LoadMode.Cycles },
            Rate = parse.GetValue(rate),
            Duration = TimeSpan.FromSeconds(parse.GetValue(seconds)),
            Calls = parse.GetValue(calls),
            Concurrency = parse.GetValue(concurrency),
            PoolPid = parse.GetValue(poolPid),
            Phones = parse.GetValue(phones),
            StepTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
            ParkedFor = TimeSpan.FromMilliseconds(parse.GetValue(parkedMs)),
            Measure = TimeSpan.FromSeconds(parse.GetValue(measure)),
            Backup = parse.GetValue(backup) is { } b ? new SipEndPoint(SipProtocol.Udp, IPEndPoint.Parse(b)) : null,
            BackupAdmin = parse.GetValue(backupAdmin) is { } ba ? new Uri(ba) : null,
            PrimaryName = parse.GetValue(primaryName)!,
            KillFile = parse.GetValue(killFile),
            RegisterUser = parse.GetValue(registerUser)!,
        };
        settings.Validate();
    }
    catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
    {
        await Console.Error.WriteLineAsync($"parkload: {e.Message}");
        return 2;
    }
    Console.WriteLine($"parkload {string.Join(' ', args)}");
    await using var lab = await LoadLab.StartAsync(settings, Console.Out, cancellationToken);
    if (lab is null) return 3;
    return settings.Mode switch
    {
        LoadMode.Hold => await new HoldRun(settings, lab, Console.Out).RunAsync(cancellationToken),
        LoadMode.Failover => await new FailoverRun(settings, lab, Console.Out).RunAsync(cancellationToken),
        _ => await new CyclesRun(settings, lab, Console.Out).RunAsync(cancellationToken),
    };
});
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return await root.Parse(args).InvokeAsync();
