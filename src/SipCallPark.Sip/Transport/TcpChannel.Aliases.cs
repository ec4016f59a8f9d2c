using System.Net;
using Microsoft.Extensions.Logging;

namespace SipCallPark.Sip.Transport;

/// <summary>RFC 5923 connection reuse: the extra addresses a connection answers for.</summary>
public sealed partial class TcpChannel
{
    /// <summary>RFC 5923 aliases one connection may carry; more are ignored (a peer cannot grow our tables).</summary>
    internal const int MaxAliasesPerConnection = 4;

    /// <summary>
    /// RFC 5923 §5: requests to <paramref name="sentBy"/> may go over connection <paramref name="connectionId"/>, whose
    /// peer put <c>alias</c> in its Via. Only an address on the connection's own peer host is taken: a peer may name
    /// its own listening port, never another host's (nobody can pull someone else's traffic onto their connection).
    /// </summary>
    void IConnectionAliases.AddAlias(long connectionId, IPEndPoint sentBy)
    {
        sentBy = sentBy.Unmapped();
        if (!_byId.TryGetValue(connectionId, out TcpConnection? connection) || !connection.IsOpen
            || !connection.Remote.Address.Address.Equals(sentBy.Address) || sentBy.Equals(connection.Remote.Address))
        {
            return;
        }

        List<IPEndPoint> aliases = _aliases.GetOrAdd(connectionId, _ => []);
        lock (aliases)
        {
            if (aliases.Contains(sentBy) || aliases.Count >= MaxAliasesPerConnection)
            {
                return;
            }

            aliases.Add(sentBy);
        }

        _byRemote[sentBy] = connection;
        _logger.ConnectionAliasAdded(connectionId, connection.Remote, sentBy);
        if (!connection.IsOpen)
        {
            Forget(connection); // closed meanwhile: ForgetWhenClosedAsync may already have run
        }
    }
}
