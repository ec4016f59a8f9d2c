using System.Net;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transport;

public enum SipDirection { In, Out }

/// <summary>One message crossing the transport, as the trace, the pcap writer and the metrics see it.</summary>
public readonly record struct SipMessageEvent(SipDirection Direction, SipMessage Message, SipEndPoint Remote, IPEndPoint Local, ReadOnlyMemory<byte> Bytes);
