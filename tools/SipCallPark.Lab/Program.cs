using System.Diagnostics;

namespace SipCallPark.Lab;

/// <summary>
/// <c>SipCallPark.Lab [--pcap DIR] [--keep] [--cell NAME]... [--pool DLL] [--verbose]</c>: walks the seed table
/// (docs/design.md §6) on two real pool processes and prints it with what was seen. Exit code 0 when every cell passes,
/// 1 when one fails, 2 on a bad command line.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: SipCallPark.Lab [--pcap DIR] [--keep] [--cell NAME]... [--pool PATH/SipCallPark.dll] [--verbose]
          --pcap DIR   keep each pool process's SIP trace as DIR/<cell>-pool-a.pcap, DIR/<cell>-pool-b.pcap (-run2 after a restart)
          --keep       keep each cell's folder (topology, data, pool logs) and print where it is
          --cell NAME  run only this cell (a test name or a slug such as parked-not-retrieved.outage); repeatable
          --pool DLL   the pool executable to start (default: the SipCallPark.dll next to the lab)
          --verbose    print the pools' console output of a failing cell
        """;

    public static async Task<int> Main(string[] args)
    {
        var settings = new LabSettings();
        var cells = new List<SeedCell>();
        var verbose = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--pcap": settings = settings with { PcapDirectory = Path.GetFullPath(Value()) }; break;
                    case "--keep": settings = settings with { Keep = true }; break;
                    case "--cell": cells.Add(SeedCell.Named(Value())); break;
                    case "--pool": settings = settings with { PoolDll = Path.GetFullPath(Value()) }; break;
                    case "--verbose": verbose = true; break;
                    case "-h" or "--help": Console.WriteLine(Usage); return 0;
                    default: throw new ArgumentException($"unknown argument {args[i]}");
                }
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"SipCallPark.Lab: {e.Message}");
                Console.Error.WriteLine(Usage);
                return 2;
            }
        }
        if (!File.Exists(settings.PoolDll))
        {
            Console.Error.WriteLine($"SipCallPark.Lab: the pool executable {settings.PoolDll} is missing (build the solution, or pass --pool)");
            return 2;
        }
        if (settings.PcapDirectory is { } pcap) Directory.CreateDirectory(pcap);
        if (cells.Count == 0) cells.AddRange(SeedCell.All);

        Console.WriteLine($"Seed table (docs/design.md §6) on two pool processes ({settings.PoolDll}); pool-a is killed with SIGKILL for the outage.");
        Console.WriteLine($"Health probes every {settings.HealthInterval.TotalMilliseconds:0} ms (down after {settings.DownAfter.TotalMilliseconds:0} ms " +
                          $"without an answer, up after {settings.SuccessesToUp}); failover {settings.FailoverDuration.TotalSeconds:0.#} s, " +
                          $"failback {settings.FailbackDuration.TotalSeconds:0.#} s.");
        Console.WriteLine();
        Console.WriteLine(SeedTableReport.Header);
        var results = new List<CellResult>();
        var clock = Stopwatch.StartNew();
        foreach (var cell in cells)
        {
            var result = await SeedTableScenarios.RunAsync(cell, settings);
            results.Add(result);
            Console.WriteLine(SeedTableReport.Row(result));
            if (verbose && !result.Passed) Console.Error.WriteLine(result.PoolOutput);
            if (settings.Keep) Console.Error.WriteLine($"{cell.Slug}: kept {result.Folder}");
        }
        Console.WriteLine();
        Console.WriteLine(SeedTableReport.Summary(results, clock.Elapsed));
        if (settings.PcapDirectory is { } traces) Console.WriteLine($"SIP traces: {traces}");
        return results.All(r => r.Passed) ? 0 : 1;
    }
}
