using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Transport;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// The transaction layer (RFC 3261 §17): matches what the transport receives to client and server transactions,
/// creates server transactions for new requests, runs client transactions for the TU, answers CANCEL (§9.2) and
/// hands everything that belongs to no transaction to the <see cref="ITransactionUser"/>.
/// </summary>
public sealed class SipTransactionLayer
{
    private readonly ConcurrentDictionary<TransactionKey, ClientTransaction> _clients = new();
    private readonly ConcurrentDictionary<TransactionKey, ServerTransaction> _servers = new();
    private readonly TransactionContext _context;
    private readonly ITransactionUser _user;
    private readonly ILogger _logger;

    public SipTransactionLayer(ISipMessageSender sender, TransactionOptions options, TimeProvider time,
        ILogger<SipTransactionLayer> logger, ITransactionUser user, ISipIdGenerator? ids = null)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _user = user ?? throw new ArgumentNullException(nameof(user));
        Ids = ids ?? new SipIdGenerator();
        _context = new TransactionContext(sender, options.Validate(), time, logger, Remove);
    }

    public TransactionOptions Options => _context.Options;

    /// <summary>Where the layer gets the To tags of the responses it makes itself (CANCEL answers, 500s).</summary>
    public ISipIdGenerator Ids { get; }

    /// <summary>Client plus server transactions not yet terminated.</summary>
    public int ActiveCount => _clients.Count + _servers.Count;

    /// <summary>
    /// Starts a client transaction: the request is sent now and retransmitted as its machine says. The top Via must
    /// carry a magic-cookie branch (<see cref="ISipIdGenerator.NewBranch"/>); an ACK has no transaction and is sent
    /// through <see cref="ISipMessageSender"/> directly.
    /// </summary>
    public Task<ClientTransaction> SendRequestAsync(SipRequest request, SipEndPoint destination) =>
        SendRequestAsync(request, destination, LogLevel.Information);

    /// <summary>
    /// <see cref="SendRequestAsync(SipRequest, SipEndPoint)"/> for a routine request whose failure its TU judges and
    /// reports itself (a health probe): the transaction logs its own timeout or transport error at
    /// <paramref name="failureLevel"/> instead of Information.
    /// </summary>
    public Task<ClientTransaction> SendRequestAsync(SipRequest request, SipEndPoint destination, LogLevel failureLevel)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Method == SipMethods.Ack)
            throw new ArgumentException("An ACK has no client transaction; send it with ISipMessageSender", nameof(request));
        if (request.TopVia is not { HasMagicCookie: true })
            throw new ArgumentException($"The top Via needs a branch starting with {ViaHeader.MagicCookie}", nameof(request));
        return StartClientAsync(request, destination, failureLevel == _context.FailureLevel ? _context : _context with { FailureLevel = failureLevel });
    }

    /// <summary><see cref="SendRequestAsync"/> for an INVITE, typed so that the caller can cancel it.</summary>
    public async Task<InviteClientTransaction> SendInviteAsync(SipRequest invite, SipEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(invite);
        if (!invite.IsInvite) throw new ArgumentException($"Expected an INVITE, got {invite.Method}", nameof(invite));
        return (InviteClientTransaction)await SendRequestAsync(invite, destination).ConfigureAwait(false);
    }

    /// <summary>Takes one parsed, validated message from the transport.</summary>
    public async Task HandleIncomingAsync(IncomingMessage incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        try
        {
            switch (incoming.Message)
            {
                case SipResponse:
                    await HandleResponseAsync(incoming).ConfigureAwait(false);
                    break;
                case SipRequest { Method: SipMethods.Ack } ack:
                    await HandleAckAsync(incoming, ack).ConfigureAwait(false);
                    break;
                case SipRequest { Method: SipMethods.Cancel } cancel:
                    await HandleCancelAsync(incoming, cancel).ConfigureAwait(false);
                    break;
                case SipRequest request:
                    await HandleRequestAsync(incoming, request).ConfigureAwait(false);
                    break;
            }
        }
        catch (SipParseException ex)
        {
            // The transport validates the headers matching needs; one that still fails here is dropped, not thrown.
            _logger.LogWarning("Dropped {FirstLine} from {Remote}: {Error}", incoming.Message.FirstLine, incoming.Remote, ex.Message);
        }
    }

    private Task<ClientTransaction> StartClientAsync(SipRequest request, SipEndPoint destination) => StartClientAsync(request, destination, _context);

    private async Task<ClientTransaction> StartClientAsync(SipRequest request, SipEndPoint destination, TransactionContext context)
    {
        ClientTransaction transaction = request.IsInvite
            ? new InviteClientTransaction(context, request, destination, StartClientAsync, OnAdditionalSuccessAsync)
            : new NonInviteClientTransaction(context, request, destination);
        if (!_clients.TryAdd(transaction.Key, transaction))
            throw new InvalidOperationException($"A {request.Method} client transaction with branch {transaction.Branch} is already running");
        await transaction.StartAsync().ConfigureAwait(false);
        return transaction;
    }

    private Task HandleResponseAsync(IncomingMessage incoming)
    {
        if (_clients.TryGetValue(TransactionKey.ForClient(incoming.Message), out var transaction))
            return transaction.OnResponseAsync(incoming);
        _logger.LogDebug("Stray response {FirstLine} {CallId} from {Remote}", incoming.Message.FirstLine, incoming.Message.CallId, incoming.Remote);
        return NotifyAsync(() => _user.OnStrayResponseAsync(incoming), incoming);
    }

    private async Task HandleRequestAsync(IncomingMessage incoming, SipRequest request)
    {
        var (transaction, isNew) = await GetOrCreateServerAsync(incoming, TransactionKey.ForServer(request, request.Method));
        if (!isNew)
        {
            await transaction.OnRetransmissionAsync(incoming).ConfigureAwait(false);
            return;
        }
        try
        {
            await _user.OnRequestAsync(transaction).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Transaction user failed on {Method} {CallId}", request.Method, request.CallId);
            if (transaction.LastResponse is not { IsFinal: true })
                await transaction.SendResponseAsync(SipResponse.CreateFor(request, 500, toTag: Ids.NewTag())).ConfigureAwait(false);
        }
    }

    private async Task HandleAckAsync(IncomingMessage incoming, SipRequest ack)
    {
        var invite = FindInviteForAck(ack);
        if (invite is not null && !await invite.OnAckAsync().ConfigureAwait(false)) return;
        await NotifyAsync(() => _user.OnAckAsync(incoming), incoming).ConfigureAwait(false);
    }

    /// <summary>
    /// §17.2.3: with a magic cookie the ACK shares the INVITE's branch. Without one, Request-URI, From tag, Call-ID,
    /// CSeq number and top Via must match the INVITE and the To tag must be the one of the response the transaction
    /// sent; the INVITE's own To tag is either that same tag (a re-INVITE) or absent.
    /// </summary>
    private InviteServerTransaction? FindInviteForAck(SipRequest ack)
    {
        var key = TransactionKey.ForServer(ack, SipMethods.Invite);
        if (!key.IsLegacy) return _servers.TryGetValue(key, out var t) ? t as InviteServerTransaction : null;
        var ackTag = ack.To.Tag;
        foreach (var candidate in (ReadOnlySpan<TransactionKey>)[key, key with { SentBy = "" }])
        {
            if (_servers.TryGetValue(candidate, out var t) && t is InviteServerTransaction invite && invite.LastResponseToTag == ackTag)
                return invite;
        }
        return null;
    }

    /// <summary>
    /// §9.2: a CANCEL is its own non-INVITE server transaction (so its retransmissions get the same answer) and is
    /// answered by the layer: 481 when it matches no INVITE, 200 otherwise; the TU hears of it only while the INVITE
    /// has no final response.
    /// </summary>
    private async Task HandleCancelAsync(IncomingMessage incoming, SipRequest cancel)
    {
        var (transaction, isNew) = await GetOrCreateServerAsync(incoming, TransactionKey.ForServer(cancel, SipMethods.Cancel));
        if (!isNew)
        {
            await transaction.OnRetransmissionAsync(incoming).ConfigureAwait(false);
            return;
        }
        _servers.TryGetValue(TransactionKey.ForServer(cancel, SipMethods.Invite), out var matched);
        if (matched is not InviteServerTransaction invite)
        {
            _logger.LogDebug("CANCEL {Branch} {CallId} matches no INVITE: 481", transaction.Branch, cancel.CallId);
            await transaction.SendResponseAsync(SipResponse.CreateFor(cancel, 481, toTag: Ids.NewTag())).ConfigureAwait(false);
            return;
        }
        var cancellable = await invite.IsCancellableAsync().ConfigureAwait(false);
        // §9.2: the 200 to the CANCEL should carry the To tag of the INVITE's responses.
        var toTag = invite.LastResponseToTag ?? Ids.NewTag();
        await transaction.SendResponseAsync(SipResponse.CreateFor(cancel, 200, toTag: toTag)).ConfigureAwait(false);
        _logger.LogDebug("CANCEL {Branch} {CallId} matched the INVITE in {State}", transaction.Branch, cancel.CallId, invite.State);
        if (cancellable) await NotifyAsync(() => _user.OnCancelAsync(invite, incoming), incoming).ConfigureAwait(false);
    }

    private async Task<(ServerTransaction Transaction, bool IsNew)> GetOrCreateServerAsync(IncomingMessage incoming, TransactionKey key)
    {
        if (_servers.TryGetValue(key, out var existing)) return (existing, false);
        var request = (SipRequest)incoming.Message;
        ServerTransaction created = request.IsInvite
            ? new InviteServerTransaction(_context, incoming, key, OnServerFailedAsync)
            : new NonInviteServerTransaction(_context, incoming, key, OnServerFailedAsync);
        var winner = _servers.GetOrAdd(key, created);
        if (!ReferenceEquals(winner, created)) return (winner, false);
        await created.StartAsync().ConfigureAwait(false);
        return (created, true);
    }

    private Task OnServerFailedAsync(ServerTransaction transaction, TransactionFailure failure) =>
        NotifyAsync(() => _user.OnServerTransactionFailedAsync(transaction, failure), transaction.Incoming);

    private Task OnAdditionalSuccessAsync(InviteClientTransaction transaction, IncomingMessage response) =>
        NotifyAsync(() => _user.OnAdditionalSuccessAsync(transaction, response), response);

    private async Task NotifyAsync(Func<Task> callback, IncomingMessage about)
    {
        try
        {
            await callback().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Transaction user failed on {FirstLine} {CallId}", about.Message.FirstLine, about.Message.CallId);
        }
    }

    private void Remove(SipTransaction transaction)
    {
        var removed = transaction switch
        {
            ClientTransaction c => _clients.TryRemove(new KeyValuePair<TransactionKey, ClientTransaction>(c.Key, c)),
            ServerTransaction s => _servers.TryRemove(new KeyValuePair<TransactionKey, ServerTransaction>(s.Key, s)),
            _ => false,
        };
        // ActiveCount takes every lock of both dictionaries: only for a Debug line that is written.
        if (removed && _logger.IsEnabled(LogLevel.Debug))
            _logger.LogDebug("Transaction {Branch} {Method} {CallId} removed; {Active} active", transaction.Branch, transaction.Method, transaction.CallId, ActiveCount);
    }
}
