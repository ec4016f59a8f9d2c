using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Auth;
using SipCallPark.Sip.Dialogs;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.UserAgents;

/// <summary>
/// A SIP user agent on a <see cref="SipStack"/>: registers, places and answers calls, sends and receives REFER with
/// its NOTIFYs, and honours INVITE-with-Replaces (RFC 3891). Application decisions arrive through handlers and run
/// off the receive path; the agent answers what needs no decision itself. Test phones and the park application are
/// both built on it.
/// </summary>
public sealed partial class SipUserAgent : ITransactionUser
{
    private static readonly string Allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, MESSAGE, INFO, UPDATE";

    private readonly UserAgentOptions _options;
    private readonly DigestClient? _digest;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string CallId, string LocalTag), PendingRefer> _pendingRefers = new();
    private readonly ConcurrentDictionary<InviteServerTransaction, IncomingCall> _ringing = new();
    private readonly string _registrationCallId;
    private long _registrationCSeq;

    public SipUserAgent(SipStack stack, UserAgentOptions options, bool attach = true)
    {
        Stack = stack;
        _options = options;
        _logger = stack.Loggers.CreateLogger<SipUserAgent>();
        if (options.Password is { } password) _digest = new DigestClient(options.AuthUser ?? options.Identity.Uri.UnescapedUser ?? "", password);
        Contact = stack.Transport.ContactUri(options.Identity.Uri.User, options.Transport);
        _registrationCallId = stack.Ids.NewCallId(Contact.Host);
        if (attach) stack.User = this;
    }

    public SipStack Stack { get; }

    public UserAgentOptions Options => _options;

    public NameAddress Identity => _options.Identity;

    public SipUri Contact { get; }

    public DialogTable Dialogs { get; } = new();

    /// <summary>Decides a new incoming call (ring, answer, reject). Without it, calls are answered 480.</summary>
    public Func<IncomingCall, Task>? OnIncomingCall { get; set; }

    /// <summary>Decides a REFER that arrives outside any call. Without it, such a REFER gets 405.</summary>
    public Func<IncomingRefer, Task>? OnRefer { get; set; }

    /// <summary>Sees an out-of-dialog MESSAGE (it is answered 200 first).</summary>
    public event Action<SipRequest>? MessageReceived;

    // ---- outgoing -------------------------------------------------------------------------------------------

    /// <summary>REGISTER at <paramref name="registrar"/> (answering a digest challenge once); returns the final outcome.</summary>
    public async Task<ClientTransactionResult> RegisterAsync(SipEndPoint registrar, int expires = 3600)
    {
        var request = new SipRequest(SipMethods.Register, SipUri.Create(Identity.Uri.Scheme, null, Identity.Uri.Host));
        request.Headers.Add(HeaderNames.From, Identity.WithTag(Stack.Ids.NewTag()).ToString());
        request.Headers.Add(HeaderNames.To, Identity.ToString());
        request.Headers.Add(HeaderNames.CallId, _registrationCallId);
        request.Headers.Add(HeaderNames.CSeq, new CSeqHeader(Interlocked.Increment(ref _registrationCSeq), SipMethods.Register).ToString());
        request.Headers.Add(HeaderNames.Contact, $"<{Contact}>;expires={expires.ToString(CultureInfo.InvariantCulture)}");
        request.Headers.Add(HeaderNames.Expires, expires.ToString(CultureInfo.InvariantCulture));
        var result = await SendOutOfDialogAsync(request, registrar).ConfigureAwait(false);
        Interlocked.Exchange(ref _registrationCSeq, Math.Max(_registrationCSeq, (result.Response?.CSeq.Number ?? 0)));
        return result;
    }

    /// <summary>Places a call and waits until it is answered or fails.</summary>
    public Task<CallAttempt> CallAsync(SipUri target, CallOptions? options = null) => Dial(target, options).Completion;

    /// <summary>Places a call and returns at once with a handle to watch or cancel it.</summary>
    public OutgoingCall Dial(SipUri target, CallOptions? options = null)
    {
        options ??= new CallOptions();
        var invite = NewRequest(SipMethods.Invite, target, options.From);
        if (options.To is { } to)
        {
            invite.Headers.Remove(HeaderNames.To);
            invite.Headers.Add(HeaderNames.To, to.WithoutParameter("tag").ToString());
        }
        if (options.Sdp is not null) invite.SetBody("application/sdp", options.Sdp);
        if (options.Replaces is { } replaces)
        {
            invite.Headers.Add(HeaderNames.Replaces, replaces.ToString());
            if (options.RequireReplaces) invite.Headers.Add(HeaderNames.Require, "replaces");
        }
        if (options.ReferredBy is { } by) invite.Headers.Add(HeaderNames.ReferredBy, by.ToString());
        foreach (var (name, value) in options.Headers) invite.Headers.Add(name, value);
        var handle = new OutgoingCall(invite);
        var destination = options.Destination ?? _options.OutboundProxy ?? SipTargetResolver.Resolve(target);
        handle.Completion = destination is { } d ? RunInviteAsync(handle, invite, d, options.Sdp) : Task.FromResult(new CallAttempt(404, null, null));
        return handle;
    }

    /// <summary>
    /// Sends a REFER outside any call (to a service such as the park server) and waits for the final NOTIFY.
    /// </summary>
    public async Task<ReferOutcome> ReferAsync(SipUri target, NameAddress referTo, NameAddress? referredBy = null,
        IEnumerable<(string Name, string Value)>? headers = null, SipEndPoint? destination = null)
    {
        var refer = NewRequest(SipMethods.Refer, target, null);
        refer.Headers.Add(HeaderNames.ReferTo, referTo.ToString());
        if (referredBy is not null) refer.Headers.Add(HeaderNames.ReferredBy, referredBy.ToString());
        foreach (var (name, value) in headers ?? []) refer.Headers.Add(name, value);
        var to = destination ?? _options.OutboundProxy ?? SipTargetResolver.Resolve(target);
        if (to is null) return new ReferOutcome(404, 404, [], null);
        var key = (refer.CallId, refer.From.Tag!);
        var pending = _pendingRefers[key] = new PendingRefer();
        try
        {
            var result = await SendOutOfDialogAsync(refer, to.Value).ConfigureAwait(false);
            return await AwaitReferOutcomeAsync(pending, result).ConfigureAwait(false);
        }
        finally
        {
            _pendingRefers.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// Sends a MESSAGE (text/plain) outside any dialog. <paramref name="recipient"/> names the recipient when the Request-URI is
    /// where it is reached rather than who it is (a registered contact): To carries the address of record (RFC 3261 §8.1.1.2).
    /// </summary>
    public Task<ClientTransactionResult> SendMessageAsync(SipUri target, string text, IEnumerable<(string Name, string Value)>? headers = null,
        SipEndPoint? destination = null, NameAddress? from = null, NameAddress? recipient = null)
    {
        var message = NewRequest(SipMethods.Message, target, from);
        if (recipient is not null)
        {
            message.Headers.Remove(HeaderNames.To);
            message.Headers.Add(HeaderNames.To, recipient.WithoutParameter("tag").ToString());
        }
        foreach (var (name, value) in headers ?? []) message.Headers.Add(name, value);
        message.SetBody("text/plain;charset=utf-8", text);
        var to = destination ?? _options.OutboundProxy ?? SipTargetResolver.Resolve(target);
        return to is { } d ? SendOutOfDialogAsync(message, d) : Task.FromResult(FailedResult());
    }

    /// <summary>Sends an out-of-dialog request as a client transaction, answering one 401/407 with credentials.</summary>
    public async Task<ClientTransactionResult> SendOutOfDialogAsync(SipRequest request, SipEndPoint destination)
    {
        for (var attempt = 0; ; attempt++)
        {
            AddVia(request, destination);
            AddCommonHeaders(request);
            _options.BeforeSend?.Invoke(request, destination);
            var transaction = await Stack.Transactions.SendRequestAsync(request, destination).ConfigureAwait(false);
            var result = await transaction.Completion.ConfigureAwait(false);
            if (attempt > 0 || result.StatusCode is not (401 or 407) || _digest is null) return result;
            request = Reissue(request, result.Response!);
        }
    }

    private async Task<CallAttempt> RunInviteAsync(OutgoingCall handle, SipRequest invite, SipEndPoint destination, string? sdp)
    {
        for (var attempt = 0; ; attempt++)
        {
            AddVia(invite, destination);
            AddCommonHeaders(invite);
            _options.BeforeSend?.Invoke(invite, destination);
            handle.Invite = invite;
            var transaction = await Stack.Transactions.SendInviteAsync(invite, destination).ConfigureAwait(false);
            handle.Transaction = transaction;
            _ = PumpProvisionalsAsync(transaction, handle);
            var result = await transaction.Completion.ConfigureAwait(false);
            if (attempt == 0 && result.StatusCode is 401 or 407 && _digest is not null && !handle.CancelRequested)
            {
                invite = Reissue(invite, result.Response!);
                continue;
            }
            if (!result.IsSuccess) return new CallAttempt(result.StatusCode, null, result.Response);
            var ok = result.Response!;
            var dialog = Dialog.FromUac(invite, ok);
            var call = new SipCall(this, dialog, sdp, ok.Body.IsEmpty ? null : ok.BodyText);
            dialog.Owner = call;
            Dialogs.TryAdd(dialog);
            await call.SendAckAsync(invite.CSeq.Number).ConfigureAwait(false);
            _logger.LogDebug("Call {CallId} to {Target} established", dialog.Id.CallId, invite.RequestUri);
            return new CallAttempt(ok.StatusCode, call, ok);
        }
    }

    private static async Task PumpProvisionalsAsync(InviteClientTransaction transaction, OutgoingCall handle)
    {
        try
        {
            await foreach (var response in transaction.ProvisionalResponses.ReadAllAsync().ConfigureAwait(false)) handle.OnProvisional(response);
        }
        catch (InvalidOperationException)
        {
            // The channel was completed with an error when the transaction failed; nothing left to read.
        }
    }

    /// <summary>The same request again with credentials, a higher CSeq and no Via (RFC 3261 §22.2).</summary>
    private SipRequest Reissue(SipRequest request, SipResponse challenge)
    {
        var again = new SipRequest(request.Method, request.RequestUri, request.Headers.Clone(), request.Body);
        again.Headers.Remove(HeaderNames.Via);
        again.CSeq = new CSeqHeader(request.CSeq.Number + 1, request.Method);
        _digest!.Authorize(again, challenge);
        return again;
    }

    private SipRequest NewRequest(string method, SipUri target, NameAddress? from)
    {
        var request = new SipRequest(method, target);
        request.Headers.Add(HeaderNames.From, (from ?? Identity).WithTag(Stack.Ids.NewTag()).ToString());
        request.Headers.Add(HeaderNames.To, new NameAddress(target.WithoutHeaders()).ToString());
        request.Headers.Add(HeaderNames.CallId, Stack.Ids.NewCallId(Contact.Host));
        request.Headers.Add(HeaderNames.CSeq, new CSeqHeader(1, method).ToString());
        return request;
    }

    internal void AddVia(SipRequest request, SipEndPoint destination)
    {
        request.Headers.Remove(HeaderNames.Via);
        var via = Stack.Transport.CreateVia(destination.Protocol, Stack.Ids.NewBranch(), destination.Address.AddressFamily);
        request.Headers.Prepend(HeaderNames.Via, via.ToString());
    }

    private void AddCommonHeaders(SipRequest request)
    {
        var headers = request.Headers;
        if (!headers.Contains(HeaderNames.MaxForwards)) headers.Add(HeaderNames.MaxForwards, "70");
        if (request.Method is SipMethods.Invite or SipMethods.Refer or SipMethods.Subscribe or SipMethods.Notify && !headers.Contains(HeaderNames.Contact))
            headers.Add(HeaderNames.Contact, $"<{Contact}>");
        if (request.Method == SipMethods.Invite)
        {
            if (!headers.Contains(HeaderNames.Allow)) headers.Add(HeaderNames.Allow, Allow);
            if (_options.SupportsReplaces && !headers.Contains(HeaderNames.Supported)) headers.Add(HeaderNames.Supported, "replaces");
        }
        if (!headers.Contains(HeaderNames.UserAgent)) headers.Add(HeaderNames.UserAgent, _options.UserAgentName);
    }

    internal void AddContact(SipResponse response)
    {
        if (!response.Headers.Contains(HeaderNames.Contact)) response.Headers.Add(HeaderNames.Contact, $"<{Contact}>");
    }

    // ---- in-dialog sending ----------------------------------------------------------------------------------

    /// <summary>Where in-dialog requests go: the first route, else the remote target, else the outbound proxy.</summary>
    internal SipEndPoint? NextHop(Dialog dialog)
    {
        SipUri first;
        lock (dialog) first = dialog.RouteSet.Count > 0 ? dialog.RouteSet[0].Uri : dialog.RemoteTarget;
        return SipTargetResolver.Resolve(first) ?? _options.OutboundProxy;
    }

    /// <param name="flow">The connection to send on instead of the next hop, when the peer can be reached only there
    /// (a WebSocket client, RFC 7118 §5: its <c>.invalid</c> Contact resolves to nothing).</param>
    internal async Task<ClientTransactionResult> SendInDialogAsync(Dialog dialog, SipRequest request, SipEndPoint? flow = null)
    {
        if ((flow ?? NextHop(dialog)) is not { } destination) return FailedResult();
        AddVia(request, destination);
        AddCommonHeaders(request);
        var transaction = await Stack.Transactions.SendRequestAsync(request, destination).ConfigureAwait(false);
        return await transaction.Completion.ConfigureAwait(false);
    }

    internal async Task<ReferOutcome> ReferInDialogAsync(Dialog dialog, SipRequest refer, TimeSpan? outcomeTimeout = null)
    {
        var key = (dialog.Id.CallId, dialog.Id.LocalTag);
        var pending = new PendingRefer(refer.CSeq.Number);
        _pendingRefers[key] = pending;
        try
        {
            var result = await SendInDialogAsync(dialog, refer).ConfigureAwait(false);
            return await AwaitReferOutcomeAsync(pending, result, outcomeTimeout).ConfigureAwait(false);
        }
        finally
        {
            _pendingRefers.TryRemove(new KeyValuePair<(string, string), PendingRefer>(key, pending));
        }
    }

    private async Task<ReferOutcome> AwaitReferOutcomeAsync(PendingRefer pending, ClientTransactionResult result, TimeSpan? outcomeTimeout = null)
    {
        if (!result.IsSuccess) return new ReferOutcome(result.StatusCode, result.StatusCode, [], result.Response);
        int final;
        var bound = outcomeTimeout ?? _options.ReferOutcomeTimeout;
        try
        {
            final = await pending.Final.Task.WaitAsync(bound, Stack.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogInformation("No final NOTIFY for REFER {CallId} within {Timeout}", result.Response!.CallId, bound);
            final = 408;
        }
        return new ReferOutcome(result.StatusCode, final, pending.Snapshot(), result.Response);
    }

    private static ClientTransactionResult FailedResult() => ClientTransactionResult.Failed(TransactionFailure.TransportError);

    internal sealed class PendingRefer(long? eventId = null)
    {
        private readonly List<int> _progress = [];

        public long? EventId { get; } = eventId;

        public TaskCompletionSource<int> Final { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(int status)
        {
            lock (_progress) _progress.Add(status);
        }

        public IReadOnlyList<int> Snapshot()
        {
            lock (_progress) return _progress.ToArray();
        }
    }
}
