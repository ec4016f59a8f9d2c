using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class NonInviteServerTransactionTests
{
    [Test]
    public async Task A_retransmitted_request_in_trying_is_absorbed()
    {
        var h = new TransactionHarness();
        var options = Request("OPTIONS");

        await h.ReceiveAsync(options);
        await h.ReceiveAsync(options);
        h.AdvanceMs(1_000);

        Assert.That(h.User.Requests, Has.Count.EqualTo(1));
        Assert.That(h.User.Requests.Single().State, Is.EqualTo(TransactionState.Trying));
        Assert.That(h.Sender.Sent, Is.Empty, "no automatic 100 for a non-INVITE");
    }

    [Test]
    public async Task A_provisional_moves_to_proceeding_and_is_sent_again_for_a_retransmission()
    {
        var h = new TransactionHarness();
        var refer = Request("REFER");
        await h.ReceiveAsync(refer);
        var transaction = h.User.Requests.Single();

        Assert.That(await transaction.SendResponseAsync(Response(refer, 100, toTag: null)), Is.True);
        await h.ReceiveAsync(refer);

        Assert.That(transaction.State, Is.EqualTo(TransactionState.Proceeding));
        Assert.That(h.Sender.Responses(100), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_retransmitted_request_gets_the_cached_final_response_until_timer_J()
    {
        var h = new TransactionHarness();
        var bye = Request("BYE", toTag: "bob-tag");
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 200));
        await h.ReceiveAsync(bye);
        var transaction = h.User.Requests.Single();
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Completed));

        h.AdvanceMs(31_990);
        await h.ReceiveAsync(bye);
        Assert.That(h.Sender.Responses(200), Has.Count.EqualTo(2));
        Assert.That(h.User.Requests, Has.Count.EqualTo(1));

        h.AdvanceMs(10);
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }

    [Test]
    public async Task Over_tcp_timer_J_is_zero()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 200));

        await h.ReceiveAsync(Request("OPTIONS", transport: "TCP"), SipProtocol.Tcp);

        Assert.That(h.User.Requests.Single().State, Is.EqualTo(TransactionState.Terminated));
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }

    [Test]
    public async Task A_second_final_response_is_refused_without_throwing()
    {
        var h = new TransactionHarness();
        var options = Request("OPTIONS");
        await h.ReceiveAsync(options);
        var transaction = h.User.Requests.Single();

        Assert.That(await transaction.SendResponseAsync(Response(options, 200)), Is.True);
        Assert.That(await transaction.SendResponseAsync(Response(options, 500)), Is.False);
        Assert.That(transaction.LastResponse?.StatusCode, Is.EqualTo(200));
    }
}
