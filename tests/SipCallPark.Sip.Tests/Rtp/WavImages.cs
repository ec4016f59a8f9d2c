using System.Buffers.Binary;
using System.Text;

namespace SipCallPark.Sip.Tests.Rtp;

/// <summary>Builds WAV images of any shape, written independently of the code under test.</summary>
internal static class WavImages
{
    public static byte[] Build(ushort format = 1, ushort channels = 1, uint rate = 8000, ushort bits = 16, byte[]? data = null, bool extraChunk = false)
    {
        data ??= new byte[320];
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.ASCII);
        writer.Write("RIFF"u8);
        writer.Write(0u); // patched below
        writer.Write("WAVE"u8);
        if (extraChunk)
        {
            writer.Write("LIST"u8);
            writer.Write(3u);
            writer.Write(new byte[] { 1, 2, 3, 0 }); // odd size, padded
        }

        writer.Write("fmt "u8);
        writer.Write(16u);
        writer.Write(format);
        writer.Write(channels);
        writer.Write(rate);
        writer.Write(rate * channels * (uint)(bits / 8));
        writer.Write((ushort)(channels * bits / 8));
        writer.Write(bits);
        writer.Write("data"u8);
        writer.Write((uint)data.Length);
        writer.Write(data);
        writer.Flush();
        var image = stream.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(4), (uint)(image.Length - 8));
        return image;
    }

    public static byte[] Samples(params short[] samples)
    {
        var data = new byte[samples.Length * 2];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(2 * i), samples[i]);
        }

        return data;
    }
}
