using System.Net;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Fuzz;

/// <summary>
/// One datagram through what <see cref="SipMessageTransport"/> does with it: parse, read the typed headers,
/// validate, stamp <c>received</c>/<c>rport</c>, answer (or reject) and write the answer. The promises checked:
/// <list type="bullet">
/// <item><see cref="SipParser.Parse(ReadOnlyMemory{byte})"/>, the validator and every <c>TryParse</c> never throw;</item>
/// <item>a typed view of a header throws nothing but <see cref="SipParseException"/>, and nothing at all once the
/// message passed the validator;</item>
/// <item>a message that passed, and every response we build for it, writes out as bytes that parse and validate again.</item>
/// </list>
/// </summary>
internal static class ParserTarget
{
    private static readonly IPEndPoint Source = new(IPAddress.Loopback, 5099);
    private static readonly IPEndPoint Local = new(IPAddress.Loopback, 5060);
    private static readonly string[] Supported = ["replaces", "timer", "100rel"];
    private static readonly string[] Accepted = ["application/sdp", "message/sipfrag"];

    public static void Run(byte[] input)
    {
        var parsed = SipParser.Parse(new ReadOnlyMemory<byte>(input));
        FuzzFinding.Check(parsed.Success == parsed.Message is not null, "Success disagrees with Message");
        FuzzFinding.Check(parsed.Success || parsed.Error is not null, "a failed parse without an error");
        if (!parsed.Success)
        {
            Reject(parsed.Headers, parsed.RejectStatus, parsed.IsRequest);
            return;
        }

        switch (parsed.Message)
        {
            case SipRequest request:
                Request(request);
                break;
            case SipResponse response:
                Response(response);
                break;
        }
    }

    private static void Request(SipRequest request)
    {
        ReadEverything(request);
        Tolerate(() => _ = request.RequestUri.ToString());
        Tolerate(() => _ = request.FirstLine);

        var rejection = SipMessageValidator.Validate(request);
        if (rejection is not null)
        {
            Reject(request.Headers, rejection.StatusCode, true);
            return;
        }

        // Validated: from here on nothing may throw (the stack reads these without a try).
        _ = request.RequestUri.AddressOfRecord;
        _ = request.FirstLine;
        _ = request.MaxForwards;
        Tolerate(() => SipRequestChecks.CheckRequire(request, Supported));
        Tolerate(() => SipRequestChecks.CheckProxyRequire(request, Supported));
        Tolerate(() => SipRequestChecks.CheckContentType(request, Accepted));
        Tolerate(() => SipRequestChecks.CheckAccept(request, "application/sdp"));
        _ = SipRequestChecks.CheckMaxForwards(request);
        ReadValidated(request);

        StampReceived(request);
        ReadValidated(request);
        ReadBack(request.ToArray(), "the validated request, stamped,");

        var ok = SipResponse.CreateFor(request, 200, toTag: "f00d");
        ReadBack(ok.ToArray(), "a 200 built for a validated request");
        _ = SipMessageTransport.ResponseTarget(ok, Incoming(request));
    }

    private static void Response(SipResponse response)
    {
        ReadEverything(response);
        if (SipMessageValidator.Validate(response) is not null) return;   // dropped by the transport
        ReadValidated(response);
        _ = response.FirstLine;
        ReadBack(response.ToArray(), "the validated response");
    }

    /// <summary>What <c>SipMessageTransport.RejectAsync</c> does: answer a broken request from whatever headers it had.</summary>
    private static void Reject(SipHeaders? headers, int status, bool isRequest)
    {
        if (!isRequest || status == 0 || headers is null || !headers.Contains(HeaderNames.Via)) return;
        SipResponse response;
        try
        {
            response = SipResponse.CreateFor(headers, status, toTag: "f00d");
            response.Headers.Add(HeaderNames.Warning, "399 127.0.0.1:5060 \"fuzz\"");
            if (response.TopVia is null) return;
            StampReceived(response);
        }
        catch (Exception e) when (e is SipParseException or ArgumentException)
        {
            return;   // the transport drops such a request as too broken to answer
        }
        _ = SipMessageTransport.ResponseTarget(response, Incoming(response));
        var bytes = response.ToArray();
        var again = SipParser.Parse(bytes);
        FuzzFinding.Check(again.Success, $"the {status} rejection we would send does not parse: {again.Error}");
    }

