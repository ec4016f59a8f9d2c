using Serilog.Events;
using SipCallPark.CommandLine;

namespace SipCallPark.Tests.CommandLine;

public class PoolCommandLineTests
{
    private static PoolCommandLine Read(params string[] args)
    {
        var parsed = PoolCommandLine.CreateCommand().Parse(args);
        Assert.That(parsed.Errors, Is.Empty);
        Assert.That(PoolCommandLine.TryRead(parsed, out var commandLine, out var error), Is.True, error);
        return commandLine!;
    }

    [Test]
    public void Without_arguments_pool_a_is_started()
    {
        var commandLine = Read();

        Assert.Multiple(() =>
        {
            Assert.That(commandLine.ConfigFile, Is.EqualTo("config/pool-a.json"));
            Assert.That(commandLine.LogLevel, Is.Null);
            Assert.That(commandLine.KeyOverrides, Is.Empty);
        });
    }

    [Test]
    public void Config_log_level_and_key_overrides_are_read()
    {
        var commandLine = Read("--config", "config/pool-b.json", "--log-level", "debug", "--Pool:Sip:Port=5070", "--Pool:Domain", "lab.test");

        Assert.Multiple(() =>
        {
            Assert.That(commandLine.ConfigFile, Is.EqualTo("config/pool-b.json"));
            Assert.That(commandLine.LogLevel, Is.EqualTo(LogEventLevel.Debug));
            Assert.That(commandLine.KeyOverrides, Is.EqualTo(new[] { "--Pool:Sip:Port=5070", "--Pool:Domain=lab.test" }));
        });
    }

    [TestCase("stray")]
    [TestCase("--verbose")]
    [TestCase("--Pool:Sip:Port")]
    public void An_argument_that_is_neither_an_option_nor_a_key_override_is_refused(string argument)
    {
        var parsed = PoolCommandLine.CreateCommand().Parse([argument]);

        Assert.That(PoolCommandLine.TryRead(parsed, out _, out var error), Is.False);
        Assert.That(error, Does.Contain(argument));
    }

    [Test]
    public void An_unknown_log_level_is_a_parse_error()
    {
        Assert.That(PoolCommandLine.CreateCommand().Parse(["--log-level", "loud"]).Errors, Is.Not.Empty);
    }

    [Test]
    public void Hep_becomes_the_hep_endpoint_key()
    {
        Assert.That(Read("--hep", "udp:127.0.0.1:9060").KeyOverrides, Is.EqualTo(new[] { "--Pool:Trace:Hep:Endpoint=udp:127.0.0.1:9060" }));
    }

    [Test]
    public void Pcap_and_pcap_rtp_become_the_pool_keys()
    {
        Assert.That(Read("--pcap", "/tmp/t.pcap", "--pcap-rtp").KeyOverrides,
            Is.EqualTo(new[] { "--Pool:PcapFile=/tmp/t.pcap", "--Pool:PcapIncludeRtp=true" }));
        Assert.That(Read("--pcap", "/tmp/t.pcap").KeyOverrides, Is.EqualTo(new[] { "--Pool:PcapFile=/tmp/t.pcap" }),
            "RTP stays out unless asked for");
    }
}
