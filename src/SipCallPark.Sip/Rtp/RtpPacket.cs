using System.Buffers.Binary;

namespace SipCallPark.Sip.Rtp;

/// <summary>
/// The fixed RTP header (RFC 3550 §5.1) of a packet we send: version 2, no padding, no extension, no CSRCs.
/// </summary>
internal readonly record struct RtpPacket(byte PayloadType, bool Marker, ushort SequenceNumber, uint Timestamp, uint Ssrc)
{
    public const int HeaderSize = 12;

    /// <summary>PCMU, 8 kHz (RFC 3551 §6, table 4).</summary>
    public const byte PayloadTypePcmu = 0;

    private const byte Version2 = 2 << 6;

    /// <summary>Writes the header and the payload into <paramref name="destination"/>; returns the packet length.</summary>
    public int Write(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        if (PayloadType > 127)
        {
            throw new InvalidOperationException($"payload type {PayloadType} does not fit in 7 bits");
        }

        int length = HeaderSize + payload.Length;
        if (destination.Length < length)
        {
            throw new ArgumentException($"needs {length} bytes, has {destination.Length}", nameof(destination));
        }

        destination[0] = Version2;
        destination[1] = (byte)((Marker ? 0x80 : 0x00) | PayloadType);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], SequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Ssrc);
        payload.CopyTo(destination[HeaderSize..]);
        return length;
    }

    /// <summary>
    /// Reads a version 2 header; <paramref name="payloadOffset"/> skips the CSRC list and a header extension.
    /// Used to check what we send; received media is discarded without parsing.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out RtpPacket header, out int payloadOffset)
    {
        header = default;
        payloadOffset = 0;
        if (packet.Length < HeaderSize || packet[0] >> 6 != 2)
        {
            return false;
        }

        int offset = HeaderSize + 4 * (packet[0] & 0x0F);
        if ((packet[0] & 0x10) != 0)
        {
            if (packet.Length < offset + 4)
            {
                return false;
            }

            offset += 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
        }

        if (packet.Length < offset)
        {
            return false;
        }

        header = new RtpPacket(
            (byte)(packet[1] & 0x7F),
            (packet[1] & 0x80) != 0,
            BinaryPrimitives.ReadUInt16BigEndian(packet[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[8..]));
        payloadOffset = offset;
        return true;
    }
}
