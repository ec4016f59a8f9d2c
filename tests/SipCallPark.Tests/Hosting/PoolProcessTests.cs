namespace SipCallPark.Tests.Hosting;

[Platform("Linux")]
[NonParallelizable]
public class PoolProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private static string ShippedConfig => File.ReadAllText(RepositoryPaths.Config("pool-a.json"));

    [Test]
    public async Task A_bad_port_stops_the_pool_with_exit_code_2_and_the_key_named()
    {
        using var pool = PoolProcess.Start(ShippedConfig.Replace("\"Port\": 5060", "\"Port\": 70000"));

        var exitCode = await pool.WaitForExitAsync(StartTimeout);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(2), pool.Output + pool.Error);
            Assert.That(pool.Error.Trim(),
                Is.EqualTo("Configuration error: Pool:Sip:Port must be between 1 and 65535 (was 70000)"));
            Assert.That(pool.Output + pool.Error, Does.Not.Contain("   at "), "no stack trace");
        });
    }

    [Test]
    public async Task A_malformed_hep_endpoint_stops_the_pool_with_exit_code_2_and_the_key_named()
    {
        using var pool = PoolProcess.Start(ShippedConfig, "--hep", "udp:homer");

        var exitCode = await pool.WaitForExitAsync(StartTimeout);

        Assert.That(exitCode, Is.EqualTo(2), pool.Output + pool.Error);
        Assert.That(pool.Error.Trim(), Does.StartWith("Configuration error: Pool:Trace:Hep:Endpoint must be udp:HOST:PORT or tcp:HOST:PORT"));
    }

    [Test]
    public async Task A_park_alias_a_phone_cannot_dial_stops_the_pool_with_exit_code_2_and_the_key_named()
    {
        using var pool = PoolProcess.Start(ShippedConfig, "--Pool:Park:Aliases:1=*7 0");

        var exitCode = await pool.WaitForExitAsync(StartTimeout);

        Assert.That(exitCode, Is.EqualTo(2), pool.Output + pool.Error);
        Assert.That(pool.Error.Trim(), Does.StartWith("Configuration error: Pool:Park:Aliases:1 must be a user name"));
    }

    [Test]
    public async Task A_feature_code_that_begins_orbits_of_the_topology_stops_the_pool_with_exit_code_2_and_the_key_named()
    {
        // Orbits *7100-*7199: with *71 as the directed-park code, dialling *7105 would be read as "park in orbit 05".
        var topology = Path.Combine(Directory.CreateTempSubdirectory("sipcallpark-test-").FullName, "topology.json");
        File.WriteAllText(topology, File.ReadAllText(RepositoryPaths.Config("topology.json")).Replace("\"7100-7199\"", "\"*7100-*7199\""));
        using var pool = PoolProcess.Start(ShippedConfig, $"--Pool:TopologyFile={topology}");

        var exitCode = await pool.WaitForExitAsync(StartTimeout);

        Assert.That(exitCode, Is.EqualTo(2), pool.Output + pool.Error);
        Assert.That(pool.Error, Does.Contain("Pool:Park:DirectedParkCode '*71' starts orbits of the range *7100-*7199"));
    }

    [Test]
    public async Task A_missing_config_file_stops_the_pool_with_exit_code_2()
    {
        using var pool = PoolProcess.Start(configJson: null, "--config", "config/missing.json");

        var exitCode = await pool.WaitForExitAsync(StartTimeout);

        Assert.That(exitCode, Is.EqualTo(2), pool.Output + pool.Error);
        Assert.That(pool.Error, Does.StartWith("Configuration error: config file 'config/missing.json' not found"));
    }

    [TestCase(PosixSignalNumber.Terminate)]
    [TestCase(PosixSignalNumber.Interrupt)]
    public async Task A_running_pool_stops_cleanly_on_a_signal(PosixSignalNumber signal)
    {
        // Free ports, so a pool someone left running on 5060 does not fail this test.
        var sipPort = SipCallPark.Lab.LoopbackPorts.FreeUdpAndTcp();
        using var pool = PoolProcess.Start(ShippedConfig, $"--Pool:Sip:Port={sipPort}", $"--Pool:Admin:Url=http://127.0.0.1:{SipCallPark.Lab.LoopbackPorts.FreeTcp()}");
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);
        if (pool.Ignores(signal))
        {
            Assert.Ignore($"{signal} is ignored in this process tree (started from a shell's background job)");
        }

        pool.Send(signal);
        var exitCode = await pool.WaitForExitAsync(StopTimeout);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(0), pool.Output + pool.Error);
            Assert.That(pool.Output, Does.Contain($"pool pool-a starting on 127.0.0.1:{sipPort}"));
            Assert.That(pool.Output, Does.Contain("pool pool-a stopped"));
            Assert.That(Directory.GetFiles(Path.Combine(pool.WorkDirectory, "logs"), "pool-a-*.json"), Is.Not.Empty);
        });
    }

    [Test]
    public async Task A_running_pool_answers_options_sent_to_it_with_200()
    {
        var sipPort = SipCallPark.Lab.LoopbackPorts.FreeUdpAndTcp();
        var adminPort = SipCallPark.Lab.LoopbackPorts.FreeTcp();
        using var pool = PoolProcess.Start(ShippedConfig, $"--Pool:Sip:Port={sipPort}", $"--Pool:Admin:Url=http://127.0.0.1:{adminPort}");
        Assert.That(await pool.WaitUntilStartedAsync(StartTimeout), Is.True, pool.Output + pool.Error);

        using var phone = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var local = (System.Net.IPEndPoint)phone.Client.LocalEndPoint!;
        var options = $"OPTIONS sip:ping@127.0.0.1:{sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local.Port};branch=z9hG4bKping1;rport\r\n" +
                      "Max-Forwards: 70\r\nFrom: <sip:tester@callpark.lab>;tag=t1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: ping-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        var bytes = System.Text.Encoding.ASCII.GetBytes(options);
        await phone.SendAsync(bytes, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, sipPort));
        var answer = await phone.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var text = System.Text.Encoding.ASCII.GetString(answer.Buffer);

        Assert.That(text, Does.StartWith("SIP/2.0 200 OK\r\n"));
        Assert.That(text, Does.Contain("Call-ID: ping-1"));
    }
}
