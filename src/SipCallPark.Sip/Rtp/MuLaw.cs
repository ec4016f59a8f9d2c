using System.Numerics;

namespace SipCallPark.Sip.Rtp;

/// <summary>
/// G.711 µ-law (PCMU, RFC 3551 §4.5.14): 16-bit linear PCM to 8-bit logarithmic codes. The magnitude is biased so
/// that every value has a leading one in bits 7–14; the position of that bit is the segment (exponent), the four
/// bits after it are the step within the segment; the code is sent inverted so that silence is 0xFF.
/// </summary>
internal static class MuLaw
{
    /// <summary>Added to the magnitude so that segment 0 starts at bit 7 (33 in 14-bit terms, ×4 for 16-bit input).</summary>
    private const int Bias = 0x84;

    /// <summary>The largest magnitude that still fits in segment 7 once the bias is added (0x7FFF − Bias).</summary>
    private const int Clip = 0x7FFF - Bias;

    public static byte Encode(short sample)
    {
        int sign = sample < 0 ? 0x80 : 0x00;
        int magnitude = Math.Min(Math.Abs((int)sample), Clip) + Bias;

        // magnitude is in [0x84, 0x7FFF]: its top bit is bit 7 … 14, i.e. segment 0 … 7.
        int segment = BitOperations.Log2((uint)magnitude) - 7;
        int step = (magnitude >> (segment + 3)) & 0x0F;
        return (byte)~(sign | (segment << 4) | step);
    }

    /// <summary>The midpoint of the code's interval; used by tests and diagnostics, the server only sends.</summary>
    public static short Decode(byte code)
    {
        int bits = ~code & 0xFF;
        int segment = (bits >> 4) & 0x07;
        int step = bits & 0x0F;
        int magnitude = (((step << 3) + Bias) << segment) - Bias;
        return (short)((bits & 0x80) != 0 ? -magnitude : magnitude);
    }

    public static void Encode(ReadOnlySpan<short> samples, Span<byte> codes)
    {
        if (codes.Length < samples.Length)
        {
            throw new ArgumentException($"needs {samples.Length} bytes, has {codes.Length}", nameof(codes));
        }

        for (int i = 0; i < samples.Length; i++)
        {
            codes[i] = Encode(samples[i]);
        }
    }
}
