namespace SipCallPark.Sip.Transport;

/// <summary>What <see cref="TcpFramer.TryReadFrame"/> found at the start of a stream buffer.</summary>
internal enum FrameStatus
{
    /// <summary>No complete message yet; read more bytes and try again.</summary>
    NeedMore,

    /// <summary>One complete message was cut off the front of the buffer.</summary>
    Frame,

    /// <summary>An RFC 5626 §4.4.1 double-CRLF ping was consumed; answer with a single CRLF pong.</summary>
    KeepAlivePing,

    /// <summary>The message is, or declares itself, bigger than the cap.</summary>
    TooLarge,

    /// <summary>The header section has no usable Content-Length, mandatory on streams (RFC 3261 §18.3).</summary>
    Malformed,
}
