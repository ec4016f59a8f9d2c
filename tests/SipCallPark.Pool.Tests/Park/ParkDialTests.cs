using SipCallPark.Pool.Park;

namespace SipCallPark.Pool.Tests.Park;

[TestFixture]
internal sealed class ParkDialTests
{
    private static readonly ParkOptions Options = new();

    [TestCase("park", ParkDialKind.Service, null)]
    [TestCase("PARK", ParkDialKind.Service, null)]
    [TestCase("*70", ParkDialKind.Service, null)]
    [TestCase("7005", ParkDialKind.Orbit, "7005")]
    [TestCase("*717005", ParkDialKind.DirectedPark, "7005")]
    [TestCase("*727005", ParkDialKind.Retrieve, "7005")]
    [TestCase("*71*100", ParkDialKind.DirectedPark, "*100")]
    [TestCase("*71", ParkDialKind.Malformed, "")]
    [TestCase("*71abc", ParkDialKind.Malformed, "abc")]
    [TestCase("*720700", ParkDialKind.Malformed, "0700")]
    [TestCase("*7170051234567", ParkDialKind.Malformed, "70051234567")]
    [TestCase("alice", ParkDialKind.None, null)]
    [TestCase("", ParkDialKind.None, null)]
    public void A_dialled_user_part_reads_as_the_service_an_orbit_or_a_feature_code_with_its_orbit(string user, ParkDialKind kind, string? orbit)
    {
        Assert.That(ParkDial.Read(user, Options), Is.EqualTo(new ParkDial(kind, orbit)));
    }

    [Test]
    public void An_empty_code_is_off_and_the_digits_are_read_as_they_are()
    {
        var options = new ParkOptions { DirectedParkCode = "", RetrieveCode = "" };

        Assert.That(ParkDial.Read("*717005", options).Kind, Is.EqualTo(ParkDialKind.Orbit), "*717005 is only orbit-shaped now");
    }
}
