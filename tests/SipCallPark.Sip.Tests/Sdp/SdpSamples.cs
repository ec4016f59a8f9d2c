namespace SipCallPark.Sip.Tests.Sdp;

/// <summary>Offers shaped like the ones our lab peers send, written with CRLF as on the wire.</summary>
internal static class SdpSamples
{
    /// <summary>Like linphone 5.x: several codecs, telephone-event at three clock rates, no direction line.</summary>
    public static readonly string LinphoneOffer = Crlf(
        "v=0",
        "o=alice 2714 1593 IN IP4 127.0.0.1",
        "s=Talk",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
        "a=record:off",
        "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 useinbandfec=1",
        "a=rtpmap:97 speex/16000",
        "a=fmtp:97 vbr=on",
        "a=rtpmap:98 speex/8000",
        "a=fmtp:98 vbr=on",
        "a=fmtp:18 annexb=yes",
        "a=rtpmap:101 telephone-event/48000",
        "a=rtpmap:99 telephone-event/16000",
        "a=rtpmap:100 telephone-event/8000",
        "a=rtcp-fb:* trr-int 1000",
        "a=rtcp-fb:* ccm tmmbr");

    /// <summary>Like baresip 1.0: G.711 both laws, a bandwidth line, direction and ptime at media level.</summary>
    public static readonly string BaresipOffer = Crlf(
        "v=0",
        "o=- 1449413870 2148238466 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "a=tool:baresip 1.0.0",
        "m=audio 10008 RTP/AVP 0 8 101",
        "b=AS:80",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=sendrecv",
        "a=label:1",
        "a=rtcp-rsize",
        "a=ptime:20");

    public static string Crlf(params string[] lines) => string.Concat(lines.Select(l => l + "\r\n"));
}
