using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Lab;

/// <summary>
/// pool-a and pool-b of the shipped topology, each the other's backup, on free loopback ports with a temporary
/// topology naming those ports and a data directory each, all in one temporary folder (removed on dispose unless
/// <see cref="LabSettings.Keep"/>).
/// </summary>
internal sealed class PoolPair : IDisposable
{
    private readonly LabSettings _settings;

    private PoolPair(LabSettings settings, string folder, LabPool a, LabPool b)
    {
        _settings = settings;
        Folder = folder;
        A = a;
        B = b;
    }

    public string Folder { get; }

    /// <summary>The primary whose outage the seed table is about (alice, bob, carol and dave live here).</summary>
    public LabPool A { get; }

    /// <summary>pool-a's backup: it watches pool-a, takes its users and runs the DR commands for it.</summary>
    public LabPool B { get; }

    /// <param name="tracePrefix">Names this pair's pcap files (<c>PREFIX-pool-a.pcap</c>).</param>
    public static PoolPair Create(LabSettings settings, string tracePrefix)
    {
        var folder = Directory.CreateTempSubdirectory("sipcallpark-lab-").FullName;
        var taken = new HashSet<int>();
        int Sip() => Distinct(taken, LoopbackPorts.FreeUdpAndTcp);
        int Admin() => Distinct(taken, LoopbackPorts.FreeTcp);
        var (aSip, aAdmin, bSip, bAdmin) = (Sip(), Admin(), Sip(), Admin());
        // Even blocks away from the ephemeral range (32768+ on Linux) and from the shipped 40000-41999.
        var media = 20000 + 200 * Random.Shared.Next(0, 60);
        var topology = File.ReadAllText(Path.Combine(settings.ConfigDirectory, "topology.json"))
            .Replace("\"127.0.0.1:5060\"", $"\"127.0.0.1:{aSip}\"")
            .Replace("\"http://127.0.0.1:8060\"", $"\"http://127.0.0.1:{aAdmin}\"")
            .Replace("\"127.0.0.1:5062\"", $"\"127.0.0.1:{bSip}\"")
            .Replace("\"http://127.0.0.1:8062\"", $"\"http://127.0.0.1:{bAdmin}\"");
        if (!topology.Contains($":{aSip}\"", StringComparison.Ordinal) || !topology.Contains($":{bSip}\"", StringComparison.Ordinal))
            throw new LabException("config/topology.json no longer names pool-a at 127.0.0.1:5060 and pool-b at 127.0.0.1:5062");
        var topologyFile = Path.Combine(folder, "topology.json");
        File.WriteAllText(topologyFile, topology);
        var a = new LabPool(settings, "pool-a", Path.Combine(folder, "pool-a"), topologyFile, tracePrefix, aSip, aAdmin, media);
        var b = new LabPool(settings, "pool-b", Path.Combine(folder, "pool-b"), topologyFile, tracePrefix, bSip, bAdmin, media + 100);
        return new PoolPair(settings, folder, a, b);
    }

    /// <summary>Starts both pools and waits until each sees the other healthy (the DR phases start from Normal) and
    /// each one's replication to the other is open (its first snapshot accepted).</summary>
    public async Task StartAsync()
    {
        await Task.WhenAll(A.StartAsync(), B.StartAsync());
        await B.WaitForAsync(A.Name, (phase, healthy) => phase == "Normal" && healthy == true, "healthy and Normal");
        await A.WaitForAsync(B.Name, (phase, healthy) => phase == "Normal" && healthy == true, "healthy and Normal");
        await Task.WhenAll(A.WaitForReplicationLinkAsync(), B.WaitForReplicationLinkAsync());
    }

    public string Output => $"---- {A.Name} ----{Environment.NewLine}{A.Output}{Environment.NewLine}---- {B.Name} ----{Environment.NewLine}{B.Output}";

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        if (_settings.Keep) return;
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying child: the system cleans its temp folder.
        }
    }

    private static int Distinct(HashSet<int> taken, Func<int> pick)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var port = pick();
            if (taken.Add(port)) return port;
        }
        throw new LabException("no distinct free loopback port in 20 tries");
    }
}
