namespace SipCallPark.Sip.Transport;

/// <summary>Why a TCP connection ended; the first reason recorded wins.</summary>
internal enum TcpCloseReason
{
    None,
    PeerClosed,
    IdleTimeout,
    PartialMessageTimeout,
    WriteTimeout,
    MessageTooLarge,
    MalformedMessage,
    NetworkError,
    ChannelStopped,
}
