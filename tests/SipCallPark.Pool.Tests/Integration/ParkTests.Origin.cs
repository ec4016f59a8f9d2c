using System.Collections.Concurrent;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Sdp;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>A bridged retrieve keeps each phone's SDP session whole (RFC 3264 §8): one origin per dialog, versions in steps of one.</summary>
public sealed partial class ParkTests
{
    /// <summary>Every SDP <paramref name="call"/> has received so far and will receive in requests (the 2xx that set it up
    /// first); <see cref="ReOfferAsync"/> adds the answers to its own re-INVITEs.</summary>
    private static ConcurrentQueue<string> SdpReceived(SipCall call)
    {
        var received = new ConcurrentQueue<string>();
        received.Enqueue(call.RemoteSdp!);
        call.RequestReceived += r =>
        {
            if (r.Method == SipMethods.Invite && !r.Body.IsEmpty) received.Enqueue(r.BodyText);
        };
        return received;
    }

    /// <summary>A re-INVITE from the phone; the park's answer in its 2xx joins what the phone received.</summary>
    private static async Task ReOfferAsync(SipCall call, string sdp, ConcurrentQueue<string> received, string what)
    {
        var result = await call.ReInviteAsync(sdp).WaitAsync(Bound);
        Assert.That(result.IsSuccess, Is.True, $"{what}: {result}");
        received.Enqueue(result.Response!.BodyText);
    }

    private static void OneOriginStepByStep(IEnumerable<string> sdps, string who)
    {
        var origins = sdps.Select(s => SessionDescription.Parse(s).Origin).ToArray();
        for (var i = 1; i < origins.Length; i++)
        {
            Assert.That(origins[i], Is.EqualTo(origins[i - 1] with { SessionVersion = origins[i - 1].SessionVersion + 1 }),
                $"{who}'s SDP #{i + 1} in the dialog: o={origins[i]} after o={origins[i - 1]}");
        }
    }

    /// <summary>The SDP without its o= line: what a bridge passes across, the origin being each dialog's own.</summary>
    private static string? WithoutOrigin(string? sdp) =>
        sdp is null ? null : string.Concat(sdp.Split("\r\n").Where(l => !l.StartsWith("o=", StringComparison.Ordinal)).Select(l => l + "\r\n"));

    private static string Hold(string sdp) => SessionDescription.Parse(sdp).WithDirection(MediaDirection.SendOnly).ToString();

    [Test]
    public async Task Every_sdp_a_bridged_phone_gets_in_its_dialog_has_the_previous_origin_one_version_higher()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);
        var atBob = SdpReceived(bobParkLeg);

        var carolCall = (await carol.CallAsync(SipUri.Parse($"sip:{orbit}@callpark.lab"))).Call!;
        var atCarol = SdpReceived(carolCall);
        await WaitUntilAsync(() => lab.A.Park.ActiveBridges == 1);
        await ReOfferAsync(carolCall, Hold(carol.Sdp), atCarol, "carol holds");
        await ReOfferAsync(carolCall, carol.Sdp, atCarol, "carol resumes");
        await ReOfferAsync(bobParkLeg, Hold(bob.Sdp), atBob, "bob holds");
        // A relayed re-INVITE may reach the other phone after the park answered the one who sent it.
        await WaitUntilAsync(() => atBob.Count >= 5 && atCarol.Count >= 4);

        Assert.That(atBob, Has.Count.EqualTo(5), "the park's answer; carol's offer, hold and resume; the answer to bob's hold");
        Assert.That(atCarol, Has.Count.EqualTo(4), "bob's answer; the answers to carol's hold and resume; bob's hold");
        Assert.That(SessionDescription.Parse(atBob.First()).Origin.Username, Is.EqualTo("callpark"));
        OneOriginStepByStep(atBob, "bob");
        OneOriginStepByStep(atCarol, "carol");
        Assert.That(SessionDescription.Parse(atBob.ElementAt(2)).Media[0].Direction, Is.EqualTo(MediaDirection.SendOnly), "carol's hold reached bob");
        Assert.That(SessionDescription.Parse(atCarol.Last()).Media[0].Direction, Is.EqualTo(MediaDirection.SendOnly), "bob's hold reached carol");
    }

    [Test]
    public async Task A_bridged_retrieve_keeps_the_parked_dialogs_media_lines_in_order_and_answers_the_retriever_in_hers()
    {
        var lab = await StartLabAsync();
        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob", supportsReplaces: false);
        var carol = await RegisteredPhoneAsync(lab, "carol");
        var (bobParkLeg, orbit) = await ParkBobByTransferAsync(alice, bob);
        var bobAudio = SessionDescription.Parse(bob.Sdp).Media[0];
        bobParkLeg.OnReInvite = reInvite =>
        {
            // bob answers line for line: his audio, and no video.
            var offered = SessionDescription.Parse(reInvite.Offer!);
            var lines = offered.Media.Select(m => m.Media == "audio" ? bobAudio : new MediaDescription(m.Media, 0, m.Protocol, m.Formats.Take(1)));
            return reInvite.AcceptAsync(SessionDescription.Parse(bob.Sdp).WithMedia(lines).IncrementVersion().ToString());
        };
        var carolOffer = SessionDescription.Parse(carol.Sdp);
        var video = new MediaDescription("video", carolOffer.Media[0].Port + 2, "RTP/AVP", ["96"]);
        var videoFirst = carolOffer.WithMedia([video, carolOffer.Media[0]]).ToString();

        var attempt = await carol.Agent.CallAsync(SipUri.Parse($"sip:{orbit}@callpark.lab"), new CallOptions { Sdp = videoFirst }).WaitAsync(Bound);

        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        var toBob = SessionDescription.Parse(bobParkLeg.RemoteSdp!);
        Assert.That(toBob.Media.Select(m => (m.Media, m.Port)), Is.EqualTo(new[] { ("audio", carolOffer.Media[0].Port), ("video", video.Port) }),
            "bob's dialog keeps audio first, as it started; carol's video comes after");
        var toCarol = SessionDescription.Parse(attempt.Call!.RemoteSdp!);
        Assert.That(toCarol.Media.Select(m => (m.Media, m.Port)), Is.EqualTo(new[] { ("video", 0), ("audio", bobAudio.Port) }),
            "carol's answer follows her offer's order");
        await attempt.Call!.HangUpAsync().WaitAsync(Bound);
    }
}
