using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message;

public class SipUriTests
{
    private static readonly string[] RoundTripUris =
    [
        "sip:park@lab.test",
        "sips:alice@lab.test:5061;transport=tls",
        "sip:alice@[::1]:5060;transport=tcp",
        "sip:[2001:db8::10];lr",
        "sip:7001@198.51.100.1:5062;user=phone;lr;x-flag",
        "sip:has%20space@lab.test",
        "sip:bob:secret@lab.test",
        "sip:bob@lab.test?Replaces=abc%40h.lab.test%3Bto-tag%3D7%3Bfrom-tag%3D9&Subject=hi",
        "tel:+1-555-0100;phone-context=lab.test",
        "urn:service:sos",
    ];

    [TestCaseSource(nameof(RoundTripUris))]
    public void A_parsed_uri_writes_back_as_it_came_and_a_rebuilt_one_parses_equal(string text)
    {
        var uri = SipUri.Parse(text);
        Assert.That(uri.ToString(), Is.EqualTo(text));
        if (!uri.IsSip) return;
        var rebuilt = uri.WithHost(uri.Host, uri.Port);   // drops the cached text, so ToString builds it from parts
        Assert.That(SipUri.Parse(rebuilt.ToString()), Is.EqualTo(uri));
        Assert.That(rebuilt.ToString(), Is.EqualTo(text));
    }

    [Test]
    public void An_ipv6_reference_keeps_its_brackets_and_its_port()
    {
        var uri = SipUri.Parse("sip:alice@[::1]:5060;transport=tcp");
        Assert.Multiple(() =>
        {
            Assert.That(uri.Host, Is.EqualTo("[::1]"));
            Assert.That(uri.HostWithoutBrackets, Is.EqualTo("::1"));
            Assert.That(uri.Port, Is.EqualTo(5060));
            Assert.That(uri.Transport, Is.EqualTo("tcp"));
        });
    }

    [TestCase("sip:alice@[::1")]
    [TestCase("sip:alice@[not-an-address]")]
    [TestCase("sip:alice@[::1]5060")]
    [TestCase("sip:alice@lab.test:70000")]
    [TestCase("sip:alice@lab.test:")]
    [TestCase("sip:@lab.test")]
    [TestCase("sip:alice@")]
    [TestCase("sip:alice@lab test")]
    [TestCase("sip:alice@lab.test;=x")]
    [TestCase("tel:")]
    [TestCase("nocolon")]
    public void A_malformed_uri_does_not_parse(string text) => Assert.That(SipUri.TryParse(text, out _), Is.False);

