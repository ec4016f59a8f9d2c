using System.Net;
using System.Text;
using SipCallPark.Pool.Registrar;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Pool.Tests.Registrar;

public class NatTestTests
{
    private static SipEndPoint Udp(string address, int port) => new(SipProtocol.Udp, new IPEndPoint(IPAddress.Parse(address), port));

    private static SipRequest Register(string contact, string via = "127.0.0.1:5070")
    {
        var text = $"REGISTER sip:callpark.lab SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bK1;rport\r\n" +
                   "From: <sip:alice@callpark.lab>;tag=t1\r\nTo: <sip:alice@callpark.lab>\r\nCall-ID: reg-1\r\nCSeq: 1 REGISTER\r\n" +
                   $"Contact: {contact}\r\nContent-Length: 0\r\n\r\n";
        return (SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;
    }

    private static NatSigns Detect(string contact, SipEndPoint source, string via = "127.0.0.1:5070")
    {
        var register = Register(contact, via);
        return NatTest.Detect(register, register.Contacts.Single(), source);
    }

    [Test]
    public void A_contact_at_the_source_address_on_another_port_shows_no_sign_as_when_a_separate_tool_registers_it()
    {
        Assert.That(Detect("<sip:alice@127.0.0.1:5080>", Udp("127.0.0.1", 5070)), Is.EqualTo(NatSigns.None));
    }

    [Test]
    public void A_contact_host_other_than_the_source_address_is_a_sign()
    {
        Assert.That(Detect("<sip:alice@127.0.0.2:5070>", Udp("127.0.0.1", 5070)), Is.EqualTo(NatSigns.ContactAddress));
    }

    [Test]
    public void A_contact_host_name_is_a_sign_since_it_cannot_be_compared()
    {
        Assert.That(Detect("<sip:alice@phone.example:5070>", Udp("127.0.0.1", 5070)), Is.EqualTo(NatSigns.ContactAddress));
    }

    [Test]
    public void A_maddr_naming_another_host_is_a_sign_though_the_host_matches()
    {
        Assert.That(Detect("<sip:alice@127.0.0.1:5070;maddr=127.0.0.9>", Udp("127.0.0.1", 5070)), Is.EqualTo(NatSigns.ContactAddress));
    }

    [Test]
    public void A_private_contact_behind_a_public_source_is_a_sign_of_its_own()
    {
        var signs = Detect("<sip:alice@192.168.1.20:5060>", Udp("203.0.113.7", 40312), via: "192.168.1.20:5060");
        Assert.That(signs, Is.EqualTo(NatSigns.ContactAddress | NatSigns.PrivateContact | NatSigns.ViaSentBy));
    }

    [TestCase("10.1.2.3", true)]
    [TestCase("172.16.0.1", true)]
    [TestCase("172.31.255.255", true)]
    [TestCase("172.32.0.1", false)]
    [TestCase("192.168.0.1", true)]
    [TestCase("100.64.0.1", true)]
    [TestCase("100.128.0.1", false)]
    [TestCase("127.0.0.1", false)]
    [TestCase("203.0.113.7", false)]
    [TestCase("fd00::1", true)]
    [TestCase("2001:db8::1", false)]
    public void Private_addresses_are_those_of_RFC_1918_RFC_6598_and_RFC_4193(string address, bool isPrivate)
    {
        Assert.That(NatTest.IsPrivate(IPAddress.Parse(address)), Is.EqualTo(isPrivate));
    }

    [TestCase("127.0.0.1:5071")]
    [TestCase("127.0.0.1")]
    [TestCase("127.0.0.3:5070")]
    public void A_via_sent_by_other_than_the_source_is_a_sign(string via)
    {
        Assert.That(Detect("<sip:alice@127.0.0.1:5070>", Udp("127.0.0.1", 5070), via), Is.EqualTo(NatSigns.ViaSentBy));
    }

    [TestCase("<sip:alice@127.0.0.1:5070>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"")]
    [TestCase("<sip:alice@127.0.0.1:5070;ob>")]
    public void A_phone_asking_for_outbound_is_reached_over_its_flow(string contact)
    {
        Assert.That(Detect(contact, Udp("127.0.0.1", 5070)), Is.EqualTo(NatSigns.Outbound));
    }

    [Test]
    public void An_instance_id_without_reg_id_is_not_outbound()
    {
        Assert.That(Detect("<sip:alice@127.0.0.1:5070>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"", Udp("127.0.0.1", 5070)),
            Is.EqualTo(NatSigns.None));
    }

    [Test]
    public void A_register_over_tcp_is_answered_over_its_connection()
    {
        var source = new SipEndPoint(SipProtocol.Tcp, new IPEndPoint(IPAddress.Loopback, 5070));
        Assert.That(Detect("<sip:alice@127.0.0.1:5070;transport=tcp>", source), Is.EqualTo(NatSigns.Connection));
    }

    [Test]
    public void Every_sign_is_named_for_people()
    {
        Assert.That(NatTest.Describe(NatSigns.None), Is.EqualTo("no NAT sign"));
        foreach (var sign in Enum.GetValues<NatSigns>().Where(s => s != NatSigns.None))
            Assert.That(NatTest.Describe(sign), Is.Not.Empty.And.Not.EqualTo("no NAT sign"), sign.ToString());
    }
}
