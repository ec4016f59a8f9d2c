using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace SipCallPark.Sip.Tracing;

/// <summary>
/// The bytes of a classic pcap file (libpcap format 2.4, microsecond timestamps, little-endian) holding synthetic
/// Ethernet II frames: IPv4 (RFC 791) or IPv6 (RFC 8200), then UDP (RFC 768) or TCP (RFC 9293). Checksums per
/// RFC 1071 with the pseudo-headers of RFC 768 / RFC 9293 §3.1 / RFC 8200 §8.1.
/// </summary>
internal static class PcapFormat
{
    public const uint Magic = 0xa1b2c3d4;
    public const ushort VersionMajor = 2;
    public const ushort VersionMinor = 4;
    public const int SnapLength = 65535;
    public const uint LinkTypeEthernet = 1;

    public const int GlobalHeaderLength = 24;
    public const int RecordHeaderLength = 16;
    public const int EthernetHeaderLength = 14;
    public const int Ipv4HeaderLength = 20;
    public const int Ipv6HeaderLength = 40;
    public const int UdpHeaderLength = 8;
    public const int TcpHeaderLength = 20;

    public const ushort EtherTypeIpv4 = 0x0800;
    public const ushort EtherTypeIpv6 = 0x86DD;
    public const byte ProtocolTcp = 6;
    public const byte ProtocolUdp = 17;

    public const byte TcpFlagPsh = 0x08;
    public const byte TcpFlagAck = 0x10;

    /// <summary>Largest TCP payload per segment such that a whole frame, even over IPv6, fits the snap length.</summary>
    public const int MaxTcpSegment = SnapLength - EthernetHeaderLength - Ipv6HeaderLength - TcpHeaderLength;

    /// <summary>Largest frame written (a UDP datagram of the largest size over IPv6): sizes the writer's buffer.</summary>
    public const int MaxFrameLength = EthernetHeaderLength + Ipv6HeaderLength + ushort.MaxValue;

    // Locally administered unicast MACs (bit 1 of the first octet set): the host and "the peer".
    private static ReadOnlySpan<byte> LocalMac => [0x02, 0x53, 0x49, 0x50, 0x00, 0x01];
    private static ReadOnlySpan<byte> RemoteMac => [0x02, 0x53, 0x49, 0x50, 0x00, 0x02];

