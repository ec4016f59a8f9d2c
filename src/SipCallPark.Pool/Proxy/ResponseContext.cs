using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.Stack;
using SipCallPark.Sip.Transactions;

namespace SipCallPark.Pool.Proxy;

/// <summary>
/// The response context of one proxied request (RFC 3261 §16.7): the server transaction upstream, one
/// <see cref="ProxyBranch"/> per target, and the finals received so far. 101–199 and every 2xx go upstream at once
/// (2xx only to an INVITE after the first final); the first 2xx or a 6xx to an INVITE cancels the other branches;
/// otherwise the best final is chosen when the last branch ends. Decisions are taken under one lock, sends happen
/// outside it.
/// </summary>
internal sealed class ResponseContext
{
    private readonly Lock _gate = new();
    private readonly List<BranchOutcome> _finals = [];
    private readonly SipStack _stack;
    private readonly TimeSpan _timerC;
    private readonly ILogger _logger;
    private readonly Action<ResponseContext> _completed;
    private ProxyBranch[] _branches = [];
    private int _done;
    private bool _finalSent;
    private bool _cancelled;
    private bool _isComplete;

    private readonly Action<ServerTransaction, SipResponse>? _successForwarded;

    /// <param name="successForwarded">Told of each 2xx to an INVITE that went upstream.</param>
    public ResponseContext(ServerTransaction server, SipStack stack, TimeSpan timerC, ILogger logger, Action<ResponseContext> completed,
        Action<ServerTransaction, SipResponse>? successForwarded = null)
    {
        _successForwarded = successForwarded;
        Server = server;
        _stack = stack;
        _timerC = timerC;
        _logger = logger;
        _completed = completed;
    }

    public ServerTransaction Server { get; }

    public bool IsInvite => Server.Request.IsInvite;

    public IReadOnlyList<ProxyBranch> Branches => _branches;

    /// <summary>The status of the first final sent upstream; 0 while none was.</summary>
    public int FinalStatus { get; private set; }

    /// <summary>Sets the branches before any of them starts, so that "all branches ended" can be told.</summary>
    public void SetBranches(ProxyBranch[] branches) => _branches = branches;

    /// <summary>Starts one branch's client transaction and watches it. Never throws: a failure is the branch's 503.</summary>
    public async Task StartAsync(ProxyBranch branch, Action<ClientTransaction> started)
    {
        ClientTransaction transaction;
        try
        {
            transaction = await _stack.Transactions.SendRequestAsync(branch.Request, branch.Target.Destination).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning(ex, "Could not start branch {Branch} of {Method} {CallId}", branch, Server.Method, Server.CallId);
            await OnFailureOrFinalAsync(branch, 503, null).ConfigureAwait(false);
            return;
        }
        bool cancelNow;
        lock (_gate)
        {
            branch.Transaction = transaction;
            cancelNow = branch.CancelRequested && !branch.IsDone;
            if (IsInvite && !branch.IsDone) branch.TimerC = _stack.Time.CreateTimer(OnTimerC, branch, _timerC, Timeout.InfiniteTimeSpan);
        }
        started(transaction);
        if (cancelNow) CancelBranch(branch);
        _ = WatchAsync(branch, transaction);
    }

    /// <summary>§16.10: a CANCEL from upstream cancels every pending branch; their finals flow upstream as usual.</summary>
    public int Cancel()
    {
        List<ProxyBranch> now;
        lock (_gate)
        {
            _cancelled = true;
            now = IsInvite ? TakePending() : [];
        }
        foreach (var branch in now) CancelBranch(branch);
        return now.Count;
    }

    /// <summary>
    /// A 2xx from a branch (our Via already removed): the first one, or another — a fork's or a retransmission that
    /// reached the client transaction in Accepted. §16.7 step 5: every 2xx to an INVITE goes upstream at once.
    /// </summary>
    public async Task OnSuccessAsync(ProxyBranch? branch, SipResponse response)
    {
        bool first, forward;
        List<ProxyBranch> cancel;
        bool complete;
        lock (_gate)
        {
            first = !_finalSent;
            forward = first || IsInvite;
            _finalSent = true;
            if (first) FinalStatus = response.StatusCode;
            if (branch is not null && !branch.IsDone) MarkDone(branch);
            // §16.7 step 10: once a 2xx to an INVITE went upstream, the other branches are cancelled.
            cancel = first && IsInvite ? TakePending() : [];
            complete = TakeCompletion();
        }
        if (first)
            _logger.LogDebug("Best response {Status} for {Method} {CallId} from {Branch}: a 2xx goes upstream at once",
                response.StatusCode, Server.Method, Server.CallId, branch?.ToString() ?? "a fork");
        // The dialog is noted before the caller can see the 2xx: its first in-dialog request (a REFER that parks) may
        // follow at once and is checked against it.
        if (forward && IsInvite) _successForwarded?.Invoke(Server, response);
        if (forward) await ForwardSuccessAsync(response).ConfigureAwait(false);
        foreach (var other in cancel) CancelBranch(other);
        if (complete) _completed(this);
    }

