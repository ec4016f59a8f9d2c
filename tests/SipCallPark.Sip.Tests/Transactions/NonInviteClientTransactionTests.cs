using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class NonInviteClientTransactionTests
{
    private static double[] Times(IEnumerable<SentMessage> sent) => sent.Select(s => s.At.TotalMilliseconds).ToArray();

    [Test]
    public async Task Timer_E_doubles_up_to_T2_and_stays_there_until_timer_F_times_out()
    {
        var h = new TransactionHarness();
        var options = await h.Layer.SendRequestAsync(Request("OPTIONS"), PeerEndPoint());

        h.AdvanceMs(31_990);
        Assert.That(options.Completion.IsCompleted, Is.False);
        h.AdvanceMs(10);

        var result = await Within(options.Completion);
        Assert.Multiple(() =>
        {
            Assert.That(Times(h.Sender.Requests("OPTIONS")),
                Is.EqualTo(new double[] { 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 }));
            Assert.That(result.IsTimeout, Is.True);
            Assert.That(result.StatusCode, Is.EqualTo(408));
            Assert.That(options.State, Is.EqualTo(TransactionState.Terminated));
            Assert.That(h.Layer.ActiveCount, Is.Zero);
        });
    }

    [Test]
    public async Task After_a_provisional_timer_E_fires_every_T2()
    {
        var h = new TransactionHarness();
        var request = Request("REFER");
        var refer = await h.Layer.SendRequestAsync(request, PeerEndPoint());
        h.AdvanceMs(600);

        await h.ReceiveAsync(Response(request, 100, toTag: null));
        Assert.That(refer.State, Is.EqualTo(TransactionState.Proceeding));
        h.AdvanceMs(9_000);

        Assert.That(Times(h.Sender.Requests("REFER")), Is.EqualTo(new double[] { 0, 500, 1500, 5500, 9500 }));
        Assert.That(refer.ProvisionalResponses.TryRead(out var trying) ? trying.StatusCode : 0, Is.EqualTo(100));
    }

    [Test]
    public async Task A_final_response_completes_and_retransmissions_are_absorbed_until_timer_K()
    {
        var h = new TransactionHarness();
        var request = Request("BYE", toTag: "bob-tag");
        var bye = await h.Layer.SendRequestAsync(request, PeerEndPoint());
        var ok = Response(request, 200);

        await h.ReceiveAsync(ok);
        Assert.That((await Within(bye.Completion)).StatusCode, Is.EqualTo(200));
        Assert.That(bye.State, Is.EqualTo(TransactionState.Completed));
        Assert.That(bye.ProvisionalResponses.Completion.IsCompleted, Is.True);

        h.AdvanceMs(4_990);
        await h.ReceiveAsync(ok);
        Assert.Multiple(() =>
        {
            Assert.That(h.User.StrayResponses, Is.Empty, "absorbed in Completed");
            Assert.That(bye.State, Is.EqualTo(TransactionState.Completed));
            Assert.That(h.Sender.Requests("BYE"), Has.Count.EqualTo(1), "no retransmission after the final");
        });

        h.AdvanceMs(10);
        Assert.That(bye.State, Is.EqualTo(TransactionState.Terminated));
        await h.ReceiveAsync(ok);
        Assert.That(h.User.StrayResponses, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Over_tcp_there_are_no_retransmissions_and_timer_K_is_zero()
    {
        var h = new TransactionHarness();
        var request = Request("OPTIONS", transport: "TCP");
        var options = await h.Layer.SendRequestAsync(request, PeerEndPoint(SipProtocol.Tcp));

        h.AdvanceMs(20_000);
        await h.ReceiveAsync(Response(request, 200), SipProtocol.Tcp);

        Assert.That(h.Sender.Requests("OPTIONS"), Has.Count.EqualTo(1));
        Assert.That(options.State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }

    [Test]
    public async Task Over_tcp_timer_F_still_times_out()
    {
        var h = new TransactionHarness();
        var options = await h.Layer.SendRequestAsync(Request("OPTIONS", transport: "TCP"), PeerEndPoint(SipProtocol.Tcp));

        h.AdvanceMs(32_000);

        Assert.That((await Within(options.Completion)).IsTimeout, Is.True);
    }
}
