using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class InviteServerTransactionTests
{
    private static double[] Times(IEnumerable<SentMessage> sent) => sent.Select(s => s.At.TotalMilliseconds).ToArray();

    private static SipRequest AckFor(SipRequest invite, string branch = "z9hG4bKclient1", string toTag = "uas-tag", string transport = "UDP") =>
        Request("ACK", branch: branch, toTag: toTag, transport: transport, cseq: invite.CSeq.Number, callId: invite.CallId);

    /// <summary>Receives an INVITE and answers it from the TU with <paramref name="status"/> at once.</summary>
    private static async Task<(ServerTransaction Transaction, SipRequest Invite)> AnsweredAsync(TransactionHarness h, int status, string transport = "UDP")
    {
        var invite = Request(transport: transport);
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, status, toTag: "uas-tag"));
        await h.ReceiveAsync(invite, transport == "UDP" ? SipProtocol.Udp : SipProtocol.Tcp);
        return (h.User.Requests.Single(), invite);
    }

    [Test]
    public async Task A_100_Trying_is_sent_when_the_TU_is_silent_for_200_ms()
    {
        var h = new TransactionHarness();
        await h.ReceiveAsync(Request());

        h.AdvanceMs(190);
        Assert.That(h.Sender.Sent, Is.Empty);
        h.AdvanceMs(10);

        var trying = h.Sender.Responses(100).Single();
        Assert.Multiple(() =>
        {
            Assert.That(trying.At, Is.EqualTo(TimeSpan.FromMilliseconds(200)));
            Assert.That(trying.Response.To.Tag, Is.Null);
            Assert.That(trying.Response.CSeq, Is.EqualTo(new CSeqHeader(1, "INVITE")));
        });
        h.AdvanceMs(5_000);
        Assert.That(h.Sender.Sent, Has.Count.EqualTo(1), "one 100 only");
    }

    [Test]
    public async Task No_100_Trying_is_sent_when_the_TU_answered_in_time()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 180));
        await h.ReceiveAsync(Request());

        h.AdvanceMs(1_000);

        Assert.That(h.Sender.Responses(100), Is.Empty);
        Assert.That(h.Sender.Responses(180), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_retransmitted_invite_gets_the_last_provisional_again_and_never_reaches_the_TU()
    {
        var h = new TransactionHarness();
        var (transaction, invite) = await AnsweredAsync(h, 180);

        await h.ReceiveAsync(invite);
        await h.ReceiveAsync(invite);

        Assert.That(h.Sender.Responses(180), Has.Count.EqualTo(3));
        Assert.That(h.User.Requests, Has.Count.EqualTo(1));
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Proceeding));
    }

    [Test]
    public async Task Timer_G_retransmits_the_486_doubling_up_to_T2_until_timer_H_reports_a_timeout()
    {
        var h = new TransactionHarness();
        var (transaction, _) = await AnsweredAsync(h, 486);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Completed));

        h.AdvanceMs(31_990);
        Assert.That(h.User.Failures, Is.Empty);
        h.AdvanceMs(10);

        Assert.Multiple(() =>
        {
            Assert.That(Times(h.Sender.Responses(486)),
                Is.EqualTo(new double[] { 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500 }));
            Assert.That(h.User.Failures.Single().Failure, Is.EqualTo(TransactionFailure.Timeout));
            Assert.That(transaction.State, Is.EqualTo(TransactionState.Terminated));
            Assert.That(h.Layer.ActiveCount, Is.Zero);
        });
    }

    [Test]
    public async Task The_ack_stops_timer_G_and_is_absorbed()
    {
        var h = new TransactionHarness();
        var (transaction, invite) = await AnsweredAsync(h, 486);
        h.AdvanceMs(2_000);

        await h.ReceiveAsync(AckFor(invite));
        h.AdvanceMs(4_000);

        Assert.Multiple(() =>
        {
            Assert.That(Times(h.Sender.Responses(486)), Is.EqualTo(new double[] { 0, 500, 1500 }));
            Assert.That(transaction.State, Is.EqualTo(TransactionState.Confirmed));
            Assert.That(h.User.Acks, Is.Empty, "the ACK for a non-2xx belongs to the transaction");
            Assert.That(h.User.Failures, Is.Empty);
        });
    }

    [Test]
    public async Task A_retransmitted_invite_in_completed_gets_the_486_again()
    {
        var h = new TransactionHarness();
        var (_, invite) = await AnsweredAsync(h, 486);

        await h.ReceiveAsync(invite);

        Assert.That(h.Sender.Responses(486), Has.Count.EqualTo(2));
        Assert.That(h.User.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Timer_I_absorbs_retransmitted_acks_then_terminates()
    {
        var h = new TransactionHarness();
        var (transaction, invite) = await AnsweredAsync(h, 486);
        await h.ReceiveAsync(AckFor(invite));

        h.AdvanceMs(4_990);
        await h.ReceiveAsync(AckFor(invite));
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Confirmed));
        Assert.That(h.User.Acks, Is.Empty);

        h.AdvanceMs(10);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }

    [Test]
    public async Task Over_tcp_the_486_is_not_retransmitted_and_timer_I_is_zero()
    {
        var h = new TransactionHarness();
        var (transaction, invite) = await AnsweredAsync(h, 486, "TCP");

        h.AdvanceMs(10_000);
        Assert.That(h.Sender.Responses(486), Has.Count.EqualTo(1));

        await h.ReceiveAsync(AckFor(invite, transport: "TCP"), SipProtocol.Tcp);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }

    [Test]
    public async Task A_2xx_moves_to_accepted_where_invites_are_absorbed_and_acks_reach_the_TU_until_timer_L()
    {
        var h = new TransactionHarness();
        var (transaction, invite) = await AnsweredAsync(h, 200);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Accepted));

        await h.ReceiveAsync(invite);
        Assert.That(h.Sender.Responses(200), Has.Count.EqualTo(1), "the 2xx is retransmitted by the TU, not by the transaction");
        Assert.That(h.User.Requests, Has.Count.EqualTo(1));

        await h.ReceiveAsync(AckFor(invite));
        await h.ReceiveAsync(AckFor(invite, branch: "z9hG4bKack2xx"));
        Assert.That(h.User.Acks, Has.Count.EqualTo(2), "a matching ACK and a new-branch ACK both go to the TU");

        Assert.That(await transaction.SendResponseAsync(Response(invite, 200, toTag: "uas-tag")), Is.True);
        Assert.That(h.Sender.Responses(200), Has.Count.EqualTo(2), "the TU may retransmit its 2xx through the transaction");
        Assert.That(await transaction.SendResponseAsync(Response(invite, 486)), Is.False);

        h.AdvanceMs(31_990);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Accepted));
        h.AdvanceMs(10);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.User.Failures, Is.Empty);
    }

    [Test]
    public async Task A_transport_error_on_a_retransmission_of_the_final_is_reported_to_the_TU()
    {
        var h = new TransactionHarness();
        var (transaction, _) = await AnsweredAsync(h, 603);
        h.Sender.Fail = true;

        h.AdvanceMs(500);

        Assert.That(h.User.Failures.Single().Failure, Is.EqualTo(TransactionFailure.TransportError));
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Terminated));
    }
}
