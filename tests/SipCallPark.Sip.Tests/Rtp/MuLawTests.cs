using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

public class MuLawTests
{
    [TestCase((short)0, (byte)0xFF)]
    [TestCase((short)-1, (byte)0x7F)]
    [TestCase(short.MaxValue, (byte)0x80)]
    [TestCase(short.MinValue, (byte)0x00)]
    [TestCase((short)1000, (byte)0xCE)]
    [TestCase((short)-1000, (byte)0x4E)]
    [TestCase((short)32635, (byte)0x80)]
    public void Known_values_encode_to_the_G711_codes(short sample, byte code) =>
        Assert.That(MuLaw.Encode(sample), Is.EqualTo(code));

    [Test]
    public void A_negative_sample_differs_from_its_positive_only_in_the_sign_bit()
    {
        for (int x = 1; x <= short.MaxValue; x++)
        {
            var positive = MuLaw.Encode((short)x);
            var negative = MuLaw.Encode((short)-x);
            if (negative != (positive & 0x7F) || (positive & 0x80) == 0)
            {
                Assert.Fail($"{x}: +{positive:X2} −{negative:X2}");
            }
        }
    }

    [Test]
    public void Codes_grow_monotonically_with_the_magnitude()
    {
        int previous = MuLaw.Decode(MuLaw.Encode(0));
        for (int x = 1; x <= short.MaxValue; x++)
        {
            int decoded = MuLaw.Decode(MuLaw.Encode((short)x));
            if (decoded < previous)
            {
                Assert.Fail($"{x} decodes to {decoded}, below {previous}");
            }

            previous = decoded;
        }
    }

    [Test]
    public void Decoding_an_encoded_sample_is_within_half_a_segment_step()
    {
        for (int x = -32635; x <= 32635; x++)
        {
            int error = Math.Abs(MuLaw.Decode(MuLaw.Encode((short)x)) - x);
            if (error > (Math.Abs(x) + 132) / 32)
            {
                Assert.Fail($"{x} comes back {error} off");
            }
        }
    }

    [Test]
    public void The_segment_ends_decode_to_the_G711_table_values()
    {
        Assert.Multiple(() =>
        {
            Assert.That(MuLaw.Decode(0x80), Is.EqualTo(32124));
            Assert.That(MuLaw.Decode(0x00), Is.EqualTo(-32124));
            Assert.That(MuLaw.Decode(0xFF), Is.EqualTo(0));
            Assert.That(MuLaw.Decode(0x7F), Is.EqualTo(0));
        });
    }

    [Test]
    public void A_span_is_encoded_sample_by_sample()
    {
        short[] samples = [0, 1000, -1000, short.MaxValue];
        var codes = new byte[4];
        MuLaw.Encode(samples, codes);
        Assert.That(codes, Is.EqualTo(new byte[] { 0xFF, 0xCE, 0x4E, 0x80 }));
    }
}
