using System.Net;
using SipCallPark.Sip.Sdp;

namespace SipCallPark.Sip.Tests.Sdp;

public class SessionDescriptionTests
{
    [TestCase(nameof(SdpSamples.LinphoneOffer))]
    [TestCase(nameof(SdpSamples.BaresipOffer))]
    public void A_peer_offer_is_written_back_unchanged(string sample)
    {
        var text = sample == nameof(SdpSamples.LinphoneOffer) ? SdpSamples.LinphoneOffer : SdpSamples.BaresipOffer;

        Assert.That(SessionDescription.Parse(text).ToString(), Is.EqualTo(text));
    }

    [Test]
    public void Written_text_parses_to_the_same_text()
    {
        var offer = SessionDescription.CreateAudioOffer(IPAddress.Loopback, 7000, MediaDirection.SendOnly, 42, 1);

        var again = SessionDescription.Parse(offer.ToString());

        Assert.That(again.ToString(), Is.EqualTo(offer.ToString()));
    }

    [Test]
    public void Lf_only_input_is_written_with_crlf()
    {
        var text = SdpSamples.BaresipOffer.Replace("\r\n", "\n");

        Assert.That(SessionDescription.Parse(text).ToString(), Is.EqualTo(SdpSamples.BaresipOffer));
    }

    [Test]
    public void Lines_this_model_does_not_read_are_kept_in_their_slots()
    {
        var text = SdpSamples.Crlf(
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "i=parked call",
            "c=IN IP4 127.0.0.1",
            "b=CT:128",
            "t=0 0",
            "r=7d 1h 0 25h",
            "a=group:BUNDLE audio",
            "y=unknown after an attribute",
            "m=audio 4000 RTP/AVP 0",
            "i=music",
            "b=AS:64",
            "k=prompt",
            "a=sendonly",
            "x=unknown at media level");

        var sdp = SessionDescription.Parse(text);

        Assert.Multiple(() =>
        {
            Assert.That(sdp.ToString(), Is.EqualTo(text));
            Assert.That(sdp.OtherLines.Select(l => l.Type), Is.EqualTo(new[] { 'i', 'b', 'r', 'y' }));
            Assert.That(sdp.Media[0].OtherLines.Select(l => l.ToString()),
                Is.EqualTo(new[] { "i=music", "b=AS:64", "k=prompt", "x=unknown at media level" }));
        });
    }

    [Test]
    public void Lines_out_of_rfc_order_are_written_in_rfc_order()
    {
        var text = SdpSamples.Crlf(
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "c=IN IP4 127.0.0.1",
            "m=audio 4000 RTP/AVP 0",
            "a=sendonly",
            "c=IN IP4 127.0.0.2");

        var written = SessionDescription.Parse(text).ToString();

        Assert.That(written, Is.EqualTo(SdpSamples.Crlf(
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "c=IN IP4 127.0.0.1",
            "t=0 0",
            "m=audio 4000 RTP/AVP 0",
            "c=IN IP4 127.0.0.2",
            "a=sendonly")));
    }

    [Test]
    public void A_linphone_offer_is_read_with_the_right_values()
    {
        var sdp = SessionDescription.Parse(SdpSamples.LinphoneOffer);

        var audio = sdp.Media.Single();
        Assert.Multiple(() =>
        {
            Assert.That(sdp.Origin, Is.EqualTo(new SdpOrigin("alice", 2714, 1593, "IN", "IP4", "127.0.0.1")));
            Assert.That(sdp.SessionName, Is.EqualTo("Talk"));
            Assert.That(sdp.Connection, Is.EqualTo(new SdpConnection("IN", "IP4", "127.0.0.1")));
            Assert.That(sdp.Timing, Is.EqualTo(SdpTiming.Unbounded));
            Assert.That(sdp.Attributes, Has.Count.EqualTo(2));
            Assert.That(sdp.Attributes[1], Is.EqualTo(new SdpAttribute("record", "off")));
            Assert.That(audio.Media, Is.EqualTo("audio"));
            Assert.That(audio.Port, Is.EqualTo(7078));
            Assert.That(audio.Protocol, Is.EqualTo("RTP/AVP"));
            Assert.That(audio.Formats, Is.EqualTo(new[] { "96", "97", "98", "0", "8", "18", "101", "99", "100" }));
            Assert.That(audio.GetRtpMap(96), Is.EqualTo(new SdpRtpMap(96, "opus", 48000, "2")));
            Assert.That(audio.GetRtpMap(100), Is.EqualTo(new SdpRtpMap(100, "telephone-event", 8000)));
            Assert.That(audio.GetRtpMap(0), Is.EqualTo(new SdpRtpMap(0, "PCMU", 8000)), "static payload type");
            Assert.That(audio.RtpMaps.Count(), Is.EqualTo(6));
            Assert.That(audio.Ptime, Is.Null);
            Assert.That(audio.Direction, Is.Null);
            Assert.That(sdp.GetEffectiveDirection(audio), Is.EqualTo(MediaDirection.SendRecv));
            Assert.That(sdp.GetEffectiveConnection(audio)!.TryGetIPAddress(out var ip), Is.True);
            Assert.That(ip, Is.EqualTo(IPAddress.Loopback));
        });
    }