    private async Task WatchAsync(ProxyBranch branch, ClientTransaction transaction)
    {
        var stop = branch.Watch.Token;
        try
        {
            await foreach (var provisional in transaction.ProvisionalResponses.ReadAllAsync(stop).ConfigureAwait(false))
                await OnProvisionalAsync(branch, provisional).ConfigureAwait(false);
            var result = await transaction.Completion.WaitAsync(stop).ConfigureAwait(false);
            var response = result.Response is { } received ? ProxyMessages.WithoutTopVia(received) : null;
            if (response is { IsSuccess: true }) await OnSuccessAsync(branch, response).ConfigureAwait(false);
            else await OnFailureOrFinalAsync(branch, result.StatusCode, response).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _logger.LogDebug("Stopped waiting for branch {Branch} of {Method} {CallId} after Timer C", branch, Server.Method, Server.CallId);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Branch {Branch} of {Method} {CallId} failed", branch, Server.Method, Server.CallId);
        }
    }

    /// <summary>§16.7 steps 2 and 5: 101–199 reset Timer C and go upstream until a final has; 100 never does.</summary>
    private async Task OnProvisionalAsync(ProxyBranch branch, SipResponse provisional)
    {
        SipResponse? upstream;
        lock (_gate)
        {
            if (branch.IsDone) return;
            branch.HasProvisional = true;
            if (provisional.StatusCode == 100) return;
            branch.TimerC?.Change(_timerC, Timeout.InfiniteTimeSpan);
            // RFC 4320 §4.1: no provisional other than 100 goes upstream for a non-INVITE request.
            if (_finalSent || !IsInvite) return;
            upstream = ProxyMessages.WithoutTopVia(provisional);
        }
        if (upstream is not null) await Server.SendResponseAsync(upstream).ConfigureAwait(false);
    }

    /// <summary>A 3xx–6xx from a branch, or its timeout (408) or transport error (503): stored for the best choice.</summary>
    private async Task OnFailureOrFinalAsync(ProxyBranch branch, int status, SipResponse? response)
    {
        List<ProxyBranch> cancel = [];
        BranchOutcome? best;
        List<BranchOutcome> finals;
        bool complete;
        lock (_gate)
        {
            // A branch Timer C already counted as 408 has nothing more to say (its 487 is that CANCEL's answer).
            if (branch.IsDone) return;
            MarkDone(branch);
            _finals.Add(new BranchOutcome(status, response));
            // §16.7 step 5 on 6xx: no other branch can beat it, so the pending ones are cancelled.
            if (IsInvite && status >= 600 && !_finalSent) cancel = TakePending();
            (best, finals, complete) = Conclude();
        }
        _logger.LogDebug("Branch {Branch} of {Method} {CallId} ended with {Status}", branch, Server.Method, Server.CallId, status);
        foreach (var other in cancel) CancelBranch(other);
        if (best is not null) await SendBestAsync(best, finals).ConfigureAwait(false);
        if (complete) _completed(this);
    }

    /// <summary>
    /// §16.8: Timer C fired. A branch that had a provisional gets a CANCEL; either way it now counts as a 408, and
    /// its transaction is watched a little longer (64·T1) for a 2xx that crosses the CANCEL.
    /// </summary>
    private void OnTimerC(object? state) => _ = OnTimerCAsync((ProxyBranch)state!);

    private async Task OnTimerCAsync(ProxyBranch branch)
    {
        BranchOutcome? best;
        List<BranchOutcome> finals;
        bool complete, cancel;
        lock (_gate)
        {
            if (branch.IsDone) return;
            MarkDone(branch);
            cancel = branch.HasProvisional;
            _finals.Add(new BranchOutcome(408, null));
            (best, finals, complete) = Conclude();
        }
        _logger.LogWarning("Timer C fired for branch {Branch} of {Method} {CallId} after {TimerC}: {Action}", branch, Server.Method,
            Server.CallId, _timerC, cancel ? "CANCEL sent, counted as 408" : "no provisional, counted as 408");
        if (cancel) CancelBranch(branch);
        branch.Watch.CancelAfter(_stack.Transactions.Options.T1 * 64);
        if (best is not null) await SendBestAsync(best, finals).ConfigureAwait(false);
        if (complete) _completed(this);
    }

