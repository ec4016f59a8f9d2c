using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transport;

/// <summary>What the transaction layer needs from the transport: send a request to a place, a response back.</summary>
public interface ISipMessageSender
{
    /// <summary>Sends a request to a resolved destination; false when it could not leave (no channel, connect failed).</summary>
    ValueTask<bool> SendRequestAsync(SipRequest request, SipEndPoint destination, CancellationToken cancellationToken = default);

    /// <summary>Sends a response along the path its request came (RFC 3261 §18.2.2: same connection, received/rport, maddr).</summary>
    ValueTask<bool> SendResponseAsync(SipResponse response, IncomingMessage request, CancellationToken cancellationToken = default);
}
