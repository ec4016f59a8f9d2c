using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Sip.Tests.UserAgents;

public class SipUserAgentTests
{
    private readonly List<TestPhone> _phones = [];

    private async Task<TestPhone> Phone(string user, bool supportsReplaces = true)
    {
        var phone = await TestPhone.StartAsync(user, supportsReplaces);
        _phones.Add(phone);
        return phone;
    }

    [TearDown]
    public async Task TearDown()
    {
        foreach (var phone in _phones) await phone.DisposeAsync();
        _phones.Clear();
    }

    private static async Task<(SipCall Caller, SipCall Callee)> Connect(TestPhone from, TestPhone to)
    {
        var attempt = await from.Agent.CallAsync(to.Uri, new CallOptions { Sdp = from.Sdp }).WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(200), attempt.ToString());
        var callee = await to.Answered.Task.WaitAsync(TestPhone.Wait);
        await callee.Confirmed.WaitAsync(TestPhone.Wait);
        return (attempt.Call!, callee);
    }

    [Test]
    public async Task A_call_over_loopback_udp_is_answered_and_hung_up_by_the_caller()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var (caller, callee) = await Connect(alice, bob);
        Assert.Multiple(() =>
        {
            Assert.That(caller.CallId, Is.EqualTo(callee.CallId));
            Assert.That(caller.RemoteSdp, Is.EqualTo(bob.Sdp));
            Assert.That(callee.RemoteSdp, Is.EqualTo(alice.Sdp));
            Assert.That(callee.Dialog.Id.LocalTag, Is.EqualTo(caller.Dialog.Id.RemoteTag));
        });
        var bye = await caller.HangUpAsync();
        Assert.That(bye!.StatusCode, Is.EqualTo(200));
        Assert.That(await callee.Ended.WaitAsync(TestPhone.Wait), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That(await caller.Ended.WaitAsync(TestPhone.Wait), Is.EqualTo(CallEndReason.LocalHangUp));
        Assert.That(alice.Agent.Dialogs.Count + bob.Agent.Dialogs.Count, Is.Zero);
    }

    // Regression: under load the ACK reached the callee between its 200 going out and the 200's retransmission
    // starting; the retransmitter then never saw an ACK and ended a healthy call with BYE after 64·T1 (NoAck).
    [Test]
    public async Task An_ACK_that_arrives_before_the_2xx_retransmission_starts_still_stops_it()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var (_, callee) = await Connect(alice, bob);
        var invite = bob.Incoming.Single().Transaction;

        callee.StartRetransmitting(invite.LastResponse!, invite.Incoming); // the late start, after the ACK was handled

        Assert.That(callee.IsRetransmitting, Is.False, "the 200 was acknowledged already");
        Assert.That(callee.IsEnded, Is.False);
    }

    [Test]
    public async Task A_call_left_ringing_after_the_handler_returned_can_still_be_cancelled()
    {
        var alice = await Phone("alice");
        var bob = await TestPhone.StartAsync("bob", autoAnswer: false);
        _phones.Add(bob);
        var ringing = new TaskCompletionSource<IncomingCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The handler rings and returns: the decision comes later (or never), as in a phone waiting for its user.
        bob.Agent.OnIncomingCall = async incoming =>
        {
            await incoming.RingAsync();
            ringing.TrySetResult(incoming);
        };

        var call = alice.Agent.Dial(bob.Uri);
        var incoming = await ringing.Task.WaitAsync(TestPhone.Wait);
        var ring = await call.FirstProvisional.WaitAsync(TestPhone.Wait);
        await call.CancelAsync().WaitAsync(TestPhone.Wait);

        var attempt = await call.Completion.WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(487));
        await incoming.Cancelled.WaitAsync(TestPhone.Wait);
        Assert.That(attempt.Response!.To.Tag, Is.EqualTo(ring.To.Tag), "the 487 comes from the same UAS as the 180");
    }

    [Test]
    public async Task A_call_nobody_answers_is_rejected_with_480()
    {
        var alice = await Phone("alice");
        var nobody = await TestPhone.StartAsync("nobody", autoAnswer: false);
        _phones.Add(nobody);
        var attempt = await alice.Agent.CallAsync(nobody.Uri).WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(480));
    }

    [Test]
    public async Task A_refer_is_accepted_and_its_notifies_report_progress_up_to_the_final_200()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var carol = await Phone("carol");
        var (aliceCall, bobCall) = await Connect(alice, bob);
        var followed = new TaskCompletionSource<CallAttempt>(TaskCreationOptions.RunContinuationsAsynchronously);
        bobCall.OnRefer = async refer => followed.TrySetResult(await refer.FollowAsync(bob.Sdp));

        var outcome = await aliceCall.ReferAsync(carol.Address, alice.Address).WaitAsync(TestPhone.Wait);
        Assert.Multiple(() =>
        {
            Assert.That(outcome.ReferStatus, Is.EqualTo(202));
            Assert.That(outcome.StatusCode, Is.EqualTo(200));
            Assert.That(outcome.Progress, Is.EqualTo(new[] { 100, 200 }));
        });
        var transferred = await followed.Task.WaitAsync(TestPhone.Wait);
        var atCarol = await carol.Answered.Task.WaitAsync(TestPhone.Wait);
        Assert.That(carol.Incoming.Single().ReferredBy!.Uri, Is.EqualTo(alice.Uri));
        Assert.That(transferred.Call!.CallId, Is.EqualTo(atCarol.CallId));
    }

    [Test]
    public async Task A_refer_whose_target_fails_reports_that_status_in_the_final_notify()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var nobody = await TestPhone.StartAsync("nobody", autoAnswer: false);
        _phones.Add(nobody);
        var (aliceCall, bobCall) = await Connect(alice, bob);
        bobCall.OnRefer = async refer => await refer.FollowAsync(bob.Sdp);
        var outcome = await aliceCall.ReferAsync(nobody.Address).WaitAsync(TestPhone.Wait);
        Assert.That(outcome.Accepted, Is.True);
        Assert.That(outcome.StatusCode, Is.EqualTo(480));
        Assert.That(outcome.Succeeded, Is.False);
    }

    [Test]
    public async Task An_invite_with_replaces_takes_over_the_dialog_and_the_replaced_party_gets_bye()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var carol = await Phone("carol");
        var (aliceCall, bobCall) = await Connect(alice, bob);
        bob.Answered.TrySetCanceled();
        var bobAnswers = new TaskCompletionSource<SipCall>(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.Agent.OnIncomingCall = async incoming =>
        {
            Assert.That(incoming.Replaces, Is.SameAs(bobCall));
            bobAnswers.TrySetResult(await incoming.AnswerAsync(bob.Sdp));
        };
        // Replaces names the dialog from bob's side: to-tag = bob's tag, from-tag = alice's (RFC 3891 §3).
        var replaces = new ReplacesHeader(bobCall.CallId, bobCall.Dialog.Id.LocalTag, bobCall.Dialog.Id.RemoteTag);
        var attempt = await carol.Agent.CallAsync(bob.Uri, new CallOptions { Sdp = carol.Sdp, Replaces = replaces }).WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(200));
        Assert.That(await aliceCall.Ended.WaitAsync(TestPhone.Wait), Is.EqualTo(CallEndReason.RemoteHangUp));
        Assert.That(await bobCall.Ended.WaitAsync(TestPhone.Wait), Is.EqualTo(CallEndReason.Replaced));
        var newCall = await bobAnswers.Task.WaitAsync(TestPhone.Wait);
        Assert.That(newCall.IsEnded, Is.False);
        Assert.That(newCall.RemoteSdp, Is.EqualTo(carol.Sdp));
    }

    [Test]
    public async Task An_invite_with_replaces_that_matches_no_dialog_gets_481()
    {
        var bob = await Phone("bob");
        var carol = await Phone("carol");
        var attempt = await carol.Agent.CallAsync(bob.Uri, new CallOptions { Replaces = new ReplacesHeader("no-such-call", "x", "y") }).WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(481));
    }

    [Test]
    public async Task Replaces_with_the_tags_swapped_does_not_match()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var carol = await Phone("carol");
        var (_, bobCall) = await Connect(alice, bob);
        var swapped = new ReplacesHeader(bobCall.CallId, bobCall.Dialog.Id.RemoteTag, bobCall.Dialog.Id.LocalTag);
        var attempt = await carol.Agent.CallAsync(bob.Uri, new CallOptions { Replaces = swapped }).WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(481));
    }

    [Test]
    public async Task A_phone_without_replaces_answers_420_to_an_invite_requiring_it()
    {
        var bob = await Phone("bob", supportsReplaces: false);
        var carol = await Phone("carol");
        var attempt = await carol.Agent.CallAsync(bob.Uri, new CallOptions { Replaces = new ReplacesHeader("c", "x", "y") }).WaitAsync(TestPhone.Wait);
        Assert.That(attempt.StatusCode, Is.EqualTo(420));
        Assert.That(attempt.Response!.Headers.Get(HeaderNames.Unsupported), Is.EqualTo("replaces"));
    }

    [Test]
    public async Task An_in_dialog_request_for_an_unknown_dialog_gets_481()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var (aliceCall, bobCall) = await Connect(alice, bob);
        await bobCall.HangUpAsync();
        await aliceCall.Ended.WaitAsync(TestPhone.Wait);
        var stray = await aliceCall.SendRequestAsync(SipMethods.Info).WaitAsync(TestPhone.Wait);
        Assert.That(stray.StatusCode, Is.EqualTo(481));
    }

    [Test]
    public async Task A_reinvite_to_hold_is_answered_and_the_call_stays_up()
    {
        var alice = await Phone("alice");
        var bob = await Phone("bob");
        var (aliceCall, bobCall) = await Connect(alice, bob);
        var hold = alice.Sdp.Replace("a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/8000\r\na=sendonly\r\n");
        var result = await aliceCall.ReInviteAsync(hold).WaitAsync(TestPhone.Wait);
        Assert.That(result.StatusCode, Is.EqualTo(200));
        Assert.That(bobCall.RemoteSdp, Does.Contain("a=sendonly"));
        Assert.That(bobCall.IsEnded || aliceCall.IsEnded, Is.False);
    }
}
