using SipCallPark.Pool.Park;

namespace SipCallPark.Pool.Tests.Blf;

[TestFixture]
public sealed class BlfOptionsTests
{
    [Test]
    public void The_defaults_are_valid_and_show_a_parked_call_confirmed()
    {
        var options = new BlfOptions();

        Assert.DoesNotThrow(() => new ParkOptions().Validate());
        Assert.That(options.ParkedShowsEarly, Is.False);
        Assert.That(new BlfOptions { ParkedState = "Early" }.ParkedShowsEarly, Is.True);
    }

    [TestCase("blinking", "Pool:Park:Blf:ParkedState")]
    [TestCase("", "Pool:Park:Blf:ParkedState")]
    public void A_ParkedState_other_than_confirmed_or_early_refuses_to_start_naming_the_key(string state, string key)
    {
        var error = Assert.Throws<OptionsValidationError>(() => new ParkOptions { Blf = new BlfOptions { ParkedState = state } }.Validate("Pool:Park"));

        Assert.That(error!.Key, Is.EqualTo(key));
    }

    [Test]
    public void Limits_out_of_range_refuse_to_start_naming_the_key()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<OptionsValidationError>(() => new BlfOptions { MinExpires = 0 }.Validate())!.Key, Is.EqualTo("Park:Blf:MinExpires"));
            Assert.That(Assert.Throws<OptionsValidationError>(() => new BlfOptions { MinExpires = 600, MaxExpires = 300, DefaultExpires = 300 }.Validate())!.Key,
                Is.EqualTo("Park:Blf:MaxExpires"));
            Assert.That(Assert.Throws<OptionsValidationError>(() => new BlfOptions { MaxPerUser = 0 }.Validate())!.Key, Is.EqualTo("Park:Blf:MaxPerUser"));
            Assert.That(Assert.Throws<OptionsValidationError>(() => new BlfOptions { MaxPerUser = 50, MaxTotal = 10 }.Validate())!.Key, Is.EqualTo("Park:Blf:MaxTotal"));
            Assert.That(Assert.Throws<OptionsValidationError>(() => new BlfOptions { MaxNotifiesInFlight = 0 }.Validate())!.Key,
                Is.EqualTo("Park:Blf:MaxNotifiesInFlight"));
        });
    }
}
