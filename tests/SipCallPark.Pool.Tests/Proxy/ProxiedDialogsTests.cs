using System.Text;
using Microsoft.Extensions.Time.Testing;
using SipCallPark.Pool.Proxy;
using SipCallPark.Sip.Message;

namespace SipCallPark.Pool.Tests.Proxy;

[TestFixture]
public sealed class ProxiedDialogsTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-07T22:00:00Z"));

    private static T Parse<T>(string startLine, string fromTag, string? toTag, string cseq) where T : SipMessage
    {
        var to = toTag is null ? "<sip:bob@callpark.lab>" : $"<sip:bob@callpark.lab>;tag={toTag}";
        var text = $"{startLine}\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@callpark.lab>;tag={fromTag}\r\nTo: {to}\r\n" +
                   $"Call-ID: call-1\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\nContact: <sip:x@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n";
        return (T)SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;
    }

    private ProxiedDialogs AliceCalledBob()
    {
        var dialogs = new ProxiedDialogs(_time);
        dialogs.Add(Parse<SipRequest>("INVITE sip:bob@callpark.lab SIP/2.0", "a1", null, "1 INVITE"),
            Parse<SipResponse>("SIP/2.0 200 OK", "a1", "b1", "1 INVITE"));
        return dialogs;
    }

    [Test]
    public void An_in_dialog_request_of_a_party_raises_that_partys_last_CSeq()
    {
        var dialogs = AliceCalledBob();

        dialogs.NoteInDialog(Parse<SipRequest>("INFO sip:bob@127.0.0.1:5071 SIP/2.0", "a1", "b1", "7 INFO"));

        Assert.That(dialogs.LastCSeq("call-1", "a1"), Is.EqualTo(7));
    }

    [Test]
    public void A_request_with_made_up_tags_on_a_known_Call_ID_is_not_counted()
    {
        var dialogs = AliceCalledBob();

        for (var i = 0; i < 100; i++)
            dialogs.NoteInDialog(Parse<SipRequest>("INFO sip:bob@127.0.0.1:5071 SIP/2.0", $"forged{i}", "b1", "9 INFO"));
        dialogs.NoteInDialog(Parse<SipRequest>("INFO sip:bob@127.0.0.1:5071 SIP/2.0", "a1", "not-bob", "9 INFO"));

        Assert.Multiple(() =>
        {
            Assert.That(dialogs.LastCSeq("call-1", "forged0"), Is.Null, "a tag that is no party's gets no entry");
            Assert.That(dialogs.LastCSeq("call-1", "a1"), Is.EqualTo(1), "a party's tag beside a wrong To tag changes nothing");
        });
    }
}
