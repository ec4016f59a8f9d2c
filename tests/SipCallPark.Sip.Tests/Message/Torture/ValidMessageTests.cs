using System.Text;
using SipCallPark.Sip.Message;
using static SipCallPark.Sip.Tests.Message.Torture.ValidVectors;

namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>RFC 4475 §3.1.1: valid messages parse, and the values the RFC points at come out right.</summary>
public class ValidMessageTests
{
    [Test]
    public void Wsinv_short_tortuous_invite_parses_with_its_field_values()
    {
        var r = Receive.AcceptedRequest(Wsinv);
        Assert.Multiple(() =>
        {
            Assert.That(r.RequestUri.User, Is.EqualTo("orbit7001"));
            Assert.That(r.RequestUri.HasParameter("oddparam"), Is.True);
            Assert.That(r.To.DisplayName, Is.Null);
            Assert.That(r.To.Tag, Is.EqualTo("7731a"));
            Assert.That(r.From.DisplayName, Is.EqualTo("Carol \"Q\" Ruiz \\"));
            Assert.That(r.From.Tag, Is.EqualTo("k33x9"));
            Assert.That(r.MaxForwards, Is.EqualTo(42));
            Assert.That(r.CSeq, Is.EqualTo(new CSeqHeader(31, "INVITE")));
            Assert.That(r.Vias.Select(v => (v.Transport, v.Host, v.Branch)), Is.EqualTo(new[]
            {
                ("UDP", "198.51.100.7", "oldstyle77"), ("TCP", "relay.lab.test", "z9hG4bKfold2"), ("UDP", "198.51.100.99", "z9hG4bKfold3"),
            }));
            Assert.That(r.Headers.Get("Subject"), Is.EqualTo(""));
            Assert.That(r.Headers.Get("weird-extension"), Is.EqualTo("first part second part"));
            Assert.That(r.Headers.Get("OddPunctuation"), Is.EqualTo(",;;,;,,;"));
            Assert.That(r.Routes.Single().Uri.IsLooseRouter, Is.True);
            Assert.That(r.Routes.Single().Uri.HasParameter("bare-flag"), Is.True);
            Assert.That(r.Routes.Single().Uri.GetParameter("flavour"), Is.EqualTo("mint"));
            var contact = r.Contacts.Single();
            Assert.That(contact.DisplayName, Is.EqualTo("Nick \"\" Name"));
            Assert.That(contact.Parameters.Get("extra"), Is.EqualTo("thing"));
            Assert.That(contact.Parameters.Contains("noval"), Is.True);
            Assert.That(contact.Parameters.Get("q"), Is.EqualTo("0.7"));
            Assert.That(r.ContentType, Is.EqualTo("application/sdp"));
            Assert.That(r.BodyText, Is.EqualTo(Wire.Crlf(Wire.Sdp("198.51.100.7"))));
        });
    }

    [Test]
    public void Intmeth_wide_range_of_valid_characters_parses_with_its_field_values()
    {
        var r = Receive.AcceptedRequest(Intmeth);
        Assert.Multiple(() =>
        {
            Assert.That(r.Method, Is.EqualTo(IntmethMethod));
            Assert.That(r.CSeq.Method, Is.EqualTo(IntmethMethod));
            Assert.That(r.RequestUri.User, Is.EqualTo(IntmethUser));
            Assert.That(r.RequestUri.Password, Is.EqualTo("&pw+is=2,odd!*pa$$wo~rd_ok.(isn't-it)"));
            Assert.That(r.RequestUri.Host, Is.EqualTo("lab.test"));
            Assert.That(r.RequestUri.Parameters, Is.Empty);
            Assert.That(r.TopVia!.Branch, Is.EqualTo("z9hG4bK-.!%77*_+`'~"));
            Assert.That(r.To.DisplayName, Is.EqualTo("ctl \u0000\u0007\u007F end"));
            Assert.That(r.To.Uri.User, Is.EqualTo(IntmethUser));
            Assert.That(r.From.DisplayName, Is.EqualTo("tok1~` tok2'+_ tok3*%!.-"));
            Assert.That(r.From.Parameters.Get("odd''~+*_!.-%Param"), Is.EqualTo("\"καλημέρα κόσμε\""));
            Assert.That(r.From.Tag, Is.EqualTo("_tg~2'+`*%!-."));
            Assert.That(r.CallId, Is.EqualTo(IntmethCallId));
            Assert.That(r.MaxForwards, Is.EqualTo(255));
            Assert.That(r.Headers.Get("x-Header-!.%*+_`'~"), Is.EqualTo("日本語の値"));
            Assert.That(SipRequestChecks.CheckMethod(r, [SipMethods.Invite, SipMethods.Options])?.StatusCode, Is.EqualTo(501));
        });
    }

