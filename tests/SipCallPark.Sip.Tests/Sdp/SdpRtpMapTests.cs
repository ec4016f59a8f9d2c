using SipCallPark.Sip.Sdp;

namespace SipCallPark.Sip.Tests.Sdp;

public class SdpRtpMapTests
{
    [TestCase("0 PCMU/8000", 0, "PCMU", 8000, null)]
    [TestCase("96 opus/48000/2", 96, "opus", 48000, "2")]
    [TestCase("101 telephone-event/8000", 101, "telephone-event", 8000, null)]
    public void An_rtpmap_is_read_and_written_back(string value, int payloadType, string name, int clockRate, string? parameters)
    {
        Assert.That(SdpRtpMap.TryParse(value, out var map), Is.True);
        Assert.That(map, Is.EqualTo(new SdpRtpMap(payloadType, name, clockRate, parameters)));
        Assert.That(map!.ToString(), Is.EqualTo(value));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("PCMU/8000")]
    [TestCase("128 x/8000")]
    [TestCase("0 PCMU")]
    [TestCase("0 PCMU/fast")]
    [TestCase("0 /8000")]
    public void An_unreadable_rtpmap_is_rejected(string? value)
    {
        Assert.That(SdpRtpMap.TryParse(value, out _), Is.False);
    }
}
