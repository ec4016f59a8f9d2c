using Microsoft.Extensions.Configuration;
using SipCallPark.Configuration;

namespace SipCallPark.Tests.Configuration;

public class PoolConfigurationTests
{
    private static IConfiguration FromPairs(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)))
            .Build();

    [TestCase("pool-a.json", "pool-a", 5060, "http://127.0.0.1:8060")]
    [TestCase("pool-b.json", "pool-b", 5062, "http://127.0.0.1:8062")]
    public void The_shipped_pool_files_are_valid(string file, string name, int port, string adminUrl)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(RepositoryPaths.Config(file)).Build();

        var options = PoolConfiguration.BindAndValidate(configuration);

        Assert.Multiple(() =>
        {
            Assert.That(options.Name, Is.EqualTo(name));
            Assert.That(options.Domain, Is.EqualTo("callpark.lab"));
            Assert.That(options.Sip.ListenAddress, Is.EqualTo("127.0.0.1"));
            Assert.That(options.Sip.Port, Is.EqualTo(port));
            Assert.That(options.Sip.Transports, Is.EqualTo(new[] { "udp", "tcp" }));
            Assert.That(options.Admin.Url, Is.EqualTo(adminUrl));
            Assert.That(options.DataDirectory, Is.EqualTo("data"));
        });
    }

    [Test]
    public void Replication_settings_are_read_from_the_pool_section()
    {
        var options = PoolConfiguration.BindAndValidate(FromPairs(("Pool:Replication:Enabled", "false"), ("Pool:Replication:BatchInterval", "00:00:00.050"),
            ("Pool:Replication:BackupToken", "s3cret")));

        Assert.Multiple(() =>
        {
            Assert.That(options.Replication.Enabled, Is.False);
            Assert.That(options.Replication.BatchInterval, Is.EqualTo(TimeSpan.FromMilliseconds(50)));
            Assert.That(options.Replication.BackupToken, Is.EqualTo("s3cret"));
            Assert.That(options.Replication.SnapshotOnReconnect, Is.True, "unset keys keep their defaults");
        });
    }

    [Test]
    public void A_replication_batch_interval_out_of_range_refuses_to_start_naming_the_key()
    {
        var error = Assert.Throws<PoolConfigurationException>(() =>
            PoolConfiguration.BindAndValidate(FromPairs(("Pool:Replication:BatchInterval", "00:05:00"))));
        Assert.That(error!.Message, Does.Contain("Pool:Replication:BatchInterval must be between 10 ms and 1 min"));
    }

    [Test]
    public void An_empty_pool_section_gives_pool_a_defaults()
    {
        var options = PoolConfiguration.BindAndValidate(FromPairs());

        Assert.Multiple(() =>
        {
            Assert.That(options.Name, Is.EqualTo("pool-a"));
            Assert.That(options.Sip.Port, Is.EqualTo(5060));
            Assert.That(options.Sip.Transports, Is.EqualTo(new[] { "udp", "tcp" }));
        });
    }

    [Test]
    public void Configured_transports_replace_the_default_list()
    {
        var options = PoolConfiguration.BindAndValidate(FromPairs(("Pool:Sip:Transports:0", "tcp")));

        Assert.That(options.Sip.Transports, Is.EqualTo(new[] { "tcp" }));
    }

    [Test]
    public void A_misspelt_key_is_rejected_by_its_full_path()
    {
        var error = Assert.Throws<PoolConfigurationException>(
            () => PoolConfiguration.BindAndValidate(FromPairs(("Pool:Sip:Prot", "5070"))));

        Assert.That(error!.Errors.Single(), Does.StartWith("Pool:Sip:Prot is not a known key"));
    }

    [Test]
    public void Nat_traversal_is_read_from_the_registrar_section_and_defaults_to_auto()
    {
        Assert.That(PoolConfiguration.BindAndValidate(FromPairs()).Registrar.ParseNatTraversal(), Is.EqualTo(SipCallPark.Pool.Registrar.NatTraversal.Auto));
        Assert.That(PoolConfiguration.BindAndValidate(FromPairs(("Pool:Registrar:NatTraversal", "Always"))).Registrar.ParseNatTraversal(),
            Is.EqualTo(SipCallPark.Pool.Registrar.NatTraversal.Always));
    }

    [Test]
    public void A_misspelt_registrar_key_is_rejected_by_its_full_path()
    {
        var error = Assert.Throws<PoolConfigurationException>(
            () => PoolConfiguration.BindAndValidate(FromPairs(("Pool:Registrar:NatTravesal", "Never"))));

        Assert.That(error!.Errors.Single(), Does.StartWith("Pool:Registrar:NatTravesal is not a known key"));
    }

    [Test]
    public void A_value_of_the_wrong_type_is_rejected_naming_the_key()
    {
        var error = Assert.Throws<PoolConfigurationException>(
            () => PoolConfiguration.BindAndValidate(FromPairs(("Pool:Sip:Port", "fifty"))));

        Assert.That(error!.Errors.Single(), Does.Contain("Pool:Sip:Port").And.Contain("fifty"));
    }

    [Test]
    public void A_missing_config_file_is_named_with_where_it_was_looked_for()
    {
        var directory = TestContext.CurrentContext.WorkDirectory;

        var error = Assert.Throws<PoolConfigurationException>(
            () => PoolConfiguration.Load(new ConfigurationManager(), "config/nowhere.json", directory, []));

        Assert.That(error!.Errors.Single(),
            Does.Contain("'config/nowhere.json' not found").And.Contain(Path.Combine(directory, "config", "nowhere.json")));
    }

    [Test]
    public void A_config_file_that_is_not_json_is_rejected()
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"broken-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ \"Pool\": { \"Name\": ");
        try
        {
            var error = Assert.Throws<PoolConfigurationException>(
                () => PoolConfiguration.Load(new ConfigurationManager(), path, "/", []));

            Assert.That(error!.Errors.Single(), Does.Contain("is not valid JSON"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_command_line_key_override_wins_over_the_file()
    {
        var configuration = new ConfigurationManager();

        PoolConfiguration.Load(configuration, RepositoryPaths.Config("pool-b.json"), "/", ["--Pool:Sip:Port=5070"]);

        Assert.That(PoolConfiguration.BindAndValidate(configuration).Sip.Port, Is.EqualTo(5070));
    }
}
