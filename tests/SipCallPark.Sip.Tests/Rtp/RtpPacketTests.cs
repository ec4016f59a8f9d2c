using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

public class RtpPacketTests
{
    [Test]
    public void The_header_is_written_big_endian_with_version_2_and_the_marker_in_the_top_bit()
    {
        var buffer = new byte[16];
        int length = new RtpPacket(0, Marker: true, 0x1234, 0xDEADBEEF, 0x01020304).Write(buffer, [0xAA, 0xBB]);

        Assert.That(length, Is.EqualTo(14));
        Assert.That(buffer[..14], Is.EqualTo(new byte[]
        {
            0x80, 0x80, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB,
        }));
    }

    [Test]
    public void Without_the_marker_the_second_byte_is_the_payload_type()
    {
        var buffer = new byte[12];
        new RtpPacket(8, Marker: false, 0xFFFF, 0, 0xFFFFFFFF).Write(buffer, []);

        Assert.That(buffer, Is.EqualTo(new byte[] { 0x80, 0x08, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF }));
    }

    [Test]
    public void A_packet_written_reads_back_the_same()
    {
        var buffer = new byte[RtpPacket.HeaderSize + 160];
        var written = new RtpPacket(0, true, 65535, 4_000_000_000, 0xCAFEBABE);
        written.Write(buffer, new byte[160]);

        Assert.That(RtpPacket.TryRead(buffer, out var read, out var payloadOffset), Is.True);
        Assert.That(read, Is.EqualTo(written));
        Assert.That(payloadOffset, Is.EqualTo(12));
    }

    [Test]
    public void A_destination_too_small_is_refused() =>
        Assert.Throws<ArgumentException>(() => new RtpPacket(0, false, 1, 1, 1).Write(new byte[171], new byte[160]));

    [Test]
    public void A_payload_type_over_127_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => new RtpPacket(128, false, 1, 1, 1).Write(new byte[12], []));

    [Test]
    public void Reading_skips_the_CSRC_list_and_rejects_other_versions()
    {
        var packet = new byte[20];
        packet[0] = 0x82; // V=2, CC=2
        Assert.That(RtpPacket.TryRead(packet, out _, out var offset), Is.True);
        Assert.That(offset, Is.EqualTo(20));

        packet[0] = 0x40; // V=1
        Assert.That(RtpPacket.TryRead(packet, out _, out _), Is.False);
        Assert.That(RtpPacket.TryRead(new byte[11], out _, out _), Is.False);
    }
}
