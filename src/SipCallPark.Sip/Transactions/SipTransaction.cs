using Microsoft.Extensions.Logging;
using SipCallPark.Sip.Message;

namespace SipCallPark.Sip.Transactions;

/// <summary>
/// What the four transaction machines share: identity, state, named timers and one gate that serialises every
/// event (a message from the wire, a call from the TU, a timer firing). Calls into the TU never run under the gate:
/// the machine defers them and they run right after the gate is released, so the TU may answer re-entrantly.
/// </summary>
public abstract class SipTransaction
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, TransactionTimer> _timers = new(StringComparer.Ordinal);
    private List<Func<Task>>? _deferred;
    private volatile TransactionState _state;

    private protected SipTransaction(TransactionContext context, SipRequest request, TransactionKey key, TransactionState initial)
    {
        Context = context;
        Request = request;
        Key = key;
        _state = initial;
        Branch = request.TopVia?.Branch ?? "";
        CallId = request.CallId;
    }

    /// <summary>The request that created the transaction.</summary>
    public SipRequest Request { get; }

    public string Method => Request.Method;

    public string Branch { get; }

    public string CallId { get; }

    public TransactionState State => _state;

    /// <summary>True over TCP/TLS/WS: no retransmissions, and the absorb timers (D, I, J, K) are zero.</summary>
    public abstract bool IsReliable { get; }

    internal TransactionKey Key { get; }

    private protected TransactionContext Context { get; }

    private protected TransactionOptions Options => Context.Options;

    private protected ILogger Logger => Context.Logger;

    /// <summary>Runs one event under the gate, then whatever it deferred.</summary>
    private protected async Task<T> RunAsync<T>(Func<ValueTask<T>> step)
    {
        List<Func<Task>>? deferred;
        T result;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            result = await step().ConfigureAwait(false);
        }
        finally
        {
            deferred = _deferred;
            _deferred = null;
            _gate.Release();
        }
        if (deferred is not null)
        {
            foreach (var action in deferred) await RunDeferredAsync(action).ConfigureAwait(false);
        }
        return result;
    }

    private protected Task RunAsync(Func<ValueTask> step) => RunAsync(async () =>
    {
        await step().ConfigureAwait(false);
        return true;
    });

    /// <summary>Queues work (a TU callback, a CANCEL to start) to run once the gate is released.</summary>
    private protected void Defer(Func<Task> action) => (_deferred ??= []).Add(action);

    private async Task RunDeferredAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.LogError(ex, "Transaction {Branch} {Method} {CallId}: a callback failed", Branch, Method, CallId);
        }
    }

    /// <summary>Moves to <paramref name="next"/>; entering Terminated stops every timer and leaves the layer's table.</summary>
    private protected void Transition(TransactionState next)
    {
        var previous = _state;
        if (previous == next || previous == TransactionState.Terminated) return;
        _state = next;
        if (Logger.IsEnabled(LogLevel.Debug)) Logger.LogDebug("Transaction {Branch} {Method} {CallId} {PreviousState} -> {State}", Branch, Method, CallId, previous, next);
        if (next != TransactionState.Terminated) return;
        foreach (var timer in _timers.Values) timer.Dispose();
        _timers.Clear();
        OnTerminated();
        Context.Terminated(this);
    }

    /// <summary>Hook for a machine to settle what it still owes its TU when it terminates.</summary>
    private protected virtual void OnTerminated()
    {
    }

    /// <summary>(Re)starts the named timer; a previous timer with the same name is dropped.</summary>
    private protected void StartTimer(string name, TimeSpan due, Func<ValueTask> onFire)
    {
        StopTimer(name);
        if (_state == TransactionState.Terminated) return;
        _timers[name] = new TransactionTimer(Context.Time, name, due, onFire, Fired);
    }

    /// <summary>
    /// Starts an absorb timer (D, I, J, K), or over a reliable transport runs it now: those timers are zero there
    /// (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2) and firing inline keeps the machine deterministic.
    /// </summary>
    private protected ValueTask StartAbsorbTimer(string name, TimeSpan unreliableDue, Func<ValueTask> onFire)
    {
        if (IsReliable || unreliableDue <= TimeSpan.Zero) return onFire();
        StartTimer(name, unreliableDue, onFire);
        return ValueTask.CompletedTask;
    }

    private protected void StopTimer(string name)
    {
        if (_timers.Remove(name, out var timer)) timer.Dispose();
    }

    private protected ValueTask TerminateAsync()
    {
        Transition(TransactionState.Terminated);
        return ValueTask.CompletedTask;
    }

    private protected void LogTimeout(string timer) =>
        Logger.Log(Context.FailureLevel, "Transaction {Branch} {Method} {CallId} timed out (Timer {Timer}) in {State}", Branch, Method, CallId, timer, _state);

    private void Fired(TransactionTimer timer) => _ = FireAsync(timer);

    private async Task FireAsync(TransactionTimer timer)
    {
        try
        {
            await RunAsync(async () =>
            {
                // A timer that was stopped or replaced while its callback was on its way does nothing.
                if (!_timers.TryGetValue(timer.Name, out var current) || !ReferenceEquals(current, timer)) return;
                _timers.Remove(timer.Name);
                timer.Dispose();
                await timer.OnFire().ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Logger.LogError(ex, "Transaction {Branch} {Method} {CallId}: Timer {Timer} failed", Branch, Method, CallId, timer.Name);
        }
    }

    public override string ToString() => $"{Method} {Branch} ({State})";
}