    [Test]
    public void A_baresip_offer_is_read_with_the_right_values()
    {
        var sdp = SessionDescription.Parse(SdpSamples.BaresipOffer);

        var audio = sdp.Media.Single();
        Assert.Multiple(() =>
        {
            Assert.That(sdp.Origin.Username, Is.EqualTo("-"));
            Assert.That(sdp.Origin.SessionId, Is.EqualTo(1449413870UL));
            Assert.That(sdp.Origin.SessionVersion, Is.EqualTo(2148238466UL));
            Assert.That(sdp.SessionName, Is.EqualTo("-"));
            Assert.That(sdp.Attributes.Single(), Is.EqualTo(new SdpAttribute("tool", "baresip 1.0.0")));
            Assert.That(audio.Port, Is.EqualTo(10008));
            Assert.That(audio.Formats, Is.EqualTo(new[] { "0", "8", "101" }));
            Assert.That(audio.RtpMaps.Select(m => m.EncodingName), Is.EqualTo(new[] { "PCMU", "PCMA", "telephone-event" }));
            Assert.That(audio.GetRtpMap(8), Is.EqualTo(new SdpRtpMap(8, "PCMA", 8000)));
            Assert.That(audio.Ptime, Is.EqualTo(20));
            Assert.That(audio.Direction, Is.EqualTo(MediaDirection.SendRecv));
            Assert.That(audio.Attributes.Single(a => a.Name == "rtcp-rsize").Value, Is.Null);
            Assert.That(audio.OtherLines.Single(), Is.EqualTo(new SdpLine('b', "AS:80")));
            Assert.That(audio.Connection, Is.Null);
        });
    }

    [Test]
    public void The_direction_is_read_from_the_media_level_before_the_session_level()
    {
        var sdp = SessionDescription.Parse(SdpSamples.Crlf(
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "c=IN IP4 127.0.0.1",
            "t=0 0",
            "a=sendonly",
            "m=audio 4000 RTP/AVP 0",
            "m=audio 4002 RTP/AVP 0",
            "a=recvonly"));

        Assert.Multiple(() =>
        {
            Assert.That(sdp.Direction, Is.EqualTo(MediaDirection.SendOnly));
            Assert.That(sdp.GetEffectiveDirection(sdp.Media[0]), Is.EqualTo(MediaDirection.SendOnly));
            Assert.That(sdp.GetEffectiveDirection(sdp.Media[1]), Is.EqualTo(MediaDirection.RecvOnly));
        });
    }

    [Test]
    public void Without_any_direction_line_the_direction_is_sendrecv()
    {
        var sdp = SessionDescription.Parse(SdpSamples.LinphoneOffer);

        Assert.That(sdp.GetEffectiveDirection(sdp.Media[0]), Is.EqualTo(MediaDirection.SendRecv));
    }

    [Test]
    public void The_session_level_direction_can_be_written_and_removed()
    {
        var sdp = SessionDescription.Parse(SdpSamples.LinphoneOffer);

        var inactive = sdp.WithSessionDirection(MediaDirection.Inactive);
        var cleared = inactive.WithSessionDirection(null);

        Assert.Multiple(() =>
        {
            Assert.That(inactive.Direction, Is.EqualTo(MediaDirection.Inactive));
            Assert.That(inactive.GetEffectiveDirection(inactive.Media[0]), Is.EqualTo(MediaDirection.Inactive));
            Assert.That(inactive.ToString(), Does.Contain("a=record:off\r\na=inactive\r\nm=audio"));
            Assert.That(cleared.ToString(), Is.EqualTo(SdpSamples.LinphoneOffer));
            Assert.That(sdp.Direction, Is.Null, "the original is not changed");
        });
    }

