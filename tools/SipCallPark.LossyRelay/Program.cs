using System.Globalization;
using System.Net;
using SipCallPark.LossyRelay;

// A lossy UDP relay in front of one pool: see README.md.
var options = new Dictionary<string, string>(StringComparer.Ordinal)
{
    ["--listen"] = "127.0.0.1:5263",
    ["--upstream"] = "127.0.0.1:5260",
    ["--loss"] = "0.1",
    ["--jitter-ms"] = "50",
    ["--seed"] = Random.Shared.Next().ToString(CultureInfo.InvariantCulture),
    ["--seconds"] = "3600",
};
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--help" or "-h")
    {
        Console.WriteLine("usage: SipCallPark.LossyRelay [--listen ADDR:PORT] [--upstream ADDR:PORT] [--loss P] [--jitter-ms MS] [--seed N] [--seconds S]");
        Console.WriteLine("defaults: " + string.Join(' ', options.Select(o => $"{o.Key} {o.Value}")));
        return 0;
    }

    if (!options.ContainsKey(args[i]) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"unknown option or missing value: {args[i]} (try --help)");
        return 2;
    }

    options[args[i]] = args[++i];
}

if (!IPEndPoint.TryParse(options["--listen"], out var listen) || !IPEndPoint.TryParse(options["--upstream"], out var upstream)
    || !double.TryParse(options["--loss"], CultureInfo.InvariantCulture, out double loss) || loss is < 0 or > 1
    || !int.TryParse(options["--jitter-ms"], CultureInfo.InvariantCulture, out int jitterMs) || jitterMs < 0
    || !int.TryParse(options["--seed"], CultureInfo.InvariantCulture, out int seed)
    || !int.TryParse(options["--seconds"], CultureInfo.InvariantCulture, out int seconds) || seconds <= 0)
{
    Console.Error.WriteLine("bad option value (try --help)");
    return 2;
}

if (!IPAddress.IsLoopback(listen.Address) || !IPAddress.IsLoopback(upstream.Address))
{
    Console.Error.WriteLine("the relay is a lab tool: --listen and --upstream must be loopback addresses");
    return 2;
}

await using var relay = new LossyUdpRelay(listen, upstream, loss, TimeSpan.FromMilliseconds(jitterMs), seed);
relay.Start();
Console.WriteLine($"relay {relay.ListenEndPoint} -> {upstream}: loss {loss:0.###}, delay 0..{2 * jitterMs} ms, seed {seed}, for {seconds} s");
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stop.Cancel();
});
using var report = new PeriodicTimer(TimeSpan.FromSeconds(10));
try
{
    while (await report.WaitForNextTickAsync(stop.Token))
    {
        Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {relay.Clients} clients; {relay.Ledger}");
    }
}
catch (OperationCanceledException)
{
    // Time is up or we were asked to stop.
}

Console.WriteLine($"final (seed {seed}): {relay.Clients} clients; {relay.Ledger}");
return 0;
