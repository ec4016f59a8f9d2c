using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Tests.Topology;

public class PoolTopologyTests
{
    private static PoolTopology Lab(Action<List<PoolDefinition>>? change = null, List<UserDefinition>? users = null)
    {
        var pools = new List<PoolDefinition>
        {
            new() { Name = "pool-a", Sip = "127.0.0.1:5060", Admin = "http://127.0.0.1:8060", Backup = "pool-b", Orbits = ["7000-7099"] },
            new() { Name = "pool-b", Sip = "127.0.0.1:5062", Admin = "http://127.0.0.1:8062", Backup = "pool-a", Orbits = ["7100-7199"] },
        };
        change?.Invoke(pools);
        return new PoolTopology { Domain = "callpark.lab", Pools = pools, Users = users ?? [new UserDefinition { User = "alice", HomePool = "pool-a" }] };
    }

    private static string KeyOfError(PoolTopology topology) =>
        Assert.Throws<OptionsValidationError>(() => topology.Validate())!.Key;

    [Test]
    public void The_lab_topology_is_valid_and_knows_who_owns_an_orbit()
    {
        var topology = Lab();
        Assert.DoesNotThrow(() => topology.Validate());
        Assert.That(topology.OwnerOfOrbit("7150")!.Name, Is.EqualTo("pool-b"));
        Assert.That(topology.OwnerOfOrbit("7200"), Is.Null);
    }

    [Test]
    public void Overlapping_orbit_ranges_are_refused_naming_the_second_range()
    {
        var error = Assert.Throws<OptionsValidationError>(() => Lab(p => p[1].Orbits[0] = "7050-7150").Validate())!;
        Assert.That(error.Key, Is.EqualTo("Topology:Pools:1:Orbits:0"));
        Assert.That(error.Message, Does.Contain("overlaps"));
    }

    [TestCase("0700-0799", TestName = "An_orbit_range_starting_with_zero_is_refused")]
    [TestCase("700-7099", TestName = "An_orbit_range_with_ends_of_different_length_is_refused")]
    [TestCase("*700-#799", TestName = "An_orbit_range_with_different_prefixes_is_refused")]
    [TestCase("7099-7000", TestName = "An_orbit_range_running_backwards_is_refused")]
    [TestCase("1234567890-1234567899", TestName = "An_orbit_number_of_ten_digits_is_refused")]
    [TestCase("7000", TestName = "An_orbit_range_without_an_end_is_refused")]
    public void Malformed_orbit_ranges_are_refused(string range) =>
        Assert.That(KeyOfError(Lab(p => p[0].Orbits[0] = range)), Is.EqualTo("Topology:Pools:0:Orbits:0"));

    [Test]
    public void Prefixed_orbit_ranges_follow_the_rule()
    {
        Assert.That(OrbitRange.TryParse("*100-*199", out var range, out _), Is.True);
        Assert.That(range.Contains("*150"), Is.True);
        Assert.That(range.Contains("150"), Is.False);
        Assert.That(range.At(5), Is.EqualTo("*105"));
    }

    [Test]
    public void An_unknown_backup_pool_is_refused() =>
        Assert.That(KeyOfError(Lab(p => p[0] = new PoolDefinition { Name = "pool-a", Sip = "127.0.0.1:5060", Admin = "http://127.0.0.1:8060", Backup = "pool-z" })),
            Is.EqualTo("Topology:Pools:0:Backup"));

    [Test]
    public void A_user_homed_on_an_unknown_pool_is_refused() =>
        Assert.That(KeyOfError(Lab(users: [new UserDefinition { User = "zed", HomePool = "pool-q" }])), Is.EqualTo("Topology:Users:0:HomePool"));

    [Test]
    public void A_pool_without_a_valid_sip_address_is_refused() =>
        Assert.That(KeyOfError(Lab(p => p[1] = new PoolDefinition { Name = "pool-b", Sip = "localhost", Admin = "http://127.0.0.1:8062" })),
            Is.EqualTo("Topology:Pools:1:Sip"));
}
