using System.Text;
using SipCallPark.Sip.Message;
using static SipCallPark.Sip.Tests.Message.Torture.InvalidVectors;

namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>
/// RFC 4475 §3.1.2 and §3.2: requests that must be refused get 400 (505 for a version we do not speak), responses
/// that must be refused are dropped; where the RFC lets a robust element accept, we accept with the right values.
/// </summary>
public class InvalidMessageTests
{
    [Test]
    public void Badinv01_empty_elements_between_separators_are_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Badinv01), Is.EqualTo(400));

    [Test]
    public void Clerr_content_length_larger_than_the_datagram_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Clerr), Is.EqualTo(400));

    [Test]
    public void Scalar02_overlarge_scalar_values_in_a_request_are_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Scalar02), Is.EqualTo(400));

    [Test]
    public void Scalarlg_response_with_overlarge_scalar_values_is_dropped() =>
        Assert.That(Receive.IsDropped(Scalarlg), Is.True);

    [Test]
    public void Quotbal_unterminated_quoted_display_name_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Quotbal), Is.EqualTo(400));

    [Test]
    public void Ltgtruri_request_uri_in_angle_brackets_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Ltgtruri), Is.EqualTo(400));

    [Test]
    public void Lwsruri_whitespace_inside_the_request_uri_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Lwsruri), Is.EqualTo(400));

    [Test]
    public void Lwsstart_several_spaces_between_request_line_elements_are_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Lwsstart), Is.EqualTo(400));

    [Test]
    public void Trws_trailing_whitespace_after_the_version_is_forgiven_and_not_written_back()
    {
        // §3.1.2.9 allows either a 400 or processing as if the whitespace were absent; we take the robust path.
        var r = Receive.AcceptedRequest(Trws);
        Assert.Multiple(() =>
        {
            Assert.That(r.Method, Is.EqualTo(SipMethods.Options));
            Assert.That(r.RequestUri.ToString(), Is.EqualTo("sip:park@lab.test"));
            Assert.That(r.CallId, Is.EqualTo("trws.x6@lab.test"));
            Assert.That(Encoding.UTF8.GetString(r.ToArray()), Does.StartWith("OPTIONS sip:park@lab.test SIP/2.0\r\nVia:"));
        });
    }

    [Test]
    public void Escruri_escaped_header_in_the_request_uri_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Escruri), Is.EqualTo(400));

    [Test]
    public void Baddate_non_gmt_date_is_accepted_and_kept_as_written()
    {
        var r = Receive.AcceptedRequest(Baddate);
        Assert.That(r.Headers.Get(HeaderNames.Date), Is.EqualTo(NonGmtDate));
    }

    [Test]
    public void Regbadct_contact_with_escaped_header_outside_brackets_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Regbadct), Is.EqualTo(400));

    [Test]
    public void Badaspec_whitespace_inside_the_angle_brackets_is_rejected_with_400()
    {
        // §3.1.2.13 lets a liberal element accept; we reject, which the RFC also allows.
        Assert.That(Receive.RejectionOf(Badaspec), Is.EqualTo(400));
    }

    [Test]
    public void Baddn_unquoted_display_name_with_a_comma_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Baddn), Is.EqualTo(400));

    [Test]
    public void Badvers_unknown_sip_version_is_rejected_with_505()
    {
        var result = SipParser.Parse(Badvers);
        Assert.Multiple(() =>
        {
            Assert.That(result.RejectStatus, Is.EqualTo(505));
            Assert.That(result.Headers!.Get(HeaderNames.CallId), Is.EqualTo("badvers.x11@lab.test"), "headers kept to build the 505");
        });
    }

    [Test]
    public void Mismatch01_cseq_method_unlike_the_request_method_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Mismatch01), Is.EqualTo(400));

    [Test]
    public void Mismatch02_unknown_method_with_another_cseq_method_is_rejected_with_400()
    {
        // §3.1.2.16 prefers 501 and accepts 400; the mismatch is found before the method is looked at.
        Assert.That(Receive.RejectionOf(Mismatch02), Is.EqualTo(400));
    }

    [Test]
    public void Bigcode_response_with_an_overlarge_status_code_is_dropped() =>
        Assert.That(Receive.IsDropped(Bigcode), Is.True);

    [Test]
    public void Ncl_negative_content_length_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Ncl), Is.EqualTo(400));

    [Test]
    public void Badbranch_bare_magic_cookie_parses_but_is_no_transaction_id()
    {
        var r = Receive.AcceptedRequest(Badbranch);
        Assert.Multiple(() =>
        {
            Assert.That(r.TopVia!.Branch, Is.EqualTo(ViaHeader.MagicCookie));
            Assert.That(r.TopVia.HasMagicCookie, Is.True);
            Assert.That(r.TopVia.HasTransactionId, Is.False, "matching falls back to the RFC 2543 rules");
        });
    }

    [Test]
    public void A_rejected_request_still_yields_a_response_with_its_dialog_headers()
    {
        var result = SipParser.Parse(Ltgtruri);
        var response = new SipRejection(result.RejectStatus, result.Error!).ToResponse(result.Headers!, "srv1");
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(400));
            Assert.That(response.CallId, Is.EqualTo("ltgtruri.x17@lab.test"));
            Assert.That(response.To.Tag, Is.EqualTo("srv1"));
            Assert.That(response.TopVia!.Branch, Is.EqualTo("z9hG4bKltgtruri"));
        });
    }
}
