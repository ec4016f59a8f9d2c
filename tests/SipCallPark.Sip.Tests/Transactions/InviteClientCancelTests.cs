using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transactions;
using static SipCallPark.Sip.Tests.Transactions.TransactionHarness;

namespace SipCallPark.Sip.Tests.Transactions;

public class InviteClientCancelTests
{
    [Test]
    public async Task Cancel_before_any_provisional_is_held_until_a_180_arrives_then_sent_with_the_right_headers()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());

        var cancelling = invite.CancelAsync();
        h.AdvanceMs(1000);
        Assert.That(h.Sender.Requests("CANCEL"), Is.Empty);

        await h.ReceiveAsync(Response(request, 180));
        var sent = h.Sender.Requests("CANCEL").Single();
        var cancel = sent.Request;
        Assert.Multiple(() =>
        {
            Assert.That(sent.At, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(sent.Destination, Is.EqualTo(PeerEndPoint()));
            Assert.That(cancel.RequestUri, Is.EqualTo(request.RequestUri));
            Assert.That(cancel.CallId, Is.EqualTo(request.CallId));
            Assert.That(cancel.Headers.Get(HeaderNames.From), Is.EqualTo(request.Headers.Get(HeaderNames.From)));
            Assert.That(cancel.Headers.Get(HeaderNames.To), Is.EqualTo(request.Headers.Get(HeaderNames.To)));
            Assert.That(cancel.To.Tag, Is.Null);
            Assert.That(cancel.CSeq, Is.EqualTo(new CSeqHeader(1, "CANCEL")));
            Assert.That(cancel.Vias.Select(v => v.ToString()), Is.EqualTo(new[] { request.TopVia!.ToString() }));
            Assert.That(cancel.Headers.GetAll(HeaderNames.Route), Is.EqualTo(request.Headers.GetAll(HeaderNames.Route)));
            Assert.That(h.Layer.ActiveCount, Is.EqualTo(2), "the CANCEL runs in its own transaction");
        });

        await h.ReceiveAsync(Response(cancel, 200));
        var result = await Within(cancelling);
        Assert.That(result?.StatusCode, Is.EqualTo(200));
        Assert.That(invite.State, Is.EqualTo(TransactionState.Proceeding), "the 200 to the CANCEL does not touch the INVITE");

        await h.ReceiveAsync(Response(request, 487));
        Assert.That((await Within(invite.Completion)).StatusCode, Is.EqualTo(487));
        Assert.That(h.Sender.Requests("ACK"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Cancel_while_proceeding_is_sent_at_once()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        await h.ReceiveAsync(Response(request, 183));

        var cancelling = invite.CancelAsync();

        Assert.That(h.Sender.Requests("CANCEL"), Has.Count.EqualTo(1));
        var again = invite.CancelAsync();
        Assert.That(h.Sender.Requests("CANCEL"), Has.Count.EqualTo(1), "a second CancelAsync shares the first CANCEL");
        await h.ReceiveAsync(Response(h.Sender.Requests("CANCEL")[0].Request, 200));
        Assert.That((await Within(cancelling))?.StatusCode, Is.EqualTo(200));
        Assert.That((await Within(again))?.StatusCode, Is.EqualTo(200));
    }

    [Test]
    public async Task Cancel_after_the_final_response_is_never_sent()
    {
        var h = new TransactionHarness();
        var request = Request();
        var invite = await h.Layer.SendInviteAsync(request, PeerEndPoint());
        await h.ReceiveAsync(Response(request, 486));

        Assert.That(await Within(invite.CancelAsync()), Is.Null);
        Assert.That(h.Sender.Requests("CANCEL"), Is.Empty);
    }

    [Test]
    public async Task A_held_cancel_is_dropped_when_timer_B_ends_the_invite()
    {
        var h = new TransactionHarness();
        var invite = await h.Layer.SendInviteAsync(Request(), PeerEndPoint());
        var cancelling = invite.CancelAsync();

        h.AdvanceMs(32_000);

        Assert.That(await Within(cancelling), Is.Null);
        Assert.That(h.Sender.Requests("CANCEL"), Is.Empty);
        Assert.That((await Within(invite.Completion)).IsTimeout, Is.True);
    }
}
