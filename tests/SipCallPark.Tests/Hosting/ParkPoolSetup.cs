using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// pool-a of the lab for process tests that park calls: free loopback ports (SIP over UDP and TCP, admin, a block of
/// music ports), a topology naming those ports, and a data directory that outlives one process so a second process
/// can start on the same state. Disposing it removes the folder.
/// </summary>
internal sealed class ParkPoolSetup : IDisposable
{
    public ParkPoolSetup()
    {
        Folder = Directory.CreateTempSubdirectory("sipcallpark-park-").FullName;
        SipPort = SipCallPark.Lab.LoopbackPorts.FreeUdpAndTcp();
        AdminPort = SipCallPark.Lab.LoopbackPorts.FreeTcp();
        // An even block well away from the ephemeral range (32768+ on Linux) and from the shipped 40000-40999.
        MediaFirstPort = 20000 + 2 * Random.Shared.Next(0, 4000);
        var topology = File.ReadAllText(RepositoryPaths.Config("topology.json"))
            .Replace("\"Sip\": \"127.0.0.1:5060\"", $"\"Sip\": \"127.0.0.1:{SipPort}\"")
            // pool-b is not started: point it at a port nobody listens on rather than at a pool someone left running.
            .Replace("\"Sip\": \"127.0.0.1:5062\"", $"\"Sip\": \"127.0.0.1:{SipCallPark.Lab.LoopbackPorts.FreeUdpAndTcp()}\"");
        if (!topology.Contains($"127.0.0.1:{SipPort}", StringComparison.Ordinal))
            throw new InvalidOperationException("config/topology.json no longer names pool-a at 127.0.0.1:5060");
        TopologyFile = Path.Combine(Folder, "topology.json");
        File.WriteAllText(TopologyFile, topology);
        DataDirectory = Path.Combine(Folder, "data");
    }

    public string Folder { get; }

    public int SipPort { get; }

    public int AdminPort { get; }

    public int MediaFirstPort { get; }

    public string TopologyFile { get; }

    public string DataDirectory { get; }

    /// <summary>The SQLite file the pool keeps its bindings and park journal in.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "pool-a.db");

    public IPEndPoint SipEndPoint => new(IPAddress.Loopback, SipPort);

    public Uri AdminUrl => new($"http://127.0.0.1:{AdminPort}");

    /// <summary>Starts the pool executable with the shipped pool-a.json and this setup's ports, topology and data.</summary>
    public PoolProcess Start(params string[] extraArgs) =>
        PoolProcess.Start(File.ReadAllText(RepositoryPaths.Config("pool-a.json")),
        [
            $"--Pool:Sip:Port={SipPort}",
            $"--Pool:Admin:Url={AdminUrl.ToString().TrimEnd('/')}",
            $"--Pool:TopologyFile={TopologyFile}",
            $"--Pool:DataDirectory={DataDirectory}",
            "--Pool:Park:OrbitAssignment=Lowest",
            "--Pool:Replication:Enabled=false", // pool-b of the topology is not started here (nor should a lab's pool-b get test data)
            $"--Pool:Park:MediaPorts={MediaFirstPort}-{MediaFirstPort + 99}",
            .. extraArgs,
        ]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // The system cleans its temp folder; a leftover is harmless.
        }
    }
}
