using System.Buffers;

namespace SipCallPark.Sip.Tests.Transport;

/// <summary>Builds multi-segment sequences, the way a pipe hands over bytes that arrived in several reads.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Of(params byte[][] chunks)
    {
        if (chunks.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(chunks[0], 0);
        Segment last = first;
        foreach (byte[] chunk in chunks.Skip(1))
        {
            last = last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static ReadOnlySequence<byte> ByteByByte(ReadOnlySpan<byte> data)
    {
        var chunks = new byte[data.Length][];
        for (int i = 0; i < data.Length; i++)
        {
            chunks[i] = [data[i]];
        }

        return Of(chunks);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
