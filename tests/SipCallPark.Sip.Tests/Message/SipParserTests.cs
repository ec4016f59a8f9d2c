using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message;

public class SipParserTests
{
    internal const string Invite =
        "INVITE sip:bob@callpark.lab SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport\r\n" +
        "Max-Forwards: 70\r\n" +
        "To: Bob <sip:bob@callpark.lab>\r\n" +
        "From: \"Alice A.\" <sip:alice@callpark.lab>;tag=1928301774\r\n" +
        "Call-ID: a84b4c76e66710@pc33.callpark.lab\r\n" +
        "CSeq: 314159 INVITE\r\n" +
        "Contact: <sip:alice@127.0.0.1:5070>\r\n" +
        "Supported: replaces, timer\r\n" +
        "Content-Type: application/sdp\r\n" +
        "Content-Length: 132\r\n" +
        "\r\n" +
        "v=0\r\n" +
        "o=alice 2890844526 2890844526 IN IP4 127.0.0.1\r\n" +
        "s=-\r\n" +
        "c=IN IP4 127.0.0.1\r\n" +
        "t=0 0\r\n" +
        "m=audio 49170 RTP/AVP 0\r\n" +
        "a=rtpmap:0 PCMU/8000\r\n";

    private static SipMessage ParseOk(string text)
    {
        var result = SipParser.Parse(Encoding.UTF8.GetBytes(text));
        Assert.That(result.Error, Is.Null);
        return result.Message!;
    }

    [Test]
    public void An_invite_parses_with_its_typed_headers()
    {
        var request = (SipRequest)ParseOk(Invite);
        Assert.Multiple(() =>
        {
            Assert.That(request.Method, Is.EqualTo("INVITE"));
            Assert.That(request.RequestUri.User, Is.EqualTo("bob"));
            Assert.That(request.RequestUri.Host, Is.EqualTo("callpark.lab"));
            Assert.That(request.TopVia!.Branch, Is.EqualTo("z9hG4bK776asdhds"));
            Assert.That(request.TopVia.HasRPort, Is.True);
            Assert.That(request.TopVia.Port, Is.EqualTo(5070));
            Assert.That(request.From.DisplayName, Is.EqualTo("Alice A."));
            Assert.That(request.From.Tag, Is.EqualTo("1928301774"));
            Assert.That(request.To.Tag, Is.Null);
            Assert.That(request.CallId, Is.EqualTo("a84b4c76e66710@pc33.callpark.lab"));
            Assert.That(request.CSeq, Is.EqualTo(new CSeqHeader(314159, "INVITE")));
            Assert.That(request.MaxForwards, Is.EqualTo(70));
            Assert.That(request.Contacts[0].Uri.Port, Is.EqualTo(5070));
            Assert.That(request.OptionTags(HeaderNames.Supported), Is.EqualTo(new[] { "replaces", "timer" }));
            Assert.That(request.Body.Length, Is.EqualTo(132));
            Assert.That(SipMessageValidator.Validate(request), Is.Null);
        });
    }

    [Test]
    public void An_untouched_message_serializes_to_the_same_bytes()
    {
        var message = ParseOk(Invite);
        Assert.That(Encoding.UTF8.GetString(message.ToArray()), Is.EqualTo(Invite));
    }

    [Test]
    public void Compact_names_and_folded_lines_read_as_their_long_forms()
    {
        var text = "OPTIONS sip:park@callpark.lab SIP/2.0\r\nv: SIP/2.0/TCP host.lab;branch=z9hG4bK1,\r\n  SIP/2.0/UDP other.lab:5062;branch=z9hG4bK2\r\n" +
                   "f: <sip:a@callpark.lab>;tag=x\r\nt: <sip:park@callpark.lab>\r\ni: id1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
        var request = ParseOk(text);
        Assert.Multiple(() =>
        {
            Assert.That(request.Vias, Has.Count.EqualTo(2));
            Assert.That(request.Vias[1].Host, Is.EqualTo("other.lab"));
            Assert.That(request.Vias[1].Port, Is.EqualTo(5062));
            Assert.That(request.CallId, Is.EqualTo("id1"));
            Assert.That(request.Headers.Get("Content-Length"), Is.EqualTo("0"));
            Assert.That(Encoding.UTF8.GetString(request.ToArray()), Is.EqualTo(text));
        });
    }

    [Test]
    public void A_changed_header_is_written_in_its_new_form_and_the_rest_stays()
    {
        var request = (SipRequest)ParseOk(Invite);
        request.Headers.Prepend(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy");
        request.MaxForwards = 69;
        var again = (SipRequest)ParseOk(request.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(again.Vias.Select(v => v.Branch), Is.EqualTo(new[] { "z9hG4bKproxy", "z9hG4bK776asdhds" }));
            Assert.That(again.MaxForwards, Is.EqualTo(69));
            Assert.That(again.BodyText, Is.EqualTo(request.BodyText));
        });
    }

    [Test]
    public void A_response_built_for_a_request_copies_the_dialog_headers_and_adds_the_tag()
    {
        var request = (SipRequest)ParseOk(Invite);
        var response = SipResponse.CreateFor(request, 200, toTag: "abc");
        var parsed = (SipResponse)ParseOk(response.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(parsed.StatusCode, Is.EqualTo(200));
            Assert.That(parsed.ReasonPhrase, Is.EqualTo("OK"));
            Assert.That(parsed.To.Tag, Is.EqualTo("abc"));
            Assert.That(parsed.From.Tag, Is.EqualTo("1928301774"));
            Assert.That(parsed.TopVia!.Branch, Is.EqualTo("z9hG4bK776asdhds"));
            Assert.That(parsed.Headers.Get(HeaderNames.ContentLength), Is.EqualTo("0"));
        });
    }

    [Test]
    public void A_content_length_folded_onto_the_next_line_is_read()
    {
        var text = "MESSAGE sip:park@callpark.lab SIP/2.0\r\nVia: SIP/2.0/UDP h.lab;branch=z9hG4bKcl\r\nf: <sip:a@callpark.lab>;tag=1\r\n" +
                   "t: <sip:park@callpark.lab>\r\ni: fold-cl\r\nCSeq: 1 MESSAGE\r\nContent-Length:\r\n   5\r\n\r\nhello";
        var message = ParseOk(text);
        Assert.That(message.BodyText, Is.EqualTo("hello"));
    }

    [Test]
    public void A_message_with_bare_line_feeds_is_written_back_with_crlf()
    {
        var split = Invite.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var message = ParseOk(Invite[..split].Replace("\r\n", "\n") + "\n\n" + Invite[(split + 4)..]);
        var written = Encoding.UTF8.GetString(message.ToArray());
        var head = written[..written.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        Assert.That(head.Replace("\r\n", ""), Does.Not.Contain("\n"));
        Assert.That(ParseOk(written).CallId, Is.EqualTo("a84b4c76e66710@pc33.callpark.lab"));
    }
}
