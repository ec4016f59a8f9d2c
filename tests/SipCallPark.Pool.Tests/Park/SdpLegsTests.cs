using SipCallPark.Pool.Park;
using SipCallPark.Sip.Sdp;

namespace SipCallPark.Pool.Tests.Park;

public class SdpLegsTests
{
    private const string Park = "v=0\r\no=callpark 4242 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
                                "m=audio 40000 RTP/AVP 0\r\na=sendonly\r\nm=video 0 RTP/AVP 96\r\n";

    private static string Phone(string user, ulong version, params string[] media) =>
        $"v=0\r\no={user} 777 {version} IN IP4 127.0.0.9\r\ns=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n" + string.Concat(media.Select(m => m + "\r\n"));

    private static SdpOrigin Origin(string? sdp) => SessionDescription.Parse(sdp!).Origin;

    private static IEnumerable<string> Lines(string? sdp) => SessionDescription.Parse(sdp!).Media.Select(m => $"{m.Media} {m.Port}");

    [Test]
    public void A_relayed_offer_carries_the_legs_origin_with_the_next_version()
    {
        var legs = new SdpLegs();
        var leg = new object();

        var (sdp, _) = legs.Offer(leg, Park, Phone("carol", 9, "m=audio 6000 RTP/AVP 0", "m=video 6002 RTP/AVP 96"));

        Assert.That(Origin(sdp), Is.EqualTo(new SdpOrigin("callpark", 4242, 2, "IN", "IP4", "127.0.0.1")));
        Assert.That(SessionDescription.Parse(sdp).Connection!.ToString(), Is.EqualTo("IN IP4 127.0.0.9"), "the media still flows to carol");
    }

    [Test]
    public void Every_sdp_sent_on_a_leg_goes_one_version_higher_refused_offers_included()
    {
        var legs = new SdpLegs();
        var leg = new object();
        var carol = Phone("carol", 9, "m=audio 6000 RTP/AVP 0");

        var first = legs.Offer(leg, Park, carol).Sdp;
        // The offer was refused (488): the last SDP the leg agreed on is still the park's first one.
        var second = legs.Offer(leg, Park, carol).Sdp;
        var answer = legs.Answer(leg, second, Phone("dave", 3, "m=audio 7000 RTP/AVP 0"));

        Assert.That(new[] { Origin(first).SessionVersion, Origin(second).SessionVersion, Origin(answer).SessionVersion }, Is.EqualTo(new ulong[] { 2, 3, 4 }));
        Assert.That(new[] { Origin(first).SessionId, Origin(second).SessionId, Origin(answer).SessionId }, Is.All.EqualTo(4242UL));
    }

    [Test]
    public void The_first_sdp_on_a_leg_goes_as_it_is()
    {
        var legs = new SdpLegs();
        var bob = Phone("bob", 5, "m=audio 5000 RTP/AVP 0");

        Assert.That(legs.Answer(new object(), null, bob), Is.SameAs(bob));
        Assert.That(legs.Offer(new object(), null, bob).Sdp, Is.SameAs(bob));
    }

    [Test]
    public void A_relayed_offer_keeps_the_legs_media_lines_in_order_and_the_answer_goes_back_in_the_offerers_order()
    {
        var legs = new SdpLegs();
        var carol = Phone("carol", 9, "m=video 6002 RTP/AVP 96", "m=text 6004 RTP/AVP 98", "m=audio 6000 RTP/AVP 0");

        var (offer, placement) = legs.Offer(new object(), Park, carol);
        var bobAnswer = Phone("bob", 2, "m=audio 5000 RTP/AVP 0", "m=video 0 RTP/AVP 96", "m=text 0 RTP/AVP 98");
        var back = SdpLegs.AnswerBack(bobAnswer, placement);

        Assert.That(Lines(offer), Is.EqualTo(new[] { "audio 6000", "video 6002", "text 6004" }), "audio, video as the leg had them; the new line after");
        Assert.That(Lines(back), Is.EqualTo(new[] { "video 0", "text 0", "audio 5000" }), "carol's order");
    }

    [Test]
    public void A_line_the_other_side_does_not_offer_stays_in_place_refused()
    {
        var legs = new SdpLegs();

        var (offer, placement) = legs.Offer(new object(), Park, Phone("carol", 9, "m=audio 6000 RTP/AVP 0"));
        var back = SdpLegs.AnswerBack(Phone("bob", 2, "m=audio 5000 RTP/AVP 0", "m=video 0 RTP/AVP 96"), placement);

        Assert.That(Lines(offer), Is.EqualTo(new[] { "audio 6000", "video 0" }));
        Assert.That(Lines(back), Is.EqualTo(new[] { "audio 5000" }));
    }

    [Test]
    public void An_answer_without_a_line_for_each_offered_one_is_passed_back_as_it_is()
    {
        var legs = new SdpLegs();
        var (_, placement) = legs.Offer(new object(), Park, Phone("carol", 9, "m=audio 6000 RTP/AVP 0"));
        var broken = Phone("bob", 2, "m=audio 5000 RTP/AVP 0");

        Assert.That(SdpLegs.AnswerBack(broken, placement), Is.SameAs(broken));
    }

    [Test]
    public void Something_that_is_not_sdp_is_relayed_untouched()
    {
        var legs = new SdpLegs();
        Assert.That(legs.Offer(new object(), Park, "not sdp").Sdp, Is.EqualTo("not sdp"));
        Assert.That(legs.Answer(new object(), Park, "not sdp"), Is.EqualTo("not sdp"));
    }
}