    [Test]
    public void A_media_level_direction_replaces_the_old_one_in_place()
    {
        var sdp = SessionDescription.Parse(SdpSamples.BaresipOffer);

        var held = sdp.WithMedia([sdp.Media[0].WithDirection(MediaDirection.SendOnly)]);

        Assert.That(held.ToString(), Is.EqualTo(SdpSamples.BaresipOffer.Replace("a=sendrecv", "a=sendonly")));
    }

    [Test]
    public void WithDirection_writes_every_media_section_and_clears_the_session_level()
    {
        var sdp = SessionDescription.Parse(SdpSamples.Crlf(
            "v=0",
            "o=- 1 1 IN IP4 127.0.0.1",
            "s=-",
            "c=IN IP4 127.0.0.1",
            "t=0 0",
            "a=recvonly",
            "m=audio 4000 RTP/AVP 0",
            "m=audio 4002 RTP/AVP 0",
            "a=sendrecv"));

        var held = sdp.WithDirection(MediaDirection.SendOnly);

        Assert.Multiple(() =>
        {
            Assert.That(held.Direction, Is.Null);
            Assert.That(held.Media.Select(m => m.Direction), Is.All.EqualTo(MediaDirection.SendOnly));
            Assert.That(held.Media.Select(held.GetEffectiveDirection), Is.All.EqualTo(MediaDirection.SendOnly));
        });
    }

    [Test]
    public void An_audio_offer_is_pcmu_with_telephone_events()
    {
        var offer = SessionDescription.CreateAudioOffer(IPAddress.Loopback, 7000, MediaDirection.SendOnly, 42, 1);

        Assert.That(offer.ToString(), Is.EqualTo(SdpSamples.Crlf(
            "v=0",
            "o=- 42 1 IN IP4 127.0.0.1",
            "s=-",
            "c=IN IP4 127.0.0.1",
            "t=0 0",
            "m=audio 7000 RTP/AVP 0 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=ptime:20",
            "a=sendonly")));
    }

    [Test]
    public void An_audio_offer_without_telephone_events_lists_pcmu_only()
    {
        var offer = SessionDescription.CreateAudioOffer(
            IPAddress.IPv6Loopback, 7002, MediaDirection.Inactive, 7, 3, telephoneEvent: false);

        var audio = offer.Media.Single();
        Assert.Multiple(() =>
        {
            Assert.That(audio.Formats, Is.EqualTo(new[] { "0" }));
            Assert.That(audio.RtpMaps.Single(), Is.EqualTo(new SdpRtpMap(0, "PCMU", 8000)));
            Assert.That(audio.Direction, Is.EqualTo(MediaDirection.Inactive));
            Assert.That(offer.Origin.AddressType, Is.EqualTo("IP6"));
            Assert.That(offer.Connection, Is.EqualTo(new SdpConnection("IN", "IP6", "::1")));
        });
    }

    [Test]
    public void A_hold_reoffer_changes_only_the_version_and_the_direction()
    {
        var music = SessionDescription.CreateAudioOffer(IPAddress.Loopback, 7000, MediaDirection.SendOnly, 42, 1);

        var silent = music.WithDirection(MediaDirection.Inactive).IncrementVersion();

        Assert.Multiple(() =>
        {
            Assert.That(silent.Origin.SessionVersion, Is.EqualTo(2UL));
            Assert.That(silent.Origin.SessionId, Is.EqualTo(42UL));
            Assert.That(silent.ToString(), Is.EqualTo(music.ToString()
                .Replace("o=- 42 1 ", "o=- 42 2 ")
                .Replace("a=sendonly", "a=inactive")));
            Assert.That(music.Origin.SessionVersion, Is.EqualTo(1UL), "the original is not changed");
        });
    }

    [Test]
    public void A_zero_connection_address_is_recognised_as_rfc_2543_hold()
    {
        var sdp = SessionDescription.Parse(SdpSamples.BaresipOffer.Replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"));

        Assert.That(sdp.Connection!.IsUnspecified, Is.True);
    }

    [Test]
    public void WithOrigin_replaces_the_o_line_and_leaves_every_other_line_as_it_was()
    {
        var offer = SessionDescription.Parse(SdpSamples.LinphoneOffer);
        var origin = new SdpOrigin("callpark", 4242, 7, "IN", "IP4", "127.0.0.1");

        var text = offer.WithOrigin(origin).ToString();

        Assert.That(text.Split("\r\n").Where(l => !l.StartsWith("o=", StringComparison.Ordinal)),
            Is.EqualTo(offer.ToString().Split("\r\n").Where(l => !l.StartsWith("o=", StringComparison.Ordinal))));
        Assert.That(text, Does.Contain("\r\no=callpark 4242 7 IN IP4 127.0.0.1\r\n"));
    }
}
