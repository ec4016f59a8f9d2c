using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace SipCallPark.Sip.Tests.Tracing;

/// <summary>A test-side reading of a HEP3 packet, written from the chunk layout (not from the encoder): the chunks by
/// type, and the fields a capture server reads from them.</summary>
internal sealed class HepPacketReader
{
    private HepPacketReader(Dictionary<ushort, byte[]> chunks) => Chunks = chunks;

    public Dictionary<ushort, byte[]> Chunks { get; }

    public static HepPacketReader Read(ReadOnlySpan<byte> packet)
    {
        Assert.That(Encoding.ASCII.GetString(packet[..4]), Is.EqualTo("HEP3"));
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(packet[4..]), Is.EqualTo(packet.Length), "total length");
        var chunks = new Dictionary<ushort, byte[]>();
        int at = 6;
        while (at < packet.Length)
        {
            Assert.That(BinaryPrimitives.ReadUInt16BigEndian(packet[at..]), Is.Zero, "vendor");
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(packet[(at + 2)..]);
            ushort length = BinaryPrimitives.ReadUInt16BigEndian(packet[(at + 4)..]);
            Assert.That(length, Is.GreaterThanOrEqualTo(6));
            Assert.That(chunks.ContainsKey(type), Is.False, $"chunk {type} twice");
            chunks[type] = packet.Slice(at + 6, length - 6).ToArray();
            at += length;
        }
        Assert.That(at, Is.EqualTo(packet.Length), "chunks fill the packet exactly");
        return new HepPacketReader(chunks);
    }

    public byte Family => Chunks[1].Single();

    public byte IpProtocol => Chunks[2].Single();

    public IPEndPoint Source => new(new IPAddress(Family == 2 ? Chunks[3] : Chunks[5]), BinaryPrimitives.ReadUInt16BigEndian(Chunks[7]));

    public IPEndPoint Destination => new(new IPAddress(Family == 2 ? Chunks[4] : Chunks[6]), BinaryPrimitives.ReadUInt16BigEndian(Chunks[8]));

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadUInt32BigEndian(Chunks[9]))
        + TimeSpan.FromMicroseconds(BinaryPrimitives.ReadUInt32BigEndian(Chunks[10]));

    public uint AgentId => BinaryPrimitives.ReadUInt32BigEndian(Chunks[12]);

    public string? AuthKey => Chunks.TryGetValue(14, out byte[]? key) ? Encoding.UTF8.GetString(key) : null;

    public string? CorrelationId => Chunks.TryGetValue(17, out byte[]? id) ? Encoding.UTF8.GetString(id) : null;

    public byte[] Payload => Chunks[15];
}
