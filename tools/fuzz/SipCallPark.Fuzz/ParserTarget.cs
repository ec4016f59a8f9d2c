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
        var again = ReadBack(request.ToArray(), "the validated request, stamped,");
        SameDialogFields(request, again, "the stamped request");

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
        var again = ReadBack(response.ToArray(), "the validated response");
        SameDialogFields(response, again, "the validated response");
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
            // What the stack rebuilds from a header it accepted (a To with our tag, a Via with received, a
            // Contact or Record-Route with a parameter) must be readable by the next hop, ourselves included.
            if (NameAddress.TryParse(value, out var address))
            {
                _ = address.Uri.AddressOfRecord;
                _ = address.Uri.UnescapedUser;
                _ = address.Uri.HostWithoutBrackets;
                if (!address.IsWildcard)
                {
                    var tagged = address.WithTag("f00d").ToString();
                    FuzzFinding.Check(NameAddress.TryParse(tagged, out var back) && back.Tag == "f00d" && back.Uri.Equals(address.Uri),
                        $"name-addr '{value}' with a tag added, '{tagged}', does not read back");
                }
            }
            if (ViaHeader.TryParse(value, out var via))
            {
                _ = via.RPort;
                _ = via.SentBy;
                var stamped = via.WithParameter("received", "192.0.2.1").ToString();
                FuzzFinding.Check(ViaHeader.TryParse(stamped, out var back) && back.Branch == via.Branch && back.Received == "192.0.2.1",
                    $"Via '{value}' with received added, '{stamped}', does not read back");
            }
            if (SipUri.TryParse(value, out var uri) && uri.IsSip && !uri.HasParameter("lr"))
            {
                _ = uri.GetHashCode();
                FuzzFinding.Check(uri.Equals(uri), $"URI '{value}' is not equal to itself");
                var rebuilt = uri.WithParameter("lr", null).ToString();
                FuzzFinding.Check(SipUri.TryParse(rebuilt, out var back) && back.Equals(uri) && back.IsLooseRouter,
                    $"URI '{value}' with lr added, '{rebuilt}', does not read back as the same URI");
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

    /// <summary>
    /// Bytes we would send must read back as a message that validates, and writing that again gives the same bytes
    /// (a proxy forwarding a message forwards what it read).
    /// </summary>
    private static SipMessage ReadBack(byte[] bytes, string what)
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
        FuzzFinding.Check(again.Message!.ToArray().AsSpan().SequenceEqual(bytes), $"{what} writes differently once read back");
        return again.Message;
    }

    /// <summary>What identifies the dialog and the transaction survives being written and read back.</summary>
    private static void SameDialogFields(SipMessage sent, SipMessage read, string what)
    {
        FuzzFinding.Check(sent.CallId == read.CallId, $"{what}: Call-ID '{sent.CallId}' reads back as '{read.CallId}'");
        FuzzFinding.Check(sent.CSeq == read.CSeq, $"{what}: CSeq '{sent.CSeq}' reads back as '{read.CSeq}'");
        FuzzFinding.Check(sent.From.Tag == read.From.Tag && sent.To.Tag == read.To.Tag, $"{what}: a tag changed on the way");
        FuzzFinding.Check(sent.TopVia!.Branch == read.TopVia!.Branch, $"{what}: the top Via branch changed on the way");
        FuzzFinding.Check(sent.From.Uri.Equals(read.From.Uri) && sent.To.Uri.Equals(read.To.Uri), $"{what}: a From or To URI changed on the way");
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
