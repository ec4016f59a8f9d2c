using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Implemented by connection-oriented channels that honour RFC 5923 connection reuse: the message layer, which reads
/// the Via, tells the channel that a peer asked (with <c>alias</c>) for requests to its sent-by to use its connection.
/// </summary>
internal interface IConnectionAliases
{
    void AddAlias(long connectionId, IPEndPoint sentBy);
}
