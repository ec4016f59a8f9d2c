using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Dialogs;

public class DialogTests
{
    internal static SipRequest Invite() => Parse(
        "INVITE sip:bob@callpark.lab SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa1\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:alice@callpark.lab>;tag=alice-tag\r\n" +
        "To: <sip:bob@callpark.lab>\r\n" +
        "Call-ID: call-1\r\n" +
        "CSeq: 10 INVITE\r\n" +
        "Contact: <sip:alice@127.0.0.1:5070>\r\n" +
        "Record-Route: <sip:127.0.0.1:5062;lr>, <sip:127.0.0.1:5060;lr>\r\n" +
        "Content-Length: 0\r\n\r\n");

    internal static SipRequest Parse(string text) => (SipRequest)SipParser.Parse(System.Text.Encoding.UTF8.GetBytes(text)).Message!;

    internal static SipResponse Ok(SipRequest invite)
    {
        var ok = SipResponse.CreateFor(invite, 200, toTag: "bob-tag");
        ok.Headers.Add(HeaderNames.Contact, "<sip:bob@127.0.0.1:5080>");
        foreach (var rr in invite.Headers.GetAll(HeaderNames.RecordRoute)) ok.Headers.Add(HeaderNames.RecordRoute, rr);
        return ok;
    }

    [Test]
    public void A_uac_dialog_sends_bye_to_the_remote_target_through_the_reversed_route_set()
    {
        var invite = Invite();
        var dialog = Dialog.FromUac(invite, Ok(invite));
        var bye = dialog.CreateRequest(SipMethods.Bye);
        Assert.Multiple(() =>
        {
            Assert.That(dialog.State, Is.EqualTo(DialogState.Confirmed));
            Assert.That(dialog.Id, Is.EqualTo(new DialogId("call-1", "alice-tag", "bob-tag")));
            Assert.That(bye.RequestUri.ToString(), Is.EqualTo("sip:bob@127.0.0.1:5080"));
            Assert.That(bye.Routes.Select(r => r.Uri.Port), Is.EqualTo(new int?[] { 5060, 5062 }));
            Assert.That(bye.From.Tag, Is.EqualTo("alice-tag"));
            Assert.That(bye.To.Tag, Is.EqualTo("bob-tag"));
            Assert.That(bye.CSeq, Is.EqualTo(new CSeqHeader(11, "BYE")));
        });
    }

    [Test]
    public void A_uas_dialog_keeps_the_route_set_in_order_and_targets_the_callers_contact()
    {
        var dialog = Dialog.FromUas(Invite(), "bob-tag");
        var bye = dialog.CreateRequest(SipMethods.Bye);
        Assert.Multiple(() =>
        {
            Assert.That(dialog.Id, Is.EqualTo(new DialogId("call-1", "bob-tag", "alice-tag")));
            Assert.That(bye.RequestUri.ToString(), Is.EqualTo("sip:alice@127.0.0.1:5070"));
            Assert.That(bye.Routes.Select(r => r.Uri.Port), Is.EqualTo(new int?[] { 5062, 5060 }));
            Assert.That(bye.From.Tag, Is.EqualTo("bob-tag"));
            Assert.That(bye.To.Tag, Is.EqualTo("alice-tag"));
            Assert.That(bye.CSeq.Number, Is.EqualTo(1));
        });
    }

    [Test]
    public void An_in_dialog_request_with_an_old_cseq_is_refused_and_a_reinvite_refreshes_the_target()
    {
        var dialog = Dialog.FromUas(Invite(), "bob-tag");
        var stale = Parse("INFO sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:alice@callpark.lab>;tag=alice-tag\r\nTo: <sip:bob@callpark.lab>;tag=bob-tag\r\nCall-ID: call-1\r\nCSeq: 10 INFO\r\nContent-Length: 0\r\n\r\n");
        var refresh = Parse("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKy\r\nFrom: <sip:alice@callpark.lab>;tag=alice-tag\r\nTo: <sip:bob@callpark.lab>;tag=bob-tag\r\nCall-ID: call-1\r\nCSeq: 11 INVITE\r\nContact: <sip:alice@127.0.0.9:6000>\r\nContent-Length: 0\r\n\r\n");
        Assert.Multiple(() =>
        {
            Assert.That(dialog.AcceptRemoteRequest(stale), Is.False);
            Assert.That(dialog.AcceptRemoteRequest(refresh), Is.True);
            Assert.That(dialog.RemoteTarget.ToString(), Is.EqualTo("sip:alice@127.0.0.9:6000"));
        });
    }

    [Test]
    public void Replaces_matches_its_to_tag_against_the_local_tag_and_its_from_tag_against_the_remote_tag()
    {
        var table = new DialogTable();
        var invite = Invite();
        var dialog = Dialog.FromUac(invite, Ok(invite));
        Assert.That(table.TryAdd(dialog), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(table.FindForReplaces(new ReplacesHeader("call-1", "alice-tag", "bob-tag"), out var found), Is.EqualTo(ReplacesMatch.Found));
            Assert.That(found, Is.SameAs(dialog));
            Assert.That(table.FindForReplaces(new ReplacesHeader("call-1", "bob-tag", "alice-tag"), out _), Is.EqualTo(ReplacesMatch.NotFound));
            Assert.That(table.FindForReplaces(new ReplacesHeader("call-2", "alice-tag", "bob-tag"), out _), Is.EqualTo(ReplacesMatch.NotFound));
            Assert.That(table.FindForReplaces(new ReplacesHeader("call-1", "alice-tag", "bob-tag", EarlyOnly: true), out _), Is.EqualTo(ReplacesMatch.AlreadyConfirmed));
        });
    }

    [Test]
    public void Replaces_of_an_early_dialog_this_side_answered_is_not_found_and_of_an_ended_one_is_terminated()
    {
        var table = new DialogTable();
        var uas = Dialog.FromUas(Invite(), "bob-tag");
        table.TryAdd(uas);
        Assert.That(table.FindForReplaces(new ReplacesHeader("call-1", "bob-tag", "alice-tag"), out _), Is.EqualTo(ReplacesMatch.NotFound));
        uas.Confirm();
        uas.Terminate();
        Assert.That(table.FindForReplaces(new ReplacesHeader("call-1", "bob-tag", "alice-tag"), out _), Is.EqualTo(ReplacesMatch.Terminated));
    }

    [Test]
    public void A_dialog_has_one_owner_in_the_table()
    {
        var table = new DialogTable();
        var invite = Invite();
        Assert.That(table.TryAdd(Dialog.FromUac(invite, Ok(invite))), Is.True);
        Assert.That(table.TryAdd(Dialog.FromUac(invite, Ok(invite))), Is.False);
    }
}
