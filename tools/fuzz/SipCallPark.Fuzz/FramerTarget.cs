using System.Buffers;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Fuzz;

/// <summary>
/// A TCP byte stream through <see cref="TcpFramer"/> as <c>TcpConnection</c> drives it: bytes arrive in reads of
/// any size, the unread rest stays in the buffer (several segments, as a pipe hands it over), the framer cuts
/// messages and keepalives off the front until it needs more, and the connection closes on TooLarge or Malformed.
/// <para>The input's first byte says how the stream is cut: its low 3 bits are a count k of cut bytes that follow
/// (each a read size of 1–256, used in turn until the stream ends; k = 0 delivers it in one read), bits 3–4 pick
/// the size cap. The rest is the stream.</para>
/// The promises checked: the framer never throws; a frame is non-empty and within the cap; and what comes out
/// (frames, pings, the closing status, whether a partial message is left) does not depend on how the stream was cut:
/// the result of the cut stream must equal that of the same bytes in one read.
/// </summary>
internal static class FramerTarget
{
    private static readonly int[] Caps = [65535, 1024, 256, 64];

    public static void Run(byte[] input)
    {
        if (input.Length == 0) return;
        var cuts = input[0] & 7;
        var cap = Caps[(input[0] >> 3) & 3];
        if (input.Length < 1 + cuts) return;
        var sizes = input.AsSpan(1, cuts).ToArray().Select(b => b + 1).ToArray();
        var stream = input.AsMemory(1 + cuts);

        var whole = Frame(stream, [stream.Length], cap);
        var cut = sizes.Length == 0 ? whole : Frame(stream, sizes, cap);
        FuzzFinding.Check(whole.SequenceEqual(cut),
            $"framing depends on the read sizes [{string.Join(',', sizes)}]:\n  one read: {string.Join(" | ", whole)}\n  cut:      {string.Join(" | ", cut)}");
    }

    /// <summary>Feeds <paramref name="stream"/> in reads of the given sizes (cycled); returns what came out, in order.</summary>
    private static List<string> Frame(ReadOnlyMemory<byte> stream, int[] readSizes, int cap)
    {
        var events = new List<string>();
        var chunks = new List<ReadOnlyMemory<byte>>();
        long received = 0, consumed = 0;
        var read = 0;
        while (received < stream.Length)
        {
            var size = (int)Math.Min(Math.Max(readSizes[read++ % readSizes.Length], 1), stream.Length - received);
            chunks.Add(stream.Slice((int)received, size));
            received += size;

            var buffer = Unread(chunks, consumed);
            FrameStatus status;
            while ((status = TcpFramer.TryReadFrame(ref buffer, cap, out var frame)) is FrameStatus.Frame or FrameStatus.KeepAlivePing)
            {
                if (status == FrameStatus.KeepAlivePing)
                {
                    events.Add("ping");
                    continue;
                }
                FuzzFinding.Check(frame.Length > 0 && frame.Length <= cap, $"a frame of {frame.Length} bytes with a cap of {cap}");
                var bytes = frame.ToArray();
                events.Add("frame " + Convert.ToHexString(bytes));
                ParserTarget.Run(bytes);   // what the transport does next with a frame
            }
            var left = received - consumed;
            FuzzFinding.Check(buffer.Length <= left, "the framer's buffer grew");
            consumed = received - buffer.Length;
            if (status is FrameStatus.TooLarge or FrameStatus.Malformed)
            {
                events.Add(status.ToString());   // the connection is closed here
                return events;
            }
            FuzzFinding.Check(status == FrameStatus.NeedMore, $"unexpected status {status}");
        }
        var rest = Unread(chunks, consumed);
        events.Add(TcpFramer.HasPartialMessage(rest) ? $"partial {rest.Length}" : "clean end");
        return events;
    }

    /// <summary>The bytes not yet consumed, one segment per read that still holds some, as a pipe would hand them over.</summary>
    private static ReadOnlySequence<byte> Unread(List<ReadOnlyMemory<byte>> chunks, long consumed)
    {
        Segment? first = null, last = null;
        long offset = 0;
        foreach (var chunk in chunks)
        {
            var start = offset;
            offset += chunk.Length;
            if (offset <= consumed) continue;
            var skip = (int)Math.Max(0, consumed - start);
            var part = chunk[skip..];
            if (first is null) first = last = new Segment(part, 0);
            else last = last!.Append(part);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
