using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using static SipCallPark.Pool.Tests.Proxy.ProxyHarness;
using static SipCallPark.Pool.Tests.Proxy.TestPhone;

namespace SipCallPark.Pool.Tests.Proxy;

public class StatefulProxyTests
{
    /// <summary>Our Record-Route for the dialog <paramref name="invite"/> opens: the harness's token for its Call-ID and From tag.</summary>
    private static string OurRecordRoute(SipRequest invite, string transport = "") =>
        $"<sip:127.0.0.1:5060{transport};lr;{RecordRouteToken.Parameter}={Tokens.Mint(invite.CallId, invite.From.Tag)}>";

    [Test]
    public async Task An_invite_reaches_the_callee_and_180_and_200_come_back_without_our_via_with_record_route_then_ack_and_bye_follow_it()
    {
        await using var h = await StartAsync();
        h.Targets.Add(TargetOf(h.Bob1));
        var invite = h.NewInvite();
        var call = await h.SendFromAliceAsync(invite);

        var atBob = await h.Bob1.NextRequestAsync();
        var forwarded = atBob.Request;
        Assert.Multiple(() =>
        {
            Assert.That(forwarded.RequestUri, Is.EqualTo(h.Bob1.Contact), "the Request-URI is the target's");
            Assert.That(forwarded.MaxForwards, Is.EqualTo(69));
            Assert.That(forwarded.Vias, Has.Count.EqualTo(2));
            Assert.That(forwarded.TopVia!.SentBy, Is.EqualTo("127.0.0.1:5060"));
            Assert.That(forwarded.TopVia.HasRPort, Is.True);
            Assert.That(ProxyMessages.LoopHashOf(forwarded.TopVia.Branch), Is.Not.Null, "the branch carries the loop hash");
            Assert.That(forwarded.Headers.GetAll(HeaderNames.RecordRoute), Is.EqualTo(new[] { OurRecordRoute(invite) }));
            Assert.That(h.Log.With("Forwarding {Method} {CallId} to {Targets}").Single()["CallId"], Is.EqualTo(invite.CallId));
        });

        await h.Bob1.AnswerAsync(atBob, 180);
        var ringing = await NextProvisionalAsync(call);
        await h.Bob1.AnswerAsync(atBob, 200);
        var ok = (await FinalAsync(call)).Response!;
        Assert.Multiple(() =>
        {
            Assert.That(ringing.StatusCode, Is.EqualTo(180));
            Assert.That(ringing.Vias.Select(v => v.Branch), Is.EqualTo(new[] { invite.TopVia!.Branch }), "our Via is removed");
            Assert.That(ok.StatusCode, Is.EqualTo(200));
            Assert.That(ok.Vias.Select(v => v.Branch), Is.EqualTo(new[] { invite.TopVia!.Branch }));
            Assert.That(ok.Headers.GetAll(HeaderNames.RecordRoute), Is.EqualTo(new[] { OurRecordRoute(invite) }));
            Assert.That(ok.To.Tag, Is.EqualTo(h.Bob1.Tag));
        });
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(200));

        var ack = h.Alice.InDialog(SipMethods.Ack, invite, ok);
        Assert.That(NextHop(ack), Is.EqualTo(ProxyEndPoint), "the ACK goes to the proxy first");
        await h.Alice.SendAckAsync(ack);
        var ackAtBob = (SipRequest)(await h.Bob1.NextAckAsync()).Message;
        Assert.Multiple(() =>
        {
            Assert.That(ackAtBob.RequestUri, Is.EqualTo(h.Bob1.Contact));
            Assert.That(ackAtBob.Routes, Is.Empty, "our Route is consumed");
            Assert.That(ackAtBob.Vias, Has.Count.EqualTo(2));
            Assert.That(ackAtBob.MaxForwards, Is.EqualTo(69));
        });

