using System.Text;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>Builds test messages: LF becomes CRLF, <c>{len}</c> becomes the body's length in bytes.</summary>
internal static class Wire
{
    /// <summary>Start line and header lines (no blank line at the end), then the empty line, then the body.</summary>
    public static byte[] Message(string head, string body = "") => Message(head, Encoding.UTF8.GetBytes(Crlf(body)));

    public static byte[] Message(string head, byte[] body)
    {
        var text = Crlf(head).Replace("{len}", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)) + "\r\n\r\n";
        return [.. Encoding.UTF8.GetBytes(text), .. body];
    }

    public static string Crlf(string text) => text.Replace("\r\n", "\n").Replace("\n", "\r\n");

    public static string Sdp(string address) =>
        $"""
        v=0
        o=parklab 4711 4712 IN IP4 {address}
        s=park test
        c=IN IP4 {address}
        t=0 0
        m=audio 40000 RTP/AVP 0 8
        a=rtpmap:8 PCMA/8000

        """;
}

/// <summary>What the receive path does with a message: parse, then validate.</summary>
internal static class Receive
{
    /// <summary>Parses and validates a request that must be accepted.</summary>
    public static SipRequest AcceptedRequest(byte[] bytes)
    {
        var result = SipParser.Parse(bytes);
        Assert.That(result.Error, Is.Null, "parse error");
        Assert.That(result.Message, Is.InstanceOf<SipRequest>());
        var request = (SipRequest)result.Message!;
        Assert.That(SipMessageValidator.Validate(request), Is.Null, "validation");
        return request;
    }

    /// <summary>Parses a request that must parse; validation is left to the test.</summary>
    public static SipRequest ParsedRequest(byte[] bytes)
    {
        var result = SipParser.Parse(bytes);
        Assert.That(result.Error, Is.Null, "parse error");
        return (SipRequest)result.Message!;
    }

    public static SipResponse AcceptedResponse(byte[] bytes)
    {
        var result = SipParser.Parse(bytes);
        Assert.That(result.Error, Is.Null, "parse error");
        var response = (SipResponse)result.Message!;
        Assert.That(SipMessageValidator.Validate(response), Is.Null, "validation");
        return response;
    }

    /// <summary>The status a request is rejected with (by the parser or by the validator), or 0 when it is accepted.</summary>
    public static int RejectionOf(byte[] bytes)
    {
        var result = SipParser.Parse(bytes);
        if (!result.Success)
        {
            Assert.That(result.IsRequest, Is.True, "a request must be recognised as one even when it is rejected");
            return result.RejectStatus;
        }
        Assert.That(result.Message, Is.InstanceOf<SipRequest>());
        return SipMessageValidator.Validate((SipRequest)result.Message!)?.StatusCode ?? 0;
    }

    /// <summary>True when a response is dropped, by the parser or by the validator.</summary>
    public static bool IsDropped(byte[] bytes)
    {
        var result = SipParser.Parse(bytes);
        if (!result.Success)
        {
            Assert.That(result.IsRequest, Is.False);
            return true;
        }
        return SipMessageValidator.Validate((SipResponse)result.Message!) is not null;
    }
}
