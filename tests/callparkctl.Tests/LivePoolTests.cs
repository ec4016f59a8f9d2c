using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Admin;
using SipCallPark.Pool.Auth;
using SipCallPark.Pool.Hosting;
using SipCallPark.Pool.Park;
using SipCallPark.Pool.Topology;
using SipCallPark.Sip.UserAgents;
using SipCallPark.Tests.Hosting;

namespace SipCallPark.CallParkCtl.Tests;

/// <summary>
/// callparkctl against a real pool (in this process, admin API on a free port) with a call parked by lab phones, so
/// the CLI is checked against what the park application really answers, not only against the fake backend.
/// </summary>
[NonParallelizable]
public class LivePoolTests
{
    private PoolServer _pool = null!;
    private LabPhone _alice = null!;
    private LabPhone _bob = null!;

    private string Admin => _pool.AdminUrl!.GetLeftPart(UriPartial.Authority);

    [SetUp]
    public async Task StartPoolAndPhones()
    {
        var sip = FreeUdpAndTcpEndPoint();
        var topology = new PoolTopology
        {
            Domain = LabPhone.Domain,
            Pools =
            [
                new PoolDefinition { Name = "pool-a", Sip = sip.ToString(), Admin = "http://127.0.0.1:8060", Backup = "pool-b", Orbits = ["7000-7099"] },
                // Not started: a port nobody listens on.
                new PoolDefinition { Name = "pool-b", Sip = FreeUdpAndTcpEndPoint().ToString(), Admin = "http://127.0.0.1:8062", Backup = "pool-a", Orbits = ["7100-7199"] },
            ],
            Users = [new UserDefinition { User = "alice", HomePool = "pool-a" }, new UserDefinition { User = "bob", HomePool = "pool-a" }],
        };
        var media = 30000 + 2 * Random.Shared.Next(0, 1000);
        _pool = await PoolServer.StartAsync(new PoolSettings
        {
            Name = "pool-a",
            Topology = topology,
            Users = [new LabUser("alice", "pool-a", "alice-lab-pw"), new LabUser("bob", "pool-a", "bob-lab-pw")],
            SipEndPoint = sip,
            Admin = new AdminOptions { Url = "http://127.0.0.1:0" },
            Digest = new DigestOptions { Realm = LabPhone.Domain, Algorithms = [DigestAlgorithm.Md5] },
            Park = new ParkOptions { OrbitAssignment = OrbitAssignment.Lowest, MediaPorts = $"{media}-{media + 99}" },
            Replication = new SipCallPark.Pool.Replication.ReplicationOptions { Enabled = false }, // pool-b is not started
        }, NullLoggerFactory.Instance);
        _alice = await LabPhone.StartAsync("alice", sip);
        _bob = await LabPhone.StartAsync("bob", sip);
        Assert.That((await _alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await _bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
    }

    [TearDown]
    public async Task StopPoolAndPhones()
    {
        if (_alice is not null) await _alice.DisposeAsync();
        if (_bob is not null) await _bob.DisposeAsync();
        if (_pool is not null) await _pool.DisposeAsync();
    }

    [Test]
    public async Task Parked_lists_the_call_a_phone_parked_on_a_live_pool()
    {
        await _alice.ParkByBlindTransferAsync(_bob);

        var run = await CliRun.Start("parked", "--admin", Admin);

        Assert.That(run.Error, Is.Empty);
        Assert.That(run.ExitCode, Is.EqualTo(0));
        var row = run.Output.Split('\n').FirstOrDefault(l => l.Contains("7000", StringComparison.Ordinal));
        Assert.That(row, Does.Contain("sip:bob@callpark.lab").And.Contain("sip:alice@callpark.lab").And.Contain("pool-a"), run.Output);
        Assert.That(run.Output, Does.Contain("1 parked call(s)"));
    }

    [Test]
    public async Task Unpark_7000_on_a_live_pool_hangs_up_the_parked_phone_and_a_second_unpark_exits_1()
    {
        var (bobParkLeg, _) = await _alice.ParkByBlindTransferAsync(_bob);

        var run = await CliRun.Start("unpark", "7000", "--admin", Admin);

        Assert.That(run.Error, Is.Empty);
        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Output, Does.Contain("orbit 7000 unparked"));
        Assert.That(await bobParkLeg.Ended.WaitAsync(LabPhone.Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        var again = await CliRun.Start("unpark", "7000", "--admin", Admin);
        Assert.That(again.ExitCode, Is.EqualTo(1));
        Assert.That(again.Error, Does.Contain("404").And.Contain("orbit 7000 holds no call"));
    }

    [Test]
    public async Task Trace_count_2_user_alice_prints_two_of_alices_messages_with_their_arrows()
    {
        var run = CliRun.Start("trace", "--count", "2", "--user", "alice", "--admin", Admin);
        // Until the command has subscribed nothing reaches it: keep both phones registering (bounded) until it has its two.
        for (var i = 0; i < 200 && !run.IsCompleted; i++)
        {
            await _bob.RegisterAsync();
            await _alice.RegisterAsync();
        }

        var result = await run.WaitAsync(LabPhone.Bound);

        Assert.That(result.Error, Is.Empty);
        Assert.That(result.ExitCode, Is.EqualTo(0));
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), result.Output);
        Assert.That(lines, Has.All.Match(@"^\d\d:\d\d:\d\d\.\d{3}  [←→] udp 127\.0\.0\.1:\d+  (REGISTER sip:callpark\.lab|\d{3} [A-Za-z ]+)  \(Call-ID \S+, CSeq \d+ REGISTER\)$"));
        // alice's messages alternate: a REGISTER in, its 401 or 200 out; bob's never show.
        Assert.That(result.Output, Does.Contain("← udp").And.Contain("→ udp"));
    }

    private static IPEndPoint FreeUdpAndTcpEndPoint()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            var endPoint = (IPEndPoint)udp.Client.LocalEndPoint!;
            var tcp = new TcpListener(endPoint);
            try
            {
                tcp.Start();
                return endPoint;
            }
            catch (SocketException)
            {
                // Taken for TCP: try another.
            }
            finally
            {
                tcp.Stop();
            }
        }
        throw new InvalidOperationException("no loopback port free for both UDP and TCP in 50 tries");
    }
}