    private void MarkDone(ProxyBranch branch)
    {
        branch.IsDone = true;
        branch.TimerC?.Dispose();
        branch.TimerC = null;
        _done++;
    }

    /// <summary>Under the lock: the pending branches not yet asked to cancel, now marked so.</summary>
    private List<ProxyBranch> TakePending()
    {
        var now = new List<ProxyBranch>();
        foreach (var branch in _branches)
        {
            if (branch.IsDone || branch.CancelRequested) continue;
            branch.CancelRequested = true;
            if (branch.Transaction is not null) now.Add(branch);
        }
        return now;
    }

    /// <summary>Under the lock: once every branch ended, the best final (unless one went already) and completion.</summary>
    private (BranchOutcome? Best, List<BranchOutcome> Finals, bool Complete) Conclude()
    {
        if (_done < _branches.Length) return (null, [], false);
        BranchOutcome? best = null;
        if (!_finalSent && _finals.Count > 0)
        {
            best = BestResponse.Choose(_finals);
            _finalSent = true;
        }
        return (best, [.. _finals], TakeCompletion());
    }

    private bool TakeCompletion()
    {
        if (_isComplete || _done < _branches.Length) return false;
        _isComplete = true;
        return true;
    }

    private async Task SendBestAsync(BranchOutcome best, List<BranchOutcome> finals)
    {
        var upstream = Upstream(best, finals);
        _logger.LogDebug("Best response {Status} for {Method} {CallId} chosen from {Finals} (sent {Sent})", best.StatusCode,
            Server.Method, Server.CallId, string.Join(", ", finals.Select(f => f.StatusCode)), upstream.StatusCode);
        if (!IsInvite && upstream.StatusCode == 408 && best.Response is null)
        {
            // RFC 4320 §4.2: a transaction-stateful element sends no 408 to a non-INVITE; the client times out itself.
            _logger.LogDebug("No final response for {Method} {CallId}: every branch timed out", Server.Method, Server.CallId);
            return;
        }
        FinalStatus = upstream.StatusCode;
        await Server.SendResponseAsync(upstream).ConfigureAwait(false);
    }

    /// <summary>
    /// §16.7 steps 6–7: a 503 becomes 500 (the 503 was about the next hop, not about us); a branch without a
    /// response becomes our own 408 (487 once upstream cancelled) or 500; a 401/407 collects every challenge.
    /// </summary>
    private SipResponse Upstream(BranchOutcome best, List<BranchOutcome> finals)
    {
        var request = Server.Request;
        if (best.StatusCode == 503)
            return SipResponse.CreateFor(request, 500, toTag: best.Response?.To.Tag ?? _stack.Ids.NewTag());
        if (best.Response is null)
        {
            var status = best.StatusCode == 408 && _cancelled ? 487 : best.StatusCode;
            return SipResponse.CreateFor(request, status, toTag: _stack.Ids.NewTag());
        }
        if (best.StatusCode is 401 or 407)
            return BestResponse.MergeChallenges(best.Response, finals.Where(f => f.Response is not null).Select(f => f.Response!));
        return best.Response;
    }

    /// <summary>Through the server transaction; a 2xx to an INVITE it no longer takes goes statelessly (§16.7 step 5).</summary>
    private async Task ForwardSuccessAsync(SipResponse response)
    {
        if (await Server.SendResponseAsync(response).ConfigureAwait(false) || !IsInvite) return;
        _logger.LogDebug("Relaying a late {Status} for {CallId} without the server transaction", response.StatusCode, Server.CallId);
        await _stack.Transport.SendResponseAsync(response, Server.Incoming).ConfigureAwait(false);
    }

    private void CancelBranch(ProxyBranch branch)
    {
        if (branch.Transaction is InviteClientTransaction invite) _ = CancelBranchAsync(branch, invite);
    }

    private async Task CancelBranchAsync(ProxyBranch branch, InviteClientTransaction invite)
    {
        try
        {
            var result = await invite.CancelAsync().ConfigureAwait(false);
            _logger.LogDebug("CANCEL of branch {Branch} of {CallId}: {Result}", branch, Server.CallId, result?.ToString() ?? "not needed");
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "CANCEL of branch {Branch} of {CallId} failed", branch, Server.CallId);
        }
    }
}
