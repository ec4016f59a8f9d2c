using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Tracing;

/// <summary>
/// HEP version 3 (the HEP/EEP encapsulation Homer's capture servers take): a 6-byte header, the ASCII magic
/// <c>HEP3</c> and the packet's total length, then chunks, each a 16-bit vendor id (0 for the generic chunks used
/// here), a 16-bit type, a 16-bit length that counts its own 6-byte header, and the value. Every number is in network
/// byte order. Nothing here keeps state: the caller gives a buffer and the fields.
/// </summary>
internal static class HepFormat
{
    public const int HeaderLength = 6;
    public const int ChunkHeaderLength = 6;

    /// <summary>The total length is a 16-bit field: no packet can be longer.</summary>
    public const int MaxPacketLength = ushort.MaxValue;

    /// <summary>Generic chunk types (vendor 0).</summary>
    public const ushort IpFamily = 1, IpProtocol = 2, Ipv4Source = 3, Ipv4Destination = 4, Ipv6Source = 5, Ipv6Destination = 6,
        SourcePort = 7, DestinationPort = 8, TimestampSeconds = 9, TimestampMicroseconds = 10, ProtocolType = 11,
        CaptureAgentId = 12, AuthKey = 14, Payload = 15, CorrelationId = 17;

    /// <summary>Values of the IP family chunk (the BSD <c>AF_INET</c>/<c>AF_INET6</c> numbers) and the protocol type chunk:
    /// 1 is SIP; 0x22 is a media report in JSON (the type RTP agents use for per-stream statistics), which carries the
    /// music-on-hold counters of <see cref="HepRtpCounters"/>.</summary>
    public const byte FamilyIpv4 = 2, FamilyIpv6 = 10, ProtocolTypeSip = 1, ProtocolTypeMediaReport = 0x22;

    /// <summary>IANA protocol numbers for the IP protocol chunk.</summary>
    public const byte Udp = 17, Tcp = 6;

    /// <summary>How many bytes <see cref="Write"/> needs for these fields.</summary>
    public static int Length(AddressFamily family, int authKeyLength, int correlationIdLength, int payloadLength)
    {
        int addressLength = family == AddressFamily.InterNetwork ? 4 : 16;
        int length = HeaderLength
            + 2 * (ChunkHeaderLength + 1)                 // family, IP protocol
            + 2 * (ChunkHeaderLength + addressLength)     // source, destination address
            + 2 * (ChunkHeaderLength + 2)                 // ports
            + 2 * (ChunkHeaderLength + 4)                 // seconds, microseconds
            + ChunkHeaderLength + 1                       // protocol type
            + ChunkHeaderLength + 4                       // capture agent id
            + ChunkHeaderLength + payloadLength;
        if (authKeyLength > 0) length += ChunkHeaderLength + authKeyLength;
        if (correlationIdLength > 0) length += ChunkHeaderLength + correlationIdLength;
        return length;
    }

    /// <summary>
    /// Writes one SIP message as a HEP3 packet into <paramref name="buffer"/> and returns its length. The addresses
    /// must be of one family (see <see cref="PcapFormat.SameFamily"/>). An empty auth key or correlation id is left out.
    /// </summary>
    /// <exception cref="ArgumentException">The packet would pass <see cref="MaxPacketLength"/> or the buffer.</exception>
    public static int Write(Span<byte> buffer, IPEndPoint source, IPEndPoint destination, byte ipProtocol, DateTimeOffset timestamp,
        uint agentId, ReadOnlySpan<byte> authKey, ReadOnlySpan<byte> correlationId, ReadOnlySpan<byte> payload) =>
        Write(buffer, source, destination, ipProtocol, ProtocolTypeSip, timestamp, agentId, authKey, correlationId, payload);

    /// <summary>As above, with the protocol type chunk's value given (<see cref="ProtocolTypeMediaReport"/>).</summary>
    public static int Write(Span<byte> buffer, IPEndPoint source, IPEndPoint destination, byte ipProtocol, byte protocolType,
        DateTimeOffset timestamp, uint agentId, ReadOnlySpan<byte> authKey, ReadOnlySpan<byte> correlationId, ReadOnlySpan<byte> payload)
    {
        AddressFamily family = source.AddressFamily;
        if (destination.AddressFamily != family) throw new ArgumentException("source and destination must be of one address family");
        int length = Length(family, authKey.Length, correlationId.Length, payload.Length);
        if (length > MaxPacketLength) throw new ArgumentException($"a HEP3 packet of {length} bytes passes the {MaxPacketLength}-byte limit");
        if (length > buffer.Length) throw new ArgumentException($"the buffer holds {buffer.Length} bytes, the packet needs {length}");

        "HEP3"u8.CopyTo(buffer);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[4..], (ushort)length);
        int at = HeaderLength;
        bool v4 = family == AddressFamily.InterNetwork;
        at += Byte(buffer[at..], IpFamily, v4 ? FamilyIpv4 : FamilyIpv6);
        at += Byte(buffer[at..], IpProtocol, ipProtocol);
        at += Address(buffer[at..], v4 ? Ipv4Source : Ipv6Source, source.Address);
        at += Address(buffer[at..], v4 ? Ipv4Destination : Ipv6Destination, destination.Address);
        at += UInt16(buffer[at..], SourcePort, (ushort)source.Port);
        at += UInt16(buffer[at..], DestinationPort, (ushort)destination.Port);
        long ticks = timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        at += UInt32(buffer[at..], TimestampSeconds, (uint)(ticks / TimeSpan.TicksPerSecond));
        at += UInt32(buffer[at..], TimestampMicroseconds, (uint)(ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond));
        at += Byte(buffer[at..], ProtocolType, protocolType);
        at += UInt32(buffer[at..], CaptureAgentId, agentId);
        if (!authKey.IsEmpty) at += Octets(buffer[at..], AuthKey, authKey);
        if (!correlationId.IsEmpty) at += Octets(buffer[at..], CorrelationId, correlationId);
        at += Octets(buffer[at..], Payload, payload);
        return at;
    }

    private static int ChunkHeader(Span<byte> buffer, ushort type, int valueLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer, 0); // generic chunk: vendor 0
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], type);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[4..], (ushort)(ChunkHeaderLength + valueLength));
        return ChunkHeaderLength;
    }

    private static int Byte(Span<byte> buffer, ushort type, byte value)
    {
        buffer[ChunkHeader(buffer, type, 1)] = value;
        return ChunkHeaderLength + 1;
    }

    private static int UInt16(Span<byte> buffer, ushort type, ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[ChunkHeader(buffer, type, 2)..], value);
        return ChunkHeaderLength + 2;
    }

    private static int UInt32(Span<byte> buffer, ushort type, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer[ChunkHeader(buffer, type, 4)..], value);
        return ChunkHeaderLength + 4;
    }

    private static int Address(Span<byte> buffer, ushort type, IPAddress address)
    {
        int length = address.AddressFamily == AddressFamily.InterNetwork ? 4 : 16;
        ChunkHeader(buffer, type, length);
        if (!address.TryWriteBytes(buffer[ChunkHeaderLength..], out int written) || written != length)
            throw new ArgumentException($"cannot write address {address}");
        return ChunkHeaderLength + length;
    }

    private static int Octets(Span<byte> buffer, ushort type, ReadOnlySpan<byte> value)
    {
        value.CopyTo(buffer[ChunkHeader(buffer, type, value.Length)..]);
        return ChunkHeaderLength + value.Length;
    }
}
