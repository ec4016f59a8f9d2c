using System.Diagnostics;
using System.Globalization;

namespace SipCallPark.ParkLoad;

/// <summary>
/// The whole machine's CPU from /proc/stat (proc(5): the first "cpu" line, in ticks) and this load generator's own
/// CPU, so a figure says what else was running: the pool shares the cores with the load and with anything else.
/// </summary>
public sealed record MachineLoad(long Timestamp, long Busy, long Total, PoolSample? Self)
{
    public static MachineLoad Sample()
    {
        long busy = 0, total = 0;
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 1; i < fields.Length; i++)
            {
                var value = long.Parse(fields[i], CultureInfo.InvariantCulture);
                total += value;
                if (i is not (4 or 5)) busy += value; // idle and iowait
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return new MachineLoad(Stopwatch.GetTimestamp(), busy, total, PoolProcess.TrySample(Environment.ProcessId));
    }

    /// <summary>"machine 150% busy of 200%, load generator 60%" between two samples.</summary>
    public static (double BusyPercent, double CapacityPercent, double SelfPercent) Between(MachineLoad before, MachineLoad after)
    {
        var total = after.Total - before.Total;
        var capacity = Environment.ProcessorCount * 100.0;
        var busy = total <= 0 ? 0 : (after.Busy - before.Busy) / (double)total * capacity;
        var self = before.Self is { } s0 && after.Self is { } s1 ? PoolProcess.CpuPercent(s0, s1) : double.NaN;
        return (busy, capacity, self);
    }
}
