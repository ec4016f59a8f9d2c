using Microsoft.Extensions.Configuration;
using SipCallPark.Configuration;

namespace SipCallPark.Tests.Configuration;

public class HepTraceOptionsTests
{
    private static IReadOnlyList<string> Failures(Action<HepTraceOptions> change)
    {
        var options = new PoolOptions();
        options.ApplyDefaults();
        change(options.Trace.Hep);
        var result = new PoolOptionsValidator().Validate(null, options);
        return result.Failures?.ToList() ?? [];
    }

    [TestCase("udp:127.0.0.1:9060")]
    [TestCase("tcp:homer.lab:9061")]
    [TestCase("udp:[::1]:9060")]
    public void A_well_formed_endpoint_is_accepted(string endpoint)
    {
        Assert.That(Failures(h => h.Endpoint = endpoint), Is.Empty);
    }

    [TestCase("127.0.0.1:9060")]
    [TestCase("http://127.0.0.1:9060")]
    [TestCase("udp:127.0.0.1")]
    [TestCase("udp:127.0.0.1:99999")]
    [TestCase("tcp:::1:9060")]
    public void A_malformed_endpoint_is_refused_naming_the_key_and_the_value(string endpoint)
    {
        Assert.That(Failures(h => h.Endpoint = endpoint).Single(),
            Does.StartWith("Pool:Trace:Hep:Endpoint must be udp:HOST:PORT or tcp:HOST:PORT").And.EndWith($"was '{endpoint}')"));
    }

    [TestCase(-1L)]
    [TestCase(4294967296L)]
    public void An_agent_id_outside_32_bits_is_refused(long agentId)
    {
        Assert.That(Failures(h => { h.Endpoint = "udp:127.0.0.1:9060"; h.AgentId = agentId; }).Single(),
            Is.EqualTo($"Pool:Trace:Hep:AgentId must be between 0 and 4294967295 (was {agentId})"));
    }

    [Test]
    public void A_password_or_agent_id_without_an_endpoint_is_refused_rather_than_silently_unused()
    {
        Assert.That(Failures(h => h.Password = "secret").Single(), Does.StartWith("Pool:Trace:Hep:AgentId and Pool:Trace:Hep:Password need Pool:Trace:Hep:Endpoint"));
    }

    [Test]
    public void Rtp_counters_are_off_by_default_and_without_an_endpoint_are_refused_rather_than_silently_unused()
    {
        var options = new PoolOptions();
        options.ApplyDefaults();
        Assert.That(options.Trace.Hep.RtpCounters, Is.False);
        Assert.That(Failures(h => h.RtpCounters = true).Single(),
            Is.EqualTo("Pool:Trace:Hep:RtpCounters needs Pool:Trace:Hep:Endpoint (or --hep ENDPOINT): there is no capture server to send the counters to (was true)"));
        Assert.That(Failures(h => { h.Endpoint = "udp:127.0.0.1:9060"; h.RtpCounters = true; }), Is.Empty);
    }

    [Test]
    public void An_empty_password_is_refused()
    {
        Assert.That(Failures(h => { h.Endpoint = "udp:127.0.0.1:9060"; h.Password = ""; }).Single(), Does.StartWith("Pool:Trace:Hep:Password must be 1 to 1024 bytes"));
    }

    [Test]
    public void The_hep_section_binds_from_configuration_and_a_typo_in_it_is_an_unknown_key()
    {
        var good = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pool:Trace:Hep:Endpoint"] = "tcp:127.0.0.1:9061",
            ["Pool:Trace:Hep:AgentId"] = "2001",
            ["Pool:Trace:Hep:Password"] = "homer",
            ["Pool:Trace:Hep:RtpCounters"] = "true",
        }).Build();
        PoolOptions options = PoolConfiguration.BindAndValidate(good);
        Assert.That((options.Trace.Hep.Endpoint, options.Trace.Hep.AgentId, options.Trace.Hep.Password, options.Trace.Hep.RtpCounters),
            Is.EqualTo(("tcp:127.0.0.1:9061", 2001L, "homer", true)));

        var typo = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Pool:Trace:Hep:Endpiont"] = "udp:127.0.0.1:9060" }).Build();
        var error = Assert.Throws<PoolConfigurationException>(() => PoolConfiguration.BindAndValidate(typo));
        Assert.That(error!.Message, Does.Contain("Pool:Trace:Hep:Endpiont is not a known key"));
    }
}
