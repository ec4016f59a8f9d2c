using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// What identifies a transaction. With a magic-cookie branch: branch + sent-by + method for servers
/// (RFC 3261 §17.2.3), branch + CSeq method for clients (§17.1.3). Without one (RFC 2543 peers) the branch slot
/// holds Request-URI, From tag, Call-ID, CSeq number and top Via, and <see cref="SentBy"/> holds the To tag.
/// ACK is looked up under INVITE; CANCEL keeps its own method so it never collides with the INVITE.
/// </summary>
internal readonly record struct TransactionKey(string Branch, string SentBy, string Method)
{
    private const string LegacyPrefix = "2543|";

    public bool IsLegacy => Branch.StartsWith(LegacyPrefix, StringComparison.Ordinal);

    /// <summary>The key a response is matched with: its top Via branch and CSeq method.</summary>
    public static TransactionKey ForClient(SipMessage message) =>
        new(message.TopVia?.Branch ?? "", "", message.CSeq.Method);

    /// <summary>
    /// The key of the server transaction a request belongs to, looked up as <paramref name="method"/> (INVITE for an
    /// ACK or for the INVITE a CANCEL cancels). <paramref name="toTag"/> replaces the request's To tag in the legacy
    /// key: an ACK carries the tag of the response, not of the INVITE.
    /// </summary>
    public static TransactionKey ForServer(SipRequest request, string method, string? toTag = null)
    {
        var via = request.TopVia;
        if (via is not null && via.HasMagicCookie)
            return new TransactionKey(via.Branch!, via.SentBy.ToLowerInvariant(), method);
        var legacy = string.Join('|', LegacyPrefix + request.RequestUri, request.From.Tag, request.CallId,
            request.CSeq.Number, via?.ToString());
        return new TransactionKey(legacy, toTag ?? request.To.Tag ?? "", method);
    }
}