        var bye = await h.Alice.Stack.Transactions.SendRequestAsync(h.Alice.InDialog(SipMethods.Bye, invite, ok), ProxyEndPoint);
        var byeAtBob = await h.Bob1.NextRequestAsync();
        Assert.That(byeAtBob.Method, Is.EqualTo(SipMethods.Bye));
        Assert.That(byeAtBob.Request.Headers.Contains(HeaderNames.RecordRoute), Is.False);
        await h.Bob1.AnswerAsync(byeAtBob, 200);
        Assert.That((await FinalAsync(bye)).StatusCode, Is.EqualTo(200));
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(200));
        Assert.That(h.Proxy.ActiveContexts, Is.Zero);
    }

    [Test]
    public async Task Forking_the_first_200_wins_the_other_branch_is_cancelled_and_the_caller_sees_one_final()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        var invite = h.NewInvite();
        var call = await h.SendFromAliceAsync(invite);
        var at1 = await h.Bob1.NextRequestAsync();
        var at2 = await h.Bob2.NextRequestAsync();
        Assert.That(at1.Request.TopVia!.Branch, Is.Not.EqualTo(at2.Request.TopVia!.Branch), "each branch has its own transaction");
        await h.Bob1.AnswerAsync(at1, 180);
        await h.Bob2.AnswerAsync(at2, 180);

        await h.Bob1.AnswerAsync(at1, 200);
        var cancelled = await h.Bob2.NextCancelAsync();
        Assert.That(cancelled, Is.SameAs(at2), "bob2 was cancelled and answered 487");
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(200), "the context ends once bob2's 487 is in");

        var final = await FinalAsync(call);
        Assert.That(final.StatusCode, Is.EqualTo(200));
        Assert.That(final.Response!.To.Tag, Is.EqualTo(h.Bob1.Tag));
        // Round-trip an ACK so that anything wrongly sent to alice has had time to arrive.
        await h.Alice.SendAckAsync(h.Alice.InDialog(SipMethods.Ack, invite, final.Response));
        await h.Bob1.NextAckAsync();
        Assert.That(h.Alice.Received.Where(r => r.IsFinal).Select(r => r.StatusCode), Is.EqualTo(new[] { 200 }));
        Assert.That(h.Alice.PendingAdditionalSuccesses, Is.Zero);
    }

    [Test]
    public async Task A_2xx_from_a_cancelled_fork_still_goes_upstream_as_a_second_answer()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        h.Bob2.AnswersCancelWith487 = false;
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var at1 = await h.Bob1.NextRequestAsync();
        var at2 = await h.Bob2.NextRequestAsync();
        await h.Bob2.AnswerAsync(at2, 180);
        await NextProvisionalAsync(call);

        await h.Bob1.AnswerAsync(at1, 200);
        await h.Bob2.NextCancelAsync();
        // Datagrams may overtake each other, so bob1's 200 is known to be at alice before bob2 answers.
        Assert.That((await FinalAsync(call)).Response!.To.Tag, Is.EqualTo(h.Bob1.Tag));
        await h.Bob2.AnswerAsync(at2, 200); // the CANCEL and the answer crossed

        var second = (SipResponse)(await h.Alice.NextAdditionalSuccessAsync()).Message;
        Assert.That(second.StatusCode, Is.EqualTo(200));
        Assert.That(second.To.Tag, Is.EqualTo(h.Bob2.Tag));
        Assert.That(second.Vias, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_retransmitted_200_is_relayed_through_the_context_and_after_the_transactions_ended_statelessly()
    {
        await using var h = await StartAsync(fakeTime: true);
        h.Targets.Add(TargetOf(h.Bob1));
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var atBob = await h.Bob1.NextRequestAsync();
        await h.Bob1.AnswerAsync(atBob, 200);
        var ok = (await FinalAsync(call)).Response!;

        await h.Bob1.AnswerAsync(atBob, 200); // the INVITE server transaction is in Accepted: a retransmission
        var again = (SipResponse)(await h.Alice.NextAdditionalSuccessAsync()).Message;
        Assert.That(again.Vias, Has.Count.EqualTo(1));

        h.Clock!.Advance(TimeSpan.FromSeconds(33)); // Timers L and M: every transaction of this call is gone
        await h.Bob1.Stack.Transport.SendResponseAsync(SipResponse.CreateFor(atBob.Request, 200, toTag: h.Bob1.Tag), atBob.Incoming);
        var stray = (SipResponse)(await h.Alice.NextStrayResponseAsync()).Message;
        Assert.That(stray.StatusCode, Is.EqualTo(200));
        Assert.That(stray.Vias.Select(v => v.Branch), Is.EqualTo(ok.Vias.Select(v => v.Branch)), "only alice's Via is left");
    }

    [Test]
    public async Task When_every_branch_fails_the_caller_gets_the_best_response()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        var call = await h.SendFromAliceAsync(h.NewInvite());
        await h.Bob1.AnswerAsync(await h.Bob1.NextRequestAsync(), 486);
        await h.Bob2.AnswerAsync(await h.Bob2.NextRequestAsync(), 404);

        var final = await FinalAsync(call);
        Assert.That(final.StatusCode, Is.EqualTo(486));
        Assert.That(final.Response!.Vias, Has.Count.EqualTo(1));
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(486));
        Assert.That(h.Log.With("Best response").Last()["Finals"], Is.EqualTo("486, 404").Or.EqualTo("404, 486"));
    }

    [Test]
    public async Task A_503_from_downstream_becomes_500_upstream()
    {
        await using var h = await StartAsync();
        h.Targets.Add(TargetOf(h.Bob1));
        var call = await h.SendFromAliceAsync(h.NewInvite());
        await h.Bob1.AnswerAsync(await h.Bob1.NextRequestAsync(), 503);

        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(500));
    }

    [Test]
    public async Task A_401_and_a_407_from_two_branches_are_merged_into_one_challenge()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        const string www = "Digest realm=\"bob1.lab\", nonce=\"n1\"";
        const string proxyChallenge = "Digest realm=\"bob2.lab\", nonce=\"n2\"";
        var call = await h.SendFromAliceAsync(h.NewInvite());
        await h.Bob1.AnswerAsync(await h.Bob1.NextRequestAsync(), 401, r => r.Headers.Add(HeaderNames.WwwAuthenticate, www));
        await h.Bob2.AnswerAsync(await h.Bob2.NextRequestAsync(), 407, r => r.Headers.Add(HeaderNames.ProxyAuthenticate, proxyChallenge));

        var final = (await FinalAsync(call)).Response!;
        Assert.Multiple(() =>
        {
            Assert.That(final.StatusCode, Is.EqualTo(401));
            Assert.That(final.Headers.GetAll(HeaderNames.WwwAuthenticate), Is.EqualTo(new[] { www }));
            Assert.That(final.Headers.GetAll(HeaderNames.ProxyAuthenticate), Is.EqualTo(new[] { proxyChallenge }));
        });
    }

    [Test]
    public async Task A_cancel_from_the_caller_cancels_both_branches_and_the_caller_gets_487()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var at1 = await h.Bob1.NextRequestAsync();
        var at2 = await h.Bob2.NextRequestAsync();
        await h.Bob1.AnswerAsync(at1, 180);
        await h.Bob2.AnswerAsync(at2, 183);
        await NextProvisionalAsync(call);
        await NextProvisionalAsync(call);

        var cancel = await call.CancelAsync().WaitAsync(Bound);
        Assert.That(cancel?.StatusCode, Is.EqualTo(200), "the proxy answers the CANCEL itself");
        Assert.That(await h.Bob1.NextCancelAsync(), Is.SameAs(at1));
        Assert.That(await h.Bob2.NextCancelAsync(), Is.SameAs(at2));
        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(487));
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(487));
        Assert.That(h.Proxy.ActiveContexts, Is.Zero);
    }

    [Test]
    public async Task Our_via_with_an_unchanged_loop_hash_is_a_loop_a_changed_request_is_a_spiral()
    {
        await using var h = await StartAsync();
        h.Targets.Add(TargetOf(h.Bob1));
        var invite = h.NewInvite();
        var call = await h.SendFromAliceAsync(invite);
        var forwarded = (await h.Bob1.NextRequestAsync()).Request;

        // The copy as it would come back round a loop: same Request-URI as we received, our Via inside.
        var back = ProxyMessages.CopyFor(forwarded, invite.RequestUri);
        back.Headers.Prepend(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKother");
        Assert.That(h.Proxy.IsLoop(back), Is.True);
        Assert.That(h.Log.With("Loop detected").Count(), Is.EqualTo(1));

        Assert.That(h.Proxy.IsLoop(ProxyMessages.CopyFor(back, SipUri.Parse("sip:carol@callpark.lab"))), Is.False, "a new Request-URI: a spiral");
        Assert.That(h.Proxy.IsLoop(invite), Is.False, "no Via of ours");
        var notOurs = ProxyMessages.CopyFor(back, invite.RequestUri);
        notOurs.Headers.Set(HeaderNames.Via, forwarded.TopVia!.ToString().Replace("127.0.0.1:5060", "127.0.0.9:5060"));
        Assert.That(h.Proxy.IsLoop(notOurs), Is.False, "the same branch under someone else's address");
        _ = call;
    }

    [Test]
    public async Task A_request_forwarded_back_to_ourselves_is_answered_482()
    {
        await using var h = await StartAsync();
        h.Targets.Add(new ProxyTarget(BobAor, ProxyEndPoint));
        var call = await h.SendFromAliceAsync(h.NewInvite());

        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(482));
    }

    [Test]
    public async Task Max_forwards_is_decremented_and_set_to_70_when_absent()
    {
        await using var h = await StartAsync();
        h.Targets.Add(TargetOf(h.Bob1));
        var invite = h.NewInvite();
        invite.MaxForwards = null;
        await h.SendFromAliceAsync(invite);
        Assert.That((await h.Bob1.NextRequestAsync()).Request.MaxForwards, Is.EqualTo(70));

        var last = h.NewInvite();
        last.MaxForwards = 1;
        await h.SendFromAliceAsync(last);
        Assert.That((await h.Bob1.NextRequestAsync()).Request.MaxForwards, Is.Zero);
    }

    [Test]
    public async Task Timer_c_cancels_a_branch_that_rings_too_long_and_the_caller_gets_408()
    {
        await using var h = await StartAsync(fakeTime: true);
        h.Targets.Add(TargetOf(h.Bob1));
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var atBob = await h.Bob1.NextRequestAsync();
        await h.Bob1.AnswerAsync(atBob, 180);
        await NextProvisionalAsync(call);

        h.Clock!.Advance(h.Proxy.TimerC);

        Assert.That(await h.Bob1.NextCancelAsync(), Is.SameAs(atBob));
        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(408));
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(408));
        Assert.That(h.Log.With("Timer C fired").Count(), Is.EqualTo(1));
    }

    [Test]
    public async Task Over_tcp_to_a_udp_caller_the_request_is_record_routed_twice_and_the_ack_still_arrives()
    {
        await using var h = await StartAsync(bobProtocol: SipProtocol.Tcp);
        h.Targets.Add(TargetOf(h.Bob1));
        var invite = h.NewInvite();
        var call = await h.SendFromAliceAsync(invite);
        var atBob = await h.Bob1.NextRequestAsync();
        Assert.That(atBob.Request.Headers.GetAll(HeaderNames.RecordRoute),
            Is.EqualTo(new[] { OurRecordRoute(invite, ";transport=tcp"), OurRecordRoute(invite) }), "RFC 5658: the callee's side on top");

        await h.Bob1.AnswerAsync(atBob, 200);
        var ok = (await FinalAsync(call)).Response!;
        await h.Alice.SendAckAsync(h.Alice.InDialog(SipMethods.Ack, invite, ok));
        var ack = await h.Bob1.NextAckAsync();
        Assert.That(ack.Remote.Protocol, Is.EqualTo(SipProtocol.Tcp));
        Assert.That(((SipRequest)ack.Message).Routes, Is.Empty);
    }

    [Test]
    public async Task Timer_c_must_exceed_three_minutes()
    {
        await using var h = await StartAsync();
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            _ = new StatefulProxy(h.ProxyStack, new PoolIdentity("p", [ProxyAddress]), RecordRouteToken.Random(), h.Log, TimeSpan.FromMinutes(3)));
    }
}
