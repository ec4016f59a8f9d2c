using System.Globalization;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transactions;

/// <summary>The requests a transaction derives from an INVITE: the ACK for a non-2xx final and the CANCEL.</summary>
internal static class TransactionRequests
{
    /// <summary>
    /// ACK for a 300–699 response (RFC 3261 §17.1.1.3): Request-URI, Call-ID and From of the INVITE, To of the
    /// response (with its tag), CSeq number with method ACK, a single Via equal to the INVITE's top Via, and the
    /// INVITE's Route headers.
    /// </summary>
    public static SipRequest Ack(SipRequest invite, SipResponse response)
    {
        var headers = Derived(invite);
        headers.Add(HeaderNames.To, response.Headers.Get(HeaderNames.To) ?? invite.Headers.Get(HeaderNames.To)!);
        headers.Add(HeaderNames.CallId, invite.CallId);
        headers.Add(HeaderNames.CSeq, new CSeqHeader(invite.CSeq.Number, SipMethods.Ack).ToString());
        AddRoutes(invite, headers);
        headers.Add(HeaderNames.ContentLength, "0");
        return new SipRequest(SipMethods.Ack, invite.RequestUri, headers);
    }

    /// <summary>
    /// CANCEL for an INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, From and To (no tag added), CSeq number with
    /// method CANCEL, a single Via equal to the INVITE's top Via (so it reaches the same server transaction's
    /// neighbour), and the INVITE's Route headers.
    /// </summary>
    public static SipRequest Cancel(SipRequest invite)
    {
        var headers = Derived(invite);
        headers.Add(HeaderNames.To, invite.Headers.Get(HeaderNames.To)!);
        headers.Add(HeaderNames.CallId, invite.CallId);
        headers.Add(HeaderNames.CSeq, new CSeqHeader(invite.CSeq.Number, SipMethods.Cancel).ToString());
        AddRoutes(invite, headers);
        headers.Add(HeaderNames.ContentLength, "0");
        return new SipRequest(SipMethods.Cancel, invite.RequestUri, headers);
    }

    private static SipHeaders Derived(SipRequest invite)
    {
        var headers = new SipHeaders();
        headers.Add(HeaderNames.Via, invite.TopVia!.ToString());
        headers.Add(HeaderNames.MaxForwards, (invite.MaxForwards ?? 70).ToString(CultureInfo.InvariantCulture));
        headers.Add(HeaderNames.From, invite.Headers.Get(HeaderNames.From)!);
        return headers;
    }

    private static void AddRoutes(SipRequest invite, SipHeaders headers)
    {
        foreach (var route in invite.Headers.GetAll(HeaderNames.Route)) headers.Add(HeaderNames.Route, route);
    }
}
