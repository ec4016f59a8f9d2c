using System.Buffers;
using System.Text;

namespace SipCallPark.Sip.Message;

internal static class SipWriter
{
    public static void WriteAscii(IBufferWriter<byte> writer, string text)
    {
        var span = writer.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        writer.Advance(n);
    }

    public static void WriteUtf8(IBufferWriter<byte> writer, string text)
    {
        var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var n = Encoding.UTF8.GetBytes(text, span);
        writer.Advance(n);
    }

    public static void WriteInt(IBufferWriter<byte> writer, int value)
    {
        var span = writer.GetSpan(11);
        value.TryFormat(span, out var n, default, System.Globalization.CultureInfo.InvariantCulture);
        writer.Advance(n);
    }
}
