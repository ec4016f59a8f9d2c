using Microsoft.Extensions.Configuration;
using SipCallPark.Configuration;

namespace SipCallPark.Tests.Configuration;

/// <summary><c>Pool:Park:Blf</c>, the orbit lamps, as an operator writes it.</summary>
public class BlfConfigurationTests
{
    private static IConfiguration FromPairs(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    [Test]
    public void ParkedState_early_and_the_limits_bind_from_the_Pool_Park_Blf_section()
    {
        var options = PoolConfiguration.BindAndValidate(FromPairs(("Pool:Park:Blf:ParkedState", "early"), ("Pool:Park:Blf:MaxPerUser", "20"),
            ("Pool:Park:Blf:MinExpires", "120")));

        Assert.Multiple(() =>
        {
            Assert.That(options.Park.Blf.ParkedShowsEarly, Is.True);
            Assert.That(options.Park.Blf.MaxPerUser, Is.EqualTo(20));
            Assert.That(options.Park.Blf.MinExpires, Is.EqualTo(120));
        });
    }

    [Test]
    public void Without_the_section_a_parked_call_shows_confirmed()
    {
        Assert.That(PoolConfiguration.BindAndValidate(FromPairs()).Park.Blf.ParkedShowsEarly, Is.False);
    }

    [Test]
    public void A_ParkedState_phones_do_not_know_refuses_to_start_naming_the_key()
    {
        var error = Assert.Throws<PoolConfigurationException>(() => PoolConfiguration.BindAndValidate(FromPairs(("Pool:Park:Blf:ParkedState", "blinking"))));

        Assert.That(error!.Message, Does.Contain("Pool:Park:Blf:ParkedState must be confirmed or early (was 'blinking')"));
    }
}
