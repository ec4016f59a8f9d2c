using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class InviteClientTransactionTests
{
    private static double[] Times(IEnumerable<SentMessage> sent) => sent.Select(s => s.At.TotalMilliseconds).ToArray();

    [Test]
    public async Task Timer_A_doubles_until_timer_B_times_the_invite_out()
    {
        var h = new TransactionHarness();
        var invite = await h.Layer.SendInviteAsync(Request(), PeerEndPoint());

        h.AdvanceMs(31_990);
        Assert.That(invite.Completion.IsCompleted, Is.False);
        h.AdvanceMs(10);

        var result = await Within(invite.Completion);
        Assert.Multiple(() =>
        {
            Assert.That(Times(h.Sender.Requests("INVITE")), Is.EqualTo(new double[] { 0, 500, 1500, 3500, 7500, 15500, 31500 }));
            Assert.That(result.IsTimeout, Is.True);
            Assert.That(result.StatusCode, Is.EqualTo(408));
            Assert.That(invite.State, Is.EqualTo(TransactionState.Terminated));
            Assert.That(h.Layer.ActiveCount, Is.Zero);
        });
    }

    [Test]
    public async Task A_provisional_response_stops_retransmissions_and_timer_B()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        h.AdvanceMs(600);

        await h.ReceiveAsync(Response(request, 180));
        h.AdvanceMs(40_000);

        Assert.Multiple(() =>
        {
            Assert.That(invite.State, Is.EqualTo(TransactionState.Proceeding));
            Assert.That(invite.ProvisionalResponses.TryRead(out var ringing) ? ringing.StatusCode : 0, Is.EqualTo(180));
            Assert.That(Times(h.Sender.Requests("INVITE")), Is.EqualTo(new double[] { 0, 500 }));
            Assert.That(invite.Completion.IsCompleted, Is.False, "only Timer C (a proxy's) would end Proceeding");
        });
    }

    [Test]
    public async Task The_ack_for_a_486_is_built_by_the_transaction_and_resent_for_each_retransmitted_486()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        var busy = Response(request, 486, toTag: "busy-tag");

        await h.ReceiveAsync(busy);
        var result = await Within(invite.Completion);
        var ack = h.Sender.Requests("ACK").Single();

        Assert.Multiple(() =>
        {
            Assert.That(result.StatusCode, Is.EqualTo(486));
            Assert.That(invite.State, Is.EqualTo(TransactionState.Completed));
            Assert.That(ack.Destination, Is.EqualTo(PeerEndPoint()));
            Assert.That(ack.Request.RequestUri, Is.EqualTo(request.RequestUri));
            Assert.That(ack.Request.CallId, Is.EqualTo(request.CallId));
            Assert.That(ack.Request.Headers.Get(HeaderNames.From), Is.EqualTo(request.Headers.Get(HeaderNames.From)));
            Assert.That(ack.Request.To.Tag, Is.EqualTo("busy-tag"));
            Assert.That(ack.Request.To.Uri, Is.EqualTo(request.To.Uri));
            Assert.That(ack.Request.CSeq, Is.EqualTo(new CSeqHeader(1, "ACK")));
            Assert.That(ack.Request.Vias.Select(v => v.ToString()), Is.EqualTo(new[] { request.TopVia!.ToString() }));
            Assert.That(ack.Request.Headers.GetAll(HeaderNames.Route), Is.EqualTo(request.Headers.GetAll(HeaderNames.Route)));
        });

        await h.ReceiveAsync(busy);
        await h.ReceiveAsync(busy);
        Assert.That(h.Sender.Requests("ACK"), Has.Count.EqualTo(3));
        Assert.That(h.User.StrayResponses, Is.Empty);
    }

    [Test]
    public async Task Timer_D_keeps_the_completed_invite_for_32_seconds_over_udp()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        await h.ReceiveAsync(Response(request, 486));

        h.AdvanceMs(31_990);
        Assert.That(invite.State, Is.EqualTo(TransactionState.Completed));
        h.AdvanceMs(10);
        Assert.That(invite.State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }

    [Test]
    public async Task Over_tcp_the_invite_is_never_retransmitted_and_timer_D_is_zero()
    {
        var h = new TransactionHarness();
        var request = Request(transport: "TCP");
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint(SipProtocol.Tcp));

        h.AdvanceMs(20_000);
        await h.ReceiveAsync(Response(request, 486), SipProtocol.Tcp);

        Assert.Multiple(() =>
        {
            Assert.That(h.Sender.Requests("INVITE"), Has.Count.EqualTo(1));
            Assert.That(h.Sender.Requests("ACK"), Has.Count.EqualTo(1));
            Assert.That(invite.State, Is.EqualTo(TransactionState.Terminated));
            Assert.That(h.Layer.ActiveCount, Is.Zero);
        });
    }

    [Test]
    public async Task Over_tcp_timer_B_still_times_the_invite_out()
    {
        var h = new TransactionHarness();
        var invite = await h.Layer.SendInviteAsync(Request(transport: "TCP"), PeerEndPoint(SipProtocol.Tcp));

        h.AdvanceMs(32_000);

        Assert.That((await Within(invite.Completion)).IsTimeout, Is.True);
        Assert.That(h.Sender.Requests("INVITE"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_2xx_goes_to_the_TU_and_retransmitted_2xx_in_accepted_go_to_it_again_until_timer_M()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        var ok = Response(request, 200);

        await h.ReceiveAsync(ok);
        var result = await Within(invite.Completion);
        Assert.Multiple(() =>
        {
            Assert.That(result.StatusCode, Is.EqualTo(200));
            Assert.That(invite.State, Is.EqualTo(TransactionState.Accepted));
            Assert.That(h.Sender.Requests("ACK"), Is.Empty, "the ACK for a 2xx is the dialog's");
        });

        await h.ReceiveAsync(ok);
        Assert.That(h.User.AdditionalSuccesses, Has.Count.EqualTo(1));

        h.AdvanceMs(32_000);
        Assert.That(invite.State, Is.EqualTo(TransactionState.Terminated));
        await h.ReceiveAsync(ok);
        Assert.That(h.User.StrayResponses, Has.Count.EqualTo(1), "after Timer M a retransmitted 2xx still reaches the dialog");
    }

    [Test]
    public async Task A_transport_error_ends_the_invite_with_a_503_outcome()
    {
        var h = new TransactionHarness();
        h.Sender.Fail = true;

        var invite = await h.Layer.SendInviteAsync(Request(), PeerEndPoint());
        var result = await Within(invite.Completion);

        Assert.That(result.Failure, Is.EqualTo(TransactionFailure.TransportError));
        Assert.That(result.StatusCode, Is.EqualTo(503));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }
}
