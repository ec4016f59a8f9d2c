using System.Net;
using System.Text;
using SipCallPark.Sip.Tracing;

namespace SipCallPark.Sip.Tests.Tracing;

/// <summary>The encoder against packets written out by hand from the HEP3 chunk layout: "HEP3", a 16-bit total length,
/// then chunks of vendor 0, 16-bit type, 16-bit length counting the 6-byte chunk header, value; network byte order.</summary>
public class HepFormatTests
{
    // 2025-01-02T03:04:05.678901Z: 1735787045 = 0x67760225 seconds, 678901 = 0x000A5BF5 microseconds.
    private static readonly DateTimeOffset Time = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero) + TimeSpan.FromMicroseconds(678901);

    [Test]
    public void An_IPv4_UDP_message_is_every_chunk_in_order_with_its_value()
    {
        byte[] expected =
        [
            0x48, 0x45, 0x50, 0x33, 0x00, 0x7A,                         // "HEP3", total length 122
            0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02,                   // 1 IP family: AF_INET (2)
            0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11,                   // 2 IP protocol: UDP (17)
            0x00, 0x00, 0x00, 0x03, 0x00, 0x0A, 192, 168, 1, 10,        // 3 IPv4 source
            0x00, 0x00, 0x00, 0x04, 0x00, 0x0A, 10, 0, 0, 2,            // 4 IPv4 destination
            0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x13, 0xC4,             // 7 source port 5060
            0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x13, 0xCE,             // 8 destination port 5070
            0x00, 0x00, 0x00, 0x09, 0x00, 0x0A, 0x67, 0x76, 0x02, 0x25, // 9 seconds
            0x00, 0x00, 0x00, 0x0A, 0x00, 0x0A, 0x00, 0x0A, 0x5B, 0xF5, // 10 microseconds
            0x00, 0x00, 0x00, 0x0B, 0x00, 0x07, 0x01,                   // 11 protocol type: SIP
            0x00, 0x00, 0x00, 0x0C, 0x00, 0x0A, 0x01, 0x02, 0x03, 0x04, // 12 capture agent id 0x01020304
            0x00, 0x00, 0x00, 0x0E, 0x00, 0x08, (byte)'p', (byte)'w',   // 14 auth key "pw"
            0x00, 0x00, 0x00, 0x11, 0x00, 0x08, (byte)'c', (byte)'1',   // 17 correlation id "c1"
            0x00, 0x00, 0x00, 0x0F, 0x00, 0x0D, (byte)'O', (byte)'P', (byte)'T', (byte)'I', (byte)'O', (byte)'N', (byte)'S', // 15 payload
        ];

        byte[] buffer = new byte[200];
        int length = HepFormat.Write(buffer, new IPEndPoint(IPAddress.Parse("192.168.1.10"), 5060), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 5070),
            HepFormat.Udp, Time, 0x01020304, "pw"u8, "c1"u8, "OPTIONS"u8);

        Assert.That(buffer[..length], Is.EqualTo(expected));
        Assert.That(HepFormat.Length(System.Net.Sockets.AddressFamily.InterNetwork, 2, 2, 7), Is.EqualTo(expected.Length));
    }

    [Test]
    public void An_IPv6_TCP_message_without_key_or_call_id_carries_sixteen_byte_addresses_and_no_empty_chunks()
    {
        byte[] expected =
        [
            0x48, 0x45, 0x50, 0x33, 0x00, 0x7D,                         // "HEP3", total length 125
            0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x0A,                   // AF_INET6 (10)
            0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x06,                   // TCP (6)
            0x00, 0x00, 0x00, 0x05, 0x00, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,                 // 5 ::1
            0x00, 0x00, 0x00, 0x06, 0x00, 0x16, 0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5,     // 6 2001:db8::5
            0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0xFF, 0xFF,             // source port 65535
            0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00, 0x01,             // destination port 1
            0x00, 0x00, 0x00, 0x09, 0x00, 0x0A, 0x67, 0x76, 0x02, 0x25,
            0x00, 0x00, 0x00, 0x0A, 0x00, 0x0A, 0x00, 0x0A, 0x5B, 0xF5,
            0x00, 0x00, 0x00, 0x0B, 0x00, 0x07, 0x01,
            0x00, 0x00, 0x00, 0x0C, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, // agent 0
            0x00, 0x00, 0x00, 0x0F, 0x00, 0x08, (byte)'\r', (byte)'\n', // payload CRLF
        ];

        byte[] buffer = new byte[200];
        int length = HepFormat.Write(buffer, new IPEndPoint(IPAddress.IPv6Loopback, 65535), new IPEndPoint(IPAddress.Parse("2001:db8::5"), 1),
            HepFormat.Tcp, Time, 0, [], [], "\r\n"u8);

        Assert.That(buffer[..length], Is.EqualTo(expected));
    }

    [Test]
    public void A_message_that_would_pass_the_sixteen_bit_total_length_is_refused_not_truncated()
    {
        byte[] payload = new byte[HepFormat.MaxPacketLength];
        byte[] buffer = new byte[2 * HepFormat.MaxPacketLength];

        Assert.Throws<ArgumentException>(() => HepFormat.Write(buffer, new IPEndPoint(IPAddress.Loopback, 1), new IPEndPoint(IPAddress.Loopback, 2),
            HepFormat.Udp, Time, 1, [], [], payload));
    }

    [Test]
    public void A_full_sized_SIP_message_round_trips_through_a_reading_written_from_the_layout()
    {
        string sip = TraceMessages.Request("INVITE", 7, "call-\u00e9-1", new string('v', 3000));
        byte[] bytes = Encoding.UTF8.GetBytes(sip);
        byte[] buffer = new byte[HepFormat.MaxPacketLength];
        int length = HepFormat.Write(buffer, TraceMessages.PhoneV4, TraceMessages.PoolV4, HepFormat.Udp, Time, 42, "secret"u8,
            Encoding.UTF8.GetBytes("call-\u00e9-1"), bytes);

        HepPacketReader packet = HepPacketReader.Read(buffer.AsSpan(0, length));
        Assert.Multiple(() =>
        {
            Assert.That(packet.Source, Is.EqualTo(TraceMessages.PhoneV4));
            Assert.That(packet.Destination, Is.EqualTo(TraceMessages.PoolV4));
            Assert.That(packet.Timestamp, Is.EqualTo(Time));
            Assert.That(packet.AgentId, Is.EqualTo(42));
            Assert.That(packet.AuthKey, Is.EqualTo("secret"));
            Assert.That(packet.CorrelationId, Is.EqualTo("call-\u00e9-1"));
            Assert.That(packet.Payload, Is.EqualTo(bytes));
        });
    }
}
