using System.Net;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Tracing;

/// <summary>One frame read back from a trace file: who sent what to whom, over UDP or TCP.</summary>
/// <param name="Timestamp">The record's timestamp (microsecond precision).</param>
/// <param name="Protocol"><see cref="SipProtocol.Udp"/> or <see cref="SipProtocol.Tcp"/>.</param>
/// <param name="Source">Source address and port from the IP and UDP/TCP headers.</param>
/// <param name="Destination">Destination address and port.</param>
/// <param name="Payload">The UDP or TCP payload.</param>
/// <param name="Sequence">TCP sequence number (0 for UDP).</param>
/// <param name="Acknowledgment">TCP acknowledgment number (0 for UDP).</param>
/// <param name="TcpFlags">TCP flags byte (0 for UDP).</param>
/// <param name="Frame">The captured frame bytes, Ethernet header first.</param>
/// <param name="OriginalLength">The frame's length before any cut to the snap length.</param>
public sealed record PcapFrame(
    DateTimeOffset Timestamp,
    SipProtocol Protocol,
    IPEndPoint Source,
    IPEndPoint Destination,
    byte[] Payload,
    uint Sequence,
    uint Acknowledgment,
    byte TcpFlags,
    byte[] Frame,
    int OriginalLength);
