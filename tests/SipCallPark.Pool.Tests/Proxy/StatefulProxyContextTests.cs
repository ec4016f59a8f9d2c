using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;
using static SipCallPark.Pool.Tests.Proxy.ProxyHarness;
using static SipCallPark.Pool.Tests.Proxy.TestPhone;

namespace SipCallPark.Pool.Tests.Proxy;

/// <summary>Response-context rules beyond the basic call: 6xx, non-INVITE forking, Timer C restarts.</summary>
public class StatefulProxyContextTests
{
    [Test]
    public async Task A_6xx_cancels_the_ringing_branch_and_wins_over_its_487()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var at1 = await h.Bob1.NextRequestAsync();
        var at2 = await h.Bob2.NextRequestAsync();
        await h.Bob2.AnswerAsync(at2, 180);
        await NextProvisionalAsync(call);

        await h.Bob1.AnswerAsync(at1, 603);

        Assert.That(await h.Bob2.NextCancelAsync(), Is.SameAs(at2));
        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(603));
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(603));
    }

    [Test]
    public async Task A_forked_non_invite_gets_its_first_2xx_and_no_provisional_upstream()
    {
        await using var h = await StartAsync();
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        var message = h.Alice.NewRequest(SipMethods.Message, BobAor, "message-1@127.0.0.2");
        var sent = await h.Alice.Stack.Transactions.SendRequestAsync(message, ProxyEndPoint);
        var at1 = await h.Bob1.NextRequestAsync();
        var at2 = await h.Bob2.NextRequestAsync();
        Assert.That(at1.Request.Headers.Contains(HeaderNames.RecordRoute), Is.False, "only an INVITE is Record-Routed here");

        await h.Bob1.AnswerAsync(at1, 182); // RFC 4320 §4.1: not for a non-INVITE, so not relayed
        await h.Bob2.AnswerAsync(at2, 404);
        await h.Bob1.AnswerAsync(at1, 200);

        var final = await FinalAsync(sent);
        Assert.That(final.StatusCode, Is.EqualTo(200));
        Assert.That((await h.NextCompletedAsync()).Status, Is.EqualTo(200));
        Assert.That(h.Alice.Received.Select(r => r.StatusCode), Is.EqualTo(new[] { 200 }));
    }

    [Test]
    public async Task A_provisional_restarts_timer_c()
    {
        await using var h = await StartAsync(fakeTime: true);
        h.Targets.Add(TargetOf(h.Bob1));
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var atBob = await h.Bob1.NextRequestAsync();
        await h.Bob1.AnswerAsync(atBob, 180);
        await NextProvisionalAsync(call);
        var half = h.Proxy.TimerC / 2;

        h.Clock!.Advance(half);
        await h.Bob1.AnswerAsync(atBob, 183);
        await NextProvisionalAsync(call);
        h.Clock.Advance(half + TimeSpan.FromSeconds(1));
        // Timer C runs its callback inside Advance, so a firing would already be in the log.
        Assert.That(h.Log.With("Timer C fired"), Is.Empty, "the 183 restarted Timer C");

        h.Clock.Advance(half);
        Assert.That(h.Log.With("Timer C fired").Count(), Is.EqualTo(1));
        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(408));
    }

    [Test]
    public async Task Every_branch_timing_out_gives_the_caller_408()
    {
        await using var h = await StartAsync(fakeTime: true);
        h.Targets.AddRange([TargetOf(h.Bob1), TargetOf(h.Bob2)]);
        var call = await h.SendFromAliceAsync(h.NewInvite());
        foreach (var bob in new[] { h.Bob1, h.Bob2 })
        {
            await bob.NextRequestAsync();
            // From now on the callees are silent: nothing gets through either way, not even their 100 Trying.
            h.Network.SetLinkPolicy(ProxyAddress, bob.EndPoint.Address, new InMemoryLinkPolicy(dropProbability: 1));
            h.Network.SetLinkPolicy(bob.EndPoint.Address, ProxyAddress, new InMemoryLinkPolicy(dropProbability: 1));
        }
        h.Clock!.Advance(TimeSpan.FromMilliseconds(250));
        var trying = await call.ProvisionalResponses.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.That(trying.StatusCode, Is.EqualTo(100), "the proxy's own 100 Trying (its server transaction's)");

        for (var i = 0; i < 40 && !call.Completion.IsCompleted; i++) h.Clock.Advance(TimeSpan.FromSeconds(1));

        var final = await FinalAsync(call);
        Assert.That(final.StatusCode, Is.EqualTo(408));
        Assert.That(final.IsTimeout, Is.False, "the 408 came from the proxy, not from alice's own Timer B");
        Assert.That(h.Log.With("Best response").Last()["Finals"], Is.EqualTo("408, 408"));
    }

    [Test]
    public async Task A_cancel_before_anything_was_forwarded_is_answered_487_and_nothing_is_forwarded_after()
    {
        await using var h = await StartAsync();
        h.Targets.Add(TargetOf(h.Bob1));
        var routing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Dispatcher.Gate = routing.Task;
        var call = await h.SendFromAliceAsync(h.NewInvite());
        var trying = await call.ProvisionalResponses.ReadAsync().AsTask().WaitAsync(Bound); // the server transaction's own
        Assert.That(trying.StatusCode, Is.EqualTo(100));

        Assert.That((await call.CancelAsync().WaitAsync(Bound))?.StatusCode, Is.EqualTo(200));
        Assert.That((await FinalAsync(call)).StatusCode, Is.EqualTo(487));

        routing.SetResult();
        await h.Dispatcher.NextHandledAsync();
        Assert.That(h.Bob1.PendingRequests, Is.Zero);
        Assert.That(h.Proxy.ActiveContexts, Is.Zero);
        Assert.That(h.Log.With("Not forwarding").Count(), Is.EqualTo(1));
    }
}