    [Test]
    public void Esc01_escaped_users_and_contact_parameters_unescape_to_their_text()
    {
        var r = Receive.AcceptedRequest(Esc01);
        var contact = r.Contacts.Single().Uri;
        Assert.Multiple(() =>
        {
            Assert.That(r.RequestUri.UnescapedUser, Is.EqualTo("sips:root@lab.test"));
            Assert.That(r.RequestUri.Host, Is.EqualTo("park.lab.test"));
            Assert.That(r.To.Uri.UnescapedUser, Is.EqualTo("bob"));
            Assert.That(r.From.Uri.UnescapedUser, Is.EqualTo("has some spaces"));
            Assert.That(r.CallId, Is.EqualTo("esc01.77aa@lab.test"));
            Assert.That(r.ContentType, Is.EqualTo("application/sdp"));
            Assert.That(contact.UnescapedUser, Is.EqualTo("dave"));
            Assert.That(contact.IsLooseRouter, Is.True);
            Assert.That(contact.GetParameter("key"), Is.EqualTo("val%42"));
            Assert.That(contact, Is.EqualTo(SipUri.Parse("sip:dave@h5.lab.test;lr;key=val%2542")));
            Assert.That(r.Body.Length, Is.EqualTo(Encoding.UTF8.GetByteCount(Wire.Crlf(Wire.Sdp("203.0.113.5")))));
        });
    }

    [Test]
    public void Escnull_escaped_nulls_are_data_and_keep_two_contacts_apart()
    {
        var r = Receive.AcceptedRequest(Escnull);
        Assert.Multiple(() =>
        {
            Assert.That(r.To.Uri.UnescapedUser, Is.EqualTo("zero-\0-zero"));
            Assert.That(r.From.Uri.UnescapedUser, Is.EqualTo("zero-\0-zero"));
            Assert.That(r.Contacts.Select(c => c.Uri.UnescapedUser), Is.EqualTo(new[] { "\0", "\0\0" }));
            Assert.That(r.Contacts[0].Uri, Is.Not.EqualTo(r.Contacts[1].Uri));
            Assert.That(r.Body.IsEmpty, Is.True);
        });
    }

    [Test]
    public void Esc02_percent_signs_that_are_not_escapes_are_kept_literally()
    {
        var r = Receive.AcceptedRequest(Esc02);
        Assert.Multiple(() =>
        {
            Assert.That(r.Method, Is.EqualTo("OPT%49ONS"));
            Assert.That(r.Method, Is.Not.EqualTo(SipMethods.Options));
            Assert.That(r.To.DisplayName, Is.EqualTo("%Q%41"));
            Assert.That(r.From.DisplayName, Is.EqualTo("%Q%41"));
            Assert.That(r.TopVia!.Branch, Is.EqualTo("z9hG4bK31%qx99"));
            Assert.That(r.Contacts.Select(c => c.Uri.User), Is.EqualTo(new[] { "first", "third" }));
            Assert.That(r.Headers.Get("Cont%61ct"), Is.EqualTo("<sip:second@h2.lab.test>"));
            Assert.That(SipRequestChecks.CheckMethod(r, [SipMethods.Options])?.StatusCode, Is.EqualTo(501), "not OPTIONS, and no method we know");
        });
    }

    [Test]
    public void Lwsdisp_display_name_without_space_before_the_bracket_is_read()
    {
        var r = Receive.AcceptedRequest(Lwsdisp);
        Assert.Multiple(() =>
        {
            Assert.That(r.From.DisplayName, Is.EqualTo("dave"));
            Assert.That(r.From.Uri.User, Is.EqualTo("dave"));
            Assert.That(r.From.Tag, Is.EqualTo("lw5"));
        });
    }

