using System.Net;

namespace SipCallPark.Sip.Transport;

/// <summary>
/// Implemented by connection-oriented channels: whether a connection is still open and whom it leads to, so the
/// message layer can tell where a response will really go (the connection's peer, or the §18.2.2 fallback).
/// </summary>
internal interface IConnectionLookup
{
    /// <summary>The peer of connection <paramref name="connectionId"/> while it is open, else null.</summary>
    IPEndPoint? OpenConnectionRemote(long connectionId);
}
