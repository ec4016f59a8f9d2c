using SipCallPark.Sip.Message;
using static SipCallPark.Sip.Tests.Message.Torture.ApplicationVectors;

namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>RFC 4475 §3.3: messages that parse, and what an element does with them next.</summary>
public class ApplicationLevelTests
{
    private static readonly string[] OurOptionTags = ["replaces", "timer", "path", "norefersub"];

    [Test]
    public void Insuf_missing_to_from_and_call_id_is_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Insuf), Is.EqualTo(400));

    [Test]
    public void Unkscm_unknown_request_uri_scheme_is_rejected_with_416()
    {
        var r = Receive.ParsedRequest(Unkscm);
        Assert.Multiple(() =>
        {
            Assert.That(r.RequestUri.Scheme, Is.EqualTo("neverheardofit"));
            Assert.That(r.RequestUri.Opaque, Is.EqualTo("completely-opaque-stuff"));
            Assert.That(SipMessageValidator.Validate(r)?.StatusCode, Is.EqualTo(416));
        });
    }

    [Test]
    public void Novelsc_novel_scheme_parses_as_a_request_and_is_rejected_with_416()
    {
        var r = Receive.ParsedRequest(Novelsc);
        Assert.Multiple(() =>
        {
            Assert.That(r.RequestUri.Scheme, Is.EqualTo("x-novel.scheme"));
            Assert.That(r.RequestUri.Opaque, Is.EqualTo("//203.0.113.42:4004"));
            Assert.That(r.To.Uri.User, Is.EqualTo("park"));
            Assert.That(SipMessageValidator.Validate(r)?.StatusCode, Is.EqualTo(416));
        });
    }

    [Test]
    public void Unksm2_unknown_schemes_in_to_from_and_contact_are_accepted()
    {
        var r = Receive.AcceptedRequest(Unksm2);
        Assert.Multiple(() =>
        {
            Assert.That(r.To.Uri.Scheme, Is.EqualTo("isbn"));
            Assert.That(r.To.Uri.Opaque, Is.EqualTo("9780000000002"));
            Assert.That(r.From.Uri.Scheme, Is.EqualTo("mailto"));
            Assert.That(r.From.Tag, Is.EqualTo("u2x"));
            Assert.That(r.Contacts.Single().Uri.Scheme, Is.EqualTo("name"));
            Assert.That(r.Contacts.Single().Uri.IsSip, Is.False);
        });
    }

    [Test]
    public void Bext01_unsupported_require_tags_are_answered_with_420_listing_them()
    {
        var r = Receive.AcceptedRequest(Bext01);
        var rejection = SipRequestChecks.CheckRequire(r, OurOptionTags);
        var proxy = SipRequestChecks.CheckProxyRequire(r, OurOptionTags);
        Assert.Multiple(() =>
        {
            Assert.That(rejection?.StatusCode, Is.EqualTo(420));
            Assert.That(rejection!.ToResponse(r, "t1").Headers.GetValues(HeaderNames.Unsupported), Is.EqualTo(new[] { "warpDrive", "timeTravel" }));
            Assert.That(proxy?.StatusCode, Is.EqualTo(420));
            Assert.That(proxy!.Headers.Single().Value, Is.EqualTo("teleportation, noProxyDoesThis"));
        });
    }

    [Test]
    public void Zeromf_max_forwards_of_zero_is_told_so_a_proxy_can_answer_483()
    {
        var r = Receive.AcceptedRequest(Zeromf);
        Assert.Multiple(() =>
        {
            Assert.That(r.MaxForwards, Is.EqualTo(0));
            Assert.That(SipRequestChecks.HasNoHopsLeft(r), Is.True);
            Assert.That(SipRequestChecks.CheckMaxForwards(r)?.StatusCode, Is.EqualTo(483));
        });
    }

    [Test]
    public void Invut_unknown_body_type_is_answered_with_415_and_what_is_accepted()
    {
        var r = Receive.AcceptedRequest(Invut);
        var rejection = SipRequestChecks.CheckContentType(r, ["application/sdp", "multipart/mixed"]);
        Assert.Multiple(() =>
        {
            Assert.That(rejection?.StatusCode, Is.EqualTo(415));
            Assert.That(rejection!.ToResponse(r).Headers.GetValues(HeaderNames.Accept), Is.EqualTo(new[] { "application/sdp", "multipart/mixed" }));
        });
    }

    [Test]
    public void Regaut01_unknown_authorization_scheme_parses_for_the_registrar_to_challenge()
    {
        var r = Receive.AcceptedRequest(Regaut01);
        Assert.Multiple(() =>
        {
            Assert.That(AuthHeaderValue.TryParse(r.Headers.Get(HeaderNames.Authorization)!, out var auth), Is.True);
            Assert.That(auth.Scheme, Is.EqualTo("MysteryScheme"));
            Assert.That(auth.Get("secret-stuff"), Is.EqualTo("inside"));
            Assert.That(r.Body.IsEmpty, Is.True);
        });
    }

    [Test]
    public void Multi01_repeated_single_valued_headers_are_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Multi01), Is.EqualTo(400));

    [Test]
    public void Mcl01_two_content_lengths_are_rejected_with_400() =>
        Assert.That(Receive.RejectionOf(Mcl01), Is.EqualTo(400));

    [Test]
    public void Bcast_response_with_a_broadcast_via_parses_and_its_next_hop_is_flagged()
    {
        var r = Receive.AcceptedResponse(Bcast);
        Assert.Multiple(() =>
        {
            Assert.That(r.Vias, Has.Count.EqualTo(2));
            Assert.That(r.Vias[0].IsBroadcastSentBy, Is.False);
            Assert.That(r.Vias[1].IsBroadcastSentBy, Is.True, "a proxy must not send the response on to a broadcast address");
        });
    }

    [Test]
    public void Cparam01_parameter_after_an_addr_spec_contact_belongs_to_the_header()
    {
        var contact = Receive.AcceptedRequest(Cparam01).Contacts.Single();
        Assert.Multiple(() =>
        {
            Assert.That(contact.Parameters.Contains("oddparam"), Is.True);
            Assert.That(contact.Uri.Parameters, Is.Empty);
            Assert.That(contact.Uri.User, Is.EqualTo("+15550001111"));
        });
    }

    [Test]
    public void Cparam02_parameter_inside_the_brackets_belongs_to_the_uri()
    {
        var contact = Receive.AcceptedRequest(Cparam02).Contacts.Single();
        Assert.Multiple(() =>
        {
            Assert.That(contact.Parameters, Is.Empty);
            Assert.That(contact.Uri.HasParameter("oddparam"), Is.True);
        });
    }

    [Test]
    public void Regescrt_escaped_route_in_a_bracketed_contact_is_kept_and_unescapes()
    {
        var contact = Receive.AcceptedRequest(Regescrt).Contacts.Single();
        Assert.Multiple(() =>
        {
            Assert.That(contact.Uri.GetHeader("Route"), Is.EqualTo("<sip:proxy.lab.test;lr>"));
            Assert.That(contact.Uri.ToString(), Is.EqualTo("sip:mia@lab.test?Route=%3Csip:proxy.lab.test;lr%3E"));
            Assert.That(contact.Uri.Parameters, Is.Empty, "the ';lr' is inside the escaped header");
        });
    }

    [Test]
    public void Sdp01_invite_that_does_not_accept_sdp_is_answered_with_406()
    {
        var r = Receive.AcceptedRequest(Sdp01);
        Assert.Multiple(() =>
        {
            Assert.That(SipRequestChecks.Accepts(r, "application/sdp"), Is.False);
            Assert.That(SipRequestChecks.CheckAccept(r, "application/sdp")?.StatusCode, Is.EqualTo(406));
            Assert.That(SipRequestChecks.CheckContentType(r, ["application/sdp"]), Is.Null, "the offer itself is fine");
        });
    }

    [Test]
    public void Inv2543_rfc_2543_invite_without_branch_max_forwards_or_from_tag_is_accepted()
    {
        var r = Receive.AcceptedRequest(Inv2543);
        Assert.Multiple(() =>
        {
            Assert.That(r.TopVia!.Branch, Is.Null);
            Assert.That(r.TopVia.HasTransactionId, Is.False);
            Assert.That(r.MaxForwards, Is.Null);
            Assert.That(r.From.Tag, Is.Null);
            Assert.That(r.From.Uri.GetParameter("user"), Is.EqualTo("phone"));
            Assert.That(r.RecordRoutes.Single().Uri.GetParameter("maddr"), Is.EqualTo("ss9.lab.test"));
            Assert.That(r.BodyText, Is.EqualTo(Wire.Crlf(Wire.Sdp("203.0.113.54"))), "no Content-Length: the body runs to the end of the datagram");
        });
    }
}
