using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace SipCallPark.ParkLoad;

/// <summary>One reading of the pool process from /proc: CPU ticks (utime+stime), RSS, peak RSS, threads, open files.</summary>
public sealed record PoolSample(int Pid, long Timestamp, long CpuTicks, long RssKb, long HwmKb, int Threads, int OpenFiles);

/// <summary>Reads the pool process from Linux's /proc (proc(5)): <c>/proc/PID/stat</c> fields 14–15, <c>/proc/PID/status</c>.</summary>
public static class PoolProcess
{
    private const int ScClkTck = 2; // _SC_CLK_TCK in glibc's <bits/confname.h>

    private static readonly Lazy<long> TicksPerSecond = new(() =>
    {
        try
        {
            var hz = sysconf(ScClkTck);
            return hz > 0 ? hz : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    });

    /// <summary>A reading, or null when the process is gone (or this is not Linux).</summary>
    public static PoolSample? TrySample(int pid)
    {
        try
        {
            var timestamp = Stopwatch.GetTimestamp();
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // comm (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
            long rss = 0, hwm = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
                else if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = (int)Kb(line);
            }
            var files = Directory.Exists($"/proc/{pid}/fd") ? Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count() : -1;
            return new PoolSample(pid, timestamp, ticks, rss, hwm, threads, files);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>CPU used between two readings, in percent of one core (200% = two cores busy).</summary>
    public static double CpuPercent(PoolSample before, PoolSample after)
    {
        var seconds = Stopwatch.GetElapsedTime(before.Timestamp, after.Timestamp).TotalSeconds;
        return seconds <= 0 ? 0 : (after.CpuTicks - before.CpuTicks) / (double)TicksPerSecond.Value / seconds * 100;
    }

    private static long Kb(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long sysconf(int name);
}
