using System.Buffers;
using System.Text;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Tests.Message.Torture;

namespace SipCallPark.Sip.Tests.Message.RoundTrip;

/// <summary>
/// docs/design.md §4 "serialization round-trips what it parsed": an untouched message is written back byte for byte, and
/// parse ∘ serialize ∘ parse gives the same typed values, for the torture vectors and for generated messages.
/// </summary>
public class RoundTripTests
{
    private const int GeneratedCount = 1_000;

    /// <summary>The accepted vectors that carry a Content-Length and hold exactly one message.</summary>
    private static IEnumerable<TestCaseData> ByteExactVectors() =>
        ValidVectors.All.Concat(InvalidVectors.All).Concat(ApplicationVectors.All)
            .Where(v => v.Name is not ("dblreq" or "trws" or "inv2543") && IsAccepted(v.Bytes))
            .Select(v => new TestCaseData(v.Bytes).SetArgDisplayNames(v.Name));

    [TestCaseSource(nameof(ByteExactVectors))]
    public void An_untouched_accepted_vector_serializes_byte_identical(byte[] bytes)
    {
        var message = SipParser.Parse(bytes).Message!;
        Assert.That(Serialize(message), Is.EqualTo(bytes));
    }

    [TestCaseSource(nameof(ByteExactVectors))]
    public void Parse_serialize_parse_of_a_vector_gives_the_same_typed_values(byte[] bytes) => AssertStableThroughRoundTrip(bytes);

    [Test]
    public void The_first_of_two_requests_in_a_datagram_serializes_as_exactly_its_own_bytes()
    {
        var message = SipParser.Parse(ValidVectors.Dblreq).Message!;
        var written = Serialize(message);
        Assert.That(written, Is.EqualTo(ValidVectors.Dblreq.AsSpan(0, written.Length).ToArray()));
        Assert.That(Encoding.ASCII.GetString(written), Does.EndWith("Content-Length: 0\r\n\r\n"));
    }

    [Test]
    public void A_message_parsed_without_content_length_gains_one_when_written()
    {
        var message = SipParser.Parse(ApplicationVectors.Inv2543).Message!;
        var again = SipParser.Parse(Serialize(message)).Message!;
        Assert.Multiple(() =>
        {
            Assert.That(again.Headers.Get(HeaderNames.ContentLength), Is.EqualTo(message.Body.Length.ToString()));
            Assert.That(again.Body.ToArray(), Is.EqualTo(message.Body.ToArray()));
        });
    }

    [Test]
    public void Generated_messages_parse_to_the_values_they_were_built_from()
    {
        var generator = new MessageGenerator(3261);
        for (var n = 0; n < GeneratedCount; n++)
        {
            var g = generator.Next();
            var text = Encoding.UTF8.GetString(g.Bytes);
            var r = (SipRequest)SipParser.Parse(g.Bytes).Message!;
            Assert.That(r, Is.Not.Null, text);
            Assert.That(SipMessageValidator.Validate(r), Is.Null, text);
            Assert.Multiple(() =>
            {
                Assert.That(r.Method, Is.EqualTo(g.Method), text);
                Assert.That(r.RequestUri.UnescapedUser, Is.EqualTo(g.RequestUser), text);
                Assert.That(r.RequestUri.Host, Is.EqualTo(g.RequestHost), text);
                Assert.That(r.RequestUri.Port, Is.EqualTo(g.RequestPort), text);
                Assert.That(r.To.Uri.UnescapedUser, Is.EqualTo(g.RequestUser), text);
                Assert.That(r.From.DisplayName, Is.EqualTo(g.FromDisplay), text);
                Assert.That(r.From.Uri.UnescapedUser, Is.EqualTo(g.FromUser), text);
                Assert.That(r.From.Tag, Is.EqualTo(g.FromTag), text);
                Assert.That(r.CallId, Is.EqualTo(g.CallId), text);
                Assert.That(r.CSeq, Is.EqualTo(new CSeqHeader(g.CSeq, g.Method)), text);
                Assert.That(r.MaxForwards, Is.EqualTo(g.MaxForwards), text);
                Assert.That(r.Vias.Select(v => (v.Transport, v.Host, v.Port, v.Branch!)), Is.EqualTo(g.Vias), text);
                Assert.That(r.Contacts.Select(c => c.Uri.Host), Is.EqualTo(g.ContactHosts), text);
                Assert.That(r.Body.Length, Is.EqualTo(g.BodyLength), text);
            });
        }
    }

