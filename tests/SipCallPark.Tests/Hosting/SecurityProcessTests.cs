using System.Net;
using System.Net.Sockets;
using System.Text;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Tests.Hosting;

/// <summary>
/// Issue 12's probe against the real pool executable, over loopback UDP from a bare socket: the open relay by loose
/// routing is closed, and a call set up through the pool before a restart is still hung up along its route after it
/// (the Record-Route key is kept in the data directory).
/// </summary>
[Platform("Linux")]
[NonParallelizable]
public class SecurityProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Bound = LabPhone.Bound;

    [Test]
    public async Task An_INVITE_without_credentials_routed_through_the_pool_to_another_address_gets_407_and_nothing_reaches_that_address()
    {
        using var setup = new ParkPoolSetup();
        using var pool = setup.Start();
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var elsewhere = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var attackerPort = ((IPEndPoint)attacker.Client.LocalEndPoint!).Port;
        var elsewherePort = ((IPEndPoint)elsewhere.Client.LocalEndPoint!).Port;
        var invite = $"INVITE sip:victim@evil.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{attackerPort};branch=z9hG4bKprobe1\r\n" +
                     "Max-Forwards: 70\r\nFrom: <sip:nobody@attacker.example>;tag=x\r\nTo: <sip:victim@evil.example>\r\nCall-ID: probe-1\r\n" +
                     $"CSeq: 1 INVITE\r\nRoute: <sip:127.0.0.1:{setup.SipPort};lr>, <sip:127.0.0.1:{elsewherePort};lr>\r\nContent-Length: 0\r\n\r\n";

        await attacker.SendAsync(Encoding.ASCII.GetBytes(invite), setup.SipEndPoint);
        var final = await FinalStatusAsync(attacker, Bound);
        var relayed = elsewhere.ReceiveAsync();
        var quiet = await Task.WhenAny(relayed, Task.Delay(TimeSpan.FromSeconds(1)));

        Assert.That(final, Is.EqualTo(407), "challenged before any routing");
        Assert.That(quiet, Is.Not.SameAs(relayed), "nothing was relayed to the second route");
        await pool.StopAsync(StopTimeout);
    }

    [Test]
    public async Task A_call_set_up_before_a_restart_is_hung_up_along_its_recorded_route_after_it()
    {
        using var setup = new ParkPoolSetup();
        using (var first = setup.Start())
        {
            Assert.That(await first.WaitUntilStartedAsync(StartTimeout), Is.True, first.Output + first.Error);
            await using var alice = await LabPhone.StartAsync("alice", setup.SipEndPoint);
            await using var bob = await LabPhone.StartAsync("bob", setup.SipEndPoint);
            Assert.That((await alice.RegisterAsync()).StatusCode, Is.EqualTo(200));
            Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));
            var (aliceCall, bobCall) = await alice.ConnectAsync(bob);

            await first.StopAsync(StopTimeout);
            using var second = setup.Start();
            Assert.That(await second.WaitUntilStartedAsync(StartTimeout), Is.True, second.Output + second.Error);
            var hangUp = await aliceCall.HangUpAsync().WaitAsync(Bound);

            Assert.That(hangUp!.StatusCode, Is.EqualTo(200), hangUp.ToString());
            Assert.That(await bobCall.Ended.WaitAsync(Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
            Assert.That(File.Exists(Path.Combine(setup.DataDirectory, "pool-a.route-key")), Is.True, "the key lives with the data");
            await second.StopAsync(StopTimeout);
        }
    }

    [TestCase(null, "SipCallPark pool-a", TestName = "The_Server_header_of_an_OPTIONS_answer_is_SipCallPark_and_the_pool_by_default")]
    [TestCase("", null, TestName = "An_empty_Pool_Sip_ServerHeader_sends_no_Server_header")]
    [TestCase("Lab PBX", "Lab PBX", TestName = "Pool_Sip_ServerHeader_names_what_the_Server_header_says")]
    public async Task Server_header(string? configured, string? expected)
    {
        using var setup = new ParkPoolSetup();
        using var pool = configured is null ? setup.Start() : setup.Start($"--Pool:Sip:ServerHeader={configured}");
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
        var ping = $"OPTIONS sip:ping@127.0.0.1:{setup.SipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKserver1;rport\r\n" +
                   "Max-Forwards: 70\r\nFrom: <sip:tester@callpark.lab>;tag=t1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: server-1\r\nCSeq: 1 OPTIONS\r\n" +
                   "Content-Length: 0\r\n\r\n";

        await socket.SendAsync(Encoding.ASCII.GetBytes(ping), setup.SipEndPoint);
        using var timeout = new CancellationTokenSource(Bound);
        var answer = Encoding.ASCII.GetString((await socket.ReceiveAsync(timeout.Token)).Buffer);
        var server = answer.Split("\r\n").FirstOrDefault(l => l.StartsWith("Server:", StringComparison.OrdinalIgnoreCase))?["Server:".Length..].Trim();

        Assert.That(answer, Does.StartWith("SIP/2.0 200"));
        Assert.That(server, Is.EqualTo(expected));
        await pool.StopAsync(StopTimeout);
    }

    private static async Task<int?> FinalStatusAsync(UdpClient socket, TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            while (true)
            {
                var datagram = await socket.ReceiveAsync(timeout.Token);
                var text = Encoding.ASCII.GetString(datagram.Buffer);
                if (text.StartsWith("SIP/2.0 ", StringComparison.Ordinal) && int.TryParse(text.AsSpan(8, 3), out var status) && status >= 200) return status;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
