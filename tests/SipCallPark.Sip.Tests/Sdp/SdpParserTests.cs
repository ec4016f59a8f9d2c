using SipCallPark.Sip.Sdp;

namespace SipCallPark.Sip.Tests.Sdp;

public class SdpParserTests
{
    private const string Head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";

    private static IEnumerable<TestCaseData> Malformed()
    {
        yield return new TestCaseData("").SetName("Empty text is rejected");
        yield return new TestCaseData(" \r\n\r\n").SetName("Blank lines only are rejected");
        yield return new TestCaseData("hello world").SetName("Text that is not SDP is rejected");
        yield return new TestCaseData("\0\u0001\u0002=\u00ff").SetName("Binary garbage is rejected");
        yield return new TestCaseData(Head[5..]).SetName("A missing v line is rejected");
        yield return new TestCaseData("v=1\r\n" + Head[5..]).SetName("An unknown SDP version is rejected");
        yield return new TestCaseData(Head + "v=0\r\n").SetName("A second v line is rejected");
        yield return new TestCaseData(Head.Replace("o=- 1 1 IN IP4 127.0.0.1\r\n", "")).SetName("A missing o line is rejected");
        yield return new TestCaseData(Head.Replace("o=- 1 1 ", "o=- x 1 ")).SetName("A non-numeric session id is rejected");
        yield return new TestCaseData(Head.Replace("o=- 1 1 IN IP4 127.0.0.1", "o=- 1 1 IN IP4")).SetName("A short o line is rejected");
        yield return new TestCaseData(Head.Replace("s=-\r\n", "")).SetName("A missing s line is rejected");
        yield return new TestCaseData(Head.Replace("t=0 0\r\n", "")).SetName("A missing t line is rejected");
        yield return new TestCaseData(Head.Replace("t=0 0", "t=now")).SetName("A non-numeric t line is rejected");
        yield return new TestCaseData(Head.Replace("c=IN IP4 127.0.0.1", "c=IN IP4")).SetName("A short c line is rejected");
        yield return new TestCaseData(Head + "m=audio 70000 RTP/AVP 0\r\n").SetName("A port above 65535 is rejected");
        yield return new TestCaseData(Head + "m=audio -1 RTP/AVP 0\r\n").SetName("A negative port is rejected");
        yield return new TestCaseData(Head + "m=audio 4000/0 RTP/AVP 0\r\n").SetName("A zero port count is rejected");
        yield return new TestCaseData(Head + "m=audio 4000\r\n").SetName("A short m line is rejected");
        yield return new TestCaseData(Head + "a=\r\n").SetName("An attribute without a name is rejected");
        yield return new TestCaseData(Head + "a=:value\r\n").SetName("An attribute with an empty name is rejected");
        yield return new TestCaseData(Head + "m=audio 4000 RTP/AVP 0\r\no=- 2 2 IN IP4 127.0.0.1\r\n").SetName("An o line inside a media section is rejected");
        yield return new TestCaseData(Head + "no equals sign\r\n").SetName("A line without a type is rejected");
        yield return new TestCaseData(Head + "A=upper\r\n").SetName("An upper-case type is rejected");
    }

    [TestCaseSource(nameof(Malformed))]
    public void Malformed_sdp(string text)
    {
        bool parsed = true;
        string? error = null;

        Assert.DoesNotThrow(() => parsed = SessionDescription.TryParse(text, out _, out error));
        Assert.Multiple(() =>
        {
            Assert.That(parsed, Is.False);
            Assert.That(error, Is.Not.Empty);
            Assert.That(() => SessionDescription.Parse(text), Throws.TypeOf<FormatException>());
        });
    }

    [Test]
    public void A_media_line_whose_protocol_is_a_stray_carriage_return_is_rejected_without_throwing()
    {
        // Found by fuzzing: "m=a 400 \r\r\n" left "\r" as the protocol and MediaDescription threw ArgumentException.
        var input = "v=0\r\no=- 1 2 IN IP6 2::1\r\ns=-\r\nt=0 0\r\nm=a 400 \r\r\n"u8;
        var text = System.Text.Encoding.UTF8.GetString(input);
        bool parsed = true;
        string? error = null;

        Assert.DoesNotThrow(() => parsed = SessionDescription.TryParse(text, out _, out error));
        Assert.That(parsed, Is.False);
        Assert.That(error, Does.StartWith("SDP line 5:"));
    }

    [Test]
    public void A_media_line_separated_by_tabs_is_read()
    {
        var sdp = SessionDescription.Parse(Head + "m=audio\t4000\tRTP/AVP\t0\r\n");

        Assert.That(sdp.Media[0].Protocol, Is.EqualTo("RTP/AVP"));
        Assert.That(sdp.Media[0].Port, Is.EqualTo(4000));
    }

    [Test]
    public void Null_text_is_rejected_by_TryParse()
    {
        Assert.That(SessionDescription.TryParse(null, out var sdp), Is.False);
        Assert.That(sdp, Is.Null);
    }

    [Test]
    public void The_error_names_the_line_number()
    {
        SessionDescription.TryParse(Head + "m=audio 99999 RTP/AVP 0\r\n", out _, out var error);

        Assert.That(error, Does.StartWith("SDP line 6:").And.Contain("99999"));
    }

    [Test]
    public void Blank_lines_and_a_missing_final_line_break_are_tolerated()
    {
        var text = "v=0\r\n\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0";

        Assert.That(SessionDescription.TryParse(text, out var sdp), Is.True);
        Assert.That(sdp!.Media.Single().Port, Is.Zero);
    }

    [Test]
    public void A_media_line_with_a_port_count_keeps_it()
    {
        var sdp = SessionDescription.Parse(Head + "m=video 49170/2 RTP/AVP 31\r\n");

        Assert.Multiple(() =>
        {
            Assert.That(sdp.Media[0].Port, Is.EqualTo(49170));
            Assert.That(sdp.Media[0].PortCount, Is.EqualTo(2));
            Assert.That(sdp.ToString(), Does.EndWith("m=video 49170/2 RTP/AVP 31\r\n"));
        });
    }

    [Test]
    public void An_attribute_value_may_contain_colons_and_spaces()
    {
        var sdp = SessionDescription.Parse(Head + "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss\r\n");

        Assert.That(sdp.Attributes.Single(), Is.EqualTo(new SdpAttribute("rtcp-xr", "rcvr-rtt=all:10000 stat-summary=loss")));
    }
}
