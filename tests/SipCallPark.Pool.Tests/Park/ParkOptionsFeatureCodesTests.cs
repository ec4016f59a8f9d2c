using SipCallPark.Pool.Park;
using SipCallPark.Pool.Topology;

namespace SipCallPark.Pool.Tests.Park;

[TestFixture]
public sealed class ParkOptionsFeatureCodesTests
{
    private static string Refusal(ParkOptions options) =>
        Assert.Throws<OptionsValidationError>(() => options.Validate("Pool:Park"))!.Key;

    [Test]
    public void The_defaults_are_valid_and_dial_star_70_star_71_and_star_72()
    {
        var options = new ParkOptions();

        Assert.DoesNotThrow(() => options.Validate());
        Assert.That((options.Aliases.Single(), options.DirectedParkCode, options.RetrieveCode), Is.EqualTo(("*70", "*71", "*72")));
    }

    [TestCase("*7 0")]
    [TestCase("*70;x=1")]
    [TestCase("park@evil")]
    [TestCase("a123456789012345678901234567890123")]
    public void An_alias_a_phone_cannot_dial_refuses_to_start_naming_its_key(string alias)
    {
        Assert.That(Refusal(new ParkOptions { Aliases = ["*70", alias] }), Is.EqualTo("Pool:Park:Aliases:1"));
    }

    [Test]
    public void An_alias_listed_twice_or_starting_with_a_feature_code_refuses_to_start()
    {
        Assert.That(Refusal(new ParkOptions { Aliases = ["*70", "*70"] }), Is.EqualTo("Pool:Park:Aliases:1"));
        Assert.That(Refusal(new ParkOptions { Aliases = ["park"] }), Is.EqualTo("Pool:Park:Aliases:0"));
        Assert.That(Refusal(new ParkOptions { Aliases = ["*715"] }), Is.EqualTo("Pool:Park:Aliases:0"));
    }

    [TestCase("71")]
    [TestCase("*")]
    [TestCase("*7a")]
    [TestCase("*123456")]
    public void A_feature_code_that_is_not_a_star_or_hash_and_digits_refuses_to_start(string code)
    {
        Assert.That(Refusal(new ParkOptions { DirectedParkCode = code }), Is.EqualTo("Pool:Park:DirectedParkCode"));
        Assert.That(Refusal(new ParkOptions { RetrieveCode = code }), Is.EqualTo("Pool:Park:RetrieveCode"));
    }

    [Test]
    public void Codes_that_clash_with_each_other_or_with_an_alias_refuse_to_start()
    {
        Assert.That(Refusal(new ParkOptions { RetrieveCode = "*71" }), Is.EqualTo("Pool:Park:RetrieveCode"));
        Assert.That(Refusal(new ParkOptions { RetrieveCode = "*7" }), Is.EqualTo("Pool:Park:Aliases:0"), "*70 starts with *7");
        Assert.That(Refusal(new ParkOptions { Aliases = ["*9"], RetrieveCode = "*711" }), Is.EqualTo("Pool:Park:RetrieveCode"));
    }

    [Test]
    public void A_code_that_starts_orbits_of_the_topology_refuses_to_start_naming_the_code()
    {
        var topology = new PoolTopology { Pools = [new PoolDefinition { Name = "pool-a", Orbits = ["*7000-*7299"] }] };

        var refusal = Assert.Throws<OptionsValidationError>(() => new ParkOptions { Aliases = ["park-now"] }.ValidateAgainst(topology, "Pool:Park"))!;

        Assert.That(refusal.Key, Is.EqualTo("Pool:Park:DirectedParkCode"), "*7100-*7199 would be read as *71 and 00-99");
        Assert.That(refusal.Message, Does.Contain("*7000-*7299"));
    }

    [Test]
    public void An_alias_that_is_an_orbit_of_the_topology_refuses_to_start()
    {
        var topology = new PoolTopology { Pools = [new PoolDefinition { Name = "pool-a", Orbits = ["*70-*79"] }] };

        Assert.That(Assert.Throws<OptionsValidationError>(() => new ParkOptions().ValidateAgainst(topology, "Pool:Park"))!.Key, Is.EqualTo("Pool:Park:Aliases:0"));
        Assert.DoesNotThrow(() => new ParkOptions().ValidateAgainst(new PoolTopology { Pools = [new PoolDefinition { Name = "a", Orbits = ["7000-7099", "*800-*899"] }] }));
    }
}
