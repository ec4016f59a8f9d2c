using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>Calls between lab phones proxied by one running pool over real loopback UDP.</summary>
[TestFixture]
public sealed class CallTests : IntegrationTest
{
    [Test]
    public async Task Alice_calls_bob_through_the_pool_with_the_media_passed_through_and_the_BYE_following_the_Record_Route()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);
        var bob = await lab.PhoneAsync("bob", lab.A);
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));

        var dialling = alice.CallAsync("bob");
        var incoming = await bob.NextIncomingAsync();
        Assert.That(incoming.Offer, Is.EqualTo(alice.Sdp), "alice's offer reaches bob unchanged");
        var bobsCall = await incoming.AnswerAsync(bob.Sdp);
        var byeAtBob = new TaskCompletionSource<SipRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        bobsCall.RequestReceived += r =>
        {
            if (r.Method == SipMethods.Bye) byeAtBob.TrySetResult(r);
        };
        var attempt = await dialling;

        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        var alicesCall = attempt.Call!;
        Assert.That(alicesCall.RemoteSdp, Is.EqualTo(bob.Sdp), "bob's answer reaches alice unchanged");
        var pool = $"127.0.0.1:{lab.A.SipEndPoint.Port}";
        Assert.That(attempt.Response!.RecordRoutes.Select(r => r.Uri.ToString()), Has.Some.Contains(pool).And.Some.Contains(";lr"));
        Assert.That(incoming.Request.Vias, Has.Count.EqualTo(2), "the INVITE reached bob through the pool");
        await bobsCall.Confirmed.WaitAsync(LabPhone.Bound);

        var hangUp = await alicesCall.HangUpAsync().WaitAsync(LabPhone.Bound);

        Assert.That(hangUp!.StatusCode, Is.EqualTo(200), hangUp.ToString());
        Assert.That(await bobsCall.Ended.WaitAsync(LabPhone.Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
        var bye = await byeAtBob.Task.WaitAsync(LabPhone.Bound);
        Assert.That(bye.Vias, Has.Count.EqualTo(2), "the BYE went through the pool, as its Record-Route asked");
        Assert.That(bye.Vias[0].Port, Is.EqualTo(lab.A.SipEndPoint.Port));
    }

    [Test]
    public async Task A_call_from_a_UDP_phone_to_a_TCP_phone_is_record_routed_on_both_transports_and_hung_up_by_the_callee()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);
        var bob = await lab.PhoneAsync("bob", lab.A, SipProtocol.Tcp);
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));

        var dialling = alice.CallAsync("bob");
        var incoming = await bob.NextIncomingAsync();
        var bobsCall = await incoming.AnswerAsync(bob.Sdp);
        var attempt = await dialling;

        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        Assert.That(incoming.Transaction.Incoming.Remote.Protocol, Is.EqualTo(SipProtocol.Tcp));
        // RFC 5658: one Record-Route for each side, the TCP one naming its transport.
        var routes = attempt.Response!.RecordRoutes.Select(r => r.Uri.ToString()).ToArray();
        Assert.That(routes, Has.Length.EqualTo(2));
        Assert.That(routes, Has.One.Contains("transport=tcp"));
        await bobsCall.Confirmed.WaitAsync(LabPhone.Bound);

        var hangUp = await bobsCall.HangUpAsync().WaitAsync(LabPhone.Bound);

        Assert.That(hangUp!.StatusCode, Is.EqualTo(200), hangUp.ToString());
        Assert.That(await attempt.Call!.Ended.WaitAsync(LabPhone.Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }

    [Test]
    public async Task A_call_cancelled_while_ringing_ends_with_487_for_the_caller_and_a_cancelled_invitation_for_the_callee()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);
        var bob = await lab.PhoneAsync("bob", lab.A);
        Assert.That((await bob.RegisterAsync()).StatusCode, Is.EqualTo(200));

        var call = alice.Dial("bob");
        var incoming = await bob.NextIncomingAsync();
        await incoming.RingAsync();
        var ringing = await call.FirstProvisional.WaitAsync(LabPhone.Bound);
        Assert.That(ringing.StatusCode, Is.EqualTo(180));

        await call.CancelAsync().WaitAsync(LabPhone.Bound);

        var attempt = await call.Completion.WaitAsync(LabPhone.Bound);
        Assert.That(attempt.StatusCode, Is.EqualTo(487), attempt.ToString());
        Assert.That(attempt.Call, Is.Null);
        await incoming.Cancelled.WaitAsync(LabPhone.Bound);
        Assert.That(bob.Agent.Dialogs.Count, Is.Zero);
    }

    [Test]
    public async Task A_call_to_a_user_on_two_phones_rings_both_and_the_one_not_answering_is_cancelled()
    {
        var lab = await StartLabAsync();
        var alice = await lab.PhoneAsync("alice", lab.A);
        var desk = await lab.PhoneAsync("bob", lab.A);
        var mobile = await lab.PhoneAsync("bob", lab.A);
        Assert.That((await desk.RegisterAsync()).StatusCode, Is.EqualTo(200));
        Assert.That((await mobile.RegisterAsync()).StatusCode, Is.EqualTo(200));

        var call = alice.Dial("bob");
        var atDesk = await desk.NextIncomingAsync();
        var atMobile = await mobile.NextIncomingAsync();
        await atDesk.RingAsync();
        await atMobile.RingAsync();
        await call.FirstProvisional.WaitAsync(LabPhone.Bound);
        var answered = await atDesk.AnswerAsync(desk.Sdp);

        var attempt = await call.Completion.WaitAsync(LabPhone.Bound);
        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        Assert.That(attempt.Call!.RemoteSdp, Is.EqualTo(desk.Sdp));
        await atMobile.Cancelled.WaitAsync(LabPhone.Bound);
        await answered.Confirmed.WaitAsync(LabPhone.Bound);
        Assert.That(alice.Agent.Dialogs.Count, Is.EqualTo(1), "alice has exactly one call");
        var answers = alice.Responses.Where(r => r.IsSuccess && r.CSeq.Method == SipMethods.Invite).Select(r => r.To.Tag).Distinct();
        Assert.That(answers, Is.EqualTo(new[] { answered.Dialog.Id.LocalTag }), "only the desk phone's 2xx reached alice");
        Assert.That(mobile.Agent.Dialogs.Count, Is.Zero);
        Assert.That((await attempt.Call.HangUpAsync().WaitAsync(LabPhone.Bound))!.StatusCode, Is.EqualTo(200));
        Assert.That(await answered.Ended.WaitAsync(LabPhone.Bound), Is.EqualTo(CallEndReason.RemoteHangUp));
    }
}
