using SipCallPark.Sip.Sdp;

namespace SipCallPark.Sip.Tests.Sdp;

public class MediaDirectionTests
{
    [TestCase(MediaDirection.SendRecv, "sendrecv")]
    [TestCase(MediaDirection.SendOnly, "sendonly")]
    [TestCase(MediaDirection.RecvOnly, "recvonly")]
    [TestCase(MediaDirection.Inactive, "inactive")]
    public void Each_direction_has_its_attribute_name(MediaDirection direction, string name)
    {
        Assert.That(direction.ToAttributeName(), Is.EqualTo(name));
        Assert.That(MediaDirectionExtensions.TryParse(name, out var read), Is.True);
        Assert.That(read, Is.EqualTo(direction));
    }

    [TestCase("SENDONLY")]
    [TestCase("send-only")]
    [TestCase("")]
    public void Other_names_are_not_directions(string name)
    {
        Assert.That(MediaDirectionExtensions.TryParse(name, out _), Is.False);
    }

    [TestCase(MediaDirection.SendOnly, MediaDirection.RecvOnly)]
    [TestCase(MediaDirection.RecvOnly, MediaDirection.SendOnly)]
    [TestCase(MediaDirection.SendRecv, MediaDirection.SendRecv)]
    [TestCase(MediaDirection.Inactive, MediaDirection.Inactive)]
    public void An_answer_reverses_a_one_way_offer(MediaDirection offered, MediaDirection answered)
    {
        Assert.That(offered.Reverse(), Is.EqualTo(answered));
    }
}