    [Test]
    public void Schemes_are_read_case_insensitively_and_kept_lower_case()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SipUri.Parse("SIP:bob@lab.test").Scheme, Is.EqualTo("sip"));
            Assert.That(SipUri.Parse("SIPS:bob@lab.test").IsSecure, Is.True);
            Assert.That(SipUri.Parse("Tel:+15550100").User, Is.EqualTo("+15550100"));
        });
    }

    [Test]
    public void A_replaces_header_reads_unescaped_whether_it_was_escaped_or_not()
    {
        var escaped = SipUri.Parse("sip:bob@lab.test?Replaces=abc%40h.lab.test%3Bto-tag%3D7%3Bfrom-tag%3D9");
        var plain = SipUri.Parse("sip:bob@lab.test?replaces=abc@h.lab.test");
        Assert.Multiple(() =>
        {
            Assert.That(escaped.GetHeader("replaces"), Is.EqualTo("abc@h.lab.test;to-tag=7;from-tag=9"));
            Assert.That(ReplacesHeader.Parse(escaped.GetHeader("Replaces")!), Is.EqualTo(new ReplacesHeader("abc@h.lab.test", "7", "9")));
            Assert.That(plain.GetHeader("Replaces"), Is.EqualTo("abc@h.lab.test"));
            Assert.That(plain.User, Is.EqualTo("bob"));
            Assert.That(escaped.GetHeader("Subject"), Is.Null);
        });
    }

    [Test]
    public void With_header_escapes_the_value_so_it_parses_back_to_the_same_text()
    {
        var replaces = new ReplacesHeader("call 1@h.lab.test", "to&7", "from=9", EarlyOnly: true).ToString();
        var uri = SipUri.Parse("sip:bob@lab.test").WithHeader("Replaces", replaces);
        var text = uri.ToString();
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Not.Contain(" ").And.Not.Contain(";to-tag").And.Not.Contain("@h.lab"));
            Assert.That(SipUri.Parse(text).GetHeader("Replaces"), Is.EqualTo(replaces));
            Assert.That(NameAddress.Parse($"<{text}>").Uri.GetHeader("Replaces"), Is.EqualTo(replaces));
        });
    }

    [Test]
    public void Escapes_decode_as_utf8_and_malformed_ones_stay_as_written()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SipUri.Parse("sip:ren%C3%A9e@lab.test").UnescapedUser, Is.EqualTo("renée"));
            Assert.That(SipUri.Parse("sip:100%25@lab.test").UnescapedUser, Is.EqualTo("100%"));
            Assert.That(SipUri.Parse("sip:a%G1b@lab.test").UnescapedUser, Is.EqualTo("a%G1b"));
            Assert.That(SipUri.Parse("sip:ab%4@lab.test").UnescapedUser, Is.EqualTo("ab%4"));
            Assert.That(SipUri.Parse("sip:%61lice@Lab.Test:5070").AddressOfRecord, Is.EqualTo("sip:alice@lab.test"));
        });
    }

    // RFC 3261 §19.1.4, one pair per rule, with our own URIs.
    [TestCase("sip:%62ob@Lab.TEST;transport=TCP", "sip:bob@lab.test;Transport=tcp", TestName = "Escaped user and case of host and parameters do not matter")]
    [TestCase("sip:park@lab.test", "sip:park@lab.test;newparam=5", TestName = "A parameter only one side has does not matter")]
    [TestCase("sip:park@lab.test;newparam=5", "sip:park@lab.test;security=on", TestName = "Different parameters each on one side do not matter")]
    [TestCase("sip:lab.test;transport=tcp;method=REFER?to=sip:bob%40lab.test", "sip:lab.test;method=REFER;transport=tcp?to=sip:bob%40lab.test", TestName = "Parameter order does not matter")]
    [TestCase("sip:park@lab.test?subject=parking%20lot&priority=urgent", "sip:park@lab.test?priority=urgent&subject=parking%20lot", TestName = "Header order does not matter")]
    [TestCase("sip:park@lab.test;%6C%72", "sip:park@lab.test;lr", TestName = "An escaped parameter name equals the plain one")]
    public void Uris_that_RFC_3261_calls_equivalent_are_equal(string a, string b)
    {
        Assert.That(SipUri.Parse(a), Is.EqualTo(SipUri.Parse(b)));
        Assert.That(SipUri.Parse(b), Is.EqualTo(SipUri.Parse(a)));
        Assert.That(SipUri.Parse(a).GetHashCode(), Is.EqualTo(SipUri.Parse(b).GetHashCode()));
    }

    [TestCase("SIP:BOB@Lab.Test;Transport=udp", "sip:bob@Lab.Test;Transport=UDP", TestName = "Users differ in case")]
    [TestCase("sip:bob@lab.test", "sip:bob@lab.test:5060", TestName = "One has a port, even the default one")]
    [TestCase("sip:bob@lab.test", "sip:bob@lab.test;transport=udp", TestName = "One has a transport parameter")]
    [TestCase("sip:bob@lab.test", "sip:bob@lab.test:6000;transport=tcp", TestName = "Port and transport on one side only")]
    [TestCase("sip:park@lab.test", "sip:park@lab.test?Subject=next%20shift", TestName = "One has a header")]
    [TestCase("sip:bob@phone7.lab.test", "sip:bob@198.51.100.4", TestName = "A name and an address are different hosts")]
    [TestCase("sip:park@lab.test;security=on", "sip:park@lab.test;security=off", TestName = "A parameter both have differs")]
    [TestCase("sip:park@lab.test", "sips:park@lab.test", TestName = "Sip and sips differ")]
    [TestCase("sip:park@lab.test;maddr=198.51.100.9", "sip:park@lab.test", TestName = "Maddr on one side only")]
    public void Uris_that_RFC_3261_calls_different_are_not_equal(string a, string b)
    {
        Assert.That(SipUri.Parse(a), Is.Not.EqualTo(SipUri.Parse(b)));
        Assert.That(SipUri.Parse(b), Is.Not.EqualTo(SipUri.Parse(a)));
    }
}
