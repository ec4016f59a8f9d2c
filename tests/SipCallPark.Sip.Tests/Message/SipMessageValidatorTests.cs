using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message;

public class SipMessageValidatorTests
{
    [Test]
    public void A_request_whose_via_line_holds_an_empty_list_is_rejected_with_400()
    {
        // Found by fuzzing: "v: , " passed as a Via, the message then had no top Via and stamping received threw.
        byte[] input = (
            "OPTIONS sip:park@lab.test SIP/2.0\r\n"u8 +
            "v: , \r\n"u8 +
            "From: <sip:alice@lab.test>;tag=1\r\n"u8 +
            "To: <sip:park@lab.test>\r\n"u8 +
            "Call-ID: empty-via\r\n"u8 +
            "CSeq: 1 OPTIONS\r\n"u8 +
            "Content-Length: 0\r\n\r\n"u8).ToArray();
        var request = (SipRequest)SipParser.Parse(input).Message!;

        var rejection = SipMessageValidator.Validate(request);

        Assert.That(rejection, Is.Not.Null);
        Assert.That(rejection!.StatusCode, Is.EqualTo(400));
        Assert.That(rejection.Reason, Does.Contain("Via"));
    }

    [Test]
    public void A_response_whose_via_line_holds_an_empty_list_is_dropped()
    {
        byte[] input = (
            "SIP/2.0 200 OK\r\n"u8 +
            "Via: ,\r\n"u8 +
            "From: <sip:alice@lab.test>;tag=1\r\n"u8 +
            "To: <sip:park@lab.test>;tag=2\r\n"u8 +
            "Call-ID: empty-via\r\n"u8 +
            "CSeq: 1 OPTIONS\r\n"u8 +
            "Content-Length: 0\r\n\r\n"u8).ToArray();
        var response = (SipResponse)SipParser.Parse(input).Message!;

        Assert.That(SipMessageValidator.Validate(response), Does.Contain("Via"));
    }
}
