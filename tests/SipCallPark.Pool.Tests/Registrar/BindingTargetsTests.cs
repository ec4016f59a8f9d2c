using SipCallPark.Pool.Registrar;

namespace SipCallPark.Pool.Tests.Registrar;

public class BindingTargetsTests
{
    private static Binding Bob(NatSigns? nat, string contact = "sip:bob@127.0.0.1:5080", string? source = "udp:127.0.0.1:5070") =>
        new("sip:bob@callpark.lab", contact, DateTimeOffset.UnixEpoch.AddHours(1), 1.0, "reg-1", 1, null, null, source, RegistrationMode.Normal, "pool-a", nat);

    [Test]
    public void Auto_sends_to_the_contact_when_the_register_showed_no_sign()
    {
        var target = new BindingTargets(NatTraversal.Auto).Choose(Bob(NatSigns.None));
        Assert.That((target.Kind, target.Destination?.ToString(), target.Reason), Is.EqualTo(("contact", "udp:127.0.0.1:5080", "no NAT sign")));
    }

    [Test]
    public void Auto_sends_to_the_source_when_the_register_showed_a_sign_and_says_which()
    {
        var target = new BindingTargets(NatTraversal.Auto).Choose(Bob(NatSigns.ViaSentBy | NatSigns.Outbound));
        Assert.That((target.Kind, target.Destination?.ToString()), Is.EqualTo(("source", "udp:127.0.0.1:5070")));
        Assert.That(target.Reason, Does.Contain("Via sent-by").And.Contain("outbound"));
    }

    [Test]
    public void Auto_sends_a_binding_stored_before_the_nat_test_to_its_source_as_before()
    {
        var target = new BindingTargets(NatTraversal.Auto).Choose(Bob(nat: null));
        Assert.That((target.Kind, target.Destination?.ToString()), Is.EqualTo(("source", "udp:127.0.0.1:5070")));
    }

    [Test]
    public void A_tcp_registration_is_reached_over_its_connection()
    {
        var target = new BindingTargets(NatTraversal.Auto).Choose(Bob(NatSigns.Connection, "sip:bob@127.0.0.1:5080;transport=tcp", "tcp:127.0.0.1:40002"));
        Assert.That(target.Destination?.ToString(), Is.EqualTo("tcp:127.0.0.1:40002"));
    }

    [Test]
    public void Always_sends_to_the_source_whatever_the_register_showed()
    {
        var target = new BindingTargets(NatTraversal.Always).Choose(Bob(NatSigns.None));
        Assert.That((target.Kind, target.Destination?.ToString(), target.Reason), Is.EqualTo(("source", "udp:127.0.0.1:5070", "NatTraversal is Always")));
    }

    [Test]
    public void Never_sends_to_the_contact_whatever_the_register_showed()
    {
        var target = new BindingTargets(NatTraversal.Never).Choose(Bob(NatSigns.ContactAddress | NatSigns.ViaSentBy, "sip:bob@127.0.0.9:5080"));
        Assert.That((target.Kind, target.Destination?.ToString(), target.Reason), Is.EqualTo(("contact", "udp:127.0.0.9:5080", "NatTraversal is Never")));
    }

    [Test]
    public void Never_falls_back_to_the_source_for_a_contact_host_name_there_is_no_dns_for()
    {
        var target = new BindingTargets(NatTraversal.Never).Choose(Bob(NatSigns.ContactAddress, "sip:bob@phone.example"));
        Assert.That((target.Kind, target.Destination?.ToString()), Is.EqualTo(("source", "udp:127.0.0.1:5070")));
    }

    [Test]
    public void A_contact_naming_another_host_cannot_aim_the_pools_requests_at_it_under_Auto()
    {
        // What a REGISTER with someone else's address in its Contact records: the pool keeps sending to the registering phone.
        var target = new BindingTargets(NatTraversal.Auto).Choose(Bob(NatSigns.ContactAddress, "sip:bob@127.0.0.9:5060;maddr=127.0.0.9"));
        Assert.That(target.Destination?.ToString(), Is.EqualTo("udp:127.0.0.1:5070"));
    }

    [Test]
    public void A_binding_with_neither_a_usable_contact_nor_a_source_has_no_destination()
    {
        var target = new BindingTargets(NatTraversal.Auto).Choose(Bob(NatSigns.None, "sip:bob@phone.example", source: null));
        Assert.That((target.Kind, target.Destination), Is.EqualTo(("none", (Sip.Transport.SipEndPoint?)null)));
    }
}
