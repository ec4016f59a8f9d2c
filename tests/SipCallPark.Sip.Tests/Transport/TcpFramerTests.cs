using System.Buffers;
using System.Text;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tests.Transport;

public class TcpFramerTests
{
    private const int Cap = 65535;

    private static string Options(string body = "", string lengthHeader = "Content-Length: {0}") =>
        "OPTIONS sip:park@example.com SIP/2.0\r\n" +
        "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n" +
        "Call-ID: a84b4c76e66710\r\n" +
        "CSeq: 1 OPTIONS\r\n" +
        string.Format(lengthHeader, Encoding.ASCII.GetByteCount(body)) + "\r\n" +
        "\r\n" + body;

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static ReadOnlySequence<byte> Sequence(string text) => new(Bytes(text));

    private static string Text(ReadOnlySequence<byte> sequence) => Encoding.ASCII.GetString(sequence.ToArray());

    private static (FrameStatus Status, string Frame, string Remaining) Read(string text, int cap = Cap)
    {
        ReadOnlySequence<byte> buffer = Sequence(text);
        FrameStatus status = TcpFramer.TryReadFrame(ref buffer, cap, out ReadOnlySequence<byte> frame);
        return (status, Text(frame), Text(buffer));
    }

    [Test]
    public void A_whole_message_is_one_frame_and_nothing_is_left()
    {
        string message = Options("v=0\r\n");

        var (status, frame, rest) = Read(message);

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(message));
        Assert.That(rest, Is.Empty);
    }

    [Test]
    public void A_message_split_byte_by_byte_is_framed_once()
    {
        byte[] message = Bytes(Options("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n"));
        int frames = 0;
        for (int received = 1; received <= message.Length; received++)
        {
            // What a pipe would hold after `received` one-byte reads: one segment per read.
            ReadOnlySequence<byte> buffer = Segments.ByteByByte(message.AsSpan(0, received));
            FrameStatus status = TcpFramer.TryReadFrame(ref buffer, Cap, out ReadOnlySequence<byte> frame);
            if (status == FrameStatus.Frame)
            {
                frames++;
                Assert.That(frame.ToArray(), Is.EqualTo(message));
                Assert.That(received, Is.EqualTo(message.Length), "framed before the last byte arrived");
            }
            else
            {
                Assert.That(status, Is.EqualTo(FrameStatus.NeedMore), $"after {received} bytes");
            }
        }

        Assert.That(frames, Is.EqualTo(1));
    }

    [Test]
    public void Three_messages_in_one_read_yield_three_frames_in_order()
    {
        string[] messages = [Options("first"), Options(), Options("third body")];
        ReadOnlySequence<byte> buffer = Sequence(string.Concat(messages));

        var frames = new List<string>();
        while (TcpFramer.TryReadFrame(ref buffer, Cap, out ReadOnlySequence<byte> frame) == FrameStatus.Frame)
        {
            frames.Add(Text(frame));
        }

        Assert.That(frames, Is.EqualTo(messages));
        Assert.That(buffer.IsEmpty, Is.True);
    }

    [Test]
    public void A_body_split_across_reads_needs_more_until_the_last_byte_arrives()
    {
        string message = Options("0123456789");
        string withoutLastByte = message[..^1];

        Assert.That(Read(withoutLastByte).Status, Is.EqualTo(FrameStatus.NeedMore));

        ReadOnlySequence<byte> buffer = Segments.Of(Bytes(message[..^6]), Bytes(message[^6..^3]), Bytes(message[^3..]));
        Assert.That(TcpFramer.TryReadFrame(ref buffer, Cap, out ReadOnlySequence<byte> frame), Is.EqualTo(FrameStatus.Frame));
        Assert.That(Text(frame), Is.EqualTo(message));
    }

    [Test]
    public void Bytes_after_a_frame_stay_in_the_buffer_for_the_next_read()
    {
        string first = Options("abc");
        string partialSecond = Options("def")[..20];

        var (status, frame, rest) = Read(first + partialSecond);

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(first));
        Assert.That(rest, Is.EqualTo(partialSecond));
    }

    [Test]
    public void A_declared_body_over_the_cap_is_too_large_before_the_body_arrives()
    {
        string headers = Options()[..^("Content-Length: 0\r\n\r\n".Length)] + "Content-Length: 5000\r\n\r\n";

        Assert.That(Read(headers, cap: 1000).Status, Is.EqualTo(FrameStatus.TooLarge));
    }

    [Test]
    public void A_message_one_byte_over_the_cap_is_too_large_and_one_at_the_cap_is_a_frame()
    {
        string message = Options("body");
        int length = Encoding.ASCII.GetByteCount(message);

        Assert.That(Read(message, cap: length).Status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(Read(message, cap: length - 1).Status, Is.EqualTo(FrameStatus.TooLarge));
    }

    [Test]
    public void A_header_section_that_never_ends_is_too_large_once_it_reaches_the_cap()
    {
        string endless = "INVITE sip:a@b SIP/2.0\r\n" + string.Concat(Enumerable.Repeat("X-Filler: yyyyyyyyyy\r\n", 100));

        Assert.That(Read(endless, cap: 4096).Status, Is.EqualTo(FrameStatus.NeedMore));
        Assert.That(Read(endless, cap: 1000).Status, Is.EqualTo(FrameStatus.TooLarge));
    }

    [Test]
    public void A_double_CRLF_ping_is_reported_and_consumed()
    {
        string message = Options();

        var (status, _, rest) = Read("\r\n\r\n" + message);

        Assert.That(status, Is.EqualTo(FrameStatus.KeepAlivePing));
        Assert.That(rest, Is.EqualTo(message));
    }

    [Test]
    public void A_single_CRLF_before_a_message_is_skipped()
    {
        string message = Options("x");

        var (status, frame, _) = Read("\r\n" + message);

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(message));
    }

    [TestCase("\r")]
    [TestCase("\r\n")]
    [TestCase("\r\n\r")]
    public void The_start_of_a_ping_needs_more_and_is_not_a_partial_message(string prefix)
    {
        ReadOnlySequence<byte> buffer = Sequence(prefix);

        Assert.That(TcpFramer.TryReadFrame(ref buffer, Cap, out _), Is.EqualTo(FrameStatus.NeedMore));
        Assert.That(TcpFramer.HasPartialMessage(buffer), Is.False);
    }

    [Test]
    public void Half_a_message_is_a_partial_message()
    {
        ReadOnlySequence<byte> buffer = Sequence(Options()[..30]);

        Assert.That(TcpFramer.TryReadFrame(ref buffer, Cap, out _), Is.EqualTo(FrameStatus.NeedMore));
        Assert.That(TcpFramer.HasPartialMessage(buffer), Is.True);
    }

    [Test]
    public void A_ping_split_across_segments_is_still_one_ping()
    {
        ReadOnlySequence<byte> buffer = Segments.Of(Bytes("\r"), Bytes("\n\r"), Bytes("\n"));

        Assert.That(TcpFramer.TryReadFrame(ref buffer, Cap, out _), Is.EqualTo(FrameStatus.KeepAlivePing));
        Assert.That(buffer.IsEmpty, Is.True);
    }

    [Test]
    public void A_message_without_Content_Length_is_malformed()
    {
        string message = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n";

        Assert.That(Read(message).Status, Is.EqualTo(FrameStatus.Malformed));
    }

    [Test]
    public void A_start_line_with_no_headers_is_malformed()
    {
        Assert.That(Read("OPTIONS sip:a@b SIP/2.0\r\n\r\n").Status, Is.EqualTo(FrameStatus.Malformed));
    }

    [TestCase("Content-Length: -5")]
    [TestCase("Content-Length: abc")]
    [TestCase("Content-Length: 12abc")]
    [TestCase("Content-Length: 1 2")]
    [TestCase("Content-Length:")]
    [TestCase("Content-Length: +4")]
    public void A_negative_or_garbage_Content_Length_is_malformed(string header)
    {
        Assert.That(Read(Options(lengthHeader: header)).Status, Is.EqualTo(FrameStatus.Malformed));
    }

    [Test]
    public void Two_different_Content_Lengths_are_malformed()
    {
        string message = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 4\r\n\r\nabcd";

        Assert.That(Read(message).Status, Is.EqualTo(FrameStatus.Malformed));
    }

    [Test]
    public void A_repeated_equal_Content_Length_is_accepted()
    {
        string message = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc";

        Assert.That(Read(message).Status, Is.EqualTo(FrameStatus.Frame));
    }

    [Test]
    public void A_Content_Length_too_big_for_any_integer_is_too_large_not_malformed()
    {
        string message = Options(lengthHeader: "Content-Length: 99999999999999999999999999999");

        Assert.That(Read(message).Status, Is.EqualTo(FrameStatus.TooLarge));
    }

    [TestCase("l: {0}")]
    [TestCase("L: {0}")]
    [TestCase("content-length: {0}")]
    [TestCase("CONTENT-LENGTH: {0}")]
    [TestCase("Content-Length   \t: {0}")]
    [TestCase("Content-Length:{0}")]
    [TestCase("Content-Length:   {0}   ")]
    [TestCase("Content-Length:\r\n   {0}")]
    [TestCase("Content-Length:\r\n\t{0}\r\n ")]
    public void Content_Length_is_read_in_compact_form_any_case_with_whitespace_and_folding(string header)
    {
        string message = Options("hello", header);

        var (status, frame, _) = Read(message + "trailing");

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(message));
    }

    [Test]
    public void Headers_that_merely_contain_Content_Length_in_their_name_are_ignored()
    {
        string message = "OPTIONS sip:a@b SIP/2.0\r\nX-Content-Length: 99\r\nContent-Lengths: 7\r\nl: 2\r\n\r\nok";

        var (status, frame, _) = Read(message);

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(message));
    }

    [Test]
    public void A_folded_header_line_is_not_mistaken_for_a_Content_Length_header()
    {
        // The continuation line " l: 500" belongs to Subject; only the real Content-Length counts.
        string message = "OPTIONS sip:a@b SIP/2.0\r\nSubject: park\r\n l: 500\r\nContent-Length: 2\r\n\r\nok";

        var (status, frame, _) = Read(message);

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(message));
    }

    [Test]
    public void A_zero_Content_Length_frames_the_headers_alone()
    {
        string message = Options();

        var (status, frame, rest) = Read(message + "INVITE");

        Assert.That(status, Is.EqualTo(FrameStatus.Frame));
        Assert.That(frame, Is.EqualTo(message));
        Assert.That(rest, Is.EqualTo("INVITE"));
    }

    [Test]
    public void An_empty_buffer_needs_more()
    {
        ReadOnlySequence<byte> buffer = ReadOnlySequence<byte>.Empty;

        Assert.That(TcpFramer.TryReadFrame(ref buffer, Cap, out _), Is.EqualTo(FrameStatus.NeedMore));
    }
}
