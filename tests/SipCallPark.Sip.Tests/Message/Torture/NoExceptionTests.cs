using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Tests.Message.Torture;

/// <summary>
/// docs/design.md §4: no input makes the parser or the validator throw. Every prefix of every vector, and a bounded, seeded
/// set of byte mutations of them, goes through the whole receive path, typed views included.
/// </summary>
public class NoExceptionTests
{
    private const int Mutations = 20_000;

    private static IEnumerable<(string Name, byte[] Bytes)> Vectors =>
        ValidVectors.All.Concat(InvalidVectors.All).Concat(ApplicationVectors.All);

    [Test]
    public void Every_prefix_of_every_vector_is_parsed_and_validated_without_an_exception()
    {
        foreach (var (name, bytes) in Vectors)
        {
            for (var length = 0; length <= bytes.Length; length++) ReceiveWithoutThrowing(bytes.AsSpan(0, length).ToArray(), $"{name}[..{length}]");
        }
    }

    [Test]
    public void Random_byte_mutations_of_the_vectors_are_parsed_and_validated_without_an_exception()
    {
        var random = new Random(4475);
        var vectors = Vectors.ToArray();
        for (var n = 0; n < Mutations; n++)
        {
            var (name, original) = vectors[random.Next(vectors.Length)];
            var bytes = Mutate(original, random);
            ReceiveWithoutThrowing(bytes, $"{name} mutation {n}");
        }
    }

    [Test]
    public void Degenerate_inputs_are_rejected_without_an_exception()
    {
        foreach (var text in (string[])["", "\r\n", "\r\n\r\n", "\n\n\n", " ", ":", "SIP/2.0", "SIP/2.0 ", "INVITE", "INVITE  SIP/2.0\r\n\r\n",
                     "SIP/2.0 200\r\n\r\n", "X sip:a SIP/2.0\r\n:\r\n\r\n", "X sip:a SIP/2.0\r\n \r\n\r\n", "\0\0\0\0"])
        {
            ReceiveWithoutThrowing(System.Text.Encoding.UTF8.GetBytes(text), $"'{text}'");
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        var edits = 1 + random.Next(4);
        byte[] interesting = [0, (byte)'\r', (byte)'\n', (byte)' ', (byte)'\t', (byte)':', (byte)';', (byte)',', (byte)'"', (byte)'<',
            (byte)'>', (byte)'%', (byte)'@', (byte)'?', (byte)'=', (byte)'[', (byte)']', (byte)'\\', (byte)'9', 0x7F, 0xC3, 0xFF];
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            var value = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (byte)random.Next(256);
            switch (random.Next(4))
            {
                case 0: bytes[at] = value; break;
                case 1: bytes.Insert(at, value); break;
                case 2: bytes.RemoveAt(at); break;
                default: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16))); break;
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Parse, validate, and when validation passes read what it promises will not throw.</summary>
    private static void ReceiveWithoutThrowing(byte[] bytes, string what)
    {
        try
        {
            var result = SipParser.Parse(bytes);
            if (!result.Success)
            {
                Assert.That(result.Message, Is.Null, what);
                if (result.IsRequest && result.Headers is { } headers && result.RejectStatus >= 400)
                    _ = new SipRejection(result.RejectStatus, result.Error!).ToResponse(headers).ToArray();
                return;
            }
            _ = result.Message!.ToArray();
            if (result.Message is SipRequest request)
            {
                if (SipMessageValidator.Validate(request) is { } rejection)
                {
                    _ = rejection.ToResponse(request).ToArray();
                    return;
                }
                _ = request.RequestUri;
                _ = SipRequestChecks.CheckRequire(request, ["replaces"]);
                _ = SipRequestChecks.CheckContentType(request, ["application/sdp"]);
                _ = SipRequestChecks.Accepts(request, "application/sdp");
                _ = SipRequestChecks.CheckMaxForwards(request);
                _ = SipResponse.CreateFor(request, 200, toTag: "t").ToArray();
            }
            else if (SipMessageValidator.Validate((SipResponse)result.Message!) is not null)
            {
                return;
            }
            _ = (result.Message.Vias, result.Message.From, result.Message.To, result.Message.CSeq, result.Message.CallId, result.Message.Contacts);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}\n{System.Text.Encoding.UTF8.GetString(bytes)}");
        }
    }
}