    /// <summary>Every typed view and every TryParse over every header: none may throw but the views, and those only SipParseException.</summary>
    private static void ReadEverything(SipMessage message)
    {
        Tolerate(() => _ = message.Vias);
        Tolerate(() => _ = message.TopVia);
        Tolerate(() => _ = message.From);
        Tolerate(() => _ = message.To);
        Tolerate(() => _ = message.CallId);
        Tolerate(() => _ = message.CSeq);
        Tolerate(() => _ = message.MaxForwards);
        Tolerate(() => _ = message.Contacts);
        Tolerate(() => _ = message.Routes);
        Tolerate(() => _ = message.RecordRoutes);
        Tolerate(() => _ = message.Supports("replaces"));
        _ = message.Expires;
        _ = message.ContentType;
        _ = message.BodyText;
        _ = SipFrag.TryGetStatus(message.Body.Span, out _, out _);

        foreach (var field in message.Headers)
        {
            var value = field.Value;
            if (NameAddress.TryParse(value, out var address))
            {
                _ = address.ToString();
                _ = address.Uri.AddressOfRecord;
                _ = address.Uri.UnescapedUser;
                _ = address.Uri.HostWithoutBrackets;
            }
            if (ViaHeader.TryParse(value, out var via))
            {
                _ = via.ToString();
                _ = via.RPort;
                _ = via.SentBy;
            }
            if (SipUri.TryParse(value, out var uri))
            {
                _ = uri.ToString();
                _ = uri.Equals(uri);
                _ = uri.GetHashCode();
            }
            _ = CSeqHeader.TryParse(value, out _);
            if (ReplacesHeader.TryParse(value, out var replaces)) _ = replaces.ToString();
            if (AuthHeaderValue.TryParse(value, out var auth))
            {
                _ = auth.ToString();
                _ = auth.Get("nonce");
            }
        }
    }

    /// <summary>After the validator said yes: these are read by the stack without a try.</summary>
    private static void ReadValidated(SipMessage message)
    {
        _ = message.Vias;
        var via = message.TopVia ?? throw new FuzzFinding("validated without a Via");
        _ = via.Branch;
        _ = via.HasTransactionId;
        _ = via.ToString();
        _ = message.From.Tag;
        _ = message.To.Tag;
        _ = message.From.Uri.AddressOfRecord;
        _ = message.To.Uri.AddressOfRecord;
        _ = message.CallId;
        _ = message.CSeq.ToString();
        foreach (var contact in message.Contacts) _ = contact.ToString();
    }

    /// <summary>Bytes we would send must read back as a message that validates.</summary>
    private static void ReadBack(byte[] bytes, string what)
    {
        var again = SipParser.Parse(bytes);
        FuzzFinding.Check(again.Success, $"{what} does not parse when written: {again.Error}");
        var problem = again.Message switch
        {
            SipRequest r => SipMessageValidator.Validate(r)?.Reason,
            SipResponse r => SipMessageValidator.Validate(r),
            _ => "neither request nor response",
        };
        FuzzFinding.Check(problem is null, $"{what} does not validate when written: {problem}");
    }

    /// <summary>As the transport stamps a request it received (RFC 3581 §4), over the same header operations.</summary>
    private static void StampReceived(SipMessage message)
    {
        var via = message.TopVia!;
        var updated = via.WithParameter("rport", Source.Port.ToString()).WithParameter("received", Source.Address.ToString());
        message.Headers.RemoveFirstValue(HeaderNames.Via);
        message.Headers.Prepend(HeaderNames.Via, updated.ToString());
    }

    private static IncomingMessage Incoming(SipMessage message) =>
        new(message, new SipEndPoint(SipProtocol.Udp, Source), Local, 0, DateTimeOffset.UnixEpoch);

    /// <summary>Runs a view that may reject its header with <see cref="SipParseException"/>; anything else escapes.</summary>
    private static void Tolerate(Action read)
    {
        try
        {
            read();
        }
        catch (SipParseException)
        {
        }
    }
}