    [Test]
    public void Generated_messages_serialize_byte_identical_and_reparse_to_the_same_typed_values()
    {
        var generator = new MessageGenerator(3986);
        for (var n = 0; n < GeneratedCount; n++)
        {
            var bytes = generator.Next().Bytes;
            Assert.That(Serialize(SipParser.Parse(bytes).Message!), Is.EqualTo(bytes), Encoding.UTF8.GetString(bytes));
            AssertStableThroughRoundTrip(bytes);
        }
    }

    [Test]
    public void Generated_messages_rebuilt_from_their_values_in_code_reparse_to_the_same_typed_values()
    {
        var generator = new MessageGenerator(4475);
        for (var n = 0; n < GeneratedCount / 4; n++)
        {
            var parsed = (SipRequest)SipParser.Parse(generator.Next().Bytes).Message!;
            var headers = new SipHeaders();
            foreach (var h in parsed.Headers) headers.Add(h.Name, h.Value);
            var rebuilt = new SipRequest(parsed.Method, SipUri.Parse(parsed.RequestUri.ToString()), headers, parsed.Body);
            var reparsed = SipParser.Parse(rebuilt.ToArray()).Message!;
            Assert.That(TypedSnapshot.Of(reparsed), Is.EqualTo(TypedSnapshot.Of(parsed)));
        }
    }

    [Test]
    public void Edited_headers_are_written_in_code_form_and_the_rest_stays_raw()
    {
        var message = SipParser.Parse(ValidVectors.Wsinv).Message!;
        message.Headers.Prepend(HeaderNames.Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours");
        message.Headers.Set(HeaderNames.MaxForwards, "41");
        var text = Encoding.UTF8.GetString(Serialize(message));
        var again = SipParser.Parse(Encoding.UTF8.GetBytes(text)).Message!;
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKours\r\nVia  : SIP  /   2.0\r\n /UDP"));
            Assert.That(text, Does.Contain("Max-Forwards: 41\r\n"));
            Assert.That(text, Does.Contain("TO :\r\n sip:orbit7001@park.lab.test ;   tag    = 7731a\r\n"));
            Assert.That(again.Vias.Select(v => v.Branch), Is.EqualTo(new[] { "z9hG4bKours", "oldstyle77", "z9hG4bKfold2", "z9hG4bKfold3" }));
            Assert.That(again.MaxForwards, Is.EqualTo(41));
            Assert.That(again.From.DisplayName, Is.EqualTo("Carol \"Q\" Ruiz \\"));
        });
    }

    private static void AssertStableThroughRoundTrip(byte[] bytes)
    {
        var first = SipParser.Parse(bytes).Message!;
        var second = SipParser.Parse(Serialize(first)).Message!;
        Assert.That(TypedSnapshot.Of(second), Is.EqualTo(TypedSnapshot.Of(first)), Encoding.UTF8.GetString(bytes));
    }

    private static bool IsAccepted(byte[] bytes)
    {
        var result = SipParser.Parse(bytes);
        return result.Message switch
        {
            SipRequest r => SipMessageValidator.Validate(r) is null,
            SipResponse s => SipMessageValidator.Validate(s) is null,
            _ => false,
        };
    }

    private static byte[] Serialize(SipMessage message)
    {
        var writer = new ArrayBufferWriter<byte>();
        message.WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }
}
