using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message;

public class SipRequestChecksTests
{
    private static SipRequest Request(string method, params string[] extraHeaders)
    {
        var text = $"{method} sip:park@lab.test SIP/2.0\r\nVia: SIP/2.0/UDP h.lab.test;branch=z9hG4bKchk\r\nFrom: <sip:a@lab.test>;tag=1\r\n" +
                   $"To: <sip:park@lab.test>\r\nCall-ID: chk\r\nCSeq: 1 {method}\r\n" + string.Concat(extraHeaders.Select(h => h + "\r\n")) + "Content-Length: 0\r\n\r\n";
        return (SipRequest)SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;
    }

    [Test]
    public void Without_accept_only_sdp_is_assumed_acceptable()
    {
        var r = Request("INVITE");
        Assert.That(SipRequestChecks.Accepts(r, "application/sdp"), Is.True);
        Assert.That(SipRequestChecks.Accepts(r, "text/plain"), Is.False);
    }

    [TestCase("Accept: */*", true)]
    [TestCase("Accept: application/*", true)]
    [TestCase("Accept: Application/SDP;level=1", true)]
    [TestCase("Accept: application/sdp;q=0", false)]
    [TestCase("Accept: text/plain, message/sipfrag", false)]
    [TestCase("Accept:", false)]
    public void Accept_ranges_and_q_values_decide_whether_sdp_is_acceptable(string accept, bool accepted) =>
        Assert.That(SipRequestChecks.Accepts(Request("INVITE", accept), "application/sdp"), Is.EqualTo(accepted));

    [Test]
    public void Require_tags_we_support_pass_and_ack_is_never_refused_for_them()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SipRequestChecks.CheckRequire(Request("INVITE", "Require: Replaces"), ["replaces"]), Is.Null);
            Assert.That(SipRequestChecks.CheckRequire(Request("ACK", "Require: unknown-ext"), ["replaces"]), Is.Null);
            Assert.That(SipRequestChecks.CheckRequire(Request("INVITE", "Require: replaces, 100rel"), ["replaces"])!.Headers.Single().Value, Is.EqualTo("100rel"));
            Assert.That(SipRequestChecks.CheckRequire(Request("INVITE", "Require: \"unbalanced"), ["replaces"])?.StatusCode, Is.EqualTo(400));
        });
    }

    [Test]
    public void A_max_forwards_above_zero_or_absent_leaves_hops()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SipRequestChecks.HasNoHopsLeft(Request("OPTIONS", "Max-Forwards: 1")), Is.False);
            Assert.That(SipRequestChecks.HasNoHopsLeft(Request("OPTIONS")), Is.False);
            Assert.That(SipRequestChecks.CheckMaxForwards(Request("OPTIONS", "Max-Forwards: 00")), Is.Not.Null);
        });
    }

    [Test]
    public void An_encoded_body_we_cannot_decode_is_answered_with_415_and_accept_encoding()
    {
        var r = Request("MESSAGE", "Content-Type: text/plain", "Content-Encoding: gzip");
        r.SetBody("text/plain", "hi");
        r.Headers.Set(HeaderNames.ContentEncoding, "gzip");
        var rejection = SipRequestChecks.CheckContentType(r, ["text/plain"]);
        Assert.That(rejection?.StatusCode, Is.EqualTo(415));
        Assert.That(rejection!.Headers.Single().Name, Is.EqualTo("Accept-Encoding"));
    }

    [Test]
    public void A_known_method_we_do_not_allow_is_answered_with_405_and_allow()
    {
        var rejection = SipRequestChecks.CheckMethod(Request("PUBLISH"), [SipMethods.Invite, SipMethods.Bye]);
        Assert.That(rejection?.StatusCode, Is.EqualTo(405));
        Assert.That(rejection!.Headers.Single().Value, Is.EqualTo("INVITE, BYE"));
        Assert.That(SipRequestChecks.CheckMethod(Request("BYE"), [SipMethods.Invite, SipMethods.Bye]), Is.Null);
    }
}
