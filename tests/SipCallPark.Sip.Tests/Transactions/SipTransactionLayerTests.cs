using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class SipTransactionLayerTests
{
    [Test]
    public async Task A_cancel_for_an_unknown_transaction_is_answered_481()
    {
        var h = new TransactionHarness();

        await h.ReceiveAsync(Request("CANCEL"));

        var answer = h.Sender.Responses(481).Single().Response;
        Assert.That(answer.CSeq.Method, Is.EqualTo("CANCEL"));
        Assert.That(answer.To.Tag, Is.Not.Null);
        Assert.That(h.User.Cancels, Is.Empty);
        Assert.That(h.User.Requests, Is.Empty);
    }

    [Test]
    public async Task A_cancel_matching_an_invite_in_proceeding_is_answered_200_and_the_TU_is_told()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 180, toTag: "uas-tag"));
        await h.ReceiveAsync(Request());
        var invite = (InviteServerTransaction)h.User.Requests.Single();

        await h.ReceiveAsync(Request("CANCEL"));

        var ok = h.Sender.Responses(200).Single().Response;
        Assert.Multiple(() =>
        {
            Assert.That(ok.CSeq.Method, Is.EqualTo("CANCEL"));
            Assert.That(ok.To.Tag, Is.EqualTo("uas-tag"), "same To tag as the INVITE's responses (§9.2)");
            Assert.That(h.User.Cancels.Single().Invite, Is.SameAs(invite));
            Assert.That(h.User.Requests, Has.Count.EqualTo(1), "the CANCEL itself is not a new request for the TU");
        });

        Assert.That(await invite.SendResponseAsync(Response(invite.Request, 487, toTag: "uas-tag")), Is.True);
        Assert.That(invite.State, Is.EqualTo(TransactionState.Completed));
    }

    [Test]
    public async Task A_cancel_after_the_final_response_gets_200_but_the_TU_is_not_told()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 486));
        await h.ReceiveAsync(Request());

        await h.ReceiveAsync(Request("CANCEL"));

        Assert.That(h.Sender.Responses(200).Single().Response.CSeq.Method, Is.EqualTo("CANCEL"));
        Assert.That(h.User.Cancels, Is.Empty);
    }

    [Test]
    public async Task A_retransmitted_cancel_gets_the_same_answer_and_the_TU_hears_once()
    {
        var h = new TransactionHarness();
        await h.ReceiveAsync(Request());

        await h.ReceiveAsync(Request("CANCEL"));
        await h.ReceiveAsync(Request("CANCEL"));

        Assert.That(h.Sender.Responses(200), Has.Count.EqualTo(2));
        Assert.That(h.User.Cancels, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Responses_are_matched_by_top_via_branch_and_cseq_method()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        await h.ReceiveAsync(Response(request, 180));
        var cancelling = invite.CancelAsync();
        var cancel = h.Sender.Requests("CANCEL").Single().Request;

        await h.ReceiveAsync(Response(cancel, 200));

        Assert.That((await Within(cancelling))?.StatusCode, Is.EqualTo(200));
        Assert.That(invite.State, Is.EqualTo(TransactionState.Proceeding));
        Assert.That(invite.Completion.IsCompleted, Is.False);
    }

    [Test]
    public async Task A_response_matching_no_transaction_goes_to_the_TU_as_stray()
    {
        var h = new TransactionHarness();

        await h.ReceiveAsync(Response(Request(branch: "z9hG4bKunknown"), 200));

        Assert.That(h.User.StrayResponses, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_ack_matching_no_transaction_goes_to_the_TU()
    {
        var h = new TransactionHarness();

        await h.ReceiveAsync(Request("ACK", branch: "z9hG4bKack", toTag: "t"));

        Assert.That(h.User.Acks, Has.Count.EqualTo(1));
        Assert.That(h.Layer.ActiveCount, Is.Zero, "an ACK never creates a transaction");
    }

    [Test]
    public async Task The_same_branch_from_another_sent_by_is_another_transaction()
    {
        var h = new TransactionHarness();
        var first = Request("OPTIONS");
        var second = (SipRequest)Parse(first.ToString().Replace("127.0.0.1:5070;branch", "127.0.0.2:5070;branch"));

        await h.ReceiveAsync(first);
        await h.ReceiveAsync(second);

        Assert.That(h.User.Requests, Has.Count.EqualTo(2));
        Assert.That(h.Layer.ActiveCount, Is.EqualTo(2));
    }

    [Test]
    public async Task Requests_without_a_magic_cookie_are_matched_by_the_RFC_2543_rules()
    {
        var h = new TransactionHarness();
        var invite = Request(branch: null);
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 486, toTag: "uas-tag"));

        await h.ReceiveAsync(invite);
        await h.ReceiveAsync(invite);
        await h.ReceiveAsync(Request(branch: null, cseq: 2));

        Assert.That(h.User.Requests, Has.Count.EqualTo(2), "the retransmission matched, the next CSeq did not");
        Assert.That(h.Sender.Responses(486), Has.Count.EqualTo(3));
    }

    [Test]
    public async Task An_RFC_2543_ack_matches_by_the_to_tag_of_the_response_sent()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 486, toTag: "uas-tag"));
        await h.ReceiveAsync(Request(branch: null));
        var transaction = h.User.Requests.Single();

        await h.ReceiveAsync(Request("ACK", branch: null, toTag: "other-tag"));
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Completed), "an ACK with another To tag is not ours");
        Assert.That(h.User.Acks, Has.Count.EqualTo(1));

        await h.ReceiveAsync(Request("ACK", branch: null, toTag: "uas-tag"));
        Assert.That(transaction.State, Is.EqualTo(TransactionState.Confirmed));
        Assert.That(h.User.Acks, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_RFC_2543_cancel_matches_its_invite()
    {
        var h = new TransactionHarness();
        await h.ReceiveAsync(Request(branch: null));

        await h.ReceiveAsync(Request("CANCEL", branch: null));

        Assert.That(h.User.Cancels, Has.Count.EqualTo(1));
        Assert.That(h.Sender.Responses(200), Has.Count.EqualTo(1));
    }

    [Test]
    public void Sending_needs_a_magic_cookie_branch_and_never_takes_an_ack()
    {
        var h = new TransactionHarness();

        Assert.ThrowsAsync<ArgumentException>(() => h.Layer.SendRequestAsync(Request(branch: "old-style"), PeerEndPoint()));
        Assert.ThrowsAsync<ArgumentException>(() => h.Layer.SendRequestAsync(Request("ACK"), PeerEndPoint()));
        Assert.That(h.Sender.Sent, Is.Empty);
    }

    [Test]
    public async Task A_second_request_with_a_running_branch_is_refused()
    {
        var h = new TransactionHarness();
        await h.Layer.SendRequestAsync(Request("OPTIONS"), PeerEndPoint());

        Assert.ThrowsAsync<InvalidOperationException>(() => h.Layer.SendRequestAsync(Request("OPTIONS"), PeerEndPoint()));
    }

    [Test]
    public async Task A_TU_that_throws_leaves_the_request_answered_500()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = _ => throw new InvalidOperationException("boom");

        await h.ReceiveAsync(Request("OPTIONS"));

        Assert.That(h.Sender.Responses(500), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Active_count_follows_transactions_until_they_terminate()
    {
        var h = new TransactionHarness();
        h.User.OnRequest = t => t.SendResponseAsync(Response(t.Request, 200));
        await h.ReceiveAsync(Request("OPTIONS", branch: "z9hG4bKserver"));
        await h.Layer.SendRequestAsync(Request("OPTIONS", branch: "z9hG4bKclient"), PeerEndPoint());

        Assert.That(h.Layer.ActiveCount, Is.EqualTo(2));
        h.AdvanceMs(32_000);
        Assert.That(h.Layer.ActiveCount, Is.Zero);
    }
}