    public static void WriteGlobalHeader(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], VersionMinor);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], 0);   // thiszone: timestamps are UTC
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], LinkTypeEthernet);
    }

    /// <summary>A record header; a frame longer than the snap length is cut to it, as a capture would.</summary>
    public static int WriteRecordHeader(Span<byte> destination, DateTimeOffset timestamp, int frameLength)
    {
        long micros = (timestamp.UtcTicks - DateTime.UnixEpoch.Ticks) / (TimeSpan.TicksPerMillisecond / 1000);
        if (micros < 0) micros = 0;
        int included = Math.Min(frameLength, SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)(micros / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)(micros % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)included);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)frameLength);
        return included;
    }

    /// <summary>Both addresses in one family: IPv4-mapped IPv6 becomes IPv4, and a mixed pair becomes IPv6.</summary>
    public static (IPAddress Source, IPAddress Destination) SameFamily(IPAddress source, IPAddress destination)
    {
        if (source.IsIPv4MappedToIPv6) source = source.MapToIPv4();
        if (destination.IsIPv4MappedToIPv6) destination = destination.MapToIPv4();
        if (source.AddressFamily != destination.AddressFamily)
        {
            if (source.AddressFamily == AddressFamily.InterNetwork) source = source.MapToIPv6();
            if (destination.AddressFamily == AddressFamily.InterNetwork) destination = destination.MapToIPv6();
        }
        return (source, destination);
    }

    public static int IpHeaderLength(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? Ipv4HeaderLength : Ipv6HeaderLength;

    /// <summary>Whether a UDP payload of this size fits the UDP length field and, over IPv4, the total length.</summary>
    public static bool UdpFits(IPAddress source, int payloadLength) =>
        UdpHeaderLength + payloadLength <= ushort.MaxValue
        && (source.AddressFamily != AddressFamily.InterNetwork || Ipv4HeaderLength + UdpHeaderLength + payloadLength <= ushort.MaxValue);

    /// <summary>Writes Ethernet + IP + UDP + payload; returns the frame length. Addresses must share a family.</summary>
    public static int WriteUdpFrame(Span<byte> destination, IPEndPoint source, IPEndPoint target, bool outgoing,
        ushort ipId, ReadOnlySpan<byte> payload)
    {
        int l4Length = UdpHeaderLength + payload.Length;
        int offset = WriteEthernetAndIp(destination, source.Address, target.Address, outgoing, ProtocolUdp, ipId, l4Length);
        Span<byte> udp = destination.Slice(offset, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)target.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        payload.CopyTo(udp[UdpHeaderLength..]);
        ushort checksum = TransportChecksum(source.Address, target.Address, ProtocolUdp, udp);
        // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return offset + l4Length;
    }

    /// <summary>Writes Ethernet + IP + TCP (PSH|ACK) + payload; returns the frame length. The payload must not
    /// exceed <see cref="MaxTcpSegment"/>.</summary>
    public static int WriteTcpFrame(Span<byte> destination, IPEndPoint source, IPEndPoint target, bool outgoing,
        ushort ipId, uint sequence, uint acknowledgment, ReadOnlySpan<byte> payload)
    {
        int l4Length = TcpHeaderLength + payload.Length;
        int offset = WriteEthernetAndIp(destination, source.Address, target.Address, outgoing, ProtocolTcp, ipId, l4Length);
        Span<byte> tcp = destination.Slice(offset, l4Length);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], (ushort)target.Port);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], acknowledgment);
        tcp[12] = (TcpHeaderLength / 4) << 4; // data offset in 32-bit words, no options
        tcp[13] = TcpFlagPsh | TcpFlagAck;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], ushort.MaxValue); // window
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], 0);              // checksum, below
        BinaryPrimitives.WriteUInt16BigEndian(tcp[18..], 0);              // urgent pointer
        payload.CopyTo(tcp[TcpHeaderLength..]);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], TransportChecksum(source.Address, target.Address, ProtocolTcp, tcp));
        return offset + l4Length;
    }

    private static int WriteEthernetAndIp(Span<byte> destination, IPAddress source, IPAddress target, bool outgoing,
        byte protocol, ushort ipId, int l4Length)
    {
        bool v4 = source.AddressFamily == AddressFamily.InterNetwork;
        (outgoing ? RemoteMac : LocalMac).CopyTo(destination);
        (outgoing ? LocalMac : RemoteMac).CopyTo(destination[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], v4 ? EtherTypeIpv4 : EtherTypeIpv6);
        Span<byte> ip = destination[EthernetHeaderLength..];
        if (v4)
        {
            ip[0] = 0x45; // version 4, header length 5 words
            ip[1] = 0;    // DSCP/ECN
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderLength + l4Length));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipId);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // don't fragment, offset 0
            ip[8] = 64;   // TTL
            ip[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            source.TryWriteBytes(ip[12..16], out _);
            target.TryWriteBytes(ip[16..20], out _);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Finish(Sum(ip[..Ipv4HeaderLength], 0)));
            return EthernetHeaderLength + Ipv4HeaderLength;
        }

        BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000); // version 6, traffic class 0, flow label 0
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)l4Length);
        ip[6] = protocol; // next header
        ip[7] = 64;       // hop limit
        source.TryWriteBytes(ip[8..24], out _);
        target.TryWriteBytes(ip[24..40], out _);
        return EthernetHeaderLength + Ipv6HeaderLength;
    }

    /// <summary>The UDP/TCP checksum over the pseudo-header of the IP version and the whole segment.</summary>
    public static ushort TransportChecksum(IPAddress source, IPAddress target, byte protocol, ReadOnlySpan<byte> segment)
    {
        Span<byte> addresses = stackalloc byte[32];
        int size = source.AddressFamily == AddressFamily.InterNetwork ? 4 : 16;
        source.TryWriteBytes(addresses[..size], out _);
        target.TryWriteBytes(addresses[size..(2 * size)], out _);
        ulong sum = Sum(addresses[..(2 * size)], 0);
        // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, three zeros, next header. As 16-bit words both
        // add up to protocol + length (the length fits 16 bits here).
        sum += protocol;
        sum += (uint)segment.Length;
        return Finish(Sum(segment, sum));
    }

    /// <summary>RFC 1071 one's complement sum of big-endian 16-bit words, an odd last byte padded with zero.</summary>
    public static ulong Sum(ReadOnlySpan<byte> data, ulong sum)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2) sum += (uint)((data[i] << 8) | data[i + 1]);
        if (i < data.Length) sum += (uint)(data[i] << 8);
        return sum;
    }

    public static ushort Finish(ulong sum)
    {
        for (int i = 0; i < 4 && (sum >> 16) != 0; i++) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