    [Test]
    public void Longreq_long_values_and_many_via_spellings_parse_in_full()
    {
        var r = Receive.AcceptedRequest(Longreq);
        Assert.Multiple(() =>
        {
            Assert.That(r.To.DisplayName, Is.EqualTo(LongDisplay));
            Assert.That(r.To.Uri.Port, Is.EqualTo(6060));
            Assert.That(r.To.Uri.GetParameter("longparam"), Is.EqualTo(LongToken));
            Assert.That(r.From.Uri.User, Is.EqualTo(LongUser));
            Assert.That(r.From.Tag, Is.EqualTo(LongToken));
            Assert.That(r.CallId, Is.EqualTo("longreq." + LongToken));
            Assert.That(r.Headers.Get(LongHeaderName), Is.EqualTo($"{LongToken}; {LongToken}={LongToken}"));
            Assert.That(r.Vias, Has.Count.EqualTo(34));
            Assert.That(r.Vias.Take(33).Select(v => v.Host), Is.EqualTo(Enumerable.Range(1, 33).Reverse().Select(i => $"hop{i}.lab.test")));
            Assert.That(r.Vias[33].Received, Is.EqualTo("198.51.100.33"));
            Assert.That(r.Vias[33].Branch, Is.EqualTo("z9hG4bK" + LongToken));
            Assert.That(r.Contacts.Single().Uri.User, Is.EqualTo(LongUser));
            Assert.That(r.Body.Length, Is.EqualTo(Encoding.UTF8.GetByteCount(Wire.Crlf(Wire.Sdp("198.51.100.33")))));
        });
    }

    [Test]
    public void Dblreq_two_requests_in_one_datagram_yield_only_the_first_and_its_empty_body()
    {
        var r = Receive.AcceptedRequest(Dblreq);
        Assert.Multiple(() =>
        {
            Assert.That(r.Method, Is.EqualTo(SipMethods.Register));
            Assert.That(r.CallId, Is.EqualTo("dblreq.first@lab.test"));
            Assert.That(r.Body.IsEmpty, Is.True);
            Assert.That(r.Contacts.Single().Uri.Host, Is.EqualTo("h10.lab.test"));
        });
    }

    [Test]
    public void Semiuri_semicolon_in_the_user_part_stays_in_the_user()
    {
        var r = Receive.AcceptedRequest(Semiuri);
        Assert.Multiple(() =>
        {
            Assert.That(r.RequestUri.User, Is.EqualTo("eve;pp=x%40alt.lab.test"));
            Assert.That(r.RequestUri.UnescapedUser, Is.EqualTo("eve;pp=x@alt.lab.test"));
            Assert.That(r.RequestUri.Host, Is.EqualTo("park.lab.test"));
            Assert.That(r.RequestUri.Parameters, Is.Empty);
            Assert.That(r.Headers.GetValues("Accept"), Is.EqualTo(new[]
            {
                "application/sdp", "text/plain", "multipart/mixed", "multipart/alternative", "message/sipfrag", "application/dialog-info+xml",
            }));
        });
    }

    [Test]
    public void Transports_known_and_unknown_via_transports_are_read()
    {
        var r = Receive.AcceptedRequest(Transports);
        Assert.That(r.Vias.Select(v => v.Transport), Is.EqualTo(new[] { "UDP", "SCTP", "TLS", "ZZTP", "TCP" }));
        Assert.That(r.CallId, Is.EqualTo("transports.5r5@lab.test"));
    }

    [Test]
    public void Mpart01_multipart_body_with_binary_part_is_taken_whole_by_its_length()
    {
        var r = Receive.AcceptedRequest(Mpart01);
        Assert.Multiple(() =>
        {
            Assert.That(r.Body.Length, Is.EqualTo(MpartBody.Length));
            Assert.That(r.Body.ToArray(), Is.EqualTo(MpartBody));
            Assert.That(SipRequestChecks.MediaType(r.ContentType!), Is.EqualTo("multipart/mixed"));
            Assert.That(r.Headers.Get("Content-Transfer-Encoding"), Is.EqualTo("binary"));
            Assert.That(r.TopVia!.HasRPort, Is.True);
        });
    }

    [Test]
    public void Unreason_unusual_reason_phrase_is_read_exactly()
    {
        var r = Receive.AcceptedResponse(Unreason);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(200));
            Assert.That(r.ReasonPhrase, Is.EqualTo(UnusualReason));
            Assert.That(r.To.Tag, Is.EqualTo("u2"));
        });
    }

    [Test]
    public void Noreason_empty_reason_phrase_is_read_as_empty()
    {
        var r = Receive.AcceptedResponse(Noreason);
        Assert.Multiple(() =>
        {
            Assert.That(r.StatusCode, Is.EqualTo(183));
            Assert.That(r.ReasonPhrase, Is.EqualTo(""));
            Assert.That(r.IsProvisional, Is.True);
        });
    }
}
