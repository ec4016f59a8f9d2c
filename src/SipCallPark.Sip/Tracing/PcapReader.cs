using System.Buffers.Binary;
using System.Net;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tracing;

/// <summary>A small reader for the files <see cref="PcapTraceWriter"/> writes: little-endian microsecond pcap,
/// Ethernet II, IPv4/IPv6 without options or extension headers, UDP or TCP. Anything else is invalid data.</summary>
internal static class PcapReader
{
    public static IReadOnlyList<PcapFrame> ReadAll(string path)
    {
        byte[] data;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            data = new byte[stream.Length];
            stream.ReadExactly(data);
        }
        return Parse(data);
    }

    public static IReadOnlyList<PcapFrame> Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < PcapFormat.GlobalHeaderLength) throw Invalid("shorter than the global header");
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != PcapFormat.Magic) throw Invalid("not a little-endian microsecond pcap file");
        if (BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != PcapFormat.VersionMajor
            || BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) != PcapFormat.VersionMinor) throw Invalid("not version 2.4");
        uint snapLength = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(data[20..]) != PcapFormat.LinkTypeEthernet) throw Invalid("link type is not Ethernet");

        var frames = new List<PcapFrame>();
        int offset = PcapFormat.GlobalHeaderLength;
        while (offset < data.Length) // each pass consumes at least a record header
        {
            if (data.Length - offset < PcapFormat.RecordHeaderLength) throw Invalid($"truncated record header at {offset}");
            ReadOnlySpan<byte> header = data.Slice(offset, PcapFormat.RecordHeaderLength);
            uint seconds = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint micros = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            uint included = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            uint original = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
            offset += PcapFormat.RecordHeaderLength;
            if (micros >= 1_000_000 || included > snapLength || included > original || included > data.Length - offset)
            {
                throw Invalid($"bad record header at {offset - PcapFormat.RecordHeaderLength}");
            }
            var timestamp = DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(micros * (TimeSpan.TicksPerMillisecond / 1000));
            frames.Add(ParseFrame(data.Slice(offset, (int)included), timestamp, (int)original));
            offset += (int)included;
        }
        return frames;
    }

    private static PcapFrame ParseFrame(ReadOnlySpan<byte> frame, DateTimeOffset timestamp, int originalLength)
    {
        if (frame.Length < PcapFormat.EthernetHeaderLength) throw Invalid("frame shorter than Ethernet");
        ushort etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        ReadOnlySpan<byte> ip = frame[PcapFormat.EthernetHeaderLength..];
        IPAddress source, target;
        byte protocol;
        ReadOnlySpan<byte> segment;
        int ipLength = originalLength - PcapFormat.EthernetHeaderLength; // of the IP packet, header included
        if (etherType == PcapFormat.EtherTypeIpv4)
        {
            if (ip.Length < PcapFormat.Ipv4HeaderLength || ip[0] != 0x45) throw Invalid("not a plain IPv4 header");
            int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
            if (total != ipLength) throw Invalid("IPv4 total length disagrees with the frame");
            protocol = ip[9];
            source = new IPAddress(ip[12..16]);
            target = new IPAddress(ip[16..20]);
            segment = ip[PcapFormat.Ipv4HeaderLength..];
        }
        else if (etherType == PcapFormat.EtherTypeIpv6)
        {
            if (ip.Length < PcapFormat.Ipv6HeaderLength || ip[0] >> 4 != 6) throw Invalid("not an IPv6 header");
            int payload = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
            if (payload + PcapFormat.Ipv6HeaderLength != ipLength) throw Invalid("IPv6 payload length disagrees with the frame");
            protocol = ip[6];
            source = new IPAddress(ip[8..24]);
            target = new IPAddress(ip[24..40]);
            segment = ip[PcapFormat.Ipv6HeaderLength..];
        }
        else
        {
            throw Invalid($"EtherType 0x{etherType:x4}");
        }

        if (protocol == PcapFormat.ProtocolUdp)
        {
            if (segment.Length < PcapFormat.UdpHeaderLength) throw Invalid("short UDP header");
            return new PcapFrame(timestamp, SipProtocol.Udp,
                new IPEndPoint(source, BinaryPrimitives.ReadUInt16BigEndian(segment)),
                new IPEndPoint(target, BinaryPrimitives.ReadUInt16BigEndian(segment[2..])),
                segment[PcapFormat.UdpHeaderLength..].ToArray(), 0, 0, 0, frame.ToArray(), originalLength);
        }
        if (protocol == PcapFormat.ProtocolTcp)
        {
            if (segment.Length < PcapFormat.TcpHeaderLength) throw Invalid("short TCP header");
            int headerLength = (segment[12] >> 4) * 4;
            if (headerLength < PcapFormat.TcpHeaderLength || headerLength > segment.Length) throw Invalid("bad TCP data offset");
            return new PcapFrame(timestamp, SipProtocol.Tcp,
                new IPEndPoint(source, BinaryPrimitives.ReadUInt16BigEndian(segment)),
                new IPEndPoint(target, BinaryPrimitives.ReadUInt16BigEndian(segment[2..])),
                segment[headerLength..].ToArray(),
                BinaryPrimitives.ReadUInt32BigEndian(segment[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(segment[8..]),
                segment[13], frame.ToArray(), originalLength);
        }
        throw Invalid($"IP protocol {protocol}");
    }

    private static InvalidDataException Invalid(string reason) => new($"Not a SIP pcap trace: {reason}.");
}
